"""The train/val/test split rule shared by built corpora and corpora brought by users."""

from __future__ import annotations

import math
import zlib
from collections.abc import Sequence

import numpy as np

SPLITS = ("train", "val", "test")
VAL_FRACTION = 0.1
TEST_FRACTION = 0.2


def split_counts(n: int) -> dict[str, int]:
    """How many of `n` clips of one class go to train, val and test.

    10 % val and 20 % test, rounded half up; the rest is train. With at least 3 clips
    every split gets one or more; with 2, train and test get one each; 1 clip is train.

    Example:
        >>> split_counts(100)
        {'train': 70, 'val': 10, 'test': 20}
        >>> split_counts(3)
        {'train': 1, 'val': 1, 'test': 1}
    """
    if n < 0:
        raise ValueError(f"n must be >= 0, got {n}")
    n_val = math.floor(n * VAL_FRACTION + 0.5)
    n_test = math.floor(n * TEST_FRACTION + 0.5)
    if n >= 2:
        n_test = max(n_test, 1)
    if n >= 3:
        n_val = max(n_val, 1)
    return {"train": n - n_val - n_test, "val": n_val, "test": n_test}


def assign_splits(labels: Sequence[str], seed: int) -> list[str]:
    """Draw a split name ("train", "val" or "test") for each clip, per class.

    Inputs: `labels` the class label of each clip (any order), `seed` a non-negative
    integer. Output: a list of split names aligned with `labels`. The clips of each class
    are split by `split_counts`; which clips go where is a seeded shuffle that depends only
    on the seed, the label and the clip's position among the clips of its label.

    Example:
        >>> splits = assign_splits(["harp"] * 10 + ["oboe"] * 10, seed=0)
        >>> splits.count("train"), splits.count("val"), splits.count("test")
        (14, 2, 4)
    """
    positions: dict[str, list[int]] = {}
    for position, label in enumerate(labels):
        positions.setdefault(label, []).append(position)
    splits = [""] * len(labels)
    for label, label_positions in positions.items():
        counts = split_counts(len(label_positions))
        names = [name for name in SPLITS for _ in range(counts[name])]
        label_key = zlib.crc32(str(label).encode("utf-8"))
        rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(label_key,)))
        for position, name in zip(label_positions, rng.permutation(names)):
            splits[position] = str(name)
    return splits
