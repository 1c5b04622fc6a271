"""Where a spectral prototype model's decision lives: in the prototypes, or in the networks
that transform them?

Run: python bench/bench_fitted_transforms.py --data CORPUS [--bundle DIR] [--model ID]
     [--split test] [--every 4] [--steps 200] [--threads 2]

For the clips of a split (every n-th), prints overall accuracy and how much better the true
class's prototype explains a clip than the best prototype of another class (median ratio of
their reconstruction errors), twice: with the transformations the model's networks predict,
and with transformations fitted to each clip by gradient descent
(:func:`auralens.models.prototypes.fit.fit_transforms`). A large ratio that collapses towards 1 when
fitting means that the other prototypes fit badly because the networks make them fit badly.
"""
from __future__ import annotations

import argparse
import time
from collections import defaultdict

import torch

from auralens.models.bundle import load_bundle
from auralens.models.data import load_features, read_collection
from auralens.models.prototypes.fit import fit_transforms


def summary(errors: torch.Tensor, targets: torch.Tensor, model) -> tuple[float, float]:
    """``(N, K)`` errors -> overall accuracy, median (best other class / true class) error ratio."""
    per_class = model.class_errors(errors)  # (N, C)
    true = per_class.gather(1, targets[:, None])[:, 0]
    other = per_class.scatter(1, targets[:, None], float("inf")).min(1).values
    return float((per_class.argmin(1) == targets).float().mean()), float((other / true).median())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", required=True)
    parser.add_argument("--bundle", default=None)
    parser.add_argument("--model", default="prototypes")
    parser.add_argument("--split", default="test")
    parser.add_argument("--every", type=int, default=4, help="take every n-th clip of the split")
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--cache-dir", default=None)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    bundle = load_bundle(args.bundle)
    model = bundle.load_model(args.model)
    data = load_features(read_collection(args.data).subset(args.split), bundle.audio, bundle.classes,
                         cache_dir=args.cache_dir, progress=False)
    by_length = defaultdict(list)  # fitting runs on batches of equal-length clips
    for i in range(0, len(data), args.every):
        by_length[data.features[i].shape[-1]].append(i)
    predicted, fitted, targets = [], [], []
    start = time.perf_counter()
    for index in by_length.values():
        for chunk in torch.tensor(index).split(64):
            x = torch.stack([data.features[i].float() for i in chunk])
            predicted.append(fit_transforms(model, x, steps=0)[0])
            fitted.append(fit_transforms(model, x, steps=args.steps)[0])
            targets.append(data.targets[chunk])
    seconds = time.perf_counter() - start
    y = torch.cat(targets)
    print(f"bundle '{bundle.name}', model '{args.model}', {len(y)} clips of {args.data} ({args.split}), "
          f"{args.steps} Adam steps per batch, {seconds / len(y) * 1000:.0f} ms per clip")
    for name, errors in (("networks' transformations", predicted), ("fitted transformations", fitted)):
        oa, ratio = summary(torch.cat(errors), y, model)
        print(f"  {name:<28} OA {oa:.3f}   best other class / true class error, median {ratio:.2f}")


if __name__ == "__main__":
    main()
