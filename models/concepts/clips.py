"""One pre-processing for every clip an explainer sees: the same length, the same padding.

Concept, random and target clips all go through :func:`fit_length`, so that no set differs
from another by how it was cut or padded (padding only the concept clips would let a CAV
learn the padding instead of the concept).
"""
from __future__ import annotations

from typing import Sequence, Union

import torch

Clips = Union[torch.Tensor, Sequence[torch.Tensor]]  # (n, ..., T) or n tensors (..., T_i)


def as_list(clips: Clips) -> list[torch.Tensor]:
    if isinstance(clips, torch.Tensor):
        if clips.dim() < 2:
            raise ValueError(f"Clips must be a batch (n, ..., frames); got shape {tuple(clips.shape)}.")
        return list(clips.unbind(0))
    out = [torch.as_tensor(c) for c in clips]
    if any(c.dim() < 1 for c in out):
        raise ValueError("Every clip must have a time axis.")
    return out


def common_length(*sets: Clips) -> int:
    """The clip length all sets are brought to: the median length over every clip."""
    lengths = sorted(c.shape[-1] for s in sets for c in as_list(s))
    if not lengths:
        raise ValueError("No clips.")
    return lengths[len(lengths) // 2]


def fit_length(clips: Clips, n_frames: int) -> tuple[torch.Tensor, int]:
    """Bring every clip to ``n_frames`` frames: longer clips are cut around their centre,
    shorter ones are repeated (looped) until long enough, then cut.

    Looping keeps a short clip's own sound in the padding, so padded clips do not carry a
    tell-tale block of silence or of constant values.

    Returns
    -------
    (clips ``(n, ..., n_frames)``, number of clips that were padded)

    Examples
    --------
    >>> x, padded = fit_length([torch.arange(4.).view(1, 4), torch.arange(10.).view(1, 10)], 6)
    >>> x[0].tolist(), x[1].tolist(), padded
    ([[0.0, 1.0, 2.0, 3.0, 0.0, 1.0]], [[2.0, 3.0, 4.0, 5.0, 6.0, 7.0]], 1)
    """
    out, padded = [], 0
    for c in as_list(clips):
        T = c.shape[-1]
        if T == 0:
            raise ValueError("A clip has no frames.")
        if T < n_frames:
            padded += 1
            c = c.repeat(*([1] * (c.dim() - 1)), -(-n_frames // T))[..., :n_frames]
        elif T > n_frames:
            start = (T - n_frames) // 2
            c = c[..., start:start + n_frames]
        out.append(c if c.is_floating_point() else c.float())
    shapes = {tuple(c.shape) for c in out}
    if len(shapes) > 1:
        raise ValueError(f"Clips differ in more than length: shapes {sorted(shapes)}.")
    return torch.stack(out), padded
