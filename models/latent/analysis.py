"""What the latent prototype model says about one clip, as a whole and over time."""
from __future__ import annotations

from dataclasses import dataclass

import torch


@dataclass
class Timeline:
    """Windows of a long clip, each classified on its own.

    times_s: ``(W,)`` start of each window in seconds.
    similarities: ``(W, K)`` similarity of each window to each prototype.
    scores: ``(W, C)`` class probabilities of each window.
    """

    times_s: torch.Tensor
    similarities: torch.Tensor
    scores: torch.Tensor


@torch.inference_mode()
def timeline(model, x: torch.Tensor, frame_seconds: float, hop_frames: int | None = None) -> Timeline:
    """Slide a window of the decoder's length (``model.cfg.frames``) over ``x (F, T)``.

    A clip no longer than one window gives one window (the whole clip). ``hop_frames``
    defaults to half a window. ``frame_seconds`` is the bundle's ``AudioConfig.frame_seconds``.

    Examples
    --------
    >>> tl = timeline(model, torch.rand(128, 400), AudioConfig().frame_seconds)    # doctest: +SKIP
    >>> tl.similarities.shape                                                       # doctest: +SKIP
    torch.Size([8, 48])
    """
    model.eval()
    L = model.cfg.frames
    hop = hop_frames or max(1, L // 2)
    T = x.shape[-1]
    starts = list(range(0, max(T - L, 0) + 1, hop))
    if T > L and starts[-1] != T - L:
        starts.append(T - L)  # the end of the clip gets a window too
    device = model.prototypes.device
    windows = torch.stack([x[:, s:s + L] for s in starts]).to(device)  # (W, F, <= L)
    sims, scores = [], []
    for chunk in windows.split(64):
        out = model(chunk)
        sims.append(out.similarities.float().cpu())
        scores.append(out.scores.float().cpu())
    return Timeline(torch.tensor(starts, dtype=torch.float32) * frame_seconds, torch.cat(sims), torch.cat(scores))
