"""How a spectral prototype model's spectra are heard: a prototype as a steady sound, and its
re-creations of a clip.

A model whose prototypes have reference pitches is played by partials
(:mod:`auralens.models.audio.harmonic`): a prototype at its reference (or transposed by hand),
a re-creation at the pitch the model gave it in every frame - the clip's melody from the pitch
stage on - so that one hears the note, and "your phrase as the flute would play it" is a
phrase. A model without references is played by Griffin-Lim.

Shapes: F mel bands, T frames, N sounds.
"""
from __future__ import annotations

import torch

from ..audio import AudioConfig, harmonic_render, harmonic_tone, log_mel_to_audio, steady_tone
from .model import PrototypeModel
from .pitch import midi_to_hz
from .transforms import Transforms
from .whatif import reference_pitch


def prototype_tone(model: PrototypeModel, spectrum: torch.Tensor, k: int, seconds: float, config: AudioConfig,
                   shift_semitones: float = 0.0) -> torch.Tensor:
    """Prototype ``k`` heard as a steady sound: ``spectrum (F,)`` (its spectrum, perhaps
    transformed by :func:`what_if_spectrum`) -> ``(n_samples,)`` waveform.

    A prototype with a reference pitch is played by the partials of that pitch (transposed by
    ``shift_semitones``; :func:`auralens.models.audio.harmonic_tone`), so that one hears - and
    a pitch tracker finds - its note; one without is played by Griffin-Lim.

    >>> prototype_tone(model, model.reference_spectra()[0].detach(), 0, 1.0, AudioConfig()).shape  # doctest: +SKIP
    torch.Size([22050])
    """
    ref = reference_pitch(model, k)
    if ref is None:
        return steady_tone(spectrum, seconds, config)
    return harmonic_tone(spectrum, float(midi_to_hz(ref + shift_semitones)), seconds, config)


def reconstruction_pitch(model: PrototypeModel, transforms: Transforms, ks: list[int], n_frames: int) -> torch.Tensor | None:
    """The pitch (MIDI) each of prototypes ``ks`` plays in every frame of its re-creation:
    ``(len(ks), T)``, its reference plus the pitch shift of ``transforms`` (``(1, T, len(ks))``,
    from :meth:`PrototypeModel.reconstruct`), or the reference alone before the pitch stage;
    None for a model without references."""
    if not model.cfg.pitch_anchored:
        return None
    ref = model.reference_midi[torch.as_tensor(ks, device=model.reference_midi.device)].float()  # (K',)
    if transforms.shift is None:
        return ref.unsqueeze(-1).expand(-1, n_frames)
    return ref.unsqueeze(-1) + transforms.shift[0].T.float()


def reconstruction_audio(reconstructions: torch.Tensor, pitch_midi: torch.Tensor | None, config: AudioConfig,
                         length: int) -> torch.Tensor:
    """Re-creations ``(N, F, T)`` log-mel -> ``(N, length)`` waveforms: played by the partials
    of ``pitch_midi (N, T)`` when given, else by one Griffin-Lim batch.

    >>> reconstruction_audio(torch.full((2, 128, 20), 0.5), None, AudioConfig(), 9728).shape  # doctest: +SKIP
    torch.Size([2, 9728])
    """
    if pitch_midi is None:
        return log_mel_to_audio(reconstructions, config, length=length)
    return torch.stack([harmonic_render(r, midi_to_hz(p), config, length)
                        for r, p in zip(reconstructions, pitch_midi)])
