"""TCAV on the default bundle: 30 concept clips, 20 random sets of 30, 50 target clips, one layer.

Run:
    python bench/bench_tcav.py [--data /tmp/o16_full] [--layer encoder.down.2] [--concept staccato]
                               [--target flute] [--threads 2]

Clips come from a rendered orchestra16 corpus (``auralens corpus build``; its
``concepts/manifest.csv`` lists the concept sets and ``random_00``...``random_19``, its
``manifest.csv`` the class clips). Without one, synthetic 2 s notes are used instead (harmonic
tones at random pitches; the concept is vibrato), which times the same work.

Prints the wall time of a cold request (empty cache) with its breakdown (activations, CAV
fits, gradients, statistics), then of the same request again (activations and CAVs cached),
and the request's result. Target: < 10 s cold on 2 CPU cores.
"""
from __future__ import annotations

import argparse
import csv
import time
from pathlib import Path

import numpy as np
import torch

from auralens.models.audio import AudioConfig, load_audio, log_mel
from auralens.models.bundle import load_bundle
from auralens.models.concepts import ConceptCache, TCAVConfig, run_tcav


def features(paths: list[Path], config: AudioConfig) -> torch.Tensor:
    """``(n, n_mels, T)`` log-mel of equal-length clips, computed as one batch."""
    samples = [load_audio(p, config.sample_rate).samples for p in paths]
    n = min(len(s) for s in samples)
    return log_mel(np.stack([s[:n] for s in samples]), config)


def from_corpus(root: Path, concept: str, target: str, config: AudioConfig):
    with open(root / "concepts" / "manifest.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    sets: dict[str, list[Path]] = {}
    for r in rows:
        sets.setdefault(r["concept"], []).append(root / "concepts" / r["path"])
    randoms = [features(sets[f"random_{i:02d}"], config) for i in range(20)]
    with open(root / "manifest.csv", newline="") as f:
        targets = [root / r["path"] for r in csv.DictReader(f) if r["label"] == target and r["split"] == "test"][:50]
    return features(sets[concept][:30], config), randoms, features(targets, config)


def synthetic(config: AudioConfig, seed: int = 0):
    """Harmonic 2 s notes at random pitches; the concept's notes have a 6 Hz vibrato."""
    rng = np.random.default_rng(seed)
    sr = config.sample_rate
    t = np.arange(2 * sr) / sr

    def notes(n, vibrato=False):
        out = []
        for _ in range(n):
            f0 = 110 * 2 ** rng.uniform(0, 3)
            phase = 2 * np.pi * f0 * (t + (0.004 * np.sin(2 * np.pi * 6 * t) if vibrato else 0))
            y = sum(np.sin(k * phase) / k for k in range(1, 12) if f0 * k < sr / 2)
            out.append(0.3 * y * np.exp(-t * rng.uniform(0.2, 2)) / np.abs(y).max())
        return log_mel(np.stack(out).astype(np.float32), config)

    return notes(30, vibrato=True), [notes(30) for _ in range(20)], notes(50)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=Path("/tmp/o16_full"))
    ap.add_argument("--layer", default="encoder.down.2")
    ap.add_argument("--concept", default="staccato")
    ap.add_argument("--target", default="flute")
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)

    bundle = load_bundle()
    model = bundle.load_model("prototypes")
    t0 = time.perf_counter()
    if (args.data / "concepts" / "manifest.csv").is_file():
        concept, randoms, targets = from_corpus(args.data, args.concept, args.target, bundle.audio)
        source, name = f"corpus {args.data}", args.concept
    else:
        concept, randoms, targets = synthetic(bundle.audio)
        source, name = "synthetic notes (no corpus found)", "vibrato"
    print(f"clips: {source}; {len(concept)} concept, {len(randoms)} x {len(randoms[0])} random, "
          f"{len(targets)} target ({time.perf_counter() - t0:.1f} s to load)")
    k = bundle.classes.index(args.target)

    cache = ConceptCache()
    for label in ("cold", "warm"):
        cpu0, wall0 = time.process_time(), time.perf_counter()
        result = run_tcav(model, args.layer, {name: concept}, randoms, {k: targets}, TCAVConfig(), cache=cache,
                          class_names=bundle.classes)
        wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
        parts = ", ".join(f"{p} {result.timings[p]:.2f} s" for p in ("activations", "cavs", "gradients", "stats"))
        print(f"{label}: {wall:.2f} s wall ({cpu:.2f} s CPU on {args.threads} threads): {parts}")
    row = result.row(name, args.layer, k)
    print(f"{len(row.tcav)} concept runs, {len(row.null)} null runs; TCAV {np.mean(row.tcav):.2f} "
          f"(null {np.mean(row.null):.2f}), CAV accuracy {np.mean(row.cav_accuracy):.2f}, "
          f"p {row.p_adjusted:.2g}, set-level p {row.p_set_adjusted:.2g}, significant {row.significant}")
    print(row.verdict)


if __name__ == "__main__":
    main()
