"""Nearest-neighbour search over unit vectors with FAISS: exact for small collections, an
inverted-file index above ``APPROXIMATE_ABOVE`` vectors.

Vectors are L2-normalised, so the inner product is the cosine similarity; a hit's distance is
the cosine distance ``1 - cos`` (0: same direction, 1: unrelated, 2: opposite).
"""
from __future__ import annotations

import math
from typing import Sequence

import numpy as np

APPROXIMATE_ABOVE = 100_000  # vectors; below, search is exact (a flat index)


def normalise(x: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length (zero rows stay zero), float32 C-contiguous."""
    x = np.ascontiguousarray(x, dtype=np.float32)
    norm = np.linalg.norm(x, axis=1, keepdims=True)
    return np.ascontiguousarray(x / np.where(norm > 0, norm, 1.0), dtype=np.float32)


class NeighbourIndex:
    """Cosine nearest neighbours of a fixed set of vectors.

    Parameters
    ----------
    vectors : ``(N, D)`` float; normalised here.
    ids : ``N`` names returned with the hits.
    kind : ``"exact"`` (flat inner-product index), ``"ivf"`` (inverted file: ``n_lists`` k-means
        cells, ``n_probe`` of them searched per query), or ``"auto"``: exact up to
        :data:`APPROXIMATE_ABOVE` vectors, ivf above.
    n_lists : cells of the ivf index (default ``4 * sqrt(N)``).
    n_probe : cells visited per query (default ``max(1, n_lists // 16)``); more is slower and
        finds more of the true neighbours.
    train_size : vectors the ivf cells are learnt from (a seeded sample).

    Examples
    --------
    >>> index = NeighbourIndex(np.eye(3), ["a", "b", "c"])
    >>> d, ids = index.search(np.array([[1.0, 0.1, 0.0]]), k=2)
    >>> ids[0].tolist(), [round(float(x), 3) for x in d[0]]
    (['a', 'b'], [0.005, 0.9])
    """

    def __init__(self, vectors: np.ndarray, ids: Sequence[str], kind: str = "auto",
                 n_lists: int | None = None, n_probe: int | None = None, train_size: int = 65_536,
                 seed: int = 0):
        import faiss

        x = normalise(vectors)
        if x.ndim != 2 or len(x) != len(ids):
            raise ValueError(f"vectors {x.shape} and {len(ids)} ids do not match")
        if kind == "auto":
            kind = "exact" if len(x) <= APPROXIMATE_ABOVE else "ivf"
        if kind not in ("exact", "ivf"):
            raise ValueError(f"unknown index kind '{kind}'; use exact, ivf or auto")
        self.kind, self.dim = kind, x.shape[1]
        self.ids = np.asarray(list(ids), dtype=object)
        if kind == "exact":
            self.index = faiss.IndexFlatIP(self.dim)
        else:
            n_lists = n_lists or max(1, min(len(x) // 39, int(4 * math.sqrt(len(x)))))
            quantiser = faiss.IndexFlatIP(self.dim)
            self.index = faiss.IndexIVFFlat(quantiser, self.dim, n_lists, faiss.METRIC_INNER_PRODUCT)
            self._quantiser = quantiser  # the ivf index does not own it
            rng = np.random.default_rng(seed)
            sample = x[rng.choice(len(x), min(len(x), train_size), replace=False)]
            self.index.cp.seed = seed
            self.index.train(sample)
            self.index.nprobe = n_probe or max(1, n_lists // 16)
        self.index.add(x)

    def __len__(self) -> int:
        return self.index.ntotal

    @property
    def n_probe(self) -> int | None:
        return self.index.nprobe if self.kind == "ivf" else None

    @n_probe.setter
    def n_probe(self, value: int) -> None:
        if self.kind == "ivf":
            self.index.nprobe = int(value)

    def search(self, queries: np.ndarray, k: int = 10) -> tuple[np.ndarray, np.ndarray]:
        """The ``k`` nearest vectors of each query.

        Parameters
        ----------
        queries : ``(Q, D)`` float (normalised here) or ``(D,)`` for one query.
        k : neighbours per query (at most the number of vectors).

        Returns
        -------
        distances : ``(Q, k)`` float32 cosine distances, ascending.
        ids : ``(Q, k)`` object array of the neighbours' ids (None where an approximate index
            found fewer than ``k``).
        """
        q = normalise(np.atleast_2d(queries))
        if q.shape[1] != self.dim:
            raise ValueError(f"queries have {q.shape[1]} dimensions; the index has {self.dim}")
        k = max(0, min(int(k), len(self)))
        if k == 0:
            return np.zeros((len(q), 0), np.float32), np.empty((len(q), 0), dtype=object)
        sims, rows = self.index.search(q, k)  # (Q, k) inner products, row numbers (-1: none)
        ids = np.where(rows >= 0, self.ids[np.maximum(rows, 0)], None)
        return np.clip(1.0 - sims, 0.0, 2.0).astype(np.float32), ids

    def search_rows(self, queries: np.ndarray, k: int = 10) -> tuple[np.ndarray, np.ndarray]:
        """As :meth:`search`, with row numbers (``(Q, k)`` int64, -1 for none) instead of ids."""
        q = normalise(np.atleast_2d(queries))
        sims, rows = self.index.search(q, max(1, min(int(k), len(self))))
        return np.clip(1.0 - sims, 0.0, 2.0).astype(np.float32), rows


def recall_at_k(approximate: np.ndarray, exact: np.ndarray) -> float:
    """Share of the exact ``k`` nearest neighbours that an approximate search also returned.

    ``approximate``, ``exact``: ``(Q, k)`` row numbers of the two searches.

    Examples
    --------
    >>> recall_at_k(np.array([[1, 2, 3]]), np.array([[3, 2, 9]]))
    0.6666666666666666
    """
    hits = sum(len(set(a.tolist()) & set(e.tolist()) - {-1}) for a, e in zip(approximate, exact))
    return hits / exact.size
