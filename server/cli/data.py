"""``auralens data prepare``: read a labelled collection and cache its features."""
from __future__ import annotations

import time

from .options import add_collection_options, group


def run_prepare(args) -> int:
    from auralens.models.audio import AudioConfig
    from auralens.models.data import load_features, read_collection

    start = time.perf_counter()
    table = read_collection(args.data, seed=args.seed)
    features = load_features(table, AudioConfig(), cache_dir=args.cache_dir, on_error=args.on_error,
                             workers=args.workers, progress=not args.quiet)
    counts: dict[str, dict[str, int]] = {}
    for rec in features.records:
        counts.setdefault(rec.label, {"train": 0, "val": 0, "test": 0})[rec.split] += 1
    print(f"{len(features)} clips in {len(counts)} classes "
          f"({features.n_decoded} decoded now, {len(features) - features.n_decoded} from the cache) "
          f"in {time.perf_counter() - start:.1f} s")
    width = max(map(len, counts), default=5)
    print(f"{'class':<{width}}  train  val  test")
    for label, c in sorted(counts.items()):
        print(f"{label:<{width}}  {c['train']:>5}  {c['val']:>3}  {c['test']:>4}")
    if features.skipped:
        print(f"{len(features.skipped)} file(s) could not be read and were left out:")
        for path, reason in features.skipped:
            print(f"  {path}: {reason}")
    return 0


def add_commands(sub) -> None:
    data = group(sub, "data", "labelled collections for training")
    parser = data.add_parser("prepare", help="read a labelled folder or manifest and cache its features")
    add_collection_options(parser)
    parser.add_argument("--seed", type=int, default=0, help="seed for splits the data does not give")
    parser.add_argument("--workers", type=int, default=2, help="decoding threads")
    parser.set_defaults(func=run_prepare)
