"""The `aisfx` space: vectors of the pretrained aiSFX sound-effects encoder
(:mod:`auralens.models.aisfx_network`), averaged over a clip, when its weights are installed."""
from __future__ import annotations

import numpy as np
import torch

from ..aisfx_network import AisfxEncoder, blocks, features

DESCRIPTION = "alike to a network trained to file sound-effects libraries (aiSFX by Ma and Lerch, CC BY 4.0)"


@torch.inference_mode()
def embed(encoder: AisfxEncoder, samples: np.ndarray, sample_rate: int) -> torch.Tensor:
    """aiSFX vectors: the encoder's 512 numbers averaged over a clip's 2.3 s blocks.

    Parameters
    ----------
    encoder : from :func:`auralens.models.aisfx_network.load_encoder`.
    samples : ``(B, n_samples)`` float audio at ``sample_rate``, clips of equal length.

    Returns
    -------
    ``(B, 512)`` float32 on the CPU.

    Examples
    --------
    >>> enc = load_encoder()                                    # doctest: +SKIP
    >>> embed(enc, np.zeros((2, 44_100), np.float32), 22_050).shape   # doctest: +SKIP
    torch.Size([2, 512])
    """
    device = next(encoder.parameters()).device
    b = blocks(features(samples, sample_rate, device))  # (B, n, 100, 96)
    B, n = b.shape[:2]
    return encoder(b.reshape(B * n, *b.shape[2:])).view(B, n, -1).mean(1).float().cpu()
