"""The clip's melody: a pitch track shared by every prototype of a pitch-anchored model.

A pitch-anchored prototype is a harmonic tone at its reference pitch ``ref_k`` (MIDI); to
re-create a clip it is transposed frame by frame by ``shift_k(t) = f0(t) - ref_k``, with
``f0(t)`` the clip's pitch. ``f0`` comes from the corpus's note annotation in training
(:func:`note_track`) and from a small network on the log-mel for any clip
(:class:`PitchNetwork`, trained on the annotations). Frames with no pitch (silence, noise,
between notes) hold the last pitch heard (:func:`hold_unvoiced`), so that a prototype keeps
its note through a rest instead of jumping.

Shapes: B clips, F mel bands, T frames, N pitch bins. Pitches are MIDI numbers (A4 = 69,
fractional: 69.5 is a quarter tone above A4).
"""
from __future__ import annotations

import math

import torch
import torch.nn as nn
import torch.nn.functional as F

NOTE_NAMES = ("C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B")


def note_name(midi: float) -> str:
    """The nearest note's name with its octave (scientific pitch notation, A4 = 69).

    >>> note_name(69), note_name(45.2), note_name(61)
    ('A4', 'A2', 'C#4')
    """
    n = int(round(float(midi)))
    return f"{NOTE_NAMES[n % 12]}{n // 12 - 1}"


def midi_to_hz(midi, a4_hz: float = 440.0):
    """MIDI number -> Hz (``a4_hz * 2 ** ((midi - 69) / 12)``); floats or tensors.

    >>> round(midi_to_hz(57), 2)
    220.0
    """
    return a4_hz * 2.0 ** ((midi - 69.0) / 12.0)


def note_track(notes, n_frames: int, frame_seconds: float) -> torch.Tensor:
    """Frame-wise pitch of annotated notes: ``(T,)`` MIDI, NaN where no note sounds.

    ``notes``: objects with ``onset``, ``offset`` (seconds) and ``pitch`` (MIDI), e.g. a clip's
    :class:`auralens.models.data.NoteEvent` tuple. Frame ``t`` is centred at
    ``t * frame_seconds`` (the features' centred STFT). Where notes overlap the later one wins.

    >>> from types import SimpleNamespace as Note
    >>> note_track([Note(onset=0.0, offset=0.05, pitch=60)], 4, 0.02).tolist()
    [60.0, 60.0, 60.0, nan]
    """
    track = torch.full((n_frames,), float("nan"))
    times = torch.arange(n_frames) * frame_seconds
    for note in notes:
        track[(times >= note.onset) & (times <= note.offset)] = float(note.pitch)
    return track


def hold_unvoiced(pitch: torch.Tensor) -> torch.Tensor:
    """Fill NaN frames with the last pitch before them (leading ones with the first pitch).

    ``pitch (..., T)`` MIDI with NaN where unvoiced -> the same shape, no NaN where any frame
    of the row is voiced; rows with no voiced frame at all become 60 (C4).

    >>> hold_unvoiced(torch.tensor([float('nan'), 62., float('nan'), 64.])).tolist()
    [62.0, 62.0, 62.0, 64.0]
    """
    voiced = ~torch.isnan(pitch)
    T = pitch.shape[-1]
    position = torch.arange(T, device=pitch.device).expand_as(pitch)
    last = torch.where(voiced, position, torch.zeros_like(position)).cummax(-1).values  # last voiced index so far
    first = torch.where(voiced, position, torch.full_like(position, T)).min(-1, keepdim=True).values
    source = torch.where(voiced.cumsum(-1) > 0, last, first.clamp(max=T - 1).expand_as(last))
    held = pitch.gather(-1, source)
    return torch.nan_to_num(held, nan=60.0)


