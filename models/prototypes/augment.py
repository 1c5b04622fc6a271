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
    colour: float = 0.06  # random smooth spectral envelope, log units (0.06 = 10 dB) per component
    rolloff: float = 0.5  # probability of a high-frequency rolloff (a duller sample set)
    time_stretch: float = 0.15  # frame-axis scale exp(time_stretch * N): other attacks and decays
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


def stretch_time(x: torch.Tensor, scale: torch.Tensor) -> torch.Tensor:
    """Play each clip ``scale (B,)`` times slower (frame ``t`` reads ``t / scale``); silence beyond the end."""
    B, Fb, T = x.shape
    source = torch.arange(T, device=x.device) / scale.unsqueeze(1)  # (B, T)
    lower = source.floor().long().clamp(max=T - 1)
    upper = (lower + 1).clamp(max=T - 1)
    w = (source - lower).clamp(0, 1).unsqueeze(1)
    out = torch.lerp(x.gather(2, lower.unsqueeze(1).expand(B, Fb, T)),
                     x.gather(2, upper.unsqueeze(1).expand(B, Fb, T)), w)
    return out * (source <= T - 1).unsqueeze(1)


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
    if aug.time_stretch > 0:
        x = stretch_time(x, torch.exp(aug.time_stretch * randn(B)))
    active = x > 0
    m = torch.linspace(0, 1, Fb, device=dev)
    if aug.colour > 0:  # a smooth random envelope: the first cosines along the band axis
        basis = torch.cos(torch.pi * torch.arange(1, 6, device=dev).unsqueeze(1) * m)  # (5, F)
        envelope = (aug.colour * randn(B, 5) / torch.arange(1, 6, device=dev)) @ basis  # (B, F)
        x = x + envelope.unsqueeze(-1) * active
    if aug.rolloff > 0:  # fall by up to ~85 dB from a random cutoff to the top band
        on = (rand(B, 1) < aug.rolloff).float()
        cut = 0.55 + 0.4 * rand(B, 1)
        depth = on * 0.5 * rand(B, 1)
        x = x - (depth * (m - cut).clamp_min(0) / (1 - cut)).unsqueeze(-1) * active  # (B, F, 1)
    if aug.offset > 0:
        x = x + aug.offset * randn(B, 1, 1) * active
    if aug.noise > 0:
        x = x + aug.noise * randn(B, Fb, T)
    return x.clamp_min(0)
