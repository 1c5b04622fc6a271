"""Synthetic sounds with known content for the tests."""
from __future__ import annotations

import numpy as np

SR = 22_050


def harmonic_tone(f0: float, seconds: float = 2.0, sr: int = SR, n_harmonics: int = 10,
                  amplitude: float = 0.3) -> np.ndarray:
    """A tone with harmonics of amplitude 1/k, shape ``(round(seconds * sr),)`` float32."""
    t = np.arange(int(round(seconds * sr))) / sr
    y = sum(amplitude / k * np.sin(2 * np.pi * f0 * k * t) for k in range(1, n_harmonics + 1)
            if f0 * k < sr / 2)
    return y.astype(np.float32)
