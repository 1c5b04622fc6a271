"""Pitch-anchored prototypes: a reference pitch each, shifted by the clip's melody, fitted gain,
networks that cannot spoil other classes, and a trust score that flags what is no instrument.

Synthetic sounds with known answers (tests/sounds.py); one tiny corpus trained end to end."""
from __future__ import annotations

import json
import shutil
import subprocess
import sys

import librosa
import numpy as np
import pytest
import soundfile as sf
import torch

from auralens.models.audio import AudioConfig, log_mel
from auralens.models.bundle import load_bundle
from auralens.models.data import NoteEvent
from auralens.models.prototypes.anchor import aligned_mean, reference_pitches
from auralens.models.prototypes.evidence import evidence
from auralens.models.prototypes.model import PrototypeConfig, PrototypeModel
from auralens.models.prototypes.pitch import PitchNetwork, hold_unvoiced, note_name, note_track, sounding_frames
from auralens.models.prototypes.transforms import Transforms, fitted_gain, frame_errors, reconstruct
from auralens.models.prototypes.sound import prototype_tone
from auralens.models.prototypes.whatif import steady_scores
from auralens.models.prototypes.analysis import analyse_spectral
from auralens.models.trust import LIKE, fit_trust

from .sounds import SR, TIMBRES, harmonic_glide, timbre_phrase, timbre_tone, write_phrase_collection

CFG = AudioConfig()


def anchored_model(references, prototypes=None) -> PrototypeModel:
    """An anchored model with one prototype per class at ``references`` (MIDI)."""
    torch.manual_seed(0)
    model = PrototypeModel(PrototypeConfig(n_classes=len(references), pitch_anchored=True,
                                           reference_midi=tuple(references)))
    if prototypes is not None:
        with torch.no_grad():
            model.prototypes.copy_(prototypes)
    return model.eval()


def features(samples: np.ndarray) -> torch.Tensor:
    """``(F, T)`` log-mel, usable in autograd."""
    return log_mel(samples, CFG).clone()


def tone_prototype(timbre: str, midi: int) -> torch.Tensor:
    """``(F,)``: the mean sounding frame of a sustained note of ``timbre`` at ``midi``."""
    x = features(timbre_tone(440.0 * 2 ** ((midi - 69) / 12), timbre, 1.0, decay=0.3))
    return x[:, sounding_frames(x.unsqueeze(0))[0]].mean(1)


def phrase_and_track(pitches, timbre, level=0.3, note_s=0.4):
    x = features(timbre_phrase(pitches, timbre, note_s, level=level))
    notes = [NoteEvent(j * note_s, (j + 1) * note_s, p, 90) for j, p in enumerate(pitches)]
    return x, note_track(notes, x.shape[-1], CFG.frame_seconds)


def test_the_pitch_shift_is_the_clip_pitch_minus_each_reference():
    model = anchored_model([57.0, 64.0])
    x = torch.rand(1, 128, 20)
    f0 = torch.linspace(55, 70, 20).unsqueeze(0)
    shift = model.transforms(x, "pitch", f0).shift  # (1, T, K)
    assert torch.allclose(shift + model.reference_midi, f0.unsqueeze(-1).expand(-1, -1, 2))


def test_unvoiced_frames_hold_the_last_pitch():
    held = hold_unvoiced(torch.tensor([[np.nan, 60.0, np.nan, np.nan, 67.0, np.nan]]))
    assert held.tolist() == [[60.0, 60.0, 60.0, 60.0, 67.0, 67.0]]


def test_the_fitted_gain_is_the_best_gain_in_every_frame():
    torch.manual_seed(1)
    x, protos = torch.rand(2, 128, 6) * 0.5, torch.rand(3, 128) * 0.5
    model = anchored_model([60.0, 60.0, 60.0], protos)
    tr = Transforms(shift=torch.randn(2, 6, 3))
    tr.gain = fitted_gain(x, protos, tr, model.tables, gain_max=0.5)
    best = frame_errors(x, protos, tr, model.tables)
    for delta in (-0.01, 0.01):
        nudged = Transforms(shift=tr.shift, gain=tr.gain + delta)
        assert (frame_errors(x, protos, nudged, model.tables) > best).all()


