"""Figures of a spectral prototype model on held-out clips."""
from __future__ import annotations

from ..data import FeatureSet
from ..metrics import SUMMARY, classification_metrics, model_errors


def evaluate_spectral(model, data: FeatureSet, device="cpu", stage: str | None = None) -> dict:
    """Metrics of a spectral prototype ``model`` on ``data`` (whose ``class_names`` must be the
    model's classes), with its transformations up to ``stage`` (None: the model's own stage).

    Returns the dict of :func:`~auralens.models.metrics.classification_metrics` (``n``, ``oa``,
    ``aa``, ``macro_f1``, ``per_class``, ``confusion``) plus ``reconstruction_error``: the mean
    error of the best-explaining prototype, in log units squared.
    """
    errors = model_errors(model, data.features, device, stage=stage)
    class_errors = model.class_errors(errors.to(model.prototype_class.device)).cpu()
    pred = class_errors.argmin(1).numpy()
    metrics = classification_metrics(data.targets.numpy(), pred, data.class_names)
    metrics["reconstruction_error"] = float(errors.min(1).values.mean()) if len(errors) else 0.0
    return {k: metrics[k] for k in (*SUMMARY, "per_class", "confusion")}
