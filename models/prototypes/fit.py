"""How well could each prototype explain a clip at best? Transformations fitted to the clip.

The model's networks *predict* the transformations of every prototype from the clip, and it is
their prediction that makes the right prototype fit and the others fit badly. Fitting the
same transformations directly (gradient descent on the reconstruction error, one set of
parameters per clip, frame and prototype, within the model's bounds) tells what each
prototype can do, apart from what the networks chose: the gap between the two is how much of
a decision lives in the networks rather than in the prototypes.
"""
from __future__ import annotations

import torch

from .model import PrototypeModel, bounded_transforms
from .transforms import Transforms, fitted_gain, frame_errors, stage_index


def _unbounded(model: PrototypeModel, tr: Transforms) -> list[torch.Tensor]:
    """The inverse of :func:`bounded_transforms`: ``[gain, shift, filters]`` as far as they are on."""
    cfg = model.cfg

    def atanh(v, bound):
        return torch.atanh((v / bound).clamp(-0.999, 0.999))

    def logit(v):
        return torch.logit(v.clamp(1e-3, 1 - 1e-3))

    raw = [atanh(tr.gain, cfg.gain_max)]
    if tr.shift is not None:
        raw.append(atanh(tr.shift, cfg.shift_max))
    if tr.low_cut is not None:
        raw.append(torch.stack([logit(tr.low_cut), atanh(tr.low_slope, cfg.slope_max),
                                logit(tr.high_cut), atanh(tr.high_slope, cfg.slope_max)], -1))
    return raw


def fit_transforms(model: PrototypeModel, x: torch.Tensor, steps: int = 200, lr: float = 0.05,
                   stage: str | None = None) -> tuple[torch.Tensor, Transforms]:
    """Fit every prototype's transformations to clips by gradient descent.

    Starts from the networks' prediction and runs ``steps`` Adam steps on the summed
    reconstruction error; the prototypes and networks are left untouched.

    Parameters
    ----------
    model : PrototypeModel
    x : torch.Tensor, ``(B, F, T)``
        Log-mel clips of equal length (the bundle's audio settings).
    steps : int
        Adam steps (0: the networks' own transformations).
    lr : float
        Adam step size, in the unbounded parameters' units.
    stage : str, optional
        Which transformations are on (default: the model's stage). ``raw`` has nothing to fit.

    Returns
    -------
    errors : torch.Tensor, ``(B, K)``
        Mean reconstruction error of each prototype with the fitted transformations.
    transforms : Transforms
        The fitted ``(B, T, K)`` parameters, in model units.

    Examples
    --------
    >>> errors, _ = fit_transforms(model, x, steps=200)          # doctest: +SKIP
    >>> fitted_class = model.class_errors(errors).argmin(-1)     # doctest: +SKIP
    """
    if model.cfg.pitch_anchored:
        return _fit_anchored(model, x, steps, lr, stage)
    prototypes, envelopes = model.parts(detach=True)
    with torch.no_grad():
        predicted = model.transforms(x, stage)
    if stage_index(stage or model.stage) == 0:
        return model.clip_errors(x, frame_errors(x, prototypes, predicted, model.tables, envelopes)).detach(), predicted
    raw = [r.clone().requires_grad_(True) for r in _unbounded(model, predicted)]
    opt = torch.optim.Adam(raw, lr=lr)
    with torch.enable_grad():
        for _ in range(steps):
            loss = frame_errors(x, prototypes, bounded_transforms(model.cfg, *raw), model.tables, envelopes).sum()
            opt.zero_grad()
            loss.backward()
            opt.step()
    with torch.no_grad():
        tr = bounded_transforms(model.cfg, *raw)
        return model.clip_errors(x, frame_errors(x, prototypes, tr, model.tables, envelopes)), tr


def _fit_anchored(model: PrototypeModel, x: torch.Tensor, steps: int, lr: float,
                  stage: str | None) -> tuple[torch.Tensor, Transforms]:
    """A pitch-anchored model: its shift is the clip's pitch and its gain already the best one,
    so only the filters are left to fit (from the network's prediction), the gain refitted in
    closed form at every step."""
    cfg, level = model.cfg, stage_index(stage or model.stage)
    prototypes, envelopes = model.parts(detach=True)
    with torch.no_grad():
        f0 = model.pitch.track(x)[0]
        predicted = model.transforms(x, stage, f0)
    if level < 3 or steps == 0:
        return model.clip_errors(x, frame_errors(x, prototypes, predicted, model.tables, envelopes)).detach(), predicted
    raw = _unbounded(model, predicted)[-1].clone().requires_grad_(True)  # (B, T, K, 4) filters
    opt = torch.optim.Adam([raw], lr=lr)

    def with_filters(filters):
        tr = bounded_transforms(cfg, torch.zeros_like(predicted.shift), None, filters)
        tr.shift = predicted.shift
        tr.gain = fitted_gain(x, prototypes, tr, model.tables, cfg.gain_max, envelopes)
        return tr

    with torch.enable_grad():
        for _ in range(steps):
            loss = frame_errors(x, prototypes, with_filters(raw), model.tables, envelopes).sum()
            opt.zero_grad()
            loss.backward()
            opt.step()
    with torch.no_grad():
        tr = with_filters(raw)
        return model.clip_errors(x, frame_errors(x, prototypes, tr, model.tables, envelopes)), tr
