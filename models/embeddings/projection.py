"""Maps of an embedding space: a set of clips' vectors laid out in two dimensions, by PCA or
by UMAP, kept as plain arrays (no pickled objects), and new clips placed with the fitted
transform without moving the clips already on the map.

- ``pca``: the two directions along which the vectors vary most. Placing a new clip is the
  same linear map: ``(v - mean) @ components.T``.
- ``umap``: umap-learn's layout (neighbourhoods kept, distances between far clusters not).
  A new clip is placed as umap-learn's ``transform`` starts it: at the mean of the positions
  of its ``n_neighbors`` nearest fitted clips, weighted by UMAP's fuzzy membership of each.
  (umap-learn then nudges it further by gradient steps; those need the fitted model object,
  which only pickles keep, so they are left out: every placement is computed from the stored
  arrays alone.) Needs the optional package ``umap-learn``.

Coordinates are in the units of the space's unit vectors for PCA (cosine-space lengths, about
-1..1) and in UMAP's arbitrary units for UMAP; only nearness on the map means anything.

Examples
--------
>>> rng = np.random.default_rng(0)
>>> v = rng.normal(size=(50, 12)).astype(np.float32)
>>> p = fit_projection(v, "pca")
>>> p.positions.shape, p.transform(v[:3]).shape
((50, 2), (3, 2))
>>> bool(np.allclose(p.transform(v[:3]), p.positions[:3], atol=1e-5))
True
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from ..weights import read_weights, write_weights

METHODS = ("pca", "umap")
UMAP_NEIGHBOURS = 15  # umap-learn's default n_neighbors
UMAP_MIN_DIST = 0.1
MIN_CLIPS = {"pca": 1, "umap": 5}
INSTALL_UMAP = "The UMAP map needs the package umap-learn: pip install 'auralens[map]' (or pip install umap-learn)."


class ProjectionUnavailable(ValueError):
    """A method that cannot be used here (umap-learn missing) or on these clips (too few)."""


def umap_available() -> bool:
    """Whether umap-learn can be imported."""
    import importlib.util

    return importlib.util.find_spec("umap") is not None


@dataclass
class Projection:
    """A fitted 2-D layout of ``N`` vectors of dimension ``D``.

    Attributes
    ----------
    method : ``"pca"`` or ``"umap"``.
    positions : ``(N, 2)`` float32, the fitted vectors' places on the map.
    arrays : what :meth:`transform` needs - PCA: ``mean (D,)``, ``components (2, D)``,
        ``explained (2,)`` (share of the variance along each axis, 0..1); UMAP: ``vectors (N, D)``
        (the fitted vectors).
    params : the fit's settings (JSON-able), e.g. ``{"n_neighbors": 15, "seed": 0}``.
    """

    method: str
    positions: np.ndarray
    arrays: dict[str, np.ndarray]
    params: dict = field(default_factory=dict)

    @property
    def dim(self) -> int:
        """``D``, the dimension of the vectors it maps."""
        return int((self.arrays["mean"] if self.method == "pca" else self.arrays["vectors"]).shape[-1])

    def transform(self, vectors: np.ndarray) -> np.ndarray:
        """Place vectors on the map: ``(M, D)`` -> ``(M, 2)`` float32 (see the module's note)."""
        x = np.asarray(vectors, dtype=np.float32)
        if x.ndim != 2 or x.shape[1] != self.dim:
            raise ValueError(f"expected vectors of shape (M, {self.dim}), got {x.shape}")
        if len(x) == 0:
            return np.zeros((0, 2), np.float32)
        if self.method == "pca":
            return ((x - self.arrays["mean"]) @ self.arrays["components"].T).astype(np.float32)
        return place_by_neighbours(x, self.arrays["vectors"], self.positions, self.params["n_neighbors"])

    def save(self, path: str | Path, metadata: dict | None = None) -> None:
        """Write to the safetensors file ``path`` (atomically); ``metadata``: strings to keep beside."""
        tensors = {"positions": torch.from_numpy(np.ascontiguousarray(self.positions))}
        tensors.update({k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in self.arrays.items()})
        import json

        write_weights(Path(path), tensors, {"method": self.method, "params": json.dumps(self.params),
                                            **(metadata or {})})

    @classmethod
    def load(cls, path: str | Path) -> "Projection":
        """Read what :meth:`save` wrote."""
        import json

        from safetensors import safe_open

        with safe_open(str(path), framework="pt") as f:
            meta = f.metadata() or {}
        t = {k: v.numpy() for k, v in read_weights(Path(path)).items()}
        return cls(meta["method"], t.pop("positions"), t, json.loads(meta.get("params", "{}")))


def fit_projection(vectors: np.ndarray, method: str, seed: int = 0) -> Projection:
    """Lay out ``(N, D)`` vectors in two dimensions.

    Parameters
    ----------
    vectors : ``(N, D)`` float vectors (a space's unit vectors).
    method : ``"pca"`` or ``"umap"`` (needs umap-learn and at least 5 vectors).
    seed : UMAP's random state (the layout is the same for the same vectors and seed).

    Returns
    -------
    :class:`Projection`; raises :class:`ProjectionUnavailable` with a sentence when the method
    cannot be used.

    Examples
    --------
    >>> v = np.eye(4, 6, dtype=np.float32)
    >>> fit_projection(v, "pca").positions.shape
    (4, 2)
    """
    x = np.asarray(vectors, dtype=np.float32)
    if method not in METHODS:
        raise ProjectionUnavailable(f"There is no map method '{method}'; use one of: {', '.join(METHODS)}.")
    if x.ndim != 2 or x.shape[1] < 2:
        raise ValueError(f"expected vectors of shape (N, D) with D >= 2, got {x.shape}")
    if len(x) < MIN_CLIPS[method]:
        raise ProjectionUnavailable(f"A {method.upper()} map needs at least {MIN_CLIPS[method]} clips; "
                                    f"there {'is' if len(x) == 1 else 'are'} {len(x)}.")
    return fit_pca(x) if method == "pca" else fit_umap(x, seed)


def fit_pca(x: np.ndarray) -> Projection:
    """PCA of ``(N, D)`` vectors onto their first two principal axes, each axis's sign fixed
    (its largest loading positive) so that the same vectors always give the same map."""
    mean = x.mean(0, dtype=np.float64)
    centred = x.astype(np.float64) - mean
    cov = centred.T @ centred / max(1, len(x) - 1)  # (D, D): cheap for any N
    values, vectors = np.linalg.eigh(cov)
    order = np.argsort(values)[::-1][:2]
    comps = vectors[:, order].T  # (2, D)
    signs = np.sign(comps[np.arange(2), np.abs(comps).argmax(1)])
    comps = comps * np.where(signs == 0, 1.0, signs)[:, None]
    total = float(values.clip(min=0).sum())
    explained = (values[order].clip(min=0) / total) if total > 0 else np.zeros(2)
    positions = (centred @ comps.T).astype(np.float32)
    return Projection("pca", positions, {"mean": mean.astype(np.float32), "components": comps.astype(np.float32),
                                         "explained": explained.astype(np.float32)})


def fit_umap(x: np.ndarray, seed: int = 0) -> Projection:
    """umap-learn's layout of ``(N, D)`` vectors (euclidean on the unit vectors, i.e. by cosine)."""
    try:
        import umap
    except ImportError:
        raise ProjectionUnavailable(INSTALL_UMAP) from None
    n_neighbors = int(min(UMAP_NEIGHBOURS, len(x) - 1))
    import warnings

    reducer = umap.UMAP(n_components=2, n_neighbors=n_neighbors, min_dist=UMAP_MIN_DIST, metric="euclidean",
                        random_state=seed, init="spectral" if len(x) > n_neighbors + 2 else "random")
    with warnings.catch_warnings():  # "n_jobs overridden by setting random_state": wanted, for a stable map
        warnings.simplefilter("ignore", UserWarning)
        positions = np.asarray(reducer.fit_transform(x), dtype=np.float32)
    return Projection("umap", positions, {"vectors": x.astype(np.float32)},
                      {"n_neighbors": n_neighbors, "min_dist": UMAP_MIN_DIST, "seed": seed})


def membership_weights(distances: np.ndarray, iterations: int = 64) -> np.ndarray:
    """UMAP's fuzzy membership of each of a point's ``k`` nearest neighbours: ``(M, k)``
    distances (ascending per row) -> ``(M, k)`` weights ``exp(-(d - rho) / sigma)``, ``rho``
    the nearest distance, ``sigma`` found by bisection so that the weights sum to ``log2(k)``.

    >>> membership_weights(np.array([[0.0, 1.0, 2.0]])).round(2)
    array([[1.  , 0.41, 0.17]])
    """
    d = np.asarray(distances, dtype=np.float64)
    k = d.shape[1]
    target = np.log2(max(k, 2))
    rho = d[:, :1]
    gap = np.maximum(d - rho, 0.0)
    lo, hi = np.zeros((len(d), 1)), np.full((len(d), 1), np.inf)
    sigma = np.ones((len(d), 1))
    for _ in range(iterations):
        total = np.exp(-gap / sigma).sum(1, keepdims=True)
        too_big = total > target  # sigma too large: shrink it
        hi = np.where(too_big, sigma, hi)
        lo = np.where(too_big, lo, sigma)
        sigma = np.where(np.isinf(hi), sigma * 2, (lo + hi) / 2)
    return np.exp(-gap / np.maximum(sigma, 1e-12))


def place_by_neighbours(x: np.ndarray, fitted: np.ndarray, positions: np.ndarray, k: int,
                        chunk: int = 1024) -> np.ndarray:
    """Positions of ``(M, D)`` vectors from the ``(N, 2)`` positions of their ``k`` nearest of the
    ``(N, D)`` fitted vectors (euclidean), weighted by :func:`membership_weights`: ``(M, 2)``."""
    k = int(min(k, len(fitted)))
    sq = (fitted.astype(np.float32) ** 2).sum(1)
    out = np.empty((len(x), 2), np.float32)
    for s in range(0, len(x), chunk):
        q = x[s:s + chunk]
        d2 = np.maximum((q ** 2).sum(1, keepdims=True) - 2 * q @ fitted.T + sq, 0.0)
        near = np.argpartition(d2, k - 1, axis=1)[:, :k] if k < len(fitted) else np.tile(np.arange(len(fitted)), (len(q), 1))
        dist = np.sqrt(np.take_along_axis(d2, near, 1))
        order = np.argsort(dist, 1)
        near, dist = np.take_along_axis(near, order, 1), np.take_along_axis(dist, order, 1)
        w = membership_weights(dist)
        w = w / w.sum(1, keepdims=True)
        out[s:s + chunk] = (w[..., None] * positions[near]).sum(1)
    return out
