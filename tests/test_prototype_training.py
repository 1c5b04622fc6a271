"""Training the spectral prototype model end to end on small real data made on the fly."""
import json
import subprocess
import sys

import pytest
import torch

from auralens.models.audio import AudioConfig
from auralens.models.bundle import load_bundle
from auralens.models.data import load_features, read_collection
from auralens.models.prototypes.model import KIND, PrototypeConfig, PrototypeModel
from auralens.models.prototypes.train import History, TrainConfig, make_optimizer, set_learning_rates, train_prototypes
from auralens.models.prototypes.transforms import STAGES

from .sounds import TIMBRES, write_timbre_collection

FAST = dict(batch_size=8, patience=1, max_epochs_per_stage=2, warmup_steps=5)


@pytest.fixture(scope="module")
def collection(tmp_path_factory):
    """Three timbres x 14 notes at random pitches and levels, and their features."""
    root = write_timbre_collection(tmp_path_factory.mktemp("timbres") / "data", per_class=14)
    table = read_collection(root)
    cache = tmp_path_factory.mktemp("cache")
    feats = {s: load_features(table.subset(s), cache_dir=cache, progress=False) for s in ("train", "val", "test")}
    return root, feats


def model_config(feats, **kw) -> PrototypeConfig:
    return PrototypeConfig(n_classes=len(feats["train"].class_names), **kw)


def test_model_output_shapes_at_every_stage():
    model = PrototypeModel(PrototypeConfig(n_classes=4, protos_per_class=2))
    x = torch.rand(3, 128, 37)
    for stage in STAGES:
        out = model(x, stage=stage)
        assert out.errors.shape == (3, 8) and out.frame_errors.shape == (3, 8, 37)
        assert out.class_errors.shape == (3, 4) and out.logits.shape == (3, 4)
        rec, tr = model.reconstruct(x, stage, k=torch.tensor([1, 5]))
        assert rec.shape == (3, 2, 128, 37)


def test_a_new_transformation_starts_as_the_identity():
    model = PrototypeModel(PrototypeConfig(n_classes=2)).eval()
    x = torch.rand(2, 128, 16)
    base = model(x, stage="raw").errors
    for stage in STAGES[1:]:
        assert (model(x, stage=stage).errors - base).abs().max() < 1e-3


def test_class_error_is_the_best_prototype_of_the_class():
    model = PrototypeModel(PrototypeConfig(n_classes=2, protos_per_class=2))
    errors = torch.tensor([[0.3, 0.1, 0.5, 0.2]])
    assert model.class_errors(errors).tolist() == [[pytest.approx(0.1), pytest.approx(0.2)]]


def test_supervised_training_lowers_the_loss_and_saves_every_stage(collection, tmp_path):
    _, feats = collection
    cfg = TrainConfig(**{**FAST, "patience": 2, "max_epochs_per_stage": 4}, seed=0)
    model, hist = train_prototypes(feats["train"], feats["val"], model_config(feats), cfg, tmp_path, "cpu", progress=False)
    assert hist.finished and [e["stage"] for e in hist.log][0] == "raw"
    assert {e["stage"] for e in hist.log} == set(STAGES)
    losses = [e["train_loss"] for e in hist.log]
    assert sum(losses[-2:]) < sum(losses[:2])
    for stage in STAGES:
        assert (tmp_path / f"stage-{stage}.safetensors").is_file()


def test_unsupervised_training_names_clusters_after_their_majority_class(collection, tmp_path):
    _, feats = collection
    cfg = TrainConfig(**FAST, supervised=False, seed=0)
    mcfg = model_config(feats, supervised=False)
    model, hist = train_prototypes(feats["train"], feats["val"], mcfg, cfg, tmp_path, "cpu", progress=False)
    assert hist.finished
    from auralens.models.metrics import model_errors
    choice = model_errors(model, feats["train"].features).argmin(1)
    for k in choice.unique().tolist():
        members = feats["train"].targets[choice == k]
        assert int(model.prototype_class[k]) == int(torch.bincount(members).argmax())


def prototype_rate(model_cfg: PrototypeConfig, cfg: TrainConfig) -> float:
    opt = make_optimizer(PrototypeModel(model_cfg), cfg)
    set_learning_rates(opt, cfg, History())
    return next(g["lr"] for g in opt.param_groups if g["name"] == "prototypes")


