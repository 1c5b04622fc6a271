"""The `pitch` space: which notes sound, not how - the binary peak pattern of a constant-Q
transform, summarised as a pitch-class profile and a register profile.

After the pitch stream of the diverse-embeddings paper: a constant-Q transform with 12 bins per
octave (one per semitone), in each frame the bins that are the largest within +-2 bins, kept
when their level is at least the clip's median level. What is left is a binary pattern that
says where spectral peaks are and nothing about how strong they are, so the balance of the
harmonics (timbre) and the level hardly enter. It is summarised as how often each pitch class
(C, C#, ... B) carries a peak and how often each octave does.
"""
from __future__ import annotations

import numpy as np

FMIN_MIDI = 24  # C1, 32.7 Hz: the lowest CQT bin
BINS_PER_OCTAVE = 12
N_OCTAVES = 7  # C1 .. B7 (3951 Hz)
NEIGHBOURHOOD = 2  # a peak is the largest within +-2 bins
FLOOR_DB = 50.0  # ours: bins more than this below the clip's loudest bin never count as peaks
# (in a clip that is mostly quiet the median is the floor, and leakage would pass it)
PITCH_CLASSES = ("C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B")

DESCRIPTION = "the same notes and register, whatever plays them"


def cqt_db(samples: np.ndarray, sample_rate: int, hop_length: int = 512) -> np.ndarray:
    """Constant-Q magnitude in dB relative to each clip's loudest bin.

    Parameters
    ----------
    samples : ``(B, n_samples)`` float audio at ``sample_rate``.
    sample_rate : Hz.
    hop_length : samples between frames.

    Returns
    -------
    ``(B, N_OCTAVES * 12, n_frames)`` float32 dB, at most 0, floored at ``-FLOOR_DB``.
    """
    import librosa

    samples = np.asarray(samples, dtype=np.float32)
    n_bins = N_OCTAVES * BINS_PER_OCTAVE
    top = librosa.midi_to_hz(FMIN_MIDI + n_bins - 1)
    if top >= sample_rate / 2:
        raise ValueError(f"The pitch space needs a sample rate above {2 * top:.0f} Hz.")
    magnitude = np.abs(librosa.cqt(samples, sr=sample_rate, hop_length=hop_length,
                                   fmin=librosa.midi_to_hz(FMIN_MIDI), n_bins=n_bins,
                                   bins_per_octave=BINS_PER_OCTAVE))  # (B, n_bins, T)
    peak = magnitude.max(axis=(1, 2), keepdims=True)
    db = 20.0 * np.log10(np.maximum(magnitude, 1e-10) / np.maximum(peak, 1e-10))
    return np.maximum(db, -FLOOR_DB).astype(np.float32)


def peak_pattern(db: np.ndarray, neighbourhood: int = NEIGHBOURHOOD) -> np.ndarray:
    """Binary spectral-peak pattern of a constant-Q spectrogram.

    A bin is a peak when it is the largest within ``+-neighbourhood`` bins of its frame, its
    level is at least the median level of the clip, and it is above the dB floor (ours: in a clip
    that is mostly quiet the median is the floor itself, and the side lobes of a pure tone
    would pass it).

    Parameters
    ----------
    db : ``(B, n_bins, T)`` levels in dB (as :func:`cqt_db` gives).

    Returns
    -------
    ``(B, n_bins, T)`` bool.

    Examples
    --------
    >>> db = np.full((1, 12, 1), -80.0); db[0, 5, 0] = -10.0
    >>> np.flatnonzero(peak_pattern(db)[0, :, 0])
    array([5])
    """
    B, n_bins, T = db.shape
    padded = np.pad(db, ((0, 0), (neighbourhood, neighbourhood), (0, 0)), constant_values=-np.inf)
    windows = np.stack([padded[:, i:i + n_bins] for i in range(2 * neighbourhood + 1)])  # (W, B, n_bins, T)
    is_max = db >= windows.max(axis=0)
    median = np.median(db.reshape(B, -1), axis=1)[:, None, None]  # (B, 1, 1)
    return is_max & (db >= median) & (db > -FLOOR_DB)


def embed(samples: np.ndarray, sample_rate: int, hop_length: int = 512) -> np.ndarray:
    """Pitch vectors: pitch-class profile and register profile of the CQT peak pattern.

    Parameters
    ----------
    samples : ``(B, n_samples)`` float audio at ``sample_rate`` (clips of equal length).
    sample_rate : Hz (above 7.9 kHz: the top bin is B7).
    hop_length : samples between CQT frames.

    Returns
    -------
    ``(B, 12 + N_OCTAVES)`` float32: the share of peaks on each pitch class C..B (sums to 1),
    then the share in each octave C1..C7 (sums to 1). A clip without peaks gives zeros.

    Examples
    --------
    >>> t = np.arange(22_050) / 22_050
    >>> a4 = np.sin(2 * np.pi * 440.0 * t)[None].astype(np.float32)
    >>> v = embed(a4, 22_050)
    >>> PITCH_CLASSES[int(v[0, :12].argmax())], int(v[0, 12:].argmax()) + 1   # A, in octave 4
    ('A', 4)
    """
    peaks = peak_pattern(cqt_db(samples, sample_rate, hop_length))  # (B, n_bins, T)
    counts = peaks.sum(axis=2).astype(np.float64)  # (B, n_bins)
    by_octave = counts.reshape(len(counts), N_OCTAVES, BINS_PER_OCTAVE)  # (B, octave, class)
    pitch_class, register = by_octave.sum(axis=1), by_octave.sum(axis=2)
    total = np.maximum(counts.sum(axis=1, keepdims=True), 1.0)
    return np.concatenate([pitch_class / total, register / total], axis=1).astype(np.float32)
