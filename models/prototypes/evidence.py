"""What a spectral prototype model says about many clips at once: every prototype's error,
the classes' scores, and the figures its trust verdict is read from."""
from __future__ import annotations

from dataclasses import dataclass

import torch

from ..metrics import batches_by_length
from ..trust import spectral_summary, summary_names, trust_features
from .model import PrototypeModel
from .pitch import sounding_frames

TRUST_FEATURES = ["log best error", "log runner-up / best", "voiced share"]


def trust_feature_names(model: PrototypeModel) -> list[str]:
    """Names of the columns of :attr:`Evidence.trust` for ``model``."""
    own = TRUST_FEATURES if model.cfg.pitch_anchored else TRUST_FEATURES[:2]
    return [*own, *summary_names()]


@dataclass
class Evidence:
    """N clips, K prototypes, C classes.

    errors: ``(N, K)`` mean reconstruction error of each prototype.
    class_errors: ``(N, C)`` each class's best prototype.
    probabilities: ``(N, C)`` calibrated class probabilities.
    trust: ``(N, D)`` the trust figures (:func:`auralens.models.trust.trust_features`, with the
        clips' :func:`auralens.models.trust.spectral_summary`; see :func:`trust_feature_names`).
    """

    errors: torch.Tensor
    class_errors: torch.Tensor
    probabilities: torch.Tensor
    trust: torch.Tensor


def voiced_share(model: PrototypeModel, x: torch.Tensor) -> torch.Tensor:
    """Share of each clip's sounding frames in which the pitch network hears a pitch:
    ``(B, F, T) -> (B,)``; ones for a model without pitch anchoring."""
    if not model.cfg.pitch_anchored:
        return torch.ones(x.shape[0], device=x.device)
    _, voiced = model.pitch.track(x)
    sounding = sounding_frames(x)
    return (voiced & sounding).sum(-1) / sounding.sum(-1).clamp_min(1)


@torch.inference_mode()
def evidence(model: PrototypeModel, features: list[torch.Tensor], device="cpu", batch_size: int = 64) -> Evidence:
    """:class:`Evidence` on clips ``[(F, T_i)]`` of any lengths (equal lengths batched), on the CPU.

    >>> ev = evidence(model, [log_mel(y) for y in clips])   # doctest: +SKIP
    >>> ev.probabilities.argmax(1), model_trust.flagged(ev.trust)   # doctest: +SKIP
    """
    model.eval()
    N, K = len(features), model.cfg.n_prototypes
    errors, shares, summaries = torch.empty(N, K), torch.empty(N), [None] * N
    for chunk, x in batches_by_length(features, batch_size, device):
        for i, row in zip(chunk, spectral_summary(x).cpu()):
            summaries[i] = row
        f0 = model.pitch.track(x)[0] if model.cfg.pitch_anchored else None
        errors[chunk] = model(x, f0=f0).errors.float().cpu()
        shares[chunk] = voiced_share(model, x).float().cpu()
    class_errors = model.class_errors(errors.to(model.prototype_class.device)).cpu()
    with_voicing = shares if model.cfg.pitch_anchored else None
    return Evidence(errors, class_errors, model.probabilities(class_errors.to(model.theta.device)).cpu(),
                    trust_features(errors, class_errors, with_voicing, torch.stack(summaries) if N else None))


def collection_figures(model: PrototypeModel, features: list[torch.Tensor], device="cpu", batch_size: int = 64):
    """What a collection's table shows of clips ``[(F, T_i)]``: ``(errors (N, K), probabilities
    (N, C), trust scores (N,) or None, the trust threshold or None)`` - the trust score when the
    model has one fitted (``auralens bundle add-trust``)."""
    from ..trust import TrustModel

    ev = evidence(model, features, device, batch_size)
    if not model.cfg.trust:
        return ev.errors, ev.probabilities, None, None
    trust = TrustModel.from_dict(model.cfg.trust)
    return ev.errors, ev.probabilities, trust.score(ev.trust), trust.threshold
