"""Querying a bundle's stored spaces: the neighbours of a corpus clip or of an uploaded one,
and corpus clips found by words (the tags space).

A clip's vector in a space: the space's raw features (see its module), standardised with the
corpus statistics where the space says so, then scaled to unit length; neighbours are found
by cosine similarity (:class:`~auralens.models.embeddings.index.NeighbourIndex`).
"""
from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

import numpy as np
import torch
import torch.nn as nn

from ..bundle import Bundle, BundleError, load_bundle, read_corpus
from .. import aisfx_network
from .embedder import Embedder
from .index import NeighbourIndex
from .registry import SPACES
from .standardise import finish
from .stored import FORMAT, read_space, read_tags_model


class Neighbour(NamedTuple):
    clip_id: str
    distance: float  # cosine distance, 0 (same direction) .. 2


class EmbeddingSpaces:
    """A bundle's spaces, ready for neighbour queries (see :func:`load_spaces`).

    Attributes
    ----------
    names : the spaces, in display order.
    ids : corpus clip ids, in the order of the stored vectors.
    unavailable : ``{space: reason}`` for spaces the bundle holds that cannot be queried here
        (e.g. ``aisfx`` when its package is not installed).
    """

    def __init__(self, bundle: Bundle, meta: dict, vectors: dict[str, np.ndarray],
                 stats: dict[str, tuple], embedder: Embedder, unavailable: dict[str, str]):
        self.bundle, self.meta, self.embedder, self.unavailable = bundle, meta, embedder, unavailable
        self.ids: list[str] = list(meta["ids"])
        self.names: list[str] = [s for s in SPACES if s in vectors]
        self._row = {clip_id: i for i, clip_id in enumerate(self.ids)}
        self._vectors, self._stats = vectors, stats
        self._index = {s: NeighbourIndex(v, self.ids) for s, v in vectors.items()}

    # -- what the spaces are ------------------------------------------------------------------
    def info(self, space: str) -> dict:
        """``{"name", "description", "dim", "quality", ["credit"]}`` of one space."""
        self._check(space)
        m = self.meta["spaces"][space]
        return {"name": space, "description": m["description"], "dim": m["dim"], "quality": m.get("quality", {}),
                **({"credit": m["credit"]} if "credit" in m else {})}

    def describe(self) -> list[dict]:
        """:meth:`info` of every space, in display order."""
        return [self.info(s) for s in self.names]

    @property
    def vocabulary(self) -> list[str]:
        """The words the tags space knows (empty without a tags space)."""
        model = self.embedder.tags_model
        return list(model.cfg.vocabulary) if model is not None else []

    def vector(self, space: str, clip_id: str) -> np.ndarray:
        """The stored ``(D,)`` unit vector of a corpus clip."""
        self._check(space)
        if clip_id not in self._row:
            raise KeyError(f"No corpus clip '{clip_id}'.")
        return self._vectors[space][self._row[clip_id]]

    def matrix(self, space: str) -> np.ndarray:
        """The stored ``(N, D)`` unit vectors of the corpus in ``space``, rows in :attr:`ids` order."""
        self._check(space)
        return self._vectors[space]

    # -- queries ------------------------------------------------------------------------------
    def embed(self, space: str, samples: np.ndarray) -> np.ndarray:
        """The ``(D,)`` unit vector of a clip that is not in the corpus.

        ``samples``: 1-D float audio at the bundle's sample rate (as ``load_audio`` gives).
        """
        self._check(space)
        samples = np.asarray(samples, dtype=np.float32)
        if samples.ndim != 1 or samples.size == 0:
            raise ValueError("samples must be a non-empty 1-D array at the bundle's sample rate")
        raw = self.embedder.raw([samples], [space])[space]
        if raw.shape[1] != self._vectors[space].shape[1]:
            raise BundleError(f"The bundle's {space} vectors were made by another version of the space; "
                              "rebuild them with auralens bundle add-embeddings.")
        return finish(raw, *self._stats[space])[0]

    def embed_many(self, space: str, clips: list[np.ndarray]) -> np.ndarray:
        """The ``(N, D)`` unit vectors of clips that are not in the corpus, in one batched pass.

        ``clips``: non-empty 1-D float arrays at the bundle's sample rate (any lengths).
        """
        self._check(space)
        if not clips:
            return np.zeros((0, self._vectors[space].shape[1]), np.float32)
        raw = self.embedder.raw([np.asarray(c, dtype=np.float32) for c in clips], [space])[space]
        if raw.shape[1] != self._vectors[space].shape[1]:
            raise BundleError(f"The bundle's {space} vectors were made by another version of the space; "
                              "rebuild them with auralens bundle add-embeddings.")
        return finish(raw, *self._stats[space])

    def neighbours(self, space: str, query: str | np.ndarray, k: int = 10,
                   exclude: str | None = None) -> list[Neighbour]:
        """The ``k`` corpus clips nearest to ``query`` in ``space``, nearest first.

        Parameters
        ----------
        space : one of :attr:`names`.
        query : a corpus clip id (the clip itself is left out of its neighbours), or 1-D float
            audio at the bundle's sample rate (an uploaded clip).
        k : how many neighbours (at most the corpus size, less one for a corpus clip).
        exclude : a further clip id to leave out.

        Returns
        -------
        list of :class:`Neighbour` ``(clip_id, distance)``, distance the cosine distance.
        """
        self._check(space)
        if isinstance(query, str):
            vec, skip = self.vector(space, query), {query}
        else:
            vec, skip = self.embed(space, query), set()
        if exclude is not None:
            skip.add(exclude)
        return self._search(space, vec, k, skip)

    def search_words(self, query: str, k: int = 10) -> list[Neighbour]:
        """Corpus clips that best fit a query of tag words (``"brass fortissimo low"``).

        Raises :class:`~auralens.models.embeddings.tags.UnknownWords` (a ValueError naming the known
        vocabulary) for a word the tags space does not know.
        """
        if "tags" not in self.names:
            raise ValueError("This bundle has no tags space; build it with auralens bundle add-embeddings.")
        vec = self.embedder.tags_model.search_vector(query).cpu().numpy()
        return self._search("tags", vec, k, set())

    def embed_all(self, spaces: list[str], samples: np.ndarray) -> dict[str, np.ndarray]:
        """:meth:`embed` in several spaces at once (the clip is decoded into features once):
        ``{space: (D,) unit vector}``."""
        for space in spaces:
            self._check(space)
        samples = np.asarray(samples, dtype=np.float32)
        if samples.ndim != 1 or samples.size == 0:
            raise ValueError("samples must be a non-empty 1-D array at the bundle's sample rate")
        raw = self.embedder.raw([samples], list(spaces))
        out = {}
        for space in spaces:
            if raw[space].shape[1] != self._vectors[space].shape[1]:
                raise BundleError(f"The bundle's {space} vectors were made by another version of the space; "
                                  "rebuild them with auralens bundle add-embeddings.")
            out[space] = finish(raw[space], *self._stats[space])[0]
        return out

    def _search(self, space: str, vec: np.ndarray, k: int, skip: set) -> list[Neighbour]:
        k = max(0, int(k))
        dist, ids = self._index[space].search(vec[None], k + len(skip))
        hits = [Neighbour(str(i), float(d)) for d, i in zip(dist[0], ids[0]) if i is not None and i not in skip]
        return hits[:k]

    def _check(self, space: str) -> None:
        if space not in self.names:
            reason = self.unavailable.get(space)
            raise KeyError(f"Space '{space}' cannot be queried here ({reason})." if reason else
                           f"Unknown space '{space}'; this bundle has: {', '.join(self.names)}.")