def test_pitch_anchored_prototypes_learn_at_a_tenth_of_the_rate_by_default():
    cfg = TrainConfig(lr=1e-3)
    assert prototype_rate(PrototypeConfig(n_classes=2, pitch_anchored=True), cfg) == pytest.approx(1e-4)
    assert prototype_rate(PrototypeConfig(n_classes=2), cfg) == pytest.approx(1e-3)


def test_the_prototypes_learning_rate_can_be_set():
    cfg = TrainConfig(lr=1e-3, prototype_lr_scale=0.5)
    assert prototype_rate(PrototypeConfig(n_classes=2, pitch_anchored=True, source_filter=True), cfg) == pytest.approx(5e-4)


def test_unused_prototypes_are_reseeded_with_their_optimiser_state():
    from auralens.models.prototypes.train import make_optimizer, reseed_unused

    model = PrototypeModel(PrototypeConfig(n_classes=3, supervised=False))
    opt = make_optimizer(model, TrainConfig())
    model.prototypes.grad = torch.randn_like(model.prototypes)
    opt.step()
    counts = torch.tensor([100.0, 1.0, 60.0])
    reseeded = reseed_unused(model, opt, counts, 0.02, torch.Generator().manual_seed(0))
    assert reseeded == [1]
    assert (model.prototypes[1] - model.prototypes[0]).abs().max() < 0.05
    state = opt.state[model.prototypes]
    assert torch.equal(state["exp_avg"][1], state["exp_avg"][0])


def test_an_interrupted_run_resumes_to_the_same_weights(collection, tmp_path):
    _, feats = collection
    mcfg = model_config(feats)
    whole, _ = train_prototypes(feats["train"], feats["val"], mcfg, TrainConfig(**FAST, augment=False),
                                tmp_path / "whole", "cpu", progress=False)
    part, hist = train_prototypes(feats["train"], feats["val"], mcfg, TrainConfig(**FAST, augment=False, max_epochs=3),
                                  tmp_path / "parts", "cpu", progress=False)
    assert not hist.finished and hist.epoch == 3
    resumed, hist = train_prototypes(feats["train"], feats["val"], mcfg, TrainConfig(**FAST, augment=False),
                                     tmp_path / "parts", "cpu", progress=False)
    assert hist.finished
    for (name, a), b in zip(whole.state_dict().items(), resumed.state_dict().values()):
        torch.testing.assert_close(a, b, msg=name)


def test_a_resumed_run_records_the_time_of_all_its_calls(collection, tmp_path):
    from auralens.models.checkpoints import TrainingInterrupted
    from auralens.models.training.record import RunOptions
    from auralens.models.training.spectral import train_prototypes_into_bundle

    root, _ = collection
    out, cache = tmp_path / "bundle", tmp_path / "c"
    with pytest.raises(TrainingInterrupted, match="resume"):
        train_prototypes_into_bundle(root, out, TrainConfig(**FAST, augment=False, max_epochs=2),
                                     run=RunOptions(device="cpu", cache_dir=cache, progress=False))
    saved = out / "checkpoints" / "prototypes" / "history.json"
    first = json.loads(saved.read_text())
    assert first["calls"] == 1 and first["seconds"] > 0
    saved.write_text(json.dumps({**first, "seconds": 1000.0}))  # as if the first call had trained 1000 s
    entry = train_prototypes_into_bundle(root, out, TrainConfig(**FAST, augment=False),
                                         run=RunOptions(device="cpu", cache_dir=cache, progress=False))
    assert entry.training["calls"] == 2
    assert 1000 < entry.training["wall_time_s"] < 1000 + 600
    assert "in 2 calls" in (out / "MODEL_CARD.md").read_text()


CLI = [sys.executable, "-m", "auralens.server.cli"]


@pytest.fixture(scope="module")
def cli_bundle(collection, tmp_path_factory):
    """``auralens train prototypes`` run on the collection (2 epochs per stage): the finished
    process, the bundle folder and the feature cache it used."""
    root, _ = collection
    work = tmp_path_factory.mktemp("cli")
    bundle_dir, cache = work / "bundle", work / "c"
    trained = subprocess.run(CLI + ["train", "prototypes", "--data", str(root), "--out", str(bundle_dir),
                                    "--epochs-per-stage", "2", "--patience", "1", "--batch-size", "8",
                                    "--cache-dir", str(cache), "--quiet"], capture_output=True, text=True, timeout=600)
    return trained, bundle_dir, cache


