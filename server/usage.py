"""Which prototypes explain a collection: for each prototype, the clips it explains best (how
many, how well, in which classes, predicted as what, with which tags), the prototypes that
explain none, and the confusions (a label that names one of the model's classes, heard as
another) traced to the prototype that won.
"""
from __future__ import annotations

import numpy as np

from .clip_table import ClipTable

TOP_TAGS = 8  # tags listed per prototype


def _counts(codes: np.ndarray, names: list[str]) -> dict[str, int]:
    valid = codes[codes >= 0]
    counts = np.bincount(valid, minlength=len(names)) if len(valid) else np.zeros(len(names), dtype=int)
    return {names[i]: int(n) for i, n in sorted(enumerate(counts), key=lambda x: -x[1]) if n}


def prototype_usage(table: ClipTable, prototype_labels: list[str]) -> dict:
    """Prototype usage across the clips of ``table``; ``prototype_labels`` the class of each of
    the model's K prototypes.

    Returns ``{"n_clips", "n_analysed", "prototypes": [{"index", "label", "n_clips", "share",
    "mean_error", "by_label", "by_prediction", "tags"}] (most used first), "unused": [{"index",
    "label"}], "confusions": [{"label", "prediction", "prototype", "prototype_label", "n_clips"}]
    (most first)}``; ``by_label``/``by_prediction``/``tags`` map a name to a count.

    Example
    -------
    >>> usage = prototype_usage(table, ["flute", "flute", "oboe"])   # doctest: +SKIP
    >>> sum(p["n_clips"] for p in usage["prototypes"]) == usage["n_analysed"]   # doctest: +SKIP
    True
    """
    K = len(prototype_labels)
    best = table.best_prototype
    analysed = best >= 0
    n_analysed = int(analysed.sum())
    counts = np.bincount(best[analysed], minlength=K)[:K] if n_analysed else np.zeros(K, dtype=int)
    error_sums = (np.bincount(best[analysed], weights=table.error[analysed], minlength=K)[:K]
                  if n_analysed else np.zeros(K))
    prototypes, unused = [], []
    order = np.argsort(-counts, kind="stable")
    for k in order.tolist():
        if counts[k] == 0:
            unused.append({"index": k, "label": prototype_labels[k]})
            continue
        rows = np.flatnonzero(best == k)
        tags: dict[str, int] = {}
        for i in rows.tolist():
            for name, value in (table.tags[i] or {}).items():
                key = f"{name}={value}"
                tags[key] = tags.get(key, 0) + 1
        prototypes.append({
            "index": k, "label": prototype_labels[k], "n_clips": int(counts[k]),
            "share": float(counts[k] / n_analysed), "mean_error": float(error_sums[k] / counts[k]),
            "by_label": _counts(table.label[rows], table.labels),
            "by_prediction": _counts(table.prediction[rows], table.predictions),
            "tags": dict(sorted(tags.items(), key=lambda x: -x[1])[:TOP_TAGS]),
        })
    unused.sort(key=lambda p: p["index"])
    confused = np.flatnonzero(table.confusions())
    groups: dict[tuple[int, int, int], int] = {}
    for i in confused.tolist():
        key = (int(table.label[i]), int(table.prediction[i]), int(best[i]))
        groups[key] = groups.get(key, 0) + 1
    confusions = [{"label": table.labels[lab], "prediction": table.predictions[pred], "prototype": k,
                   "prototype_label": prototype_labels[k], "n_clips": n}
                  for (lab, pred, k), n in sorted(groups.items(), key=lambda x: -x[1])]
    return {"n_clips": len(table), "n_analysed": n_analysed, "prototypes": prototypes, "unused": unused,
            "confusions": confusions}
