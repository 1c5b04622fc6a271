"""Tensors on disk as safetensors: the one format weights are stored in (never pickles).

Used by the trainers (checkpoints), the bundle (model weights) and whatever else stores tensors.
"""
from __future__ import annotations

from pathlib import Path

import torch
from safetensors.torch import load_file, save_file

from .atomic import atomic_path


class WeightsError(ValueError):
    """A weights file is missing or cannot be read."""


def write_weights(path: Path, state: dict[str, torch.Tensor], metadata: dict | None = None) -> None:
    """Save ``state`` (name -> tensor, any device) as a safetensors file at ``path``, atomically.

    ``metadata`` values are stored as strings in the file's header.

    >>> import tempfile
    >>> p = Path(tempfile.mkdtemp()) / "w.safetensors"
    >>> write_weights(p, {"a": torch.ones(2, 3)})
    >>> read_weights(p)["a"].shape
    torch.Size([2, 3])
    """
    tensors = {k: v.detach().cpu().contiguous().clone() for k, v in state.items()}
    with atomic_path(path) as tmp:
        save_file(tensors, str(tmp), metadata={k: str(v) for k, v in (metadata or {}).items()})


def read_weights(path: Path) -> dict[str, torch.Tensor]:
    """The tensors of the safetensors file at ``path``, on the CPU; :class:`WeightsError` when
    the file is missing or unreadable."""
    if not path.is_file():
        raise WeightsError(f"Weights missing: {path}.")
    try:
        return load_file(str(path))
    except Exception as err:
        raise WeightsError(f"Weights at {path} cannot be read ({err}).") from None
