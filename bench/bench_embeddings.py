"""Neighbour search figures: query latency at the bundle's corpus size and at a million
vectors, and the recall@10 of the approximate (inverted-file) index against exact search.

Run: python bench/bench_embeddings.py [--bundle DIR] [--n 1000000] [--dim 96] [--threads 2]

At corpus size every space of the bundle is timed twice: a corpus clip's neighbours (the
stored vector searched) and an uploaded 2 s clip's (embedded in the space, then searched).
The million vectors are synthetic: 2 000 overlapping clusters (each about as wide as the
distance between two centres), so that neighbourhoods exist - uniform random vectors in 96
dimensions have no near neighbours to find - without being trivially separate.
"""
from __future__ import annotations

import argparse
import time

import numpy as np
import torch

from auralens.models.embeddings.index import NeighbourIndex, recall_at_k

from timing import percentile_ms  # bench/timing.py, beside this script


def corpus_figures(bundle_dir, repeat: int) -> None:
    from auralens.models.bundle import BundleError, load_bundle, read_corpus
    from auralens.models.audio import load_audio
    from auralens.models.embeddings import load_spaces

    bundle = load_bundle(bundle_dir)
    try:
        spaces = load_spaces(bundle)
    except BundleError as err:
        print(f"corpus: skipped ({err})")
        return
    corpus = read_corpus(bundle.path)
    upload = load_audio(corpus[len(corpus) // 2].path, bundle.audio.sample_rate).samples
    print(f"\ncorpus of bundle '{bundle.name}': {len(spaces.ids)} clips, exact search, k = 10")
    print(f"  {'space':<18} {'dim':>4}  {'corpus clip p50/p95 ms':>22}  {'upload (embed + search) p50/p95 ms':>34}")
    rng = np.random.default_rng(0)
    for name in spaces.names:
        ids = rng.choice(spaces.ids, repeat)
        it = iter(ids.tolist() * 2)
        stored = percentile_ms(lambda: spaces.neighbours(name, next(it), k=10), repeat)
        fresh = percentile_ms(lambda: spaces.neighbours(name, upload, k=10), max(3, repeat // 20))
        print(f"  {name:<18} {spaces.info(name)['dim']:>4}  {stored[0]:>10.3f} / {stored[1]:<9.3f}  "
              f"{fresh[0]:>16.1f} / {fresh[1]:<15.1f}")
    if "tags" in spaces.names:
        words = percentile_ms(lambda: spaces.search_words("brass ff low", k=10), repeat)
        print(f"  word search 'brass ff low': p50 {words[0]:.3f} ms, p95 {words[1]:.3f} ms")


def synthetic(n: int, dim: int, n_centres: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((n_centres, dim), dtype=np.float32)
    x = np.empty((n, dim), np.float32)
    for start in range(0, n, 100_000):  # in slices: a single draw would need twice the memory
        stop = min(n, start + 100_000)
        x[start:stop] = centres[rng.integers(0, n_centres, stop - start)]
        x[start:stop] += 1.0 * rng.standard_normal((stop - start, dim), dtype=np.float32)
    return x


def million_figures(n: int, dim: int, n_lists: int, n_queries: int, seed: int = 0) -> None:
    print(f"\n{n:,} synthetic vectors of {dim} dimensions (2 000 centres), {n_queries} queries, k = 10")
    start = time.perf_counter()
    x = synthetic(n, dim, 2_000, seed)
    rng = np.random.default_rng(seed + 1)
    queries = x[rng.choice(n, n_queries, replace=False)] + 0.2 * rng.standard_normal((n_queries, dim), dtype=np.float32)
    ids = np.arange(n).astype(str)
    print(f"  data: {x.nbytes / 2**20:.0f} MiB, drawn in {time.perf_counter() - start:.1f} s")

    start = time.perf_counter()
    exact = NeighbourIndex(x, ids, kind="exact")
    print(f"  exact (flat inner product): built in {time.perf_counter() - start:.1f} s")
    start = time.perf_counter()
    _, truth = exact.search_rows(queries, 10)
    batch_ms = 1000 * (time.perf_counter() - start) / n_queries
    one = iter(range(10 ** 9))
    p50, p95 = percentile_ms(lambda: exact.search_rows(queries[next(one) % n_queries], 10), 20)
    print(f"    one query: p50 {p50:.1f} ms, p95 {p95:.1f} ms; in a batch of {n_queries}: {batch_ms:.2f} ms per query")

    start = time.perf_counter()
    ivf = NeighbourIndex(x, ids, kind="ivf", n_lists=n_lists, seed=seed)
    print(f"  ivf ({n_lists} lists, trained on 65 536 vectors): built in {time.perf_counter() - start:.1f} s")
    print(f"    {'n_probe':>7}  {'recall@10':>9}  {'one query p50/p95 ms':>20}  {'batch ms/query':>14}")
    for n_probe in (1, 4, 16, 64):
        ivf.n_probe = n_probe
        start = time.perf_counter()
        _, found = ivf.search_rows(queries, 10)
        batch_ms = 1000 * (time.perf_counter() - start) / n_queries
        one = iter(range(10 ** 9))
        p50, p95 = percentile_ms(lambda: ivf.search_rows(queries[next(one) % n_queries], 10), 50)
        print(f"    {n_probe:>7}  {recall_at_k(found, truth):>9.3f}  {p50:>9.2f} / {p95:<8.2f}  {batch_ms:>14.3f}")
    print("  (NeighbourIndex's defaults: exact up to 100 000 vectors, above that ivf with 4 sqrt(N) lists "
          "and n_probe = lists / 16)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bundle", default=None, help="bundle folder (default: the one shipped)")
    parser.add_argument("--n", type=int, default=1_000_000, help="synthetic vectors (default 1 000 000)")
    parser.add_argument("--dim", type=int, default=96, help="their dimension (default 96)")
    parser.add_argument("--lists", type=int, default=1024, help="ivf lists (default 1024)")
    parser.add_argument("--queries", type=int, default=200, help="queries for recall (default 200)")
    parser.add_argument("--repeat", type=int, default=200, help="timed corpus queries per space")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    import faiss

    torch.set_num_threads(args.threads)
    faiss.omp_set_num_threads(args.threads)
    print(f"faiss {faiss.__version__}, torch {torch.__version__}, {args.threads} threads")
    corpus_figures(args.bundle, args.repeat)
    million_figures(args.n, args.dim, args.lists, args.queries)


if __name__ == "__main__":
    main()