def test_a_quiet_clip_is_explained_almost_as_well_as_a_loud_one():
    """20 dB softer: the fitted gain absorbs the level."""
    model = anchored_model([57.0], tone_prototype("bright", 57).unsqueeze(0))
    errors = {}
    for level in (0.3, 0.03):
        x, track = phrase_and_track([57, 60, 64], "bright", level=level)
        out = model(x.unsqueeze(0), stage="pitch", f0=hold_unvoiced(track).unsqueeze(0))
        errors[level] = float(out.errors.detach())
    assert errors[0.03] < 1.5 * errors[0.3]


def test_pitch_aligned_frames_average_into_a_harmonic_tone_at_the_reference():
    """Notes at several pitches, each shifted to A3 before averaging, keep their partials."""
    model = anchored_model([57.0])
    means = []
    for midi in (50, 57, 62, 66):
        x, track = phrase_and_track([midi], "bright")
        means.append(aligned_mean(x, track, 57.0, model.tables.centre_hz))
    aligned = torch.stack(means).mean(0)
    target = tone_prototype("bright", 57)
    assert torch.corrcoef(torch.stack([aligned, target]))[0, 1] > 0.95


def test_a_prototype_at_reference_a3_plays_a3():
    model = anchored_model([57.0], tone_prototype("hollow", 57).unsqueeze(0))
    audio = prototype_tone(model, model.prototypes[0].detach(), 0, 1.0, CFG).numpy()
    f0, voiced, _ = librosa.pyin(audio, fmin=60, fmax=1000, sr=SR, frame_length=2048)
    heard = 69 + 12 * np.log2(np.nanmedian(f0[voiced]) / 440)
    assert note_name(57) == "A3"
    assert abs(heard - 57) < 0.5  # within 50 cents


def test_every_prototype_re_creates_the_clip_at_its_loudness():
    """Cross-class renderings are attempts: each prototype, shifted to the clip's melody with
    its gain fitted, is within 10 dB of the clip's level in every sounding frame."""
    prototypes = torch.stack([tone_prototype(t, 57) for t in TIMBRES])
    model = anchored_model([57.0] * 3, prototypes)
    x, track = phrase_and_track([52, 55, 59, 64], "hollow", level=0.05)
    recs, _ = model.reconstruct(x.unsqueeze(0), "pitch", f0=hold_unvoiced(track).unsqueeze(0))  # (1, K, F, T)
    sounding = sounding_frames(x.unsqueeze(0))[0]
    clip_db = x[:, sounding].mean(0) * CFG.db_per_unit  # (T',)
    for k in range(3):
        rec_db = recs[0, k][:, sounding].mean(0) * CFG.db_per_unit
        assert (rec_db - clip_db).abs().max() < 10, f"prototype {k}"


def test_the_classification_term_reaches_only_prototypes_and_temperature():
    model = anchored_model([57.0, 64.0], torch.rand(2, 128) * 0.5).train()
    model.stage = "filters"
    x, f0 = torch.rand(4, 128, 32) * 0.5, torch.full((4, 32), 60.0)
    terms = model(x, f0=f0, fair=True)
    logits = -model.temperature * model.class_errors(terms.errors)
    torch.nn.functional.cross_entropy(logits, torch.tensor([0, 1, 0, 1])).backward()
    assert model.prototypes.grad.abs().sum() > 0 and model.theta.grad.abs() > 0
    for p in [*model.decoders.parameters(), *model.encoder.parameters()]:
        assert p.grad is None or p.grad.abs().sum() == 0


def test_the_networks_learn_from_every_prototypes_error():
    model = anchored_model([57.0, 64.0], torch.rand(2, 128) * 0.5).train()
    model.stage = "filters"
    x, f0 = torch.rand(4, 128, 32) * 0.5, torch.full((4, 32), 60.0)
    terms = model(x, f0=f0, fair=True)
    terms.fit_errors[:, 1].sum().backward()  # the second prototype's error alone
    assert model.prototypes.grad is None or model.prototypes.grad.abs().sum() == 0
    assert model.decoders["filters"].head[-1].weight.grad.abs().sum() > 0


def test_reference_pitches_spread_over_a_class_register():
    assert reference_pitches(np.array([40.0, 42, 44, 60, 62, 64]), 2) == [42.0, 62.0]


def pitch_training_batch(rng, n: int = 16):
    xs, tracks = [], []
    for _ in range(n):
        pitches = [int(p) for p in rng.integers(45, 76, rng.integers(3, 6))]
        x, track = phrase_and_track(pitches, str(rng.choice(list(TIMBRES))), level=0.3 * 10 ** (-rng.uniform(0, 1)),
                                    note_s=0.3)
        xs.append(x[:, :36])
        tracks.append(track[:36])
    return torch.stack(xs), torch.stack(tracks)


