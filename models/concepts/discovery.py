"""Unsupervised concept discovery: factorise a layer's activations with NMF.

For clips of two or more classes, the non-negative activations of a layer (after a ReLU),
``(n, C, [F',] T')``, are laid out as one row per position (clip x band x frame) and one
column per channel, and factorised ``A ~ W H`` with rank r (3-10). Each of the r components
is a concept: ``H[j]`` is its pattern over channels, ``W[:, j]`` says where it is present.

Per component we report:

* fidelity without it: how often the class decision is unchanged when the layer's output is
  replaced by the reconstruction without this component (lower = the model needs it); the
  fidelity of the whole reconstruction is reported once;
* sensitivity per class: the directional derivative of the class score along ``H[j]``
  (added at every position), mean over the clips of that class, and the fraction > 0;
* top excerpts: the clips where it is most present, the time region around its peak (in
  seconds) and its presence map over time (and over frequency rows when the layer has a
  frequency axis), upsampled onto the clip's frames.
"""
from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass, field
from typing import Callable, Sequence

import numpy as np
import torch
import torch.nn as nn

from .clips import Clips, common_length, fit_length
from .hooks import LayerError, check_layers, class_scores, describe_layers, eval_mode, forward_until, placement, \
    record_layers, replace_layer


@dataclass
class DiscoveryConfig:
    """Settings of a discovery request.

    rank: number of components (3-10).
    seed: NMF initialisation seed.
    n_excerpts: top excerpts per component.
    n_frames: clip length every clip is cut or looped to (None: the median length).
    frame_seconds: seconds per input frame (hop / sample rate), for excerpt times.
    max_iter: NMF iterations.
    batch_size: clips per forward pass.
    """

    rank: int = 5
    seed: int = 0
    n_excerpts: int = 5
    n_frames: int | None = None
    frame_seconds: float = 512 / 22_050
    max_iter: int = 400
    batch_size: int = 32


@dataclass
class DiscoveryResult:
    """Components found at one layer. :meth:`to_dict` gives the JSON-ready form."""

    layer: str
    config: DiscoveryConfig
    n_clips: int
    classes: list[int]
    fidelity: float
    fidelity_per_class: dict[int, float]
    relative_error: float
    components: list[dict]
    warnings: list[str]
    timings: dict[str, float]
    n_frames: int
    channels: torch.Tensor = field(repr=False, default=None)  # (r, C) the H factor

    def to_dict(self) -> dict:
        return {
            "layer": self.layer, "config": {**asdict(self.config), "n_frames": self.n_frames},
            "n_clips": self.n_clips, "classes": self.classes, "fidelity": self.fidelity,
            "fidelity_per_class": {str(k): v for k, v in self.fidelity_per_class.items()},
            "relative_error": self.relative_error, "components": self.components,
            "warnings": self.warnings, "timings": self.timings,
        }


