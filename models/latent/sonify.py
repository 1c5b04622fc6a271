"""Hearing latent prototypes: decoded through the decoder, and as their nearest training clip.

Two renderings of prototype k, meant to be played side by side:

- **decoded**: the prototype (a point of the embedding space) through the decoder -> a
  log-mel of ``frames`` frames -> Griffin-Lim. What the model's prototype *is*, as well as the
  decoder can say it.
- **nearest clip**: the training clip whose embedding is nearest to the prototype, stored in
  the bundle as 16-bit FLAC (:mod:`auralens.models.bundle.nearest`). Always a faithful sound,
  but only the closest real example.
"""
from __future__ import annotations

import numpy as np
import torch

from ..audio import AudioConfig, apply_fades, log_mel_to_audio


@torch.inference_mode()
def prototype_log_mel(model, k: int | None = None) -> torch.Tensor:
    """The decoded prototype ``k``: ``(F, frames)`` log units (clamped at silence), on the CPU;
    all prototypes ``(K, F, frames)`` when ``k`` is None.

    Examples
    --------
    >>> model = LatentPrototypeModel(LatentConfig(n_classes=2, protos_per_class=3)).eval()
    >>> prototype_log_mel(model, 4).shape
    torch.Size([128, 87])
    """
    model.eval()
    protos = model.prototypes if k is None else model.prototypes[k:k + 1]
    out = model.decode(model.unstandardise(protos)).clamp_min(0).float().cpu()
    return out if k is None else out[0]


def prototype_audio(model, k: int, config: AudioConfig = AudioConfig(), n_iter: int = 32,
                    fade_s: float = 0.01) -> np.ndarray:
    """The decoded prototype ``k`` as sound: ``(n_samples,)`` float32 at ``config.sample_rate``.

    Examples
    --------
    >>> y = prototype_audio(model, 0, n_iter=4)      # doctest: +SKIP
    >>> y.shape                                      # 86 frames of hop 512
    (44032,)
    """
    spec = prototype_log_mel(model, k)
    audio = apply_fades(log_mel_to_audio(spec, config, n_iter=n_iter), fade_s, config.sample_rate)
    return audio.numpy().astype(np.float32)
