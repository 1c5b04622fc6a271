"""The latent prototype model with the pretrained aiSFX network as its encoder."""
import numpy as np
import pytest
import torch

from auralens.models.audio import AudioConfig
from auralens.models.audio.features import log_mel
from auralens.models.bundle import load_bundle
from auralens.models import aisfx_network
from auralens.models.embeddings import aisfx
from auralens.models.latent.train import LatentTrainConfig
from auralens.models.training.latent import LatentOptions, train_latent_into_bundle
from auralens.models.training.record import RunOptions
from auralens.server.cli import main

from .sounds import SR, TIMBRES, timbre_tone, write_timbre_collection

needs_aisfx = pytest.mark.skipif(not aisfx_network.available(),
                                 reason="aisfx not installed (pip install --no-deps aisfx==0.1.2)")
CFG = AudioConfig()
FAST = LatentTrainConfig(batch_size=8, lr=3e-3, ae_epochs=12, ae_patience=12, proto_epochs=150,
                         proto_patience=150, proto_lr=1e-2, seed=0)


def notes(n_per_timbre: int = 6, seed: int = 0) -> np.ndarray:
    """``(3 n, 2 s)`` decaying notes of every timbre at random pitches (110-880 Hz) and levels."""
    rng = np.random.default_rng(seed)
    return np.stack([timbre_tone(110 * 2 ** rng.uniform(0, 3), t, 2.0, level=0.3 * 10 ** (rng.uniform(-12, 0) / 20))
                     for t in TIMBRES for _ in range(n_per_timbre)])


def test_log_mel_features_of_silence_are_silent():
    x = aisfx_network.features_from_log_mel(torch.zeros(1, CFG.n_mels, 87), CFG)
    assert x.shape == (1, 87, 96) and float(x.abs().max()) == 0.0


def test_a_tone_lands_in_the_same_aisfx_band_from_log_mel_as_from_audio():
    for f0 in (220.0, 1000.0, 3500.0):
        t = np.arange(2 * SR) / SR
        y = (0.2 * np.sin(2 * np.pi * f0 * t)).astype(np.float32)
        from_audio = aisfx_network.features(y[None], SR)[0].mean(0)  # (96,)
        from_mel = aisfx_network.features_from_log_mel(log_mel(y, CFG)[None], CFG)[0].mean(0)
        assert int(from_mel.argmax()) == int(from_audio.argmax())


@needs_aisfx
def test_embeddings_from_log_mel_agree_with_those_from_audio():
    y = notes()
    encoder = aisfx_network.load_encoder()
    with torch.no_grad():
        from_audio = aisfx.embed(encoder, y, SR)  # (N, 512)
        b = aisfx_network.blocks(aisfx_network.features_from_log_mel(log_mel(y, CFG), CFG))  # (N, 1, 100, 96)
        from_mel = encoder(b.flatten(0, 1)).view(len(y), -1, 512).mean(1)
    cos = torch.nn.functional.cosine_similarity(from_audio[:, None], from_mel[None], dim=-1)  # (N, N)
    own = cos.diag()
    others = (cos.sum(1) - own) / (len(y) - 1)
    assert float(own.mean()) > 0.95
    assert bool((own > others).all())  # closer to its own clip than to the others on average
    assert float((cos.argmax(0) == torch.arange(len(y))).float().mean()) >= 0.75


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    root = write_timbre_collection(tmp_path_factory.mktemp("timbres") / "data", per_class=40)
    out = tmp_path_factory.mktemp("bundle") / "b"
    entry = train_latent_into_bundle(root, out, FAST,
                                     LatentOptions(protos_per_class=2, encoder="aisfx",
                                                   model_options={"decoder_channels": 48}),
                                     RunOptions(device="cpu", progress=False, command="test"))
    return out, entry


@needs_aisfx
def test_training_keeps_the_pretrained_encoder_as_it_was(trained):
    out, _ = trained
    model = load_bundle(out).load_model("latent")
    pretrained = aisfx_network.read_checkpoint(aisfx_network.checkpoint_path())
    for name, value in model.encoder.net.state_dict().items():
        stored_as = value.dtype if not value.is_floating_point() else torch.float16  # the bundle halves weights
        assert torch.equal(value, pretrained[name].to(stored_as).to(value.dtype)), name


@needs_aisfx
def test_the_aisfx_latent_model_recognises_held_out_clips(trained):
    _, entry = trained
    assert entry.config["encoder"] == "aisfx" and entry.config["latent_dim"] == 512
    assert entry.metrics["oa"] >= 0.9
    assert entry.training["n_trained_parameters"] < entry.training["n_parameters"] / 10  # only the decoder and prototypes


@needs_aisfx
def test_the_decoder_learns_to_reconstruct_from_the_pretrained_codes(trained):
    _, entry = trained
    history = entry.training["history"]
    assert history[-1]["val_mse"] < 0.5 * history[0]["val_mse"]


@needs_aisfx
def test_a_bundle_with_the_aisfx_encoder_runs_without_the_package(trained, monkeypatch):
    out, _ = trained
    y = notes(1, seed=5)
    x = log_mel(y, CFG)
    before = load_bundle(out).load_model("latent")(x).scores
    monkeypatch.setattr(aisfx_network, "checkpoint_path", lambda: None)
    assert not aisfx_network.available()
    after = load_bundle(out).load_model("latent")(x).scores
    assert torch.allclose(before, after)


def test_asking_for_the_aisfx_encoder_without_the_package_is_one_clear_line(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(aisfx_network, "checkpoint_path", lambda: None)
    root = write_timbre_collection(tmp_path / "data", per_class=4)
    assert main(["train", "latent", "--data", str(root), "--out", str(tmp_path / "b"), "--encoder", "aisfx",
                 "--quiet"]) == 2
    err = capsys.readouterr().err.strip()
    assert "pip install --no-deps aisfx==0.1.2" in err and "\n" not in err
    assert not (tmp_path / "b").exists()  # refused before anything was written
