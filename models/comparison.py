"""Two models on the same clips: what each says of every clip, in brief, and where they agree.

:func:`verdicts` runs one model over many clips in batches (clips of equal length together)
and keeps, per clip, only what a comparison needs: the predicted class, how sure, the
prototype that explains the clip best, and - for a model with a fitted trust score - whether
the clip is like what the model knows. The figures are those of the model's analysis of the
clip (``kind.analyse``), computed for a batch at once. :func:`agreement` sets two models'
predictions side by side: agreement rate and the confusion table of one against the other.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import torch

from .kinds import kind_of


@dataclass(frozen=True)
class Verdict:
    """What a model says of one clip, in brief."""

    predicted: int  # class index, into the bundle's classes
    confidence: float  # the model's probability for it, 0..1
    prototype: int  # the prototype that explains the clip best (lowest error / distance)
    familiar: bool | None = None  # like what the model knows (None: the model has no trust score)

    def to_dict(self) -> dict:
        return asdict(self)


@torch.inference_mode()
def verdicts(model, features: list[torch.Tensor], batch_size: int = 32) -> list[Verdict]:
    """What ``model`` says of each clip of ``features`` (log-mels ``(F, T_i)``, any lengths).

    Read from the figures each model kind gives a collection (``collection_figures`` in
    :mod:`auralens.models.kinds`: errors, calibrated probabilities, trust), so a comparison and
    a collection's table say the same of a clip. Clips of equal length are batched.

    Examples
    --------
    >>> [v.predicted for v in verdicts(model, [log_mel(a), log_mel(b)])]    # doctest: +SKIP
    [3, 3]
    """
    if not features:
        return []
    device = next(model.parameters()).device
    errors, probs, scores, threshold = kind_of(model).collection_figures(model, features, device, batch_size)
    confidence, predicted = probs.max(1)
    best = errors.argmin(1)
    return [Verdict(int(predicted[i]), float(confidence[i]), int(best[i]),
                    None if scores is None else bool(scores[i] >= threshold)) for i in range(len(features))]


def agreement(a: list[int], b: list[int], n_classes: int) -> dict:
    """Two models' predicted classes of the same clips, side by side.

    ``a``, ``b``: ``N`` class indices each. Returns ``{"n", "n_agree", "rate" (0..1, None for
    no clips), "confusion" (C, C) nested list: row = model A's class, column = model B's}``.

    Examples
    --------
    >>> agreement([0, 1, 1], [0, 1, 0], 2)
    {'n': 3, 'n_agree': 2, 'rate': 0.6666666666666666, 'confusion': [[1, 0], [1, 1]]}
    """
    a, b = np.asarray(a, dtype=np.int64), np.asarray(b, dtype=np.int64)
    if a.shape != b.shape:
        raise ValueError(f"{len(a)} and {len(b)} predictions cannot be set side by side")
    confusion = np.zeros((n_classes, n_classes), dtype=np.int64)
    np.add.at(confusion, (a, b), 1)
    n, n_agree = int(len(a)), int((a == b).sum())
    return {"n": n, "n_agree": n_agree, "rate": n_agree / n if n else None, "confusion": confusion.tolist()}
