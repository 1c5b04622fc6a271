"""The one feature convention of a bundle: sample rate, STFT, mel bands and log scaling."""
from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, fields

import numpy as np


@dataclass(frozen=True)
class AudioConfig:
    """How sound becomes features, for training, indexing and serving alike.

    Log scaling is ``x = (log10(P_mel + floor) + offset) / scale``: with the defaults silence
    maps to 0 and one log unit is 170 dB, so a gain of ``1/17`` units is 10 dB.

    Examples
    --------
    >>> cfg = AudioConfig()
    >>> cfg.n_frames(44_100)          # a 2 s clip at 22 050 Hz
    87
    >>> round(cfg.frame_seconds * 1000, 1)
    23.2
    """

    sample_rate: int = 22_050  # Hz
    n_fft: int = 2048  # samples, Hann window of the same length
    hop_length: int = 512  # samples between frames
    n_mels: int = 128  # HTK mel bands, triangles of peak 1 (no area normalisation)
    fmin: float = 0.0  # Hz, lowest mel edge
    fmax: float | None = None  # Hz, highest mel edge; None is Nyquist
    log_floor: float = 1e-10  # power added before the log
    log_offset: float = 10.0
    log_scale: float = 17.0

    @property
    def mel_fmax(self) -> float:
        """Highest mel edge in Hz (Nyquist when ``fmax`` is None)."""
        return float(self.sample_rate / 2 if self.fmax is None else self.fmax)

    @property
    def frame_seconds(self) -> float:
        """Time between two frames, in seconds."""
        return self.hop_length / self.sample_rate

    @property
    def db_per_unit(self) -> float:
        """Decibels per log unit (170 with the defaults)."""
        return 10.0 * self.log_scale

    def n_frames(self, n_samples: int) -> int:
        """Number of frames of a centred STFT of ``n_samples`` samples."""
        return 1 + n_samples // self.hop_length

    def n_samples(self, n_frames: int) -> int:
        """Number of samples that ``n_frames`` frames cover (inverse of :meth:`n_frames`)."""
        return (n_frames - 1) * self.hop_length

    def mel_frequencies(self) -> np.ndarray:
        """Centre frequency of each mel band in Hz, shape ``(n_mels,)``."""
        import librosa

        edges = librosa.mel_frequencies(self.n_mels + 2, fmin=self.fmin, fmax=self.mel_fmax, htk=True)
        return edges[1:-1]

    def power_to_log(self, power):
        """Mel power -> log units (numpy array or torch tensor, any shape)."""
        lib = _lib(power)
        return (lib.log10(power + self.log_floor) + self.log_offset) / self.log_scale

    def log_to_power(self, x):
        """Log units -> mel power (inverse of :meth:`power_to_log`)."""
        return 10.0 ** (x * self.log_scale - self.log_offset) - self.log_floor

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> "AudioConfig":
        names = {f.name for f in fields(cls)}
        unknown = set(d) - names
        if unknown:
            raise ValueError(f"unknown audio settings: {', '.join(sorted(unknown))}")
        return cls(**d)

    def key(self) -> str:
        """A short stable hash of the settings, for feature caches."""
        text = json.dumps(self.to_dict(), sort_keys=True)
        return hashlib.sha1(text.encode()).hexdigest()[:12]


def _lib(x):
    if isinstance(x, np.ndarray) or np.isscalar(x):
        return np
    import torch

    return torch
