"""Clip files and manifests of a built corpus."""

from __future__ import annotations

import csv
import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

import numpy as np
import soundfile

AUDIO_FORMATS = {"flac": "FLAC", "wav": "WAV"}
TAG_COLUMNS = (
    "pitch", "velocity", "duration", "vibrato", "reverb",
    "family", "register", "dynamics", "articulation",
)
# Second edition: the clip's source, whether it is a single note or a melody, and the melody's
# number of notes, motion (stepwise/leaping) and dynamics shape (steady/crescendo/diminuendo).
CLIP_COLUMNS = ("soundfont", "clip", "n_notes", "motion", "shape")
CORPUS_COLUMNS = ("path", "label", "split", *TAG_COLUMNS, *CLIP_COLUMNS)
CONCEPT_COLUMNS = ("path", "concept", "label", *TAG_COLUMNS, *CLIP_COLUMNS)
# The sidecar beside a manifest: one row per note of every clip (times in seconds from the
# clip's start, `offset` the note-off); auralens.models.data reads it.
NOTES_FILE = "notes.csv"
NOTES_COLUMNS = ("path", "onset", "offset", "pitch", "velocity")
AUGMENTATION_FILE = "augmentation.json"  # the train-time augmentation a build asks for
PCM16_FULL_SCALE = 32767


def to_pcm16(clip: np.ndarray) -> np.ndarray:
    """Quantise a float clip (full scale 1.0) to int16, rounding to nearest.

    Samples beyond full scale are clipped to +-32767.

    Example:
        >>> to_pcm16(np.array([0.5, -1.5])).tolist()
        [16384, -32767]
    """
    scaled = np.rint(np.asarray(clip, dtype=np.float64) * PCM16_FULL_SCALE)
    return np.clip(scaled, -PCM16_FULL_SCALE, PCM16_FULL_SCALE).astype(np.int16)


def write_clip(path: str | Path, clip: np.ndarray, sample_rate: int, audio_format: str) -> None:
    """Write a mono float clip as a 16-bit FLAC or WAV file (`audio_format` "flac"/"wav").

    Creates the parent directory when needed.

    Example:
        >>> write_clip("/tmp/a.flac", np.zeros(22050, np.float32), 22050, "flac")
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    soundfile.write(
        path, to_pcm16(clip), sample_rate, format=AUDIO_FORMATS[audio_format], subtype="PCM_16"
    )


def write_csv_atomic(
    path: str | Path, columns: Sequence[str], rows: Iterable[Mapping[str, object]]
) -> None:
    """Write `rows` (dicts with exactly `columns` as keys) as a CSV file at `path`.

    The file is written beside its destination and moved into place with `os.replace`,
    so readers see either the old file or the complete new one.

    Example:
        >>> write_csv_atomic("/tmp/m.csv", ["path", "label"], [{"path": "a.wav", "label": "harp"}])
    """
    path = Path(path)
    temporary = path.with_name(path.name + ".tmp")
    with temporary.open("w", newline="", encoding="utf-8") as file:
        writer = csv.DictWriter(file, fieldnames=list(columns), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
        file.flush()
        os.fsync(file.fileno())
    os.replace(temporary, path)
