"""Aspects and model comparison figures: a blended neighbour query over the bundle's corpus and
over a synthetic corpus of 100 000 clips in six spaces of the bundle's sizes; the one-off
measure of each space's typical neighbour distance; and what two models say of every clip of
a source, batched against one analysis per clip.

Run: python bench/bench_aspects.py [--bundle DIR] [--n 100000] [--threads 2] [--repeat 50]
"""
from __future__ import annotations

import argparse
import time

import numpy as np
import torch

from auralens.models.embeddings.aspects import Aspects

from timing import percentile_ms  # bench/timing.py, beside this script

DIMS = {"timbre": 12, "pitch": 19, "learned": 64, "prototype-profile": 16, "tags": 128, "aisfx": 512}


def blend_figures(aspects: Aspects, label: str, repeat: int) -> None:
    start = time.perf_counter()
    for s in aspects.names:
        aspects.scale(s)
    print(f"\n{label}: {len(aspects.ids)} clips, spaces {', '.join(aspects.names)}")
    print(f"  typical neighbour distances measured once: {time.perf_counter() - start:.2f} s")
    rng = np.random.default_rng(0)
    it = iter(rng.choice(aspects.ids, repeat + 1).tolist())
    three = {s: w for s, w in zip(aspects.names, [0.5, 0.3, 0.2]) if s in ("timbre", "pitch", "tags")} or {aspects.names[0]: 1.0}
    every = {s: 1.0 for s in aspects.names}
    for name, weights in [("3 spaces", three), (f"all {len(every)} spaces", every)]:
        p50, p95 = percentile_ms(lambda: aspects.blend(weights, query=next(it, aspects.ids[0]), k=10), repeat)
        print(f"  blend of {name}, k = 10: p50 {p50:.2f} ms, p95 {p95:.2f} ms")


def synthetic(n: int) -> Aspects:
    rng = np.random.default_rng(0)
    centres = {s: rng.normal(size=(2000, d)).astype(np.float32) for s, d in DIMS.items()}
    members = rng.integers(0, 2000, n)
    vectors = {s: c[members] + rng.normal(size=(n, c.shape[1])).astype(np.float32) for s, c in centres.items()}
    return Aspects(vectors, [f"c{i}" for i in range(n)])


def comparison_figures(bundle_dir) -> None:
    from auralens.models.bundle import load_bundle, read_corpus
    from auralens.models.audio import load_audio, log_mel
    from auralens.models.comparison import verdicts
    from auralens.models.kinds import kind_of

    bundle = load_bundle(bundle_dir)
    corpus = read_corpus(bundle.path)
    feats = [log_mel(load_audio(c.path, bundle.audio.sample_rate).samples, bundle.audio) for c in corpus]
    print(f"\nwhat a model says of every clip of the corpus ({len(feats)} clips of {feats[0].shape[-1]} frames)")
    for model_id in bundle.models:
        model = bundle.load_model(model_id)
        verdicts(model, feats[:32])  # warm-up
        start = time.perf_counter()
        verdicts(model, feats)
        batched = time.perf_counter() - start
        analyse = kind_of(model).analyse
        start = time.perf_counter()
        for x in feats[:48]:
            with torch.inference_mode():
                analyse(model, x, bundle.classes, bundle.audio)
        one_by_one = (time.perf_counter() - start) / 48 * len(feats)
        print(f"  {model_id:<12} batched {len(feats) / batched:7.0f} clips/s   one analysis per clip "
              f"{len(feats) / one_by_one:6.0f} clips/s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bundle", default=None)
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=50)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    from auralens.models.embeddings import load_spaces

    blend_figures(Aspects.from_spaces(load_spaces(args.bundle)), "the bundle's corpus", args.repeat)
    blend_figures(synthetic(args.n), "synthetic corpus", args.repeat)
    comparison_figures(args.bundle)


if __name__ == "__main__":
    main()
