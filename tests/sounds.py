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


TIMBRES = {
    "bright": lambda k: 1.0 / k,  # all harmonics, slowly falling
    "hollow": lambda k: (1.0 / k) if k % 2 else 0.0,  # odd harmonics only
    "dark": lambda k: 1.0 / k ** 3,  # energy in the fundamental
}


def timbre_tone(f0: float, timbre: str, seconds: float = 1.0, sr: int = SR, level: float = 0.3,
                decay: float = 1.5) -> np.ndarray:
    """A decaying harmonic note whose harmonic amplitudes follow ``TIMBRES[timbre]``."""
    t = np.arange(int(round(seconds * sr))) / sr
    amps = TIMBRES[timbre]
    y = sum(amps(k) * np.sin(2 * np.pi * f0 * k * t) for k in range(1, 16) if f0 * k < sr / 2)
    envelope = np.minimum(1.0, t / 0.01) * np.exp(-decay * t)
    return (level * y * envelope / np.abs(y).max()).astype(np.float32)


def write_timbre_collection(root, per_class: int = 12, seed: int = 0, seconds: float = 1.0):
    """A labelled folder ``root/<timbre>/<i>.wav`` of notes at random pitches (110-440 Hz)."""
    import soundfile as sf

    rng = np.random.default_rng(seed)
    for timbre in TIMBRES:
        (root / timbre).mkdir(parents=True, exist_ok=True)
        for i in range(per_class):
            f0 = 110.0 * 2 ** (rng.uniform(0, 2))
            level = 0.3 * 10 ** (rng.uniform(-12, 0) / 20)
            sf.write(root / timbre / f"{timbre}_{i:02d}.wav", timbre_tone(f0, timbre, seconds, level=level), SR)
    return root
