"""The registry of model kinds: for each family of models a bundle can hold, what it is built
from, how it is evaluated and what the app may show for it.

A bundle names a model's kind in ``bundle.json`` (``ModelEntry.kind``); everything that depends on
the kind asks this registry instead of comparing names. A new kind is a package of its own
(model, configuration, evaluation) and one entry in :data:`KINDS`.

>>> kind_named(SPECTRAL).shows.reconstructions
True
>>> [k.name for k in KINDS.values() if k.shows.concept_tests] == [SPECTRAL]
True
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import torch.nn as nn

from .latent import card as latent_card
from .latent.analysis import analyse_latent, collection_figures as latent_collection_figures
from .latent.evaluate import decoded_figures, evaluate_latent
from .latent.model import KIND as LATENT, LatentConfig, LatentPrototypeModel
from .prototypes import card as spectral_card
from .prototypes.analysis import analyse_spectral
from .prototypes.evaluate import evaluate_spectral
from .prototypes.evidence import collection_figures as spectral_collection_figures
from .prototypes.model import KIND as SPECTRAL, PrototypeConfig, PrototypeModel
from .prototypes.transforms import STAGES


class UnknownKind(ValueError):
    """A model kind this version does not know."""


@dataclass(frozen=True)
class Shows:
    """What the app may show for a model of a kind (each a yes or no)."""

    reconstructions: bool  # every prototype re-creating a clip stage by stage: spectrogram, curves, sound
    what_if: bool  # a prototype transformed by hand (sliders), heard and classified again
    concept_tests: bool  # TCAV and concept discovery on the model's layers
    decoded_prototypes: bool  # prototypes heard through a decoder, and as their nearest training clip
    embedding_spaces: bool  # its encoder and prototype errors give the learned and profile spaces


@dataclass(frozen=True)
class ModelKind:
    """One family of models.

    ``evaluate(model, data, device, stage) -> dict`` gives the figures of
    :func:`auralens.models.evaluate.evaluate_model`; ``analyse(model, x (F, T), class_names,
    audio) -> dict`` one clip's analysis as the app keeps it (prediction, prototypes, timeline);
    ``collection_figures(model, features [(F, T_i)], device, batch_size) -> (errors (N, K),
    probabilities (N, C), trust scores (N,) or None, trust threshold or None)`` what a
    collection's table shows of many clips, batched (:mod:`auralens.models.collection`);
    ``card_section(entry) -> list[str]`` the Markdown lines of the model card
    (:mod:`auralens.models.bundle.card`) on one model of the kind, from its bundle entry;
    ``stages`` are the curriculum stages a model of the kind is trained through, in order (empty:
    one stage).
    """

    name: str  # as written in bundle.json
    title: str  # what it is, in words for a person
    noun: str  # one model of the kind, in words ("a ... model" in messages)
    config_class: type
    model_class: type[nn.Module]
    evaluate: Callable[..., dict]
    analyse: Callable[..., dict]  # (model, x (F, T), class names, audio config) -> the analysis of a clip
    collection_figures: Callable  # (model, features, device, batch size) -> errors, probabilities, trust, threshold
    shows: Shows
    card_section: Callable[..., list[str]]  # (bundle entry) -> the model card's lines on one such model
    card_limit: str = ""  # a limit of the kind, listed in the model card of a bundle holding one
    stages: tuple[str, ...] = ()
    extra_figures: Callable[..., dict] | None = None  # (model, data, device) -> figures only this kind has
    always_supervised: bool = False  # trained from labels only (no clustering variant)

    def build(self, config: dict) -> nn.Module:
        """An untrained model of this kind from its configuration as ``bundle.json`` stores it."""
        return self.model_class(self.config_class.from_dict(config))

    def stages_of(self, model: nn.Module) -> list[str]:
        """The stages ``model`` was trained through, in order (``[]`` for a one-stage kind)."""
        return list(self.stages[: self.stages.index(model.stage) + 1]) if self.stages else []

    def supervised(self, config: dict) -> bool:
        """Whether a model with this configuration was trained from labels."""
        return bool(config.get("supervised", self.always_supervised))


KINDS: dict[str, ModelKind] = {k.name: k for k in [
    ModelKind(
        name=SPECTRAL, config_class=PrototypeConfig, model_class=PrototypeModel, evaluate=evaluate_spectral,
        analyse=analyse_spectral, collection_figures=spectral_collection_figures, noun="spectral prototype model",
        title="spectral prototypes: a sound per class (or per register), transformed to re-create each clip",
        shows=Shows(reconstructions=True, what_if=True, concept_tests=True, decoded_prototypes=False,
                    embedding_spaces=True),
        card_section=spectral_card.card_section, card_limit=spectral_card.LIMIT, stages=STAGES),
    ModelKind(
        name=LATENT, config_class=LatentConfig, model_class=LatentPrototypeModel, evaluate=evaluate_latent,
        analyse=analyse_latent, collection_figures=latent_collection_figures, noun="latent prototype model",
        title="latent prototypes: points in an autoencoder's space, a clip takes the class of the ones it is "
              "closest to; each is heard through the decoder, or as the training clip nearest to it",
        shows=Shows(reconstructions=False, what_if=False, concept_tests=False, decoded_prototypes=True,
                    embedding_spaces=False),
        card_section=latent_card.card_section, card_limit=latent_card.LIMIT, extra_figures=decoded_figures,
        always_supervised=True),
]}


def kind_named(name: str) -> ModelKind:
    """The kind called ``name`` in a bundle; :class:`UnknownKind` for one this version lacks."""
    if name not in KINDS:
        raise UnknownKind(f"Models of kind '{name}' cannot be loaded by this version (it knows: "
                          f"{', '.join(KINDS)}).")
    return KINDS[name]


def kinds_showing(capability: str) -> list[ModelKind]:
    """The kinds for whose models the app may show ``capability`` (a :class:`Shows` field name)."""
    return [kind for kind in KINDS.values() if getattr(kind.shows, capability)]


def kind_of(model: nn.Module) -> ModelKind:
    """The kind of a built model."""
    for kind in KINDS.values():
        if isinstance(model, kind.model_class):
            return kind
    raise UnknownKind(f"A {type(model).__name__} is no model kind this version knows.")