def test_the_pitch_network_follows_a_harmonic_glide_within_a_semitone():
    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    net = PitchNetwork(CFG.n_mels, hidden=96)
    batches = [pitch_training_batch(rng) for _ in range(12)]
    opt = torch.optim.Adam(net.parameters(), lr=3e-3)
    for step in range(300):
        x, track = batches[step % len(batches)]
        loss = net.loss(net(x), track, sounding_frames(x))
        opt.zero_grad()
        loss.backward()
        opt.step()
    net.eval()
    y, midi = harmonic_glide(50, 70, seconds=2.0)
    x = log_mel(y, CFG)
    estimate, voiced = net.track(x.unsqueeze(0))
    truth = torch.tensor(midi[np.minimum(np.arange(x.shape[-1]) * CFG.hop_length, len(midi) - 1)])
    inner = slice(3, -3)  # the glide's ends are cut by the frame edges
    assert voiced[0, inner].float().mean() > 0.9
    assert (estimate[0, inner] - truth[inner]).abs().median() < 1.0


def test_a_level_relative_pitch_network_hears_a_softer_clip_as_the_same_melody():
    torch.manual_seed(0)
    net = PitchNetwork(CFG.n_mels, hidden=64, relative_level=True).eval()
    x, _ = phrase_and_track([57, 60, 64], "bright", level=0.3)
    softer = x.unsqueeze(0) - 20 / CFG.db_per_unit  # the same clip 20 dB softer, away from the floor
    with torch.inference_mode():
        assert torch.allclose(net(x.unsqueeze(0)), net(softer), atol=1e-4)


def test_an_absolute_level_pitch_network_hears_level_as_part_of_the_clip():
    torch.manual_seed(0)
    net = PitchNetwork(CFG.n_mels, hidden=64, relative_level=False).eval()
    x, _ = phrase_and_track([57, 60, 64], "bright", level=0.3)
    with torch.inference_mode():
        assert not torch.allclose(net(x.unsqueeze(0)), net(x.unsqueeze(0) - 20 / CFG.db_per_unit), atol=1e-2)


def test_new_models_track_pitch_relative_to_the_clips_level_and_older_configs_keep_absolute_levels():
    assert PrototypeModel(PrototypeConfig(n_classes=2, pitch_anchored=True)).pitch.relative_level
    stored = {k: v for k, v in PrototypeConfig(n_classes=2, pitch_anchored=True).__dict__.items()
              if k != "pitch_relative_level"}
    assert not PrototypeModel(PrototypeConfig.from_dict(stored)).pitch.relative_level


