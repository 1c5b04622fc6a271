"""Where a model's curriculum ends: a pitch-anchored model that decides at the pitch stage (no
filter network), and earlier stages stored without the networks they do not run."""
from __future__ import annotations

import io
import subprocess
import sys

import pytest
import soundfile as sf
import torch
from fastapi.testclient import TestClient

from auralens.models.bundle import load_bundle
from auralens.models.prototypes.model import PrototypeConfig, PrototypeModel
from auralens.models.weights import read_weights
from auralens.server.app import create_app

from .sounds import SR, TIMBRES, timbre_phrase, write_phrase_collection


def test_a_pitch_anchored_model_ending_at_pitch_has_no_filter_network_and_no_encoder():
    model = PrototypeModel(PrototypeConfig(n_classes=3, pitch_anchored=True, last_stage="pitch"))
    assert model.cfg.stages == ("raw", "gain", "pitch")
    assert len(model.decoders) == 0 and model.encoder is None
    assert not any(name.startswith(("encoder.", "decoders.")) for name in model.state_dict())


def test_a_model_cannot_be_set_past_its_last_stage():
    model = PrototypeModel(PrototypeConfig(n_classes=3, pitch_anchored=True, last_stage="pitch"))
    model.stage = "pitch"
    with pytest.raises(ValueError, match="ends at the 'pitch' stage"):
        model.stage = "filters"


def test_a_pitch_anchored_model_cannot_end_before_the_pitch_stage():
    with pytest.raises(ValueError, match="pitch or filters"):
        PrototypeModel(PrototypeConfig(n_classes=3, pitch_anchored=True, last_stage="gain"))


def test_a_first_version_model_ending_at_gain_has_only_the_gain_network():
    model = PrototypeModel(PrototypeConfig(n_classes=3, last_stage="gain"))
    assert list(model.decoders) == ["gain"] and model.encoder is not None


def test_a_configuration_written_before_last_stage_goes_through_the_whole_curriculum():
    saved = PrototypeConfig(n_classes=3).to_dict()
    del saved["last_stage"]
    assert PrototypeConfig.from_dict(saved).stages == ("raw", "gain", "pitch", "filters")


@pytest.mark.parametrize("stage, left_out", [("raw", ("encoder.", "decoders.")),
                                             ("gain", ("decoders.pitch.", "decoders.filters.")),
                                             ("pitch", ("decoders.filters.",))])
def test_an_earlier_stage_is_stored_without_the_networks_it_does_not_run(stage, left_out):
    model = PrototypeModel(PrototypeConfig(n_classes=3))
    model.stage = stage
    stored = model.stage_state()
    assert not any(name.startswith(left_out) for name in stored)
    assert "prototypes" in stored and "stage_buffer" in stored


@pytest.mark.parametrize("stage", ["raw", "gain", "pitch"])
def test_a_stage_stored_without_its_idle_networks_decides_as_the_whole_model(stage):
    torch.manual_seed(0)
    model = PrototypeModel(PrototypeConfig(n_classes=3)).eval()
    model.stage = stage
    torch.manual_seed(1)  # another start for the networks the stored stage leaves out
    loaded = PrototypeModel(PrototypeConfig(n_classes=3)).eval()
    loaded.load_state_dict(model.stage_state())
    x = torch.rand(2, 128, 40)
    with torch.no_grad():
        assert torch.allclose(model(x).logits, loaded(x).logits)
    assert loaded.stage == stage


def test_a_stored_stage_still_refuses_weights_missing_what_it_runs():
    model = PrototypeModel(PrototypeConfig(n_classes=3))
    model.stage = "gain"
    stored = {k: v for k, v in model.stage_state().items() if not k.startswith("decoders.gain.")}
    with pytest.raises(RuntimeError, match="Missing key"):
        PrototypeModel(PrototypeConfig(n_classes=3)).load_state_dict(stored)


