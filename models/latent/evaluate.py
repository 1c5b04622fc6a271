"""What the latent prototype model says about many clips, and how well its decoder reconstructs them.

All functions batch clips of equal length together and accept any clip length.
"""
from __future__ import annotations

from typing import Callable

import torch
from tqdm import tqdm

from ..data import FeatureSet
from ..metrics import SUMMARY, classification_metrics


def _by_length(features: list[torch.Tensor], batch_size: int):
    """Index lists of clips of equal length, at most ``batch_size`` each."""
    groups: dict[int, list[int]] = {}
    for i, f in enumerate(features):
        groups.setdefault(f.shape[-1], []).append(i)
    for idx in groups.values():
        for start in range(0, len(idx), batch_size):
            yield idx[start:start + batch_size]


@torch.inference_mode()
def embed_clips(model, features: list[torch.Tensor], device="cpu", batch_size: int = 128,
                standardised: bool = True, progress: str | None = None) -> torch.Tensor:
    """Embeddings of every clip: ``(N, D)`` on the CPU (standardised unless told otherwise);
    ``progress``: a progress bar with this title.

    Examples
    --------
    >>> embed_clips(model, [torch.rand(128, 87)]).shape    # doctest: +SKIP
    torch.Size([1, 128])
    """
    model.eval()
    out = torch.empty(len(features), model.cfg.latent_dim)
    with tqdm(total=len(features), desc=progress, unit="clip", disable=progress is None) as bar:
        for chunk in _by_length(features, batch_size):
            z = model.encode(torch.stack([features[i] for i in chunk]).to(device))
            out[chunk] = (model.standardise(z) if standardised else z).float().cpu()
            bar.update(len(chunk))
    return out


@torch.inference_mode()
def latent_outputs(model, features: list[torch.Tensor], device="cpu", batch_size: int = 128):
    """Class logits ``(N, C)`` and prototype distances ``(N, K)`` of every clip, on the CPU."""
    model.eval()
    logits = torch.empty(len(features), model.cfg.n_classes)
    distances = torch.empty(len(features), model.cfg.n_prototypes)
    for chunk in _by_length(features, batch_size):
        out = model(torch.stack([features[i] for i in chunk]).to(device))
        logits[chunk], distances[chunk] = out.logits.float().cpu(), out.distances.float().cpu()
    return logits, distances


def fit_frames(x: torch.Tensor, frames: int) -> torch.Tensor:
    """``(..., F, T)`` -> ``(..., F, frames)``: cropped, or padded with silence (0 log units)."""
    T = x.shape[-1]
    return x[..., :frames] if T >= frames else torch.nn.functional.pad(x, (0, frames - T))


@torch.inference_mode()
def decode_clips(model, features: list[torch.Tensor], device="cpu", batch_size: int = 128) -> list[torch.Tensor]:
    """Every clip encoded and decoded: ``(F, frames)`` log-mels clamped at silence, on the CPU."""
    model.eval()
    out: list[torch.Tensor | None] = [None] * len(features)
    for chunk in _by_length(features, batch_size):
        rec = model.reconstruct(torch.stack([features[i] for i in chunk]).to(device)).clamp_min(0).float().cpu()
        for j, i in enumerate(chunk):
            out[i] = rec[j]
    return out


def reconstruction_errors(model, features: list[torch.Tensor], device="cpu") -> torch.Tensor:
    """``(N,)`` mean squared difference (log units squared) between each clip's first ``frames``
    frames (padded with silence when shorter) and its decoding."""
    decoded = decode_clips(model, features, device)
    return torch.stack([(d - fit_frames(f.float(), model.cfg.frames)).pow(2).mean()
                        for d, f in zip(decoded, features)]) if features else torch.empty(0)


def decoded_feature_set(model, data: FeatureSet, device="cpu") -> FeatureSet:
    """The same clips, each replaced by its decoding: to ask a classifier whether the decoder
    keeps what makes an instrument recognisable."""
    decoded = decode_clips(model, data.features, device)
    return FeatureSet(decoded, data.targets, data.class_names, data.records, [], 0)


def evaluate_latent(model, data: FeatureSet, device="cpu", stage: str | None = None) -> dict:
    """Metrics of a latent prototype ``model`` on ``data`` (one stage: ``stage`` is ignored).

    The class is the largest logit; ``reconstruction_error`` is the autoencoder's: the mean
    squared difference between a clip (its first ``frames`` frames) and its decoding. Returns the
    keys of :func:`~auralens.models.metrics.classification_metrics` plus ``reconstruction_error``.
    """
    logits, _ = latent_outputs(model, data.features, device)
    metrics = classification_metrics(data.targets.numpy(), logits.argmax(1).numpy(), data.class_names)
    errors = reconstruction_errors(model, data.features, device)
    metrics["reconstruction_error"] = float(errors.mean()) if len(errors) else 0.0
    return {k: metrics[k] for k in (*SUMMARY, "per_class", "confusion")}


def decoded_metrics(model, data: FeatureSet, device="cpu",
                    judge: Callable[[FeatureSet], dict] | None = None) -> dict:
    """How much of an instrument survives the decoder: every clip of ``data`` is encoded and
    decoded, then classified again, by the latent model itself and (when given) by ``judge``,
    the evaluation of another model of the bundle that never saw decoded sound (a function of a
    FeatureSet returning at least ``oa`` and ``aa``).

    Returns ``{"n", "reconstruction_error", "oa", "aa"}`` (the latent model on decoded clips)
    plus ``"judge": {"oa", "aa"}`` when a judge is given. Accuracies are fractions in [0, 1].
    """
    decoded = decoded_feature_set(model, data, device)
    errors = torch.stack([(d - fit_frames(f.float(), model.cfg.frames)).pow(2).mean()
                          for d, f in zip(decoded.features, data.features)]) if len(data) else torch.zeros(1)
    own = evaluate_latent(model, decoded, device)
    out = {"n": len(data), "reconstruction_error": float(errors.mean()), "oa": own["oa"], "aa": own["aa"]}
    if judge is not None:
        j = judge(decoded)
        out["judge"] = {"oa": j["oa"], "aa": j["aa"]}
    return out


def decoded_figures(model, data: FeatureSet, device="cpu") -> dict:
    """``{"decoded": decoded_metrics(...)}``: what an evaluation of a latent model adds."""
    return {"decoded": decoded_metrics(model, data, device)}
