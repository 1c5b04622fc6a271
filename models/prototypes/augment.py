"""Train-time augmentation on log-mel batches, so that prototypes generalise beyond one sample set.

All functions take and return ``(B, F, T)`` log units (silence is 0) and draw from the
given ``torch.Generator`` so that a seeded run is repeatable.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F


@dataclass
class Augmentation:
    stretch: float = 0.15  # band-axis scale exp(stretch * N): timbre and register changes
    offset: float = 0.05  # level offset in log units (0.05 = 8.5 dB) * N
    noise: float = 0.01  # per-bin noise in log units * N
    tilt: float = 0.03  # random smooth spectral tilt/curvature, log units at the band edges
    reverb: float = 0.5  # probability of a random room tail
    db_per_unit: float = 170.0  # of the features' log scale


def stretch_bands(x: torch.Tensor, scale: torch.Tensor) -> torch.Tensor:
    """Read band ``f`` from band ``f / scale`` (linear interpolation, edges clamped): ``scale (B,)``."""
    B, Fb, T = x.shape
    source = (torch.arange(Fb, device=x.device) / scale.unsqueeze(1)).clamp(0, Fb - 1)  # (B, F)
    lower = source.floor().long().clamp(max=Fb - 2)
    w = (source - lower).unsqueeze(-1)
    return torch.lerp(x.gather(1, lower.unsqueeze(-1).expand(B, Fb, T)),
                      x.gather(1, (lower + 1).unsqueeze(-1).expand(B, Fb, T)), w)


def add_reverb(x: torch.Tensor, decay_frames: torch.Tensor, level: torch.Tensor, db_per_unit: float) -> torch.Tensor:
    """Add an exponentially decaying tail in the power domain.

    ``decay_frames (B,)``: frames for the tail to fall by 60 dB; ``level (B,)``: tail level
    relative to the direct sound (linear power)."""
    B, Fb, T = x.shape
    n = min(T, 64)
    lags = torch.arange(1, n + 1, device=x.device, dtype=x.dtype)  # (n,)
    kernel = level.unsqueeze(1) * 10 ** (-6 * lags / decay_frames.unsqueeze(1))  # (B, n), -60 dB at decay
    units_per_decade = 10.0 / db_per_unit
    power = 10 ** (x / units_per_decade) - 1.0  # relative power above the floor; silence -> 0
    padded = F.pad(power, (n, 0))  # causal: each frame hears the past
    tail = F.conv1d(padded.reshape(1, B * Fb, -1), kernel.flip(1).repeat_interleave(Fb, 0).unsqueeze(1),
                    groups=B * Fb).reshape(B, Fb, -1)[..., :T]
    return torch.log10(1.0 + power + tail) * units_per_decade


def augment(x: torch.Tensor, aug: Augmentation, gen: torch.Generator) -> torch.Tensor:
    """One random augmentation per clip of the batch ``x (B, F, T)``."""
    B, Fb, T = x.shape
    dev = x.device

    def randn(*shape):
        return torch.randn(*shape, generator=gen).to(dev)

    def rand(*shape):
        return torch.rand(*shape, generator=gen).to(dev)

    if aug.reverb > 0:
        on = rand(B) < aug.reverb
        decay = 5 + 40 * rand(B)  # 0.1 - 1 s to fall by 60 dB
        level = torch.where(on, 0.02 + 0.2 * rand(B), torch.zeros(B, device=dev))
        x = add_reverb(x, decay, level, aug.db_per_unit)
    if aug.stretch > 0:
        x = stretch_bands(x, torch.exp(aug.stretch * randn(B)))
    active = x > 0
    if aug.tilt > 0:
        m = torch.linspace(-1, 1, Fb, device=dev)
        shape = aug.tilt * (randn(B, 1) * m + randn(B, 1) * (m.square() - 1 / 3))  # (B, F)
        x = x + shape.unsqueeze(-1) * active
    if aug.offset > 0:
        x = x + aug.offset * randn(B, 1, 1) * active
    if aug.noise > 0:
        x = x + aug.noise * randn(B, Fb, T)
    return x.clamp_min(0)
