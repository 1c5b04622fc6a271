"""A bundle's stored spaces: each space's unit vectors of the corpus clips with its
standardisation, and the tags space's model.

Layout (folder and file names from :mod:`auralens.models.bundle.layout`)::

    <bundle>/embeddings/<space>.safetensors     "vectors" (N, D) float32 unit rows, in corpus order;
                                                "mean" and "std" (D,) of the standardisation, if any
    <bundle>/embeddings/tags-model.safetensors  weights of the tags space's two autoencoders
    bundle.json "embeddings"                    ids, per space: description, size, file, quality
"""
from __future__ import annotations

import numpy as np
import torch

from ..bundle import EMBEDDINGS_DIR, TAGS_WEIGHTS, Bundle
from ..weights import read_weights, write_weights
from .tags import TagsConfig, TagsModel

FORMAT = 1  # of the "embeddings" record in bundle.json
TAGS_FILE = f"{EMBEDDINGS_DIR}/{TAGS_WEIGHTS}"  # relative to the bundle


def space_file(space: str) -> str:
    """Where the vectors of ``space`` are stored, relative to the bundle."""
    return f"{EMBEDDINGS_DIR}/{space}.safetensors"


def write_space(bundle: Bundle, space: str, vectors: np.ndarray, mean: np.ndarray | None,
                std: np.ndarray | None) -> None:
    """Store a space's ``(N, D)`` unit vectors and its standardisation ``(D,)`` (None: none)."""
    tensors = {"vectors": torch.from_numpy(vectors)}
    if mean is not None:
        tensors.update(mean=torch.from_numpy(mean), std=torch.from_numpy(std))
    write_weights(bundle.path / space_file(space), tensors, {"space": space, "clips": len(vectors)})


def read_space(bundle: Bundle, entry: dict) -> tuple[np.ndarray, tuple]:
    """A stored space's ``(N, D)`` unit vectors and its standardisation ``(mean, std)`` (Nones if
    none); ``entry``: the space's record in ``bundle.json``."""
    t = read_weights(bundle.path / entry["file"])
    return t["vectors"].numpy(), (t["mean"].numpy(), t["std"].numpy()) if "mean" in t else (None, None)


def write_tags_model(bundle: Bundle, model: TagsModel) -> None:
    """Store the tags space's two autoencoders."""
    write_weights(bundle.path / TAGS_FILE, model.state_dict())


def read_tags_model(bundle: Bundle, meta: dict) -> TagsModel:
    """The tags space's two autoencoders as stored in the bundle (``meta``: its ``embeddings`` record)."""
    model = TagsModel(TagsConfig.from_dict(meta["tags"]["config"]))
    model.load_state_dict(read_weights(bundle.path / meta["tags"]["weights"]))
    return model


def remove_stale(bundle: Bundle, spaces: list[str], tags_model: bool) -> None:
    """Delete the stored vectors of every space not in ``spaces``, and the tags model unless
    ``tags_model``."""
    folder = bundle.path / EMBEDDINGS_DIR
    for stale in folder.glob("*.safetensors"):
        if stale.stem not in spaces and stale.name != TAGS_WEIGHTS:
            stale.unlink()
    if not tags_model and (bundle.path / TAGS_FILE).exists():
        (bundle.path / TAGS_FILE).unlink()
