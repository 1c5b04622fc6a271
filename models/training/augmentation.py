"""Which train-time augmentation a run uses, and the augmented training split it trains on."""
from __future__ import annotations

import json
from pathlib import Path

from ..audio import AudioConfig
from ..augment import AugmentConfig
from ..corpus.files import AUGMENTATION_FILE
from ..data import FeatureSet

CORPUS = "corpus"  # the augmentation the collection asks for in its augmentation.json, if any


def resolve_augmentation(choice: AugmentConfig | str | None, data: str | Path) -> AugmentConfig | None:
    """The augmentation of a run on ``data``: ``choice`` itself, none for None, and for
    ``"corpus"`` what ``<data>/augmentation.json`` (written by ``auralens corpus build``) says
    - none when the collection has no such file (a folder or manifest brought by a user).
    ValueError for a file this version cannot read.

    >>> resolve_augmentation("corpus", "/nowhere") is None
    True
    """
    if choice is None or isinstance(choice, AugmentConfig):
        return choice
    if choice != CORPUS:
        raise ValueError(f"augmentation must be an AugmentConfig, None or '{CORPUS}', got {choice!r}")
    folder = Path(data) if Path(data).is_dir() else Path(data).parent
    path = folder / AUGMENTATION_FILE
    if not path.is_file():
        return None
    try:
        return AugmentConfig.from_dict(json.loads(path.read_text()))
    except (ValueError, TypeError) as err:
        raise ValueError(f"{path} cannot be read as an augmentation recipe: {err}") from None


def augment_training(train: FeatureSet, config: AugmentConfig | None, audio: AudioConfig, seed: int,
                     progress: bool) -> tuple[FeatureSet, dict | None]:
    """``train`` with its augmented views (see :func:`auralens.models.augment.views.with_augmented_views`)
    and the account for the training record; ``train`` itself and None without augmentation."""
    if config is None:
        return train, None
    from ..augment.views import with_augmented_views

    return with_augmented_views(train, config, audio, seed, progress=progress)
