"""Source-filter prototypes: a harmonic part that moves with the note and an envelope that stays
where the instrument's resonances are (synthetic notes through a fixed resonance)."""
from __future__ import annotations

import subprocess
import sys

import pytest
import torch

from auralens.models.audio import AudioConfig, log_mel
from auralens.models.bundle import load_bundle
from auralens.models.prototypes.anchor import fit_source_filter, source_filter_errors
from auralens.models.prototypes.model import PrototypeConfig, PrototypeModel
from auralens.models.prototypes.pitch import sounding_frames
from auralens.models.prototypes.transforms import SpectralTables, Transforms, fitted_gain, frame_errors, reconstruct
from auralens.models.prototypes.whatif import steady_scores

from .sounds import formant_tone, write_phrase_collection

CENTRE_HZ = SpectralTables(128, 0.0, 11025.0).centre_hz


def pitched_frames(pitches, formant_hz: float) -> tuple[torch.Tensor, torch.Tensor]:
    """Sounding frames ``(N, F)`` of notes at ``pitches`` through one resonance, and their pitch ``(N,)``."""
    frames, pitch = [], []
    for midi in pitches:
        x = log_mel(formant_tone(midi, formant_hz))
        keep = sounding_frames(x.unsqueeze(0))[0]
        frames.append(x[:, keep].T)
        pitch.append(torch.full((int(keep.sum()),), float(midi)))
    return torch.cat(frames), torch.cat(pitch)


def test_a_fixed_resonance_is_learned_as_the_envelope_not_carried_with_the_note():
    frames, pitch = pitched_frames(range(48, 73, 2), 1500.0)
    _, envelope = fit_source_filter(frames, pitch, 60.0, CENTRE_HZ)
    assert abs(float(CENTRE_HZ[envelope.argmax()]) - 1500.0) < 150.0


def test_the_envelope_explains_unheard_notes_better_than_transposing_alone():
    frames, pitch = pitched_frames(range(48, 73, 2), 1500.0)
    reference = torch.tensor([60.0])
    harmonic, envelope = fit_source_filter(frames, pitch, 60.0, CENTRE_HZ)
    transposed_only = fit_source_filter(frames, pitch, 60.0, CENTRE_HZ, iterations=0)[0]
    unheard, unheard_pitch = pitched_frames([49, 55, 63, 71], 1500.0)
    with_envelope = source_filter_errors(unheard, unheard_pitch, harmonic[None], envelope[None], reference, CENTRE_HZ)
    without = source_filter_errors(unheard, unheard_pitch, transposed_only[None], torch.zeros(1, 128), reference,
                                   CENTRE_HZ)
    assert float(with_envelope) < 0.5 * float(without)


def test_two_instruments_that_differ_only_in_their_resonance_are_told_apart_at_unheard_pitches():
    references = torch.tensor([60.0, 60.0])
    parts = [fit_source_filter(*pitched_frames(range(48, 73, 3), hz), 60.0, CENTRE_HZ) for hz in (900.0, 2400.0)]
    harmonic, envelope = torch.stack([p[0] for p in parts]), torch.stack([p[1] for p in parts])
    for true_class, hz in enumerate((900.0, 2400.0)):
        for midi in (50, 58, 67):
            frames, pitch = pitched_frames([midi], hz)
            errors = source_filter_errors(frames, pitch, harmonic, envelope, references, CENTRE_HZ)
            assert int(errors.argmin()) == true_class


def source_filter_model(references=(50.0, 60.0, 70.0)) -> PrototypeModel:
    """A source-filter model with random harmonic parts and envelopes."""
    torch.manual_seed(0)
    model = PrototypeModel(PrototypeConfig(n_classes=len(references), pitch_anchored=True, source_filter=True,
                                           reference_midi=tuple(references)))
    with torch.no_grad():
        model.prototypes.uniform_(0.2, 0.6)
        model.envelopes.normal_(0.0, 0.05)
    return model.eval()


@pytest.mark.parametrize("stage", ["raw", "gain", "pitch", "filters"])
def test_a_source_filter_models_errors_are_those_of_its_re_creations(stage):
    model = source_filter_model()
    x = torch.rand(2, 128, 40)
    f0 = torch.linspace(48, 72, 40).expand(2, 40)
    tr = model.transforms(x, "filters", f0).up_to(stage)
    rec = reconstruct(model.prototypes, tr, model.tables, (2, 40), model.envelopes)  # (B, T, K, F)
    direct = (x.transpose(1, 2).unsqueeze(2) - rec).square().mean(-1).transpose(1, 2)
    assert torch.allclose(frame_errors(x, model.prototypes, tr, model.tables, model.envelopes), direct, atol=1e-5)


