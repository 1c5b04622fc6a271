"""Aspects: neighbours from a weighted blend of embedding spaces ("70 % tone colour, 30 % notes").

Cosine distances of different spaces are not on one scale (two violins may be 0.05 apart in
timbre and 0.4 apart in notes), so each space's distance is first divided by that space's
*typical neighbour distance*: the median, over the corpus, of a clip's cosine distance to its
``n``-th nearest other clip (computed once per space, on a seeded sample of at most
``sample`` clips). In those units 1 is "as near as a typical close neighbour" in every space.

The blend of a candidate is the weighted mean of its scaled distances (weights made to sum to
1), and similarities are read from distances as ``2 ** -scaled``: 1 for the same direction, 0.5
at the typical neighbour distance, towards 0 far away. The blended similarity is therefore the
weighted geometric mean of the per-aspect ones. A query is one matrix product per space over
the whole corpus, then a partial sort.
"""
from __future__ import annotations

import math
import threading
from typing import NamedTuple, Sequence

import numpy as np

from .index import normalise

SCALE_NEIGHBOUR = 10  # the typical distance is to a clip's 10th nearest other clip
SCALE_SAMPLE = 500  # clips the typical distance is measured on (all of a smaller corpus): a stable median
CHUNK = 256  # sample rows per matrix product while measuring it (bounded memory)


class BadWeights(ValueError):
    """Weights that cannot be blended (malformed, an unknown space, negative, all zero); the
    message says which and why, in a sentence."""


class BlendedNeighbour(NamedTuple):
    clip_id: str
    similarity: float  # blended, 0..1 (1: the same in every weighted aspect)
    distance: float  # blended scaled distance, 0 .. (1 = a typical close neighbour)
    aspects: dict  # {space: similarity 0..1} for every space asked about


def parse_weights(text: str, known: Sequence[str], unavailable: dict[str, str] | None = None) -> dict[str, float]:
    """``"timbre:0.5,pitch:0.3"`` -> ``{"timbre": 0.5, "pitch": 0.3}`` (as given, not normalised).

    A weight of 0 is allowed (the space's similarity is reported but does not count); at least
    one weight must be positive. Raises :class:`BadWeights` with a sentence for a malformed
    entry, a space not in ``known`` (or one in ``unavailable``, ``{space: why}``), a negative
    or non-finite weight, a space named twice, or weights that are all zero.

    Examples
    --------
    >>> parse_weights("timbre:0.5, pitch:0.3", ["timbre", "pitch", "tags"])
    {'timbre': 0.5, 'pitch': 0.3}
    >>> try:
    ...     parse_weights("timbre:-1", ["timbre"])
    ... except BadWeights as err:
    ...     print(err)
    The weight of 'timbre' is -1; weights must be 0 or more.
    """
    unavailable = unavailable or {}
    listing = ", ".join(known)
    entries = [e.strip() for e in (text or "").split(",") if e.strip()]
    if not entries:
        raise BadWeights(f"No weights were given; write them as space:weight pairs separated by commas, "
                         f"e.g. timbre:0.7,pitch:0.3 (spaces: {listing}).")
    weights: dict[str, float] = {}
    for entry in entries:
        name, colon, number = entry.partition(":")
        name, number = name.strip(), number.strip()
        if not colon or not name or not number:
            raise BadWeights(f"'{entry[:60]}' is not a space:weight pair (e.g. timbre:0.7).")
        if name in unavailable:
            raise BadWeights(f"The '{name}' space is not available on this server: {unavailable[name]}.")
        if name not in known:
            raise BadWeights(f"There is no space '{name[:60]}'; there are: {listing}.")
        if name in weights:
            raise BadWeights(f"The space '{name}' is weighted twice; give each space once.")
        try:
            value = float(number)
        except ValueError:
            raise BadWeights(f"The weight of '{name}' is '{number[:30]}', which is not a number.") from None
        if not math.isfinite(value):
            raise BadWeights(f"The weight of '{name}' is {number[:30]}; weights must be finite numbers.")
        if value < 0:
            raise BadWeights(f"The weight of '{name}' is {number[:30]}; weights must be 0 or more.")
        weights[name] = value
    if not any(w > 0 for w in weights.values()):
        raise BadWeights("Every weight is zero; give at least one space a weight above zero.")
    return weights


def typical_distance(vectors: np.ndarray, n: int = SCALE_NEIGHBOUR, sample: int = SCALE_SAMPLE,
                     seed: int = 0) -> float:
    """The median cosine distance from a clip to its ``n``-th nearest other clip.

    ``vectors``: ``(N, D)`` unit rows. Measured on a seeded sample of at most ``sample`` rows
    against all ``N`` (chunked matrix products); ``n`` is capped at ``N - 1``. Never below
    ``1e-6`` (a corpus of identical clips), so that it can be divided by.

    Examples
    --------
    >>> x = np.eye(4, dtype=np.float32)
    >>> typical_distance(x, n=1)
    1.0
    """
    x = normalise(vectors)
    N = len(x)
    if N < 2:
        return 1.0
    n = max(1, min(int(n), N - 1))
    rows = np.arange(N) if N <= sample else np.sort(np.random.default_rng(seed).choice(N, sample, replace=False))
    kth = np.empty(len(rows), np.float32)
    for start in range(0, len(rows), CHUNK):
        chunk = rows[start:start + CHUNK]
        sims = x[chunk] @ x.T  # (c, N)
        sims[np.arange(len(chunk)), chunk] = -np.inf  # not its own neighbour
        # the n-th largest similarity of each row is the n-th nearest other clip
        kth[start:start + len(chunk)] = -np.partition(-sims, n - 1, axis=1)[:, n - 1]
    return max(float(np.median(np.clip(1.0 - kth, 0.0, 2.0))), 1e-6)


