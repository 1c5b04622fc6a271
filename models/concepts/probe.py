"""What a model computes at named layers, per clip, cached by content: the layers' activations,
and the gradients of a class score with respect to them.

Both come flattened to one vector of ``D`` values per clip (see :func:`_flatten`), so that a
layer's output ``(B, ...)`` becomes ``(B, D)`` and a CAV is a ``(D,)`` vector.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Mapping

import torch
import torch.nn as nn

from .cache import ConceptCache, key_of, model_digest
from .hooks import check_layers, class_scores, forward_until, placement, record_layers


@dataclass
class Probe:
    """A model looked at through some of its layers, and the cache of what it computed there.

    model: the module (put it in evaluation mode while probing, see :func:`.hooks.eval_mode`).
    layers: names of submodules (``model.get_submodule``) whose output is one tensor.
    time_mean: average activations over the time (last) axis before flattening, and sum the
        gradients over it.
    batch_size: clips per forward pass.
    cache: content-keyed store of activations, gradients and CAVs.
    digest: ``model_digest(model)``, part of every cache key.
    device, dtype: where the clips go (those of the model's first parameter).
    hits: cache hits so far, by kind ("activations", "gradients", "cavs").
    """

    model: nn.Module
    layers: list[str]
    time_mean: bool
    batch_size: int
    cache: ConceptCache
    digest: str
    device: torch.device
    dtype: torch.dtype
    hits: dict[str, int] = field(default_factory=lambda: {"activations": 0, "gradients": 0, "cavs": 0})

    @classmethod
    def of(cls, model: nn.Module, layers: list[str], example: torch.Tensor, time_mean: bool, batch_size: int,
           cache: ConceptCache) -> "Probe":
        """Check that every layer exists and gives one tensor for ``example`` (a batch of
        clips, ``(1, ..., T)`` is enough; raises :class:`.hooks.LayerError`), then digest the model."""
        device, dtype = placement(model)
        check_layers(model, layers, example.to(device, dtype))
        return cls(model, layers, time_mean, batch_size, cache, model_digest(model), device, dtype)


def _flatten(h: torch.Tensor, time_mean: bool, reduce_time) -> torch.Tensor:
    """Layer output ``(B, ..., T)`` -> ``(B, D)``; over time, ``reduce_time`` (mean or sum)."""
    if time_mean:
        if h.dim() < 3:
            raise ValueError("Averaging over time needs a layer output with a time axis (batch, ..., time).")
        h = reduce_time(h, dim=-1)
    return h.reshape(h.shape[0], -1)


def activations(probe: Probe, clips: Mapping[str, torch.Tensor],
                report: Callable[[float], None]) -> dict[str, torch.Tensor]:
    """``{layer: (M, D)}`` activations of the ``M`` clips ``{digest: (..., T) clip}``, in the
    mapping's order, cached per clip; ``report`` is called with the fraction computed."""
    order = list(clips)
    keys = {(layer, d): key_of("act", probe.digest, layer, probe.time_mean, d)
            for layer in probe.layers for d in order}
    found: dict[tuple[str, str], torch.Tensor] = {}
    for lk, key in keys.items():
        entry = probe.cache.get(key)
        if entry is not None:
            found[lk] = entry["a"]
    missing = [d for d in order if any((layer, d) not in found for layer in probe.layers)]
    probe.hits["activations"] += len(order) - len(missing)
    for start in range(0, len(missing), probe.batch_size):
        chunk = missing[start:start + probe.batch_size]
        x = torch.stack([clips[d] for d in chunk]).to(probe.device, probe.dtype)
        with torch.no_grad():
            seen = forward_until(probe.model, probe.layers, x)
        for layer in probe.layers:
            a = _flatten(seen[layer], probe.time_mean, torch.mean).detach().cpu()
            for d, row in zip(chunk, a):
                found[(layer, d)] = row
                probe.cache.put(keys[(layer, d)], {"a": row})
        report(min(1.0, (start + len(chunk)) / max(1, len(missing))))
    return {layer: torch.stack([found[(layer, d)] for d in order]) for layer in probe.layers}


def class_gradients(probe: Probe, x: torch.Tensor, digests: list[str], k: int) -> dict[str, torch.Tensor]:
    """``{layer: (n, D)}`` gradients of class score ``k`` w.r.t. each layer's output, per clip
    of ``x`` ``(n, ..., T)`` (``digests``: those of its clips, for the cache key).

    One forward and one backward per batch serve every layer. With ``time_mean`` the gradient
    is summed over time: the derivative when the CAV is added to every frame.
    """
    layers = probe.layers
    keys = {layer: key_of("grad", probe.digest, layer, probe.time_mean, k, digests) for layer in layers}
    out = {}
    for layer in layers:
        entry = probe.cache.get(keys[layer])
        if entry is not None:
            out[layer] = entry["g"]
    if len(out) == len(layers):
        probe.hits["gradients"] += 1
        return out
    parts = {layer: [] for layer in layers}
    for start in range(0, len(x), probe.batch_size):
        xb = x[start:start + probe.batch_size].to(probe.device, probe.dtype)
        for input_grad in (False, True):  # a layer without parameters before it needs the input's
            with torch.enable_grad(), record_layers(probe.model, layers) as seen:
                scores = class_scores(probe.model(xb.detach().requires_grad_(input_grad)))  # (B, C)
                if not 0 <= k < scores.shape[1]:
                    raise ValueError(f"Class {k} does not exist: the model has {scores.shape[1]} classes.")
                hs = [seen[layer] for layer in layers]
                if all(h.requires_grad for h in hs):
                    gs = torch.autograd.grad(scores[:, k].sum(), hs, allow_unused=True)
                    break
        else:
            raise ValueError("The class score does not depend on the chosen layer(s) through a "
                             "differentiable path.")
        for layer, h, g in zip(layers, hs, gs):
            g = torch.zeros_like(h) if g is None else g
            parts[layer].append(_flatten(g, probe.time_mean, torch.sum).detach().cpu())
    for layer in layers:
        out[layer] = torch.cat(parts[layer])
        probe.cache.put(keys[layer], {"g": out[layer]})
    return out
