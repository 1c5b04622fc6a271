"""Synthetic spectrograms and small models with known behaviour, for the concept tests.

A "spectrogram" here is ``(F, T) = (32, 24)`` of non-negative values: a noisy floor plus
horizontal stripes (steady tones) at chosen bands.
"""
from __future__ import annotations

import torch
import torch.nn as nn

N_BANDS, N_FRAMES = 32, 24
PLANTED = (14, 32)  # the bands of the planted feature
DISTRACTORS = (0, 12)  # bands where the other stripes lie


def floor(n: int, g: torch.Generator) -> torch.Tensor:
    """``(n, F, T)`` noisy floor, around 0.3."""
    return (0.3 + 0.1 * torch.randn(n, N_BANDS, N_FRAMES, generator=g)).clamp_min(0)


def add_stripes(x: torch.Tensor, bands: tuple[int, int], g: torch.Generator, width: int = 2,
                level: tuple[float, float] = (0.5, 1.0)) -> torch.Tensor:
    """Add one stripe of ``width`` bands per clip, placed at random within ``bands``."""
    x = x.clone()
    lo, hi = bands
    for i in range(len(x)):
        b = int(torch.randint(lo, hi - width + 1, (1,), generator=g))
        a = level[0] + (level[1] - level[0]) * float(torch.rand(1, generator=g))
        x[i, b:b + width] += a
    return x


def random_clips(n: int, g: torch.Generator) -> torch.Tensor:
    """In-domain clips without the planted feature: floor and a distractor stripe."""
    return add_stripes(floor(n, g), DISTRACTORS, g)


def planted_clips(n: int, g: torch.Generator) -> torch.Tensor:
    """Clips with the planted feature (and a distractor, as every clip has)."""
    return add_stripes(random_clips(n, g), PLANTED, g)


class SmallCNN(nn.Module):
    """``(B, F, T) -> (B, 2)`` scores; layers ``conv1, relu1, conv2, relu2, head``."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 8, 3, padding=1)
        self.relu1 = nn.ReLU()
        self.conv2 = nn.Conv2d(8, 8, 3, padding=1)
        self.relu2 = nn.ReLU()
        self.head = nn.Linear(8 * N_BANDS, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.relu2(self.conv2(self.relu1(self.conv1(x.unsqueeze(1)))))  # (B, 8, F, T)
        return self.head(h.mean(-1).flatten(1))


def train_planted_cnn(seed: int = 0, n: int = 200, steps: int = 150) -> SmallCNN:
    """A CNN for which class 0 means "the planted feature is there" and class 1 "it is not"."""
    torch.manual_seed(seed)
    g = torch.Generator().manual_seed(seed)
    x = torch.cat([planted_clips(n // 2, g), random_clips(n // 2, g)])
    y = torch.cat([torch.zeros(n // 2), torch.ones(n // 2)]).long()
    model = SmallCNN()
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    for _ in range(steps):
        opt.zero_grad()
        loss = nn.functional.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
    return model.eval()


class BandBlind(nn.Module):
    """A hand-built model whose scores provably ignore bands ``>= 16``.

    ``features`` is the identity (the layer to test); score 0 is ``sum_t tanh(w . x[:16, t])``
    for fixed weights ``w``, score 1 its negative. Nothing from bands 16 and up reaches either
    score, so their gradient there is exactly zero.
    """

    def __init__(self, seed: int = 0):
        super().__init__()
        g = torch.Generator().manual_seed(seed)
        self.features = nn.Identity()
        self.register_buffer("w", torch.randn(16, generator=g))
        self.bias = nn.Parameter(torch.zeros(()))  # so the model has a parameter (device, dtype)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.features(x)  # (B, F, T)
        s = torch.tanh(torch.einsum("f,bft->bt", self.w, h[:, :16] - 0.3)).sum(-1) + self.bias
        return torch.stack([s, -s], dim=1)
