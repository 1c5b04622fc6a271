"""How often TCAV calls a concept significant when it is not one, and when it is.

Run:
    python bench/bench_tcav_calibration.py [--data /tmp/o16_full] [--layer encoder.down.2]
                                           [--sets 10] [--targets flute violin trumpet cello]

On the default bundle's spectral model, with the 20 random sets of a rendered orchestra16
corpus (``auralens corpus build``: ``concepts/manifest.csv``), each request as the app makes it
(one concept, one target class, 50 of the class's test clips):

- ``--sets`` held-out random "concepts": 30 clips each drawn (seeded) from the corpus's ``val``
  split (``--from-split``), all classes mixed - no concept, so every "significant" is a false
  positive;
- the corpus's planted concepts (vibrato, staccato, ...): rendered to differ in one property.

Prints, for each kind, how many requests the Welch test alone and both tests (the verdict the
app reports) call significant.
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


def features(paths: list[Path], config: AudioConfig) -> list[torch.Tensor]:
    """Each clip's ``(n_mels, T_i)`` log-mel, at its own length, as the app hands clips to TCAV
    (which brings every set to one common length the same way)."""
    return [log_mel(load_audio(p, config.sample_rate).samples, config) for p in paths]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=Path("/tmp/o16_full"))
    ap.add_argument("--layer", default="encoder.down.2")
    ap.add_argument("--sets", type=int, default=10, help="held-out random concepts (default 10)")
    ap.add_argument("--targets", nargs="+", default=["flute", "violin", "trumpet", "cello"])
    ap.add_argument("--from-split", default="val",
                    help="split the held-out random concepts are drawn from (default val: clips the model "
                         "never trained on, like the random sets)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    if not (args.data / "concepts" / "manifest.csv").is_file():
        raise SystemExit(f"No concept sets at {args.data}/concepts/manifest.csv: build a corpus with "
                         "auralens corpus build first.")

    started = time.perf_counter()
    bundle = load_bundle()
    model = bundle.load_model("prototypes")
    config = bundle.audio
    with open(args.data / "concepts" / "manifest.csv", newline="") as f:
        sets: dict[str, list[Path]] = {}
        for r in csv.DictReader(f):
            sets.setdefault(r["concept"], []).append(args.data / "concepts" / r["path"])
    randoms = [features(sets[f"random_{i:02d}"], config) for i in range(20)]
    planted = {name: features(paths[:30], config) for name, paths in sets.items() if not name.startswith("random_")}
    with open(args.data / "manifest.csv", newline="") as f:
        clips = list(csv.DictReader(f))
    pool = [args.data / r["path"] for r in clips if r["split"] == args.from_split]
    rng = np.random.default_rng(args.seed)
    held_out = {f"held-out random {i}": features([pool[j] for j in rng.choice(len(pool), 30, replace=False)], config)
                for i in range(args.sets)}
    targets = {bundle.classes.index(t): features([args.data / r["path"] for r in clips
                                                  if r["label"] == t and r["split"] == "test"][:50], config)
               for t in args.targets}
    print(f"clips loaded in {time.perf_counter() - started:.0f} s: {len(randoms)} random sets of 30, "
          f"{len(held_out)} held-out random and {len(planted)} planted concepts of 30, "
          f"{len(targets)} target classes of 50; layer {args.layer}")

    cache = ConceptCache()
    for kind, concepts in (("held-out random", held_out), ("planted", planted)):
        welch = both = n = 0
        for name, clips_ in concepts.items():
            for k, target in targets.items():
                result = run_tcav(model, args.layer, {name: clips_}, randoms, {k: target}, TCAVConfig(),
                                  cache=cache, class_names=bundle.classes)
                row = result.row(name, args.layer, k)
                n += 1
                welch += row.p_adjusted is not None and row.p_adjusted < TCAVConfig().level
                both += row.significant
                if kind == "planted":
                    print(f"  {name:>14} -> {bundle.classes[k]:<8} TCAV {np.mean(row.tcav):.2f} "
                          f"(null {np.mean(row.null):.2f}) p {row.p_adjusted:.2g} set-level p {row.p_set_adjusted:.2g} "
                          f"significant {row.significant}")
        print(f"{kind}: {welch} of {n} requests significant by the Welch test alone, {both} of {n} by both tests")
    print(f"total {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