@pytest.fixture(scope="module")
def phrase_bundle(tmp_path_factory):
    """A tiny corpus of three timbres with notes and negatives, trained into a bundle with the CLI."""
    root = write_phrase_collection(tmp_path_factory.mktemp("phrases"), per_class=24)
    negatives = root / "negatives"
    (negatives / "noise").mkdir(parents=True)
    rng = np.random.default_rng(5)
    rows = []
    for i in range(16):
        colour = np.cumsum(rng.standard_normal(SR)) if i % 2 else rng.standard_normal(SR)
        colour = colour - np.convolve(colour, np.ones(64) / 64, "same") if i % 2 else colour
        sf.write(negatives / "noise" / f"noise_{i:02d}.wav", (0.1 * colour / np.abs(colour).max()).astype(np.float32), SR)
        rows.append(f"noise/noise_{i:02d}.wav,noise,numpy,noise,1.0")
    (negatives / "manifest.csv").write_text("path,kind,source,description,seconds\n" + "\n".join(rows) + "\n")
    out = tmp_path_factory.mktemp("bundle") / "phrases"
    run = subprocess.run([sys.executable, "-m", "auralens.server.cli", "train", "prototypes", "--data", str(root),
                          "--out", str(out), "--epochs-per-stage", "8", "--patience", "3", "--batch-size", "8",
                          "--threads", "1", "--quiet", "--cache-dir", str(root / ".cache")],
                         capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr
    return root, out


def test_training_on_annotated_notes_makes_a_pitch_anchored_bundle(phrase_bundle):
    _, out = phrase_bundle
    entry = load_bundle(out).entry("prototypes")
    assert entry.config["pitch_anchored"] is True
    assert len(entry.config["reference_midi"]) == 3
    assert all(45 <= r <= 72 for r in entry.config["reference_midi"])
    assert set(entry.stages) == {"raw", "gain", "pitch", "filters"}
    assert entry.metrics["oa"] >= 0.8


def test_an_untouched_prototype_at_its_reference_is_its_own_class(phrase_bundle):
    _, out = phrase_bundle
    model = load_bundle(out).load_model("prototypes")
    for k in range(model.cfg.n_prototypes):
        scores = steady_scores(model, model.prototypes[k].detach(), 64, CFG.db_per_unit,
                               float(model.reference_midi[k]))
        assert int(scores.argmax()) == int(model.prototype_class[k])


def test_an_analysis_leads_with_the_trust_verdict_of_a_fitted_score(phrase_bundle):
    """A score fitted on the model's own held-out phrases against noise; a clip it flags gets
    the sentence the page shows, a clip it does not flag the reassuring one."""
    _, out = phrase_bundle
    model = load_bundle(out).load_model("prototypes")
    rng = np.random.default_rng(11)
    known = [features(timbre_phrase([int(p) for p in rng.integers(48, 70, 3)], t)) for t in TIMBRES for _ in range(8)]
    silence_and_hiss = [features((level * rng.standard_normal(2 * SR)).astype(np.float32)) for level in (0.01, 0.1)]
    model.cfg.trust = fit_trust(evidence(model, known).trust, evidence(model, silence_and_hiss).trust).to_dict()
    model.cfg.trust["threshold"] = 1.0  # everything is flagged
    flagged = analyse_spectral(model, known[0], ["a", "b", "c"], CFG)["trust"]
    model.cfg.trust["threshold"] = 0.0  # nothing is
    familiar = analyse_spectral(model, known[0], ["a", "b", "c"], CFG)["trust"]
    assert not flagged["familiar"] and "does not sound like any instrument" in flagged["sentence"]
    assert familiar["familiar"] and familiar["sentence"] == LIKE


def test_add_trust_stores_the_score_the_temperature_and_their_figures(phrase_bundle, tmp_path):
    root, trained = phrase_bundle
    out = shutil.copytree(trained, tmp_path / "phrases")
    calibration = write_phrase_collection(tmp_path / "other", per_class=10, seed=3)
    run = subprocess.run([sys.executable, "-m", "auralens.server.cli", "bundle", "add-trust", "--bundle", str(out),
                          "--data", str(root), "--calibrate-on", str(calibration), "--threads", "1", "--quiet",
                          "--cache-dir", str(root / ".cache")], capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    entry = json.loads((out / "bundle.json").read_text())["models"][0]
    assert entry["config"]["calibration_temperature"] > 0
    assert set(entry["config"]["trust"]) >= {"weights", "threshold"}
    figures = entry["metrics"]["trust"]
    assert 0 <= figures["negatives_flagged"] <= 1 and figures["negatives_measured"] == 8
    assert "ece_after" in figures["calibration"]["sets"]["calibration source, test split"]


def test_add_trust_fits_on_several_unheard_collections_and_measures_each(phrase_bundle, tmp_path):
    root, trained = phrase_bundle
    out = shutil.copytree(trained, tmp_path / "phrases")
    first = write_phrase_collection(tmp_path / "first", per_class=8, seed=3)
    second = write_phrase_collection(tmp_path / "second", per_class=8, seed=6)
    run = subprocess.run([sys.executable, "-m", "auralens.server.cli", "bundle", "add-trust", "--bundle", str(out),
                          "--data", str(root), "--calibrate-on", str(first), str(second), "--threads", "1",
                          "--quiet", "--cache-dir", str(root / ".cache")], capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    calibration = json.loads((out / "bundle.json").read_text())["models"][0]["metrics"]["trust"]["calibration"]
    assert len(calibration["fitted_on"]) == 3
    assert {"calibration source first, test split", "calibration source second, test split"} <= set(calibration["sets"])


def test_add_trust_refuses_a_check_that_is_also_a_calibration_source(phrase_bundle, tmp_path):
    root, trained = phrase_bundle
    out = shutil.copytree(trained, tmp_path / "phrases")
    before = (out / "bundle.json").read_text()
    other = write_phrase_collection(tmp_path / "other", per_class=6, seed=3)
    run = subprocess.run([sys.executable, "-m", "auralens.server.cli", "bundle", "add-trust", "--bundle", str(out),
                          "--data", str(root), "--calibrate-on", str(other), "--check", f"again={other}",
                          "--threads", "1", "--quiet", "--cache-dir", str(root / ".cache")],
                         capture_output=True, text=True, timeout=300)
    assert run.returncode != 0 and "both a calibration source and a check" in run.stderr
    assert (out / "bundle.json").read_text() == before


def test_add_trust_refuses_a_calibration_collection_with_only_a_test_split(phrase_bundle, tmp_path):
    """A check corpus (everything in its test split) has nothing to fit the temperature on: the
    command says so and leaves the bundle as it was."""
    root, trained = phrase_bundle
    out = shutil.copytree(trained, tmp_path / "phrases")
    before = (out / "bundle.json").read_text()
    checks = write_phrase_collection(tmp_path / "check", per_class=4, seed=4)
    manifest = (checks / "manifest.csv").read_text().splitlines()
    (checks / "manifest.csv").write_text("\n".join([manifest[0]] + [",".join(line.split(",")[:2] + ["test"])
                                                                      for line in manifest[1:]]) + "\n")
    run = subprocess.run([sys.executable, "-m", "auralens.server.cli", "bundle", "add-trust", "--bundle", str(out),
                          "--data", str(root), "--calibrate-on", str(checks), "--threads", "1", "--quiet",
                          "--cache-dir", str(root / ".cache")], capture_output=True, text=True, timeout=300)
    assert run.returncode != 0 and "no train or val clips" in run.stderr
    assert (out / "bundle.json").read_text() == before


def test_white_noise_is_flagged_by_the_fitted_trust_score(phrase_bundle, tmp_path):
    """Trust fitted with `bundle add-trust` on the corpus's negatives flags white noise it has
    never heard (a new seed, another level and length)."""
    root, trained = phrase_bundle
    out = shutil.copytree(trained, tmp_path / "phrases")
    calibration = write_phrase_collection(tmp_path / "other", per_class=10, seed=3)
    run = subprocess.run([sys.executable, "-m", "auralens.server.cli", "bundle", "add-trust", "--bundle", str(out),
                          "--data", str(root), "--calibrate-on", str(calibration), "--threads", "1", "--quiet",
                          "--cache-dir", str(root / ".cache")], capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    model = load_bundle(out).load_model("prototypes")
    noise = (0.05 * np.random.default_rng(123).standard_normal(3 * SR)).astype(np.float32)
    verdict = analyse_spectral(model, features(noise), ["a", "b", "c"], CFG)["trust"]
    phrases = [features(sf.read(path, dtype="float32")[0]) for path in sorted(calibration.glob("*/*.wav"))]
    scores = [analyse_spectral(model, x, ["a", "b", "c"], CFG)["trust"]["score"] for x in phrases]
    assert not verdict["familiar"]
    assert verdict["score"] < np.quantile(scores, 0.1)  # below nine in ten phrases it has not heard


def test_a_re_creation_from_the_pitch_stage_on_plays_the_clips_melody(phrase_bundle, tmp_path):
    """Every prototype's re-creation, heard through the API, plays the notes of the phrase it
    re-creates - the melody is the pitch transformation, whichever class the prototype is."""
    import io

    from fastapi.testclient import TestClient

    from auralens.server.app import create_app

    _, out = phrase_bundle
    pitches, note_s = [52, 57, 60, 64], 0.5
    phrase = timbre_phrase(pitches, list(TIMBRES)[1], note_s)
    buffer = io.BytesIO()
    sf.write(buffer, phrase, SR, format="WAV")
    with TestClient(create_app(device="cpu", bundle=out, data_dir=tmp_path), base_url="http://localhost") as client:
        clip = client.post("/api/clips", files={"file": ("phrase.wav", buffer.getvalue(), "audio/wav")}).json()
        analysis = client.post("/api/analyses", json={"clip_id": clip["id"]}).json()
        for k in range(3):
            wav = client.get(f"/api/analyses/{analysis['id']}/reconstructions/{k}/audio.wav", params={"stage": "pitch"})
            samples, _ = sf.read(io.BytesIO(wav.content), dtype="float32")
            f0, voiced, _ = librosa.pyin(samples, fmin=60, fmax=1000, sr=SR)
            truth = np.array([pitches[min(int(s / note_s), 3)] for s in librosa.times_like(f0, sr=SR)])
            inner = voiced & (librosa.times_like(f0, sr=SR) < len(pitches) * note_s - 0.1)
            assert np.median(np.abs(librosa.hz_to_midi(f0[inner]) - truth[inner])) < 0.5