def test_the_fitted_gain_of_a_source_filter_prototype_is_its_best_gain():
    model = source_filter_model()
    x = torch.rand(1, 128, 30)
    tr = Transforms(shift=model.anchored_shift(x, torch.full((1, 30), 57.0)))
    gain = fitted_gain(x, model.prototypes, tr, model.tables, model.cfg.gain_max, model.envelopes)
    rec = reconstruct(model.prototypes, tr, model.tables, (1, 30), model.envelopes)
    assert torch.allclose(gain, (x.transpose(1, 2).unsqueeze(2) - rec).mean(-1), atol=1e-5)


def test_the_envelope_stays_in_place_while_the_harmonic_part_moves_with_the_note():
    model = source_filter_model((60.0,))
    with torch.no_grad():
        model.prototypes.zero_()
        model.prototypes[0, 30] = 1.0  # a partial in band 30
        model.envelopes.zero_()
        model.envelopes[0, 80] = 0.5  # a resonance in band 80
    octave_up = Transforms(shift=torch.full((1, 1, 1), 12.0))
    rec = reconstruct(model.prototypes, octave_up, model.tables, (1, 1), model.envelopes)[0, 0, 0].detach()
    assert float(rec[80]) == pytest.approx(0.5)
    partial_hz = float(model.tables.centre_hz[30])
    assert abs(float(model.tables.centre_hz[int(rec[:79].argmax())]) / partial_hz - 2.0) < 0.15


def test_a_source_filter_prototype_heard_at_its_reference_is_its_harmonic_part_plus_envelope():
    model = source_filter_model()
    expected = model.prototypes + model.envelopes
    assert torch.equal(model.reference_spectra(), expected)
    untouched = reconstruct(model.prototypes, Transforms(), model.tables, (1, 1), model.envelopes)[0, 0]
    assert torch.allclose(untouched, expected)


@pytest.fixture(scope="module")
def source_filter_bundle(tmp_path_factory):
    """A tiny corpus of three timbres with notes, trained into a source-filter bundle with the CLI."""
    root = write_phrase_collection(tmp_path_factory.mktemp("phrases"), per_class=24)
    out = tmp_path_factory.mktemp("bundle") / "phrases"
    run = subprocess.run([sys.executable, "-m", "auralens.server.cli", "train", "prototypes", "--data", str(root),
                          "--out", str(out), "--source-filter", "--epochs-per-stage", "6", "--patience", "3",
                          "--batch-size", "8", "--threads", "1", "--quiet", "--cache-dir", str(root / ".cache")],
                         capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr
    return root, out


def test_training_with_source_filter_makes_a_bundle_with_envelopes(source_filter_bundle):
    _, out = source_filter_bundle
    bundle = load_bundle(out)
    entry = bundle.entry("prototypes")
    assert entry.config["pitch_anchored"] is True and entry.config["source_filter"] is True
    assert entry.metrics["oa"] >= 0.8
    model = bundle.load_model("prototypes")
    assert model.envelopes.abs().max() > 0.01  # started from the fitted envelopes, not zeros


def test_the_model_card_says_a_source_filter_prototypes_envelope_stays_in_place(source_filter_bundle):
    _, out = source_filter_bundle
    assert "envelope (the instrument's resonances) that stays where it is" in (out / "MODEL_CARD.md").read_text()


def test_an_untouched_source_filter_prototype_at_its_reference_is_its_own_class(source_filter_bundle):
    _, out = source_filter_bundle
    model = load_bundle(out).load_model("prototypes")
    spectra = model.reference_spectra().detach()
    for k in range(model.cfg.n_prototypes):
        scores = steady_scores(model, spectra[k], 64, AudioConfig().db_per_unit, float(model.reference_midi[k]))
        assert int(scores.argmax()) == int(model.prototype_class[k])


def test_source_filter_prototypes_without_a_pitch_anchored_model_are_refused(tmp_path):
    root = write_phrase_collection(tmp_path / "phrases", per_class=6)
    run = subprocess.run([sys.executable, "-m", "auralens.server.cli", "train", "prototypes", "--data", str(root),
                          "--out", str(tmp_path / "b"), "--source-filter", "--pitch-anchored", "no", "--quiet",
                          "--cache-dir", str(root / ".cache")], capture_output=True, text=True, timeout=300)
    assert run.returncode != 0
    assert "pitch-anchored" in run.stderr and "Traceback" not in run.stderr
