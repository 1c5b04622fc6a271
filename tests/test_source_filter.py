"""Source-filter prototypes: a harmonic part that moves with the note and an envelope that stays
where the instrument's resonances are (synthetic notes through a fixed resonance)."""
from __future__ import annotations

import torch

from auralens.models.audio import log_mel
from auralens.models.prototypes.anchor import fit_source_filter, source_filter_errors
from auralens.models.prototypes.pitch import sounding_frames
from auralens.models.prototypes.transforms import SpectralTables

from .sounds import formant_tone

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
