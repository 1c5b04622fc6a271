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


def timbre_phrase(pitches, timbre: str, note_s: float = 0.4, sr: int = SR, level: float = 0.3) -> np.ndarray:
    """Notes of one timbre one after another (MIDI ``pitches``, ``note_s`` each, slow decay)."""
    return np.concatenate([timbre_tone(440.0 * 2 ** ((p - 69) / 12), timbre, note_s, sr, level, decay=0.5)
                           for p in pitches]).astype(np.float32)


def harmonic_glide(start_midi: float, end_midi: float, seconds: float = 2.0, sr: int = SR,
                   amplitude: float = 0.3) -> tuple[np.ndarray, np.ndarray]:
    """A tone whose pitch glides linearly in semitones; returns ``(samples, pitch_midi per sample)``."""
    t = np.arange(int(round(seconds * sr))) / sr
    midi = start_midi + (end_midi - start_midi) * t / seconds
    phase = 2 * np.pi * np.cumsum(440.0 * 2 ** ((midi - 69) / 12)) / sr
    y = sum(np.sin(k * phase) / k for k in range(1, 11))
    return (amplitude * y / np.abs(y).max()).astype(np.float32), midi


def write_phrase_collection(root, per_class: int = 24, seed: int = 0, note_s: float = 0.4):
    """A corpus-like collection with note annotations: ``manifest.csv`` (path, label, split),
    ``notes.csv`` and ``<timbre>/<i>.wav`` phrases of 1-4 notes between MIDI 45 and 72."""
    import csv

    import soundfile as sf

    rng = np.random.default_rng(seed)
    rows, notes = [], []
    for timbre in TIMBRES:
        (root / timbre).mkdir(parents=True, exist_ok=True)
        for i in range(per_class):
            start = int(rng.integers(45, 66))
            pitches = [int(np.clip(start + s, 45, 72)) for s in np.cumsum(rng.integers(-4, 5, rng.integers(1, 5)))]
            path = f"{timbre}/{timbre}_{i:02d}.wav"
            level = 0.3 * 10 ** (rng.uniform(-12, 0) / 20)
            sf.write(root / path, timbre_phrase(pitches, timbre, note_s, level=level), SR)
            split = "train" if i < 0.7 * per_class else ("val" if i < 0.85 * per_class else "test")
            rows.append({"path": path, "label": timbre, "split": split})
            notes += [{"path": path, "onset": round(j * note_s, 4), "offset": round((j + 1) * note_s, 4),
                       "pitch": p, "velocity": 90} for j, p in enumerate(pitches)]
    for name, table in (("manifest.csv", rows), ("notes.csv", notes)):
        with open(root / name, "w", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=list(table[0]))
            writer.writeheader()
            writer.writerows(table)
    return root


def timbre_archive(per_folder: int = 10, seconds: float = 1.0, seed: int = 0, top: str = "recordings") -> bytes:
    """A ZIP of ``4 * per_folder`` WAV notes in four folders ``<top>/<folder>/<folder>_<i>.wav``:
    the three :data:`TIMBRES` and ``pure`` (a sine), at random pitches (110-440 Hz) and levels."""
    import io
    import zipfile

    import soundfile as sf

    rng = np.random.default_rng(seed)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as z:
        for folder in [*TIMBRES, "pure"]:
            for i in range(per_folder):
                f0 = 110.0 * 2 ** rng.uniform(0, 2)
                level = 0.3 * 10 ** (rng.uniform(-12, 0) / 20)
                y = (timbre_tone(f0, folder, seconds, level=level) if folder in TIMBRES
                     else (level * np.sin(2 * np.pi * f0 * np.arange(int(seconds * SR)) / SR)).astype(np.float32))
                wav = io.BytesIO()
                sf.write(wav, y, SR, format="WAV", subtype="PCM_16")
                z.writestr(f"{top}/{folder}/{folder}_{i:02d}.wav", wav.getvalue())
    return buf.getvalue()


def formant_tone(midi: float, formant_hz: float, seconds: float = 0.5, sr: int = SR, width_hz: float = 300.0,
                 level: float = 0.3) -> np.ndarray:
    """A harmonic note at ``midi`` whose partials pass a fixed resonance at ``formant_hz``
    (Gaussian, ``width_hz``): the resonance stays put while the note moves, as a body's does."""
    f0 = 440.0 * 2 ** ((midi - 69) / 12)
    t = np.arange(int(round(seconds * sr))) / sr
    y = sum(np.exp(-0.5 * ((k * f0 - formant_hz) / width_hz) ** 2) / np.sqrt(k) * np.sin(2 * np.pi * k * f0 * t)
            for k in range(1, 60) if k * f0 < sr / 2)
    return (level * y / np.abs(y).max()).astype(np.float32)