class PitchNetwork(nn.Module):
    """Log-mel ``(B, F, T)`` -> pitch logits ``(B, N + 1, T)``: N pitch bins ``step``
    semitones apart from ``low`` (MIDI), and a last row "no pitch".

    Three convolutions along time with the bands as channels (each frame sees about 0.2 s
    around it): enough to find the harmonic comb of a note in a mel spectrum.

    ``relative_level``: the network hears each clip with its loudest band and frame at 1 log
    unit, so that the same clip played softer or louder (a constant added to its log-mel) gives
    the same track. False: the absolute levels, as networks trained before this option heard
    them (their tracks drift on quiet clips).
    """

    def __init__(self, n_mels: int, low: float = 24.0, high: float = 100.0, step: float = 1 / 3,
                 hidden: int = 160, relative_level: bool = False):
        super().__init__()
        self.relative_level = bool(relative_level)
        self.low, self.step = float(low), float(step)
        self.n_bins = int(round((high - low) / step)) + 1
        self.net = nn.Sequential(
            nn.Conv1d(n_mels, hidden, 5, padding=2), nn.ReLU(), nn.BatchNorm1d(hidden),
            nn.Conv1d(hidden, hidden, 5, padding=2), nn.ReLU(), nn.BatchNorm1d(hidden),
            nn.Conv1d(hidden, self.n_bins + 1, 1),
        )

    def bin_pitch(self) -> torch.Tensor:
        """``(N,)`` MIDI pitch of every bin."""
        return self.low + self.step * torch.arange(self.n_bins, device=self.net[0].weight.device)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.relative_level:  # (B, F, T): the clip's peak at 1, whatever its level
            x = x - x.amax((1, 2), keepdim=True) + 1.0
        return self.net(2 * x - 1)  # log units [0, 1] -> [-1, 1], as the encoder sees them

    def loss(self, logits: torch.Tensor, track: torch.Tensor, sounding: torch.Tensor) -> torch.Tensor:
        """Cross-entropy against annotated pitch: ``track (B, T)`` MIDI (NaN: no note),
        ``sounding (B, T)`` bool, frames loud enough to carry a pitch. Voiced targets are a
        Gaussian over bins (sigma one bin) so that neighbouring bins share the credit; frames
        with no note or too quiet target the "no pitch" row."""
        voiced = ~torch.isnan(track) & sounding
        centres = self.bin_pitch()  # (N,)
        distance = (torch.nan_to_num(track, nan=0.0).unsqueeze(1) - centres[:, None]) / self.step  # (B, N, T)
        target = torch.exp(-0.5 * distance.square()) * voiced.unsqueeze(1)
        target = torch.cat([target, (~voiced).unsqueeze(1).float()], 1)
        target = target / target.sum(1, keepdim=True).clamp_min(1e-6)
        return -(target * F.log_softmax(logits, 1)).sum(1).mean()

    @torch.no_grad()
    def track(self, x: torch.Tensor, hold: bool = True) -> tuple[torch.Tensor, torch.Tensor]:
        """The clip's pitch: ``x (B, F, T)`` -> ``(f0 (B, T) MIDI, voiced (B, T) bool)``.

        The pitch of a voiced frame is the probability-weighted mean over the two bins either
        side of its most likely bin; unvoiced frames hold the last pitch (``hold``) or are NaN.
        """
        prob = torch.softmax(self(x).float(), 1)  # (B, N + 1, T)
        voiced = prob[:, -1] < 0.5
        bins = prob[:, :-1]
        best = bins.argmax(1, keepdim=True)  # (B, 1, T)
        window = (best + torch.arange(-2, 3, device=x.device).view(1, 5, 1)).clamp(0, self.n_bins - 1)
        weights = bins.gather(1, window)
        pitch = self.low + self.step * (weights * window).sum(1) / weights.sum(1).clamp_min(1e-9)
        pitch = torch.where(voiced, pitch, torch.full_like(pitch, math.nan))
        return (hold_unvoiced(pitch) if hold else pitch), voiced


def sounding_frames(x: torch.Tensor, margin: float = 0.25) -> torch.Tensor:
    """Frames whose strongest band is within ``margin`` log units (about 40 dB) of the clip's
    strongest: ``(B, F, T) -> (B, T)`` bool. (The strongest band, not the mean over bands: a
    rising note lights fewer mel bands and would look quieter.)"""
    level = x.amax(1)
    return level >= level.amax(-1, keepdim=True) - margin


def shift_spectra(spectra: torch.Tensor, semitones: torch.Tensor, centre_hz: torch.Tensor) -> torch.Tensor:
    """Transpose mel spectra: ``spectra (N, F)`` by ``semitones (N,)`` each -> ``(N, F)``.

    Output band ``f`` reads the input at ``f * 2 ** (-s / 12)`` (linear interpolation between
    band centres ``centre_hz (F,)``, edges clamped): the same mel-aware shift the model applies
    to its prototypes, used to align training frames on a reference pitch.
    """
    source = centre_hz.unsqueeze(0) * torch.exp2(-semitones.unsqueeze(1) / 12.0)  # (N, F) Hz
    index = torch.searchsorted(centre_hz.contiguous(), source.contiguous()).clamp(1, len(centre_hz) - 1)
    lo_hz, hi_hz = centre_hz[index - 1], centre_hz[index]
    w = ((source - lo_hz) / (hi_hz - lo_hz)).clamp(0, 1)
    return torch.lerp(spectra.gather(1, index - 1), spectra.gather(1, index), w)