def test_cli_trains_into_a_bundle_with_every_stage_its_record_and_card_and_no_checkpoints(cli_bundle):
    trained, bundle_dir, _ = cli_bundle
    assert trained.returncode == 0, trained.stderr
    bundle = load_bundle(bundle_dir)
    entry = bundle.entry("prototypes")
    assert bundle.classes == sorted(TIMBRES) and set(entry.stages) == set(STAGES)
    assert entry.training["seed"] == 0 and "train prototypes" in entry.training["command"]
    assert set(entry.metrics["stages"]) == set(STAGES) and (bundle_dir / "MODEL_CARD.md").is_file()
    assert not (bundle_dir / "checkpoints").exists()


def test_cli_stores_the_raw_stage_without_networks_and_the_last_stage_whole(cli_bundle):
    from auralens.models.weights import read_weights

    trained, bundle_dir, _ = cli_bundle
    assert trained.returncode == 0, trained.stderr
    entry = load_bundle(bundle_dir).entry("prototypes")
    raw, last = (read_weights(bundle_dir / entry.stages[s]) for s in ("raw", "filters"))
    assert not any(name.startswith(("encoder.", "decoders.")) for name in raw)
    assert any(name.startswith("decoders.filters.") for name in last)


def test_cli_evaluate_prints_the_contract_json(collection, cli_bundle):
    root, _ = collection
    trained, bundle_dir, cache = cli_bundle
    assert trained.returncode == 0, trained.stderr
    result = subprocess.run(CLI + ["evaluate", "--bundle", str(bundle_dir), "--data", str(root), "--json",
                                   "--cache-dir", str(cache), "--quiet"], capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert {"model", "n", "oa", "aa", "macro_f1", "reconstruction_error", "per_class", "confusion"} <= set(report)
    assert report["n"] == 42 and 0 <= report["oa"] <= 1 and report["confusion"]["labels"] == sorted(TIMBRES)
    assert sum(map(sum, report["confusion"]["matrix"])) == 42


def save_untrained_bundle(path, classes) -> PrototypeModel:
    from auralens.models.bundle import Bundle, ModelEntry
    from auralens.models.weights import write_weights

    model = PrototypeModel(PrototypeConfig(n_classes=len(classes))).eval()
    model.stage = "filters"
    write_weights(path / "models/m.safetensors", model.state_dict())
    Bundle(path, "t", AudioConfig(), list(classes),
           {"m": ModelEntry("m", KIND, model.cfg.to_dict(), "models/m.safetensors")}).save()
    return model


def test_bundle_round_trip_gives_the_same_predictions(collection, tmp_path):
    _, feats = collection
    model = save_untrained_bundle(tmp_path, feats["train"].class_names)
    loaded = load_bundle(tmp_path).load_model("m")
    x = torch.stack(feats["test"].features[:4])
    assert loaded.stage == "filters"
    torch.testing.assert_close(loaded(x).errors, model(x).errors)


def test_evaluate_names_labels_the_model_does_not_know(collection, tmp_path, capsys):
    import shutil

    from auralens.server.cli import main

    root, _ = collection
    other = tmp_path / "other"
    (other / "kazoo").mkdir(parents=True)
    shutil.copy(next((root / "dark").iterdir()), other / "kazoo" / "k.wav")
    save_untrained_bundle(tmp_path / "b", sorted(TIMBRES))
    assert main(["evaluate", "--bundle", str(tmp_path / "b"), "--data", str(other), "--quiet",
                 "--cache-dir", str(tmp_path / "c")]) == 2
    assert "does not know: kazoo" in capsys.readouterr().err


def test_a_bundle_with_weights_of_another_shape_is_a_clear_error(collection, tmp_path):
    from auralens.models.bundle import BundleError
    from auralens.models.weights import write_weights

    _, feats = collection
    save_untrained_bundle(tmp_path, feats["train"].class_names)
    write_weights(tmp_path / "models/m.safetensors", {"prototypes": torch.zeros(2, 2)})
    with pytest.raises(BundleError, match="does not match"):
        load_bundle(tmp_path).load_model("m")
