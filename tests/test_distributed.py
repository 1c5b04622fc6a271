"""Training across processes: `auralens train prototypes` under torchrun with two CPU
processes (DistributedDataParallel over gloo) produces a valid bundle."""
import subprocess
import sys

from auralens.models.bundle import load_bundle
from auralens.models.data import load_features, read_collection
from auralens.models.evaluate import evaluate_model

from .sounds import TIMBRES, write_timbre_collection


def test_two_cpu_processes_under_torchrun_train_a_bundle_that_classifies(tmp_path):
    data = write_timbre_collection(tmp_path / "data", per_class=16, seed=3, seconds=0.8)
    out = tmp_path / "bundle"
    run = subprocess.run(
        [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "2",
         "-m", "auralens.server.cli", "train", "prototypes", "--data", str(data), "--out", str(out), "--device", "cpu",
         "--epochs-per-stage", "3", "--patience", "2", "--batch-size", "4", "--threads", "1", "--quiet",
         "--cache-dir", str(tmp_path / "cache")],
        capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr[-3000:]
    assert run.stdout.count("saved in") == 1  # rank 0 reports and writes; rank 1 stays quiet
    bundle = load_bundle(out)
    entry = bundle.models["prototypes"]
    assert entry.training["hardware"]["processes"] == 2
    assert set(bundle.classes) == set(TIMBRES)
    model = bundle.load_model("prototypes", device="cpu")
    table = read_collection(data, seed=0)
    test = load_features(table.subset("test"), bundle.audio, bundle.classes, progress=False)
    assert evaluate_model(model, test)["oa"] > 1.5 / len(TIMBRES)  # well above chance
