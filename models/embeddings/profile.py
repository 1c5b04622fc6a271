"""The `prototype-profile` space (ours): how well each prototype explains the clip.

For every one of the K prototypes the model transforms it (gain, pitch shift, filters) to
match the clip and measures the reconstruction error; the profile is the vector of those K
errors, on a log scale. Two clips are near when the same prototypes explain them equally well
or badly. Because the transformations absorb loudness, transposition and filtering, the
profile is invariant to them by construction - as far as the model's transformations reach.
"""
from __future__ import annotations

import torch

from ..prototypes.model import PrototypeModel

DESCRIPTION = "explained by the same prototypes, equally well"
ERROR_FLOOR = 1e-6  # log units squared, keeps log() finite


@torch.inference_mode()
def embed(model: PrototypeModel, mel: torch.Tensor) -> torch.Tensor:
    """Log reconstruction errors of a batch under all prototypes, at the model's final stage.

    Parameters
    ----------
    model : a trained :class:`PrototypeModel` (eval mode).
    mel : ``(B, n_mels, T)`` log-mel of clips of equal length, on the model's device.

    Returns
    -------
    ``(B, K)`` float32, ``log10`` of the mean squared error (log units squared) of each prototype.

    Examples
    --------
    >>> from auralens.models.prototypes.model import PrototypeConfig
    >>> embed(PrototypeModel(PrototypeConfig()).eval(), torch.zeros(2, 128, 87)).shape
    torch.Size([2, 16])
    """
    return torch.log10(model(mel).errors.float() + ERROR_FLOOR)
