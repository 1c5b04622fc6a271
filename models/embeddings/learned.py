"""The `learned` space: the prototype model's shared encoder, pooled over time.

The encoder is the network that watches the clip and drives every transformation of the
prototypes (gain, pitch shift, filters); its bottleneck therefore holds what the model finds
worth knowing about the sound. Averaging over time gives one vector per clip.
"""
from __future__ import annotations

import torch

from ..prototypes.model import DOWNSAMPLING, PrototypeModel, _pad_time

DESCRIPTION = "alike to the classifier's own ears: what its encoder attends to"


@torch.inference_mode()
def embed(model: PrototypeModel, mel: torch.Tensor) -> torch.Tensor:
    """Encoder vectors: the bottleneck ``(B, C, T/16)`` averaged over the clip's own frames.

    Parameters
    ----------
    model : a trained :class:`PrototypeModel` (eval mode).
    mel : ``(B, n_mels, T)`` log-mel of clips of equal length, on the model's device.

    Returns
    -------
    ``(B, C)`` float32 (C = the encoder's last channel count, 64 for the default bundle).

    Examples
    --------
    >>> from auralens.models.prototypes.model import PrototypeConfig
    >>> embed(PrototypeModel(PrototypeConfig()).eval(), torch.zeros(2, 128, 87)).shape
    torch.Size([2, 64])
    """
    T = mel.shape[-1]
    bottleneck, _ = model.encoder(_pad_time(mel))  # (B, C, T_pad / 16)
    kept = max(1, -(-T // DOWNSAMPLING))  # bottleneck frames that see the clip, not the padding
    return bottleneck[..., :kept].mean(-1).float()