class Aspects:
    """Blended neighbours over a corpus embedded in several spaces.

    Parameters
    ----------
    vectors : ``{space: (N, D_space)}``, the corpus's vectors in each space, rows in ``ids``
        order (normalised here).
    ids : the ``N`` corpus clip ids.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> aspects = Aspects({"a": rng.normal(size=(50, 8)), "b": rng.normal(size=(50, 4))},
    ...                   [f"c{i}" for i in range(50)])
    >>> hits = aspects.blend({"a": 1.0, "b": 0.0}, query="c0", k=3)
    >>> len(hits), sorted(hits[0].aspects)
    (3, ['a', 'b'])
    """

    def __init__(self, vectors: dict[str, np.ndarray], ids: Sequence[str]):
        self.ids = list(ids)
        self.names = list(vectors)
        self._vectors = {s: normalise(v) for s, v in vectors.items()}
        for s, v in self._vectors.items():
            if len(v) != len(self.ids):
                raise ValueError(f"the {s} vectors have {len(v)} rows for {len(self.ids)} ids")
        self._row = {clip_id: i for i, clip_id in enumerate(self.ids)}
        self._scales: dict[str, float] = {}
        self._lock = threading.Lock()

    @classmethod
    def from_spaces(cls, spaces) -> "Aspects":
        """The aspects of a bundle's :class:`~auralens.models.embeddings.query.EmbeddingSpaces`."""
        return cls({s: spaces.matrix(s) for s in spaces.names}, spaces.ids)

    def scale(self, space: str) -> float:
        """The space's typical neighbour distance (see :func:`typical_distance`), measured once."""
        with self._lock:
            if space not in self._scales:
                self._scales[space] = typical_distance(self._vectors[space])
            return self._scales[space]

    def vector(self, space: str, clip_id: str) -> np.ndarray:
        """The ``(D,)`` unit vector of a corpus clip in ``space``."""
        return self._vectors[space][self._row[clip_id]]

    def blend(self, weights: dict[str, float], query: str | None = None,
              vectors: dict[str, np.ndarray] | None = None, k: int = 10) -> list[BlendedNeighbour]:
        """The ``k`` corpus clips nearest to a query in the weighted blend of spaces, nearest first.

        Parameters
        ----------
        weights : ``{space: weight >= 0}`` (see :func:`parse_weights`); normalised to sum 1.
            Spaces of weight 0 do not count but get their similarity reported.
        query : a corpus clip id (it is left out of its own neighbours), or None with ``vectors``.
        vectors : ``{space: (D,)}`` the query's vectors (an uploaded clip) for every weighted space.
        k : how many neighbours (at most the corpus size, less one for a corpus clip).

        Returns
        -------
        list of :class:`BlendedNeighbour`: blended similarity and scaled distance, and the
        similarity in each space of ``weights``.
        """
        total = sum(weights.values())
        if not weights or total <= 0 or any(w < 0 for w in weights.values()):
            raise BadWeights("Give at least one space a weight above zero, and none below zero.")
        unknown = [s for s in weights if s not in self._vectors]
        if unknown:
            raise BadWeights(f"There is no space '{unknown[0]}'; there are: {', '.join(self.names)}.")
        if query is not None:
            if query not in self._row:
                raise KeyError(f"No corpus clip '{query}'.")
            q = {s: self.vector(s, query) for s in weights}
        else:
            q = {s: normalise(np.asarray(vectors[s], np.float32)[None])[0] for s in weights}
        N = len(self.ids)
        blended = np.zeros(N, np.float32)
        for s, w in weights.items():  # one matrix product per weighted space, over the whole corpus
            if w > 0:
                blended += (w / total) * self._scaled_distances(s, self._vectors[s] @ q[s])
        if query is not None:
            blended[self._row[query]] = np.inf
        k = max(0, min(int(k), N - (query is not None)))
        if k == 0:
            return []
        top = np.argpartition(blended, k - 1)[:k] if k < N else np.arange(N)
        top = top[np.lexsort((top, blended[top]))]  # nearest first; ties in corpus order
        aspects = {s: 2.0 ** -self._scaled_distances(s, self._vectors[s][top] @ q[s]) for s in weights}
        return [BlendedNeighbour(self.ids[r], float(2.0 ** -blended[r]), float(blended[r]),
                                 {s: float(a[i]) for s, a in aspects.items()}) for i, r in enumerate(top)]

    def _scaled_distances(self, space: str, sims: np.ndarray) -> np.ndarray:
        return np.clip(1.0 - sims, 0.0, 2.0).astype(np.float32) / np.float32(self.scale(space))
