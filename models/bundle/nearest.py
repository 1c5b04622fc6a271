"""The nearest training clip of each prototype of a latent prototype model, stored in the bundle.

Always a faithful sound, but only the closest real example of the prototype (a point of the
model's embedding space); heard beside the decoded prototype
(:func:`auralens.models.latent.sonify.prototype_audio`).

Layout in a bundle::

    <bundle>/models/<id>/nearest.json           [{prototype, label, file, source, clip_label,
                                                  split, distance}] one per prototype
    <bundle>/models/<id>/nearest/p<k>.flac      the nearest training clip of prototype k
"""
from __future__ import annotations

import io
import json
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import soundfile as sf

from ..atomic import write_bytes_atomic
from ..audio import AudioConfig, load_audio
from .layout import MODELS_DIR, NEAREST_DIR, NEAREST_INDEX


@dataclass(frozen=True)
class NearestClip:
    """The training clip nearest to one prototype, as stored in a bundle."""

    prototype: int
    label: str  # the prototype's class
    file: str  # FLAC path relative to the bundle
    source: str  # the clip's path relative to its collection
    clip_label: str  # the clip's own class (usually the prototype's)
    split: str
    distance: float  # mean squared difference in the standardised space


def write_nearest_clips(bundle_path: Path, model_id: str, clips: list[dict], sample_rate: int) -> list[NearestClip]:
    """Copy each prototype's nearest training clip into the bundle (16-bit FLAC) and index them.

    ``clips``: per prototype ``{prototype, label, path (absolute audio file), source, clip_label,
    split, distance}``. Returns what was written.
    """
    bundle_path = Path(bundle_path)
    folder = bundle_path / MODELS_DIR / model_id / NEAREST_DIR
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("*.flac"):
        old.unlink()
    written = []
    for c in clips:
        audio = load_audio(c["path"], sample_rate)
        rel = f"{MODELS_DIR}/{model_id}/{NEAREST_DIR}/p{c['prototype']:03d}.flac"
        buf = io.BytesIO()
        sf.write(buf, audio.samples, audio.sample_rate, format="FLAC", subtype="PCM_16")
        write_bytes_atomic(bundle_path / rel, buf.getvalue())
        written.append(NearestClip(c["prototype"], c["label"], rel, c["source"], c["clip_label"], c["split"],
                                   float(c["distance"])))
    write_bytes_atomic(bundle_path / MODELS_DIR / model_id / NEAREST_INDEX,
                       json.dumps([asdict(w) for w in written], indent=1).encode())
    return written


def read_nearest_clips(bundle_path: Path, model_id: str) -> list[NearestClip]:
    """The nearest training clip of every prototype of model ``model_id`` (empty when none are stored).

    Examples
    --------
    >>> clips = read_nearest_clips(DEFAULT_BUNDLE, "latent")     # doctest: +SKIP
    >>> clips[0].label, clips[0].file
    ('accordion', 'models/latent/nearest/p000.flac')
    """
    index = Path(bundle_path) / MODELS_DIR / model_id / NEAREST_INDEX
    if not index.is_file():
        return []
    return [NearestClip(**d) for d in json.loads(index.read_text())]


def nearest_clip_audio(bundle_path: Path, clip: NearestClip, config: AudioConfig = AudioConfig()) -> np.ndarray:
    """The stored nearest clip as samples ``(n,)`` float32 at ``config.sample_rate``."""
    return load_audio(Path(bundle_path) / clip.file, config.sample_rate).samples