def load_spaces(bundle: Bundle | str | Path | None = None, device="cpu",
                models: dict[str, nn.Module] | None = None) -> EmbeddingSpaces:
    """Load the stored spaces of a bundle with their indexes and the models that embed new clips.

    ``models``: the bundle's models already loaded on ``device``, in eval mode (``{model id:
    model}``, as the app holds them); the prototype model of the ``learned`` and
    ``prototype-profile`` spaces is taken from there instead of loaded again.

    Raises BundleError when the bundle has no embeddings (``auralens bundle add-embeddings``)
    or they do not match its corpus.

    Examples
    --------
    >>> spaces = load_spaces()                                        # doctest: +SKIP
    >>> spaces.neighbours("timbre", "c-violin-000", k=3)              # doctest: +SKIP
    [Neighbour(clip_id='c-viola-004', distance=0.08), ...]
    """
    bundle = bundle if isinstance(bundle, Bundle) else load_bundle(bundle)
    meta = bundle.extra.get("embeddings")
    if not meta:
        raise BundleError(f"The bundle at {bundle.path} has no embeddings; add them with "
                          "auralens bundle add-embeddings.")
    if meta.get("format") != FORMAT:
        raise BundleError(f"The bundle's embeddings have format {meta.get('format')}; this version reads {FORMAT}.")
    corpus_ids = [c.id for c in read_corpus(bundle.path)]
    if corpus_ids != list(meta["ids"]):
        raise BundleError(f"The embeddings of the bundle at {bundle.path} do not match its corpus; "
                          "rebuild them with auralens bundle add-embeddings.")
    device = torch.device(device)
    tags_model = read_tags_model(bundle, meta) if "tags" in meta["spaces"] else None
    unavailable, encoder = {}, None
    if "aisfx" in meta["spaces"]:
        if aisfx_network.available():
            encoder = aisfx_network.load_encoder(device)
        else:
            unavailable["aisfx"] = "its weights are not installed: pip install --no-deps aisfx==0.1.2"
    model_id = meta.get("model")
    embedder = Embedder(bundle, device, model_id=model_id if model_id in bundle.models else None,
                        tags_model=tags_model, aisfx_encoder=encoder, models=models)
    vectors, stats = {}, {}
    for space, m in meta["spaces"].items():
        if space not in SPACES or space in unavailable or space not in embedder.spaces:
            unavailable.setdefault(space, "this version cannot compute it")
            continue
        vectors[space], stats[space] = read_space(bundle, m)
        if len(vectors[space]) != len(corpus_ids):
            raise BundleError(f"The stored {space} vectors do not match the corpus; rebuild the embeddings.")
    return EmbeddingSpaces(bundle, meta, vectors, stats, embedder, unavailable)
