"""Seeded train-time augmentation of waveforms: rooms, microphone colour, noise, level, codecs.

    config.py    :class:`AugmentConfig` - which kinds are on, how often, over which ranges
    effects.py   each kind as a function of a waveform (rooms simulated with pyroomacoustics)
    chain.py     :class:`Augmenter` - one seeded augmentation of a clip, the kinds in turn
    views.py     augmented copies of a collection's training clips as features (for training)

Nothing is baked into the corpus files: a training run augments its training split when it
starts, and its record says what it used.

    >>> from auralens.models.augment import Augmenter, AugmentConfig
    >>> Augmenter(AugmentConfig(), 22050, seed=0)  # doctest: +ELLIPSIS
    <auralens.models.augment.chain.Augmenter object at ...>
"""
from .chain import Augmenter
from .config import KINDS, AugmentConfig

__all__ = ["KINDS", "AugmentConfig", "Augmenter"]