def discover_concepts(
    model: nn.Module,
    layer: str,
    clips: Clips,
    labels: Sequence[int],
    rank: int = 5,
    seed: int = 0,
    progress: Callable[[float], None] | None = None,
    config: DiscoveryConfig | None = None,
) -> DiscoveryResult:
    """Concepts at ``layer`` for clips of two or more classes, by NMF of its activations.

    Parameters
    ----------
    model : a module whose forward gives class scores ``(B, C)`` (or an output with ``logits``).
    layer : a submodule whose output is non-negative (e.g. a ReLU), ``(B, channels, ..., T)``.
    clips : ``(n, ..., T)`` or a list of ``(..., T_i)``; cut or looped to one length.
    labels : class index of each clip (>= 2 distinct classes).
    rank, seed : NMF rank (3-10) and seed; override ``config``.
    progress : called with the fraction done, from 0 to 1.

    Returns
    -------
    DiscoveryResult

    Examples
    --------
    >>> result = discover_concepts(model, "encoder.levels.2.1", clips, labels, rank=4)  # doctest: +SKIP
    >>> result.fidelity, result.components[0]["excerpts"][0]["start_s"]                 # doctest: +SKIP
    (0.95, 0.42)
    """
    from sklearn.decomposition import NMF

    cfg = DiscoveryConfig(**{**asdict(config or DiscoveryConfig()), "rank": rank, "seed": seed})
    report = progress or (lambda fraction: None)
    timings: dict[str, float] = {}
    started = time.perf_counter()
    if not 3 <= cfg.rank <= 10:
        raise ValueError(f"The rank must be between 3 and 10; got {cfg.rank}.")
    labels = np.asarray(labels, dtype=int)
    n_frames = cfg.n_frames or common_length(clips)
    x, padded = fit_length(clips, n_frames)
    if len(labels) != len(x):
        raise ValueError(f"{len(x)} clips but {len(labels)} labels.")
    classes = sorted(set(labels.tolist()))
    if len(classes) < 2:
        raise ValueError("Discovery needs clips of at least two classes.")
    warnings = [f"{padded} clip(s) were shorter than {n_frames} frames and were looped to fill them."] if padded else []
    device, dtype = placement(model)
    check_layers(model, [layer], x[:1].to(device, dtype))

    with eval_mode(model):
        # -- activations and the factorisation ------------------------------------------------
        t0 = time.perf_counter()
        A = _nonnegative_activations(model, x, layer, cfg, device, dtype)  # (n, C, *S)
        n, C, S = A.shape[0], A.shape[1], tuple(A.shape[2:])
        V = A.movedim(1, -1).reshape(-1, C).numpy()  # (n * prod(S), C)
        timings["activations"] = time.perf_counter() - t0
        report(0.2)

        t0 = time.perf_counter()
        nmf = NMF(n_components=cfg.rank, init="nndsvda", random_state=cfg.seed, max_iter=cfg.max_iter)
        W = nmf.fit_transform(V)  # (P, r)
        H = nmf.components_  # (r, C)
        relative_error = float(np.linalg.norm(V - W @ H) / max(np.linalg.norm(V), 1e-12))
        timings["nmf"] = time.perf_counter() - t0
        report(0.4)

        # -- fidelity: class decisions with the reconstruction in place --------------------------
        t0 = time.perf_counter()

        def decisions(M: np.ndarray | None) -> np.ndarray:  # M: (P, C) in place of the layer's output
            replacement = None if M is None else torch.from_numpy(M).view(n, *S, C).movedim(-1, 1)
            return _decisions(model, x, replacement, layer, cfg, device, dtype)

        original = decisions(None)
        full = decisions(W @ H)
        fidelity = float((full == original).mean())
        per_class = {k: float((full == original)[labels == k].mean()) for k in classes}
        without = []
        for j in range(cfg.rank):
            keep = np.ones(cfg.rank, bool)
            keep[j] = False
            without.append(float((decisions(W[:, keep] @ H[keep]) == original).mean()))
            report(0.4 + 0.3 * (j + 1) / cfg.rank)
        timings["fidelity"] = time.perf_counter() - t0

        # -- sensitivity of each class along each component --------------------------------------
        t0 = time.perf_counter()
        directions = torch.from_numpy(H / np.maximum(np.linalg.norm(H, axis=1, keepdims=True), 1e-12))  # (r, C)
        sensitivity = {k: _sensitivity(model, x[torch.from_numpy(labels == k)], layer, k, directions, cfg, device,
                                       dtype) for k in classes}
        timings["sensitivity"] = time.perf_counter() - t0
        report(0.9)

    # -- excerpts -----------------------------------------------------------------------------------
    t0 = time.perf_counter()
    presence = W.reshape(n, *S, cfg.rank)  # (n, [F',] T', r)
    stride = _time_stride(n_frames, S[-1])
    share = (W.sum(0) * H.sum(1)) / max(float((W.sum(0) * H.sum(1)).sum()), 1e-12)
    components = [{
        "index": j, "share": round(float(share[j]), 6), "fidelity_without": without[j],
        "sensitivity": {str(k): {"mean": float(sensitivity[k][:, j].mean()),
                                 "positive_fraction": float((sensitivity[k][:, j] > 0).mean())}
                        for k in classes},
        "channels": [round(float(v), 6) for v in H[j]],
        **_where(presence[..., j], labels, n_frames, stride, cfg),
    } for j in range(cfg.rank)]
    if fidelity < 0.8:
        warnings.append(f"With rank {cfg.rank} the reconstruction keeps the model's decision for only {fidelity:.0%} "
                        "of the clips: the components miss part of what the model uses; try a higher rank.")
    timings["excerpts"] = time.perf_counter() - t0
    timings["total"] = time.perf_counter() - started
    report(1.0)
    return DiscoveryResult(
        layer=layer, config=cfg, n_clips=n, classes=classes, fidelity=fidelity, fidelity_per_class=per_class,
        relative_error=relative_error, components=components, warnings=warnings,
        timings={k: round(v, 4) for k, v in timings.items()}, n_frames=n_frames,
        channels=torch.from_numpy(H),
    )


def _nonnegative_activations(model, x, layer, cfg, device, dtype) -> torch.Tensor:
    """``(n, C, *S)`` float64 output of ``layer`` for the clips ``x``; raises :class:`LayerError`
    unless it has a time axis and no negative values (beyond rounding, which is clipped)."""
    acts = []
    for start in range(0, len(x), cfg.batch_size):
        with torch.no_grad():
            acts.append(forward_until(model, [layer], x[start:start + cfg.batch_size].to(device, dtype))[layer].cpu())
    A = torch.cat(acts).double()  # (n, C, *S)
    if A.dim() < 3:
        raise LayerError(f"Layer '{layer}' has no time axis (its output is {tuple(A.shape[1:])} per clip).")
    if float(A.min()) < -1e-6:
        ok = [r["name"] for r in describe_layers(model, x[:2].to(device, dtype)) if r["non_negative"]]
        raise LayerError(f"Layer '{layer}' has negative values, so NMF cannot factorise it. Non-negative "
                         f"layers (after a ReLU): {', '.join(ok) or 'none'}.")
    return A.clamp_min(0)


