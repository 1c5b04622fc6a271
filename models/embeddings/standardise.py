"""From a space's raw vectors to its unit vectors: standardised with the corpus statistics
(where the space says so), then scaled to unit length."""
from __future__ import annotations

import numpy as np

from .index import normalise


def standardisation(raw: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(N, D)`` raw vectors -> ``(mean, std)``, each ``(D,)`` float32; a std that is zero (to
    within rounding of the mean) is replaced by 1, so that constant dimensions stay finite."""
    mean = raw.mean(0).astype(np.float32)
    std = raw.std(0).astype(np.float32)
    return mean, np.where(std > 1e-8 * (1 + np.abs(mean)), std, 1.0).astype(np.float32)


def finish(raw: np.ndarray, mean: np.ndarray | None, std: np.ndarray | None) -> np.ndarray:
    """``(N, D)`` raw vectors -> the space's ``(N, D)`` float32 unit vectors (standardised first
    when ``mean`` is given)."""
    x = np.asarray(raw, dtype=np.float32)
    if mean is not None:
        x = (x - mean) / std
    return normalise(x)
