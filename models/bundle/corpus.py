"""A listening corpus inside a bundle: a few clips per class, compressed, with their tags,
and for every prototype the clips it explains best.

Layout::

    <bundle>/corpus/index.csv          id,label,split,path,<tag columns...>
    <bundle>/corpus/audio/<id>.flac    16-bit FLAC at the bundle's sample rate (lossless: the
                                       prototype model hears lossy-codec artefacts)
    <bundle>/corpus/best_clips.json    {model id: [[clip ids] per prototype]}
"""
from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf
import torch

from ..atomic import atomic_path, write_bytes_atomic
from ..audio import load_audio, log_mel
from ..data import read_collection
from ..metrics import model_errors
from .format import load_bundle
from .layout import BEST_CLIPS, CORPUS_DIR


@dataclass(frozen=True)
class CorpusClip:
    id: str
    label: str
    split: str
    path: Path  # absolute
    tags: dict


def read_corpus(bundle_path: Path) -> list[CorpusClip]:
    """The bundle's listening corpus (empty when it has none)."""
    index = Path(bundle_path) / CORPUS_DIR / "index.csv"
    if not index.is_file():
        return []
    with open(index, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    return [CorpusClip(r["id"], r["label"], r["split"], index.parent / r["path"],
                       {k: v for k, v in r.items() if k not in ("id", "label", "split", "path")}) for r in rows]


def best_clips(bundle_path: Path) -> dict[str, list[list[str]]]:
    """Per model id, the ids of the corpus clips each prototype explains best (best first)."""
    path = Path(bundle_path) / CORPUS_DIR / BEST_CLIPS
    return json.loads(path.read_text()) if path.is_file() else {}


def best_explained(model, features: list[torch.Tensor], clip_ids: list[str], n_best: int = 3) -> list[list[str]]:
    """For each of ``model``'s K prototypes, the ids of the ``n_best`` clips it explains best.

    ``features``: the clips' ``(F, T)`` log-mels, named by ``clip_ids``. Returns K lists of
    ``n_best`` ids, the smallest reconstruction error (or distance) first.
    """
    errors = model_errors(model, features, next(model.parameters()).device)  # (N, K)
    order = torch.argsort(errors, dim=0)[:n_best]  # (n_best, K)
    return [[clip_ids[int(i)] for i in order[:, k]] for k in range(errors.shape[1])]


def refresh_best_clips(bundle, model_id: str, model) -> None:
    """When the bundle has a listening corpus, name the clips each prototype of ``model`` (the
    bundle's model ``model_id``) explains best in it, keeping the other models' lists."""
    clips = read_corpus(bundle.path)
    if not clips:
        return
    features = [log_mel(load_audio(c.path, bundle.audio.sample_rate).samples, bundle.audio) for c in clips]
    best = best_clips(bundle.path)
    best[model_id] = best_explained(model, features, [c.id for c in clips])
    write_bytes_atomic(bundle.path / CORPUS_DIR / BEST_CLIPS, json.dumps(best).encode())


def add_corpus(bundle_path: str | Path, data: str | Path, per_class: int = 12, split: str = "test",
               seed: int = 0, n_best: int = 3) -> int:
    """Copy ``per_class`` clips of each class from ``data``'s ``split`` into the bundle.

    Clips are drawn at random (seeded), stored as 16-bit FLAC, listed with their tags, and
    every model's prototypes get their ``n_best`` best-explained clips. Replaces an earlier
    corpus. Returns the number of clips.

    Examples
    --------
    >>> add_corpus("orchestra16/", "o16/", per_class=12)    # doctest: +SKIP
    192
    """
    bundle = load_bundle(bundle_path)
    table = read_collection(data, seed=seed).subset(split)
    unknown = sorted({r.label for r in table.records} - set(bundle.classes))
    if unknown:
        raise ValueError(f"The data has label(s) the bundle does not know: {', '.join(unknown)}.")
    rng = np.random.default_rng(seed)
    root = Path(bundle_path) / CORPUS_DIR
    audio_dir = root / "audio"
    if audio_dir.is_dir():
        for old in [*audio_dir.glob("*.ogg"), *audio_dir.glob("*.flac")]:
            old.unlink()
    audio_dir.mkdir(parents=True, exist_ok=True)
    rows, features = [], []
    for label in bundle.classes:
        members = [r for r in table.records if r.label == label]
        for n, i in enumerate(sorted(rng.choice(len(members), min(per_class, len(members)), replace=False))):
            rec = members[i]
            audio = load_audio(rec.path, bundle.audio.sample_rate)
            clip_id = f"c-{label}-{n:03d}"
            buf = io.BytesIO()
            sf.write(buf, audio.samples, audio.sample_rate, format="FLAC", subtype="PCM_16")
            write_bytes_atomic(audio_dir / f"{clip_id}.flac", buf.getvalue())
            rows.append({"id": clip_id, "label": label, "split": rec.split, "path": f"audio/{clip_id}.flac",
                         **rec.tags})
            features.append(log_mel(audio.samples, bundle.audio))
    columns = list(dict.fromkeys(k for row in rows for k in row))
    with atomic_path(root / "index.csv") as tmp:
        with open(tmp, "w", newline="", encoding="utf-8") as f:
            writer = csv.DictWriter(f, fieldnames=columns, lineterminator="\n")
            writer.writeheader()
            writer.writerows(rows)
    ids = [row["id"] for row in rows]
    best = {model_id: best_explained(bundle.load_model(model_id), features, ids, n_best) for model_id in bundle.models}
    write_bytes_atomic(root / BEST_CLIPS, json.dumps(best).encode())
    bundle.extra["corpus"] = {"clips": len(rows), "per_class": per_class, "split": split,
                              "source": str(Path(data).resolve())}
    bundle.save()
    return len(rows)
