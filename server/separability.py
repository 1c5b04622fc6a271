"""How well a layer can tell a concept's clips from random clips (CAV accuracy), before any
TCAV is run: the first question a musicologist asks of a depth in the model.

The runs are TCAV's own (:mod:`auralens.models.concepts`): run ``i`` separates the concept's
clips from random set ``i`` (drawn as a TCAV job draws them, with the same seed) by a
logistic-regression CAV on a balanced 2/3 - 1/3 split seeded ``seed + i``, and its accuracy is
measured on the held-out third. So the figures here are those a TCAV of the same concept, seed
and layer reports for its first ``runs`` runs (when no other concept of that request brings
corpus clips of its own, which TCAV also keeps out of the random sets); the activations are
shared through the concept cache.

Example::

    >>> separability(state, model, concept, ["encoder.down.2"], runs=10)   # doctest: +SKIP
    [{'layer': 'encoder.down.2', 'accuracy': {'mean': 0.93, 'std': 0.05}, 'runs': 10, ...}]
"""
from __future__ import annotations

import numpy as np
import torch

from auralens.models.concepts import TCAVConfig, fit_length, tensor_digest
from auralens.models.concepts.cav import balanced_split, fit_cavs
from auralens.models.concepts.hooks import eval_mode
from auralens.models.concepts.probe import Probe, activations

from .concept_jobs import concept_clips, private_model, random_sets
from .state import AppState


def separability(state: AppState, model, concept: dict, layers: list[str], runs: int = 10,
                 seed: int = 0) -> list[dict]:
    """CAV accuracy of ``concept`` against random clips at each of ``layers`` over ``runs``
    runs: ``[{"layer", "accuracy": {"mean", "std"}, "runs", "n_concept", "n_random"}]``
    (accuracy on held-out clips, 0.5 is chance)."""
    cfg = TCAVConfig(runs=runs, seed=seed, n_frames=state.concept_index["n_frames"])
    net = private_model(model)
    positives, _ = fit_length(concept_clips(state, concept, cfg.n_frames), cfg.n_frames)
    randoms = [fit_length(r, cfg.n_frames)[0] for r in random_sets(state, set(concept["clip_ids"]), seed)[:runs]]
    clips: dict[str, torch.Tensor] = {}
    pos_d = [tensor_digest(c) for c in positives]
    neg_d = [[tensor_digest(c) for c in r] for r in randoms]
    for x, ds in [(positives, pos_d), *zip(randoms, neg_d)]:
        for c, d in zip(x, ds):
            clips.setdefault(d, c)
    row = {d: i for i, d in enumerate(clips)}
    probe = Probe.of(net, layers, positives[:1], cfg.time_mean, cfg.batch_size, state.concept_cache)
    with eval_mode(net):
        bank = activations(probe, clips, lambda fraction: None)
    train, train_y, test, test_y = [], [], [], []
    for i, negatives in enumerate(neg_d):  # TCAV's concept run i: against random set i, split seed + i
        s = balanced_split(len(pos_d), len(negatives), seed + i, cfg.train_fraction)
        train.append([row[pos_d[j]] for j in s.pos_train] + [row[negatives[j]] for j in s.neg_train])
        train_y.append([1] * len(s.pos_train) + [-1] * len(s.neg_train))
        test.append([row[pos_d[j]] for j in s.pos_test] + [row[negatives[j]] for j in s.neg_test])
        test_y.append([1] * len(s.pos_test) + [-1] * len(s.neg_test))
    out = []
    for layer in layers:
        fit = fit_cavs(bank[layer], np.array(train), np.array(train_y), np.array(test), np.array(test_y), alpha=cfg.alpha)
        accuracy = fit.accuracy.numpy()
        out.append({"layer": layer, "accuracy": {"mean": round(float(accuracy.mean()), 4),
                                                 "std": round(float(accuracy.std()), 4)},
                    "runs": len(accuracy), "n_concept": len(pos_d), "n_random": len(neg_d[0])})
    return out