@pytest.fixture(scope="module")
def pitch_stage_bundle(tmp_path_factory):
    """A tiny corpus of three timbres with notes, trained with the CLI into a source-filter
    model whose curriculum ends at the pitch stage."""
    root = write_phrase_collection(tmp_path_factory.mktemp("phrases"), per_class=24)
    out = tmp_path_factory.mktemp("bundle") / "phrases"
    run = subprocess.run([sys.executable, "-m", "auralens.server.cli", "train", "prototypes", "--data", str(root),
                          "--out", str(out), "--source-filter", "--last-stage", "pitch", "--epochs-per-stage", "8",
                          "--patience", "3", "--batch-size", "8", "--threads", "1", "--quiet",
                          "--cache-dir", str(root / ".cache")], capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr
    return root, out


def test_training_to_the_pitch_stage_records_three_stages_and_stores_no_network(pitch_stage_bundle):
    _, out = pitch_stage_bundle
    entry = load_bundle(out).entry("prototypes")
    assert entry.config["last_stage"] == "pitch"
    assert list(entry.stages) == ["raw", "gain", "pitch"] and list(entry.metrics["stages"]) == ["raw", "gain", "pitch"]
    assert not any(name.startswith(("encoder.", "decoders.")) for name in read_weights(out / entry.weights))
    assert entry.metrics["oa"] >= 0.8


def test_a_model_trained_to_the_pitch_stage_decides_at_it(pitch_stage_bundle):
    _, out = pitch_stage_bundle
    assert load_bundle(out).load_model("prototypes").stage == "pitch"


def phrase_wav(pitches=(52, 57, 60, 64)) -> bytes:
    buffer = io.BytesIO()
    sf.write(buffer, timbre_phrase(list(pitches), list(TIMBRES)[0], 0.4), SR, format="WAV")
    return buffer.getvalue()


def test_the_api_lists_a_models_stages_up_to_its_last(pitch_stage_bundle, tmp_path):
    _, out = pitch_stage_bundle
    with TestClient(create_app(device="cpu", bundle=out, data_dir=tmp_path), base_url="http://localhost") as client:
        models = client.get("/api/bundle").json()["models"]
    assert models[0]["stages"] == ["raw", "gain", "pitch"]


def test_a_reconstruction_without_a_stage_is_at_the_models_last_stage(pitch_stage_bundle, tmp_path):
    _, out = pitch_stage_bundle
    with TestClient(create_app(device="cpu", bundle=out, data_dir=tmp_path), base_url="http://localhost") as client:
        clip = client.post("/api/clips", files={"file": ("phrase.wav", phrase_wav(), "audio/wav")}).json()
        analysis = client.post("/api/analyses", json={"clip_id": clip["id"]}).json()
        reconstruction = client.get(f"/api/analyses/{analysis['id']}/reconstructions/0")
        audio = client.get(f"/api/analyses/{analysis['id']}/reconstructions/0/audio.wav")
    assert reconstruction.status_code == 200 and reconstruction.json()["stage"] == "pitch"
    assert reconstruction.json()["audio_url"].endswith("stage=pitch")
    assert audio.status_code == 200 and audio.headers["content-type"] == "audio/wav"


def test_a_stage_past_the_models_last_is_refused_with_a_reason(pitch_stage_bundle, tmp_path):
    _, out = pitch_stage_bundle
    with TestClient(create_app(device="cpu", bundle=out, data_dir=tmp_path), base_url="http://localhost") as client:
        clip = client.post("/api/clips", files={"file": ("phrase.wav", phrase_wav(), "audio/wav")}).json()
        analysis = client.post("/api/analyses", json={"clip_id": clip["id"]}).json()
        answers = [client.get(f"/api/analyses/{analysis['id']}/reconstructions/0{tail}", params={"stage": "filters"})
                   for tail in ("", "/audio.wav")]
    for answer in answers:
        assert 400 <= answer.status_code < 500
        assert "'pitch' stage" in answer.json()["detail"]


def test_a_pitch_anchored_model_ending_before_pitch_is_refused_at_the_command_line(tmp_path):
    root = write_phrase_collection(tmp_path / "phrases", per_class=6)
    run = subprocess.run([sys.executable, "-m", "auralens.server.cli", "train", "prototypes", "--data", str(root),
                          "--out", str(tmp_path / "b"), "--last-stage", "gain", "--quiet",
                          "--cache-dir", str(root / ".cache")], capture_output=True, text=True, timeout=300)
    assert run.returncode != 0
    assert "pitch or filters" in run.stderr and "Traceback" not in run.stderr