def _sensitivity(model, x, layer, k, directions, cfg, device, dtype) -> np.ndarray:
    """``(n, r)`` directional derivative of class score ``k`` along each of the ``directions``
    ``(r, C)`` (unit channel patterns, added at every position of the layer), per clip of ``x``."""
    g = _layer_gradient(model, x, layer, k, cfg, device, dtype)  # (n, C, *S)
    return torch.einsum("bc...,rc->br", g.double(), directions).numpy()  # summed over every position


def _where(presence: np.ndarray, labels: np.ndarray, n_frames: int, stride: float, cfg: DiscoveryConfig) -> dict:
    """Where one component is present: its ``n_excerpts`` strongest clips, each with the time
    region around its peak and its presence map upsampled onto the clip's ``n_frames`` frames.

    presence: ``(n, [F',] T')`` the component's weight at every position of the layer.
    Returns ``{"frequency_rows", "excerpts"}`` of the component's JSON form.
    """
    n, n_steps = presence.shape[0], presence.shape[-1]
    rows = presence.reshape(n, -1, n_steps)  # (n, rows, T'): frequency rows, or one
    peak = float(rows.max()) or 1.0
    profile = rows.max(1)  # (n, T'): where the component is strongest, at each step
    strength = profile.max(1)
    top = np.argsort(-strength, kind="stable")[:cfg.n_excerpts]
    excerpts = []
    for i in top:
        curve = _upsample(profile[i], n_frames, stride)  # (T,)
        lo, hi = _region(curve)
        excerpts.append({
            "clip": int(i), "label": int(labels[i]), "strength": round(float(strength[i]), 6),
            "start_s": round(lo * cfg.frame_seconds, 4), "end_s": round((hi + 1) * cfg.frame_seconds, 4),
            "start_frame": int(lo), "end_frame": int(hi + 1),
            "presence": [[round(float(v), 4) for v in _upsample(r / peak, n_frames, stride)] for r in rows[i]],
        })
    return {"frequency_rows": int(rows.shape[1]), "excerpts": excerpts}


def _decisions(model, x, replacement, layer, cfg, device, dtype) -> np.ndarray:
    """Predicted class of every clip, optionally with ``layer``'s output replaced."""
    out = []
    for start in range(0, len(x), cfg.batch_size):
        xb = x[start:start + cfg.batch_size].to(device, dtype)
        with torch.no_grad():
            if replacement is None:
                scores = class_scores(model(xb))
            else:
                r = replacement[start:start + len(xb)]
                with replace_layer(model, layer, lambda h: r.to(h.device, h.dtype).view_as(h)):
                    scores = class_scores(model(xb))
        out.append(scores.argmax(1).cpu())
    return torch.cat(out).numpy()


def _layer_gradient(model, x, layer, k, cfg, device, dtype) -> torch.Tensor:
    """Gradient of class score ``k`` w.r.t. the layer output, per clip: ``(n, C, *S)``."""
    parts = []
    for start in range(0, len(x), cfg.batch_size):
        xb = x[start:start + cfg.batch_size].to(device, dtype).requires_grad_(True)
        with torch.enable_grad(), record_layers(model, [layer]) as seen:
            score = class_scores(model(xb))[:, k].sum()
            g, = torch.autograd.grad(score, seen[layer], allow_unused=True)
        parts.append((torch.zeros_like(seen[layer]) if g is None else g).detach().cpu())
    return torch.cat(parts)


def _time_stride(n_frames: int, n_steps: int) -> float:
    """Input frames per step of the layer's time axis.

    A layer that halves time k times over an input padded a little (as the prototype model
    pads to a multiple of 16 frames) covers ``n_steps * 2**k`` frames, slightly more than the
    clip: then the stride is exactly ``2**k`` and the last steps cover padding. Otherwise the
    layer is taken to span the clip evenly.
    """
    ratio = n_frames / n_steps
    p = 2 ** round(math.log2(ratio))
    covered = n_steps * p
    return float(p) if n_frames <= covered < n_frames + covered / 8 + p else ratio


def _upsample(values: np.ndarray, n_frames: int, stride: float) -> np.ndarray:
    """Values at the layer's time steps -> ``(n_frames,)``, linear between step centres."""
    at = (np.arange(n_frames) + 0.5) / stride - 0.5
    return np.interp(at, np.arange(len(values)), values)


def _region(curve: np.ndarray, level: float = 0.5) -> tuple[int, int]:
    """The frames around the peak where ``curve`` stays at or above ``level`` of the peak."""
    peak = int(np.argmax(curve))
    limit = level * curve[peak]
    lo, hi = peak, peak
    while lo > 0 and curve[lo - 1] >= limit:
        lo -= 1
    while hi < len(curve) - 1 and curve[hi + 1] >= limit:
        hi += 1
    return lo, hi
