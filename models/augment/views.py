"""Augmented copies of a collection's training clips, as features a trainer takes like any others."""
from __future__ import annotations

import concurrent.futures as cf

import numpy as np
import torch
from tqdm import tqdm

from ..audio import AudioConfig, LogMel, load_audio
from ..data import FeatureSet
from .chain import Augmenter
from .config import AugmentConfig


def with_augmented_views(train: FeatureSet, config: AugmentConfig, audio: AudioConfig, seed: int,
                         workers: int = 2, progress: bool = True) -> tuple[FeatureSet, dict]:
    """``train`` with ``config.views`` augmented copies of each clip appended.

    Each copy is the clip's audio, decoded again, augmented by :class:`Augmenter` (seeded by
    ``seed``, the clip's position and the view number), then turned into log-mel features with
    ``audio``. Targets and records of the copies are those of their originals.

    Returns the enlarged FeatureSet and the run's account for its training record:
    ``{config: config.to_dict(), seed, views, clips, applied: {kind: clips it was applied to}}``.

    >>> feats, used = with_augmented_views(train, AugmentConfig(), AudioConfig(), seed=0)  # doctest: +SKIP
    >>> len(feats) == 2 * len(train), used["applied"]["level"]                             # doctest: +SKIP
    (True, 1000)
    """
    augmenter = Augmenter(config, audio.sample_rate, seed)
    if config.room:
        augmenter.rooms  # simulate the room bank once, before the threads share it
    logmel = LogMel(audio)
    jobs = [(i, view) for view in range(config.views) for i in range(len(train))]

    def one(job):
        i, view = job
        samples = load_audio(train.records[i].path, audio.sample_rate).samples.astype(np.float32)
        out, applied = augmenter.augment(samples, (i, view))
        return i, out, applied

    features, counts = [], {kind: 0 for kind in config.kinds}
    with cf.ThreadPoolExecutor(max(1, workers)) as pool:
        for i, samples, applied in tqdm(pool.map(one, jobs), total=len(jobs), desc="augment", unit="clip",
                                        disable=not progress, leave=False):
            with torch.inference_mode():
                features.append(logmel(torch.from_numpy(samples)[None])[0].half().float())  # as cached
            for kind in applied:
                counts[kind] += 1
    order = [i for i, _ in jobs]
    enlarged = FeatureSet(train.features + features,
                          torch.cat([train.targets, train.targets[torch.tensor(order, dtype=torch.long)]]),
                          train.class_names, train.records + [train.records[i] for i in order],
                          train.skipped, train.n_decoded)
    return enlarged, {"config": config.to_dict(), "seed": seed, "views": config.views, "clips": len(jobs),
                      "applied": counts}
