"""Concept-testing material inside a bundle: the built-in concept sets and, per class, target
clips, ready for TCAV without the audio files they came from.

Layout::

    <bundle>/concepts/sets.safetensors   uint8 log-mels, one tensor per set: "concept/<name>"
                                         and "target/<class>", each (n, n_mels, n_frames)
    <bundle>/concepts/index.json         {"n_frames", "quantum", "sets": {key: {"kind", "name",
                                         "description", "clips": [{"source", "label", tags...}]}}}

Every clip is brought to ``n_frames`` frames the way TCAV brings clips to one length (cut
around its centre, or looped: :func:`auralens.models.concepts.fit_length`) and quantised to steps of
``1/255`` log units (0.67 dB), which keeps 630 clips in 3.5 MB. The targets come from the
collection's ``val`` split, so they never overlap the bundle's listening corpus (``test``),
which serves as the pool of random clips.
"""
from __future__ import annotations

import csv
import json
from pathlib import Path

import torch

from ..atomic import write_bytes_atomic
from ..audio import load_audio, log_mel
from ..concepts import fit_length
from ..data import read_collection
from ..weights import read_weights, write_weights
from .format import load_bundle
from .layout import CONCEPTS_DIR
QUANTUM = 1 / 255  # log units per step (0.67 dB)

DESCRIPTIONS = {
    "vibrato": "notes played with vibrato (a periodic wobble of pitch)",
    "reverberant": "notes in a reverberant room (a long, diffuse tail)",
    "staccato": "short, detached notes",
    "fortissimo": "very loud notes (ff)",
    "high_register": "notes high in the instrument's range",
}


def quantise(x: torch.Tensor) -> torch.Tensor:
    """Log-mel in log units -> uint8 steps of :data:`QUANTUM` (clipped to [0, 1] units)."""
    return (x.clamp(0, 1) / QUANTUM).round().to(torch.uint8)


def dequantise(q: torch.Tensor) -> torch.Tensor:
    return q.float() * QUANTUM


def add_concepts(bundle_path: str | Path, corpus: str | Path, targets_per_class: int = 30,
                 n_frames: int = 44, seed: int = 0) -> dict:
    """Store the built-in concept sets of a rendered corpus and ``targets_per_class`` clips of
    every class (its ``val`` split) in the bundle. Returns ``{set key: number of clips}``.

    ``corpus`` is a folder made by ``auralens corpus build`` (``manifest.csv`` and
    ``concepts/manifest.csv``); its random sets are not copied: TCAV draws random sets from
    the bundle's listening corpus.

    Examples
    --------
    >>> add_concepts("orchestra16/", "o16/")                    # doctest: +SKIP
    {'concept/vibrato': 30, ..., 'target/violin': 30}
    """
    bundle = load_bundle(bundle_path)
    corpus = Path(corpus)
    manifest = corpus / "concepts" / "manifest.csv"
    if not manifest.is_file():
        raise ValueError(f"{corpus} has no concepts/manifest.csv; build it with `auralens corpus build`.")
    with open(manifest, newline="", encoding="utf-8") as f:
        rows = [r for r in csv.DictReader(f) if not r["concept"].startswith("random")]
    sets: dict[str, list[tuple[Path, dict]]] = {}
    for r in rows:
        tags = {k: v for k, v in r.items() if k not in ("path", "concept")}
        path = manifest.parent / r["path"]
        if not path.is_file() and (corpus / r["path"]).is_file():
            path = corpus / r["path"]  # corpora built before manifests were relative to their folder
        sets.setdefault(f"concept/{r['concept']}", []).append((path, tags))
    val = read_collection(corpus, seed=seed).subset("val")
    generator = torch.Generator().manual_seed(seed)
    for label in bundle.classes:
        members = [r for r in val.records if r.label == label]
        if len(members) < targets_per_class:
            raise ValueError(f"The val split has {len(members)} clips of '{label}'; {targets_per_class} are needed.")
        chosen = torch.randperm(len(members), generator=generator)[:targets_per_class].sort().values
        sets[f"target/{label}"] = [(members[i].path, {"label": label, **members[i].tags}) for i in chosen.tolist()]

    tensors, index = {}, {}
    for key, clips in sets.items():
        mels = [log_mel(load_audio(path, bundle.audio.sample_rate).samples, bundle.audio) for path, _ in clips]
        x, _ = fit_length(mels, n_frames)
        tensors[key] = quantise(x)
        kind, name = key.split("/", 1)
        index[key] = {"kind": kind, "name": name,
                      "description": DESCRIPTIONS.get(name, f"notes of the {name.replace('_', ' ')}")
                      if kind == "concept" else f"{name.replace('_', ' ')} notes the concepts are tested on",
                      # a concept clip keeps its tags; a target's class is its set's
                      "clips": [{"source": str(Path(p).relative_to(corpus)), **(tags if kind == "concept" else {})}
                                for p, tags in clips]}
    root = Path(bundle_path) / CONCEPTS_DIR
    root.mkdir(parents=True, exist_ok=True)
    write_weights(root / "sets.safetensors", tensors)
    write_bytes_atomic(root / "index.json", json.dumps(
        {"n_frames": n_frames, "quantum": QUANTUM, "sets": index}, separators=(",", ":")).encode())
    bundle.extra["concepts"] = {"sets": len(tensors), "n_frames": n_frames, "targets_per_class": targets_per_class,
                                "source": str(corpus.resolve())}
    bundle.save()
    return {key: int(t.shape[0]) for key, t in tensors.items()}


def read_concept_sets(bundle_path: str | Path) -> tuple[dict, dict[str, torch.Tensor]]:
    """``(index, {set key: (n, n_mels, n_frames) float log-mel})``; empty when the bundle has none."""
    root = Path(bundle_path) / CONCEPTS_DIR
    if not (root / "index.json").is_file():
        return {"n_frames": None, "sets": {}}, {}
    index = json.loads((root / "index.json").read_text())
    return index, {k: dequantise(v) for k, v in read_weights(root / "sets.safetensors").items()}
