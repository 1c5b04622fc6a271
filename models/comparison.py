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

from .metrics import batches_by_length
from .prototypes.pitch import sounding_frames
from .trust import TrustModel, trust_features


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

    Works for every model kind whose forward pass gives ``errors (B, K)`` and either
    ``class_errors`` (spectral prototypes: probabilities through the model's calibrated
    :meth:`probabilities`) or ``scores`` (latent prototypes). Clips of equal length are batched.

    Examples
    --------
    >>> [v.predicted for v in verdicts(model, [log_mel(a), log_mel(b)])]    # doctest: +SKIP
    [3, 3]
    """
    model.eval()
    device = next(model.parameters()).device
    trust = TrustModel.from_dict(model.cfg.trust) if getattr(model.cfg, "trust", None) else None
    anchored = bool(getattr(model.cfg, "pitch_anchored", False))
    out: list[Verdict | None] = [None] * len(features)
    for chunk, x in batches_by_length(features, batch_size, device):
        f0 = voiced = None
        if anchored:
            f0, voiced = model.pitch.track(x)
        result = model(x, f0=f0) if anchored else model(x)
        errors = result.errors.float()
        if hasattr(result, "class_errors"):
            scores = model.probabilities(result.class_errors)
        else:
            scores = result.scores
        scores = scores.float().cpu()
        confidence, predicted = scores.max(1)
        best = errors.argmin(1).cpu()
        familiar = [None] * len(chunk)
        if trust is not None:
            share = None
            if voiced is not None:
                sounding = sounding_frames(x)
                share = (voiced & sounding).sum(1) / sounding.sum(1).clamp_min(1)
            feats = trust_features(errors.cpu(), model.class_errors(errors).float().cpu(),
                                   None if share is None else share.cpu())
            familiar = (trust.score(feats) >= trust.threshold).tolist()
        for j, i in enumerate(chunk):
            out[i] = Verdict(int(predicted[j]), float(confidence[j]), int(best[j]), familiar[j])
    return out


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
