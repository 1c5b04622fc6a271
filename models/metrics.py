"""Figures of a classifier on held-out clips, for any model kind: OA, AA, macro F1, per class,
confusion; and every prototype's error on every clip."""
from __future__ import annotations

import numpy as np
import torch


SUMMARY = ("n", "oa", "aa", "macro_f1", "reconstruction_error")  # the headline figures of an evaluation


@torch.inference_mode()
def model_errors(model, features: list[torch.Tensor], device="cpu", batch_size: int = 64,
                 stage: str | None = None) -> torch.Tensor:
    """Mean reconstruction error of every prototype on every clip: ``(N, K)`` on the CPU.

    Clips of equal length are batched together; any length works (no cropping). For a latent
    prototype model (one stage) the "errors" are the distances to the prototypes.
    """
    model.eval()
    out = torch.empty(len(features), model.cfg.n_prototypes)
    for chunk, x in batches_by_length(features, batch_size, device):
        out[chunk] = (model(x) if stage is None else model(x, stage=stage)).errors.float().cpu()
    return out


def batches_by_length(features: list[torch.Tensor], batch_size: int, device="cpu"):
    """Clips ``[(F, T_i)]`` in batches of equal length: yields ``(indices, (B, F, T) tensor)``."""
    by_length: dict[int, list[int]] = {}
    for i, f in enumerate(features):
        by_length.setdefault(f.shape[-1], []).append(i)
    for idx in by_length.values():
        for start in range(0, len(idx), batch_size):
            chunk = idx[start:start + batch_size]
            yield chunk, torch.stack([features[i] for i in chunk]).to(device)


def classification_metrics(true: np.ndarray, pred: np.ndarray, labels: list[str]) -> dict:
    """OA, AA (mean per-class recall), macro F1, per-class counts and accuracy, confusion matrix.

    ``true``, ``pred``: ``(N,)`` class indices into ``labels``. Accuracies are fractions in [0, 1];
    classes absent from ``true`` are left out of AA and macro F1.
    """
    n_classes = len(labels)
    confusion = np.zeros((n_classes, n_classes), dtype=np.int64)
    np.add.at(confusion, (true, pred), 1)
    support = confusion.sum(1)
    predicted = confusion.sum(0)
    hits = np.diag(confusion)
    present = support > 0
    recall = np.divide(hits, support, out=np.zeros(n_classes), where=present)
    precision = np.divide(hits, predicted, out=np.zeros(n_classes), where=predicted > 0)
    f1 = np.divide(2 * precision * recall, precision + recall, out=np.zeros(n_classes), where=(precision + recall) > 0)
    return {
        "n": int(len(true)),
        "oa": float(hits.sum() / max(len(true), 1)),
        "aa": float(recall[present].mean()) if present.any() else 0.0,
        "macro_f1": float(f1[present].mean()) if present.any() else 0.0,
        "per_class": {labels[c]: {"n": int(support[c]), "accuracy": float(recall[c])}
                      for c in range(n_classes) if present[c]},
        "confusion": {"labels": list(labels), "matrix": confusion.tolist()},
    }
