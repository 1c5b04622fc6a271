"""Figures of a trained model of any kind on held-out clips (the kind decides how)."""
from __future__ import annotations

from .data import FeatureSet
from .kinds import kind_of


def evaluate_model(model, data: FeatureSet, device="cpu", stage: str | None = None) -> dict:
    """Metrics of ``model`` on ``data`` (whose ``class_names`` must be the model's classes).

    Returns ``n``, ``oa``, ``aa``, ``macro_f1`` (fractions in [0, 1]), ``per_class``,
    ``confusion`` (see :func:`auralens.models.metrics.classification_metrics`) and
    ``reconstruction_error``: for a spectral prototype model the mean error of the
    best-explaining prototype in log units squared (transformations up to ``stage``), for a
    latent prototype model its autoencoder's mean squared difference.
    """
    return kind_of(model).evaluate(model, data, device, stage)
