"""Embedding spaces of a bundle: computed for every corpus clip when the bundle is built,
stored in it, and searched when the app asks for neighbours.

Layout::

    <bundle>/embeddings/<space>.safetensors   vectors (N, D) float32 unit rows, in corpus order;
                                              mean and std (D,) of the standardisation
    <bundle>/embeddings/tags-model.safetensors  weights of the tags space's two autoencoders
    bundle.json "embeddings"                  ids, per space: description, size, file, quality

A clip's vector in a space: the space's raw features (see its module), standardised with the
corpus statistics where the space says so, then scaled to unit length; neighbours are found
by cosine similarity (:class:`~auralens.models.embeddings.index.NeighbourIndex`).
"""
from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, NamedTuple

import numpy as np
import torch
from tqdm import tqdm

from ..audio import load_audio, log_mel
from ..bundle import EMBEDDINGS_DIR, TAGS_WEIGHTS, Bundle, BundleError, load_bundle, read_corpus, write_embeddings_section
from ..kinds import kind_named
from ..weights import read_weights, write_weights
from . import aisfx, learned, pitch, profile, tags, timbre
from .index import NeighbourIndex, normalise
from .quality import davies_bouldin, linear_probes, nn_classification, word_search_precision

FORMAT = 1


@dataclass(frozen=True)
class SpaceSpec:
    name: str
    description: str  # one sentence for people: what "near" means in this space
    standardised: bool  # z-scored with the corpus statistics before normalising
    needs: str  # "mel", "samples", "model", "tags", "aisfx"


SPACES = {s.name: s for s in [
    SpaceSpec("timbre", timbre.DESCRIPTION, True, "mel"),
    SpaceSpec("pitch", pitch.DESCRIPTION, False, "samples"),
    SpaceSpec("learned", learned.DESCRIPTION, True, "model"),
    SpaceSpec("prototype-profile", profile.DESCRIPTION, True, "model"),
    SpaceSpec("tags", tags.DESCRIPTION, False, "tags"),
    SpaceSpec("aisfx", aisfx.DESCRIPTION, True, "aisfx"),
]}


class Neighbour(NamedTuple):
    clip_id: str
    distance: float  # cosine distance, 0 (same direction) .. 2


class Embedder:
    """Raw vectors of clips in the spaces whose models it holds.

    Parameters
    ----------
    bundle : the bundle (its audio settings and its prototype model).
    device : where models run.
    model_id : the prototype model of the ``learned`` and ``prototype-profile`` spaces
        (default: the bundle's first spectral prototype model; without one these spaces are left out).
    tags_model : a trained :class:`~auralens.models.embeddings.tags.TagsModel`, or None (no tags space).
    aisfx_encoder : the pretrained encoder, or None (no aisfx space).
    """

    def __init__(self, bundle: Bundle, device="cpu", model_id: str | None = None,
                 tags_model: tags.TagsModel | None = None, aisfx_encoder: aisfx.AisfxEncoder | None = None):
        self.bundle, self.device = bundle, torch.device(device)
        if model_id is None:  # the bundle's first spectral prototype model
            model_id = next((m.id for m in bundle.models.values() if kind_named(m.kind).shows.embedding_spaces), None)
        self.model_id = bundle.entry(model_id).id if model_id is not None else None
        self.model = bundle.load_model(self.model_id, device=self.device) if self.model_id else None
        self.tags_model = tags_model.to(self.device).eval() if tags_model is not None else None
        self.aisfx_encoder = aisfx_encoder.to(self.device).eval() if aisfx_encoder is not None else None

    @property
    def spaces(self) -> list[str]:
        have = {"mel": True, "samples": True, "model": self.model is not None,
                "tags": self.tags_model is not None, "aisfx": self.aisfx_encoder is not None}
        return [name for name, spec in SPACES.items() if have[spec.needs]]

    @torch.inference_mode()
    def raw_batch(self, space: str, samples: np.ndarray, mel: torch.Tensor) -> np.ndarray:
        """``(B, n_samples)`` audio and its ``(B, n_mels, T)`` log-mel -> ``(B, D)`` raw vectors."""
        sr = self.bundle.audio.sample_rate
        if space == "timbre":
            out = timbre.embed(mel, self.bundle.audio)
        elif space == "pitch":
            return pitch.embed(samples, sr, self.bundle.audio.hop_length)
        elif space == "learned":
            out = learned.embed(self.model, mel)
        elif space == "prototype-profile":
            out = profile.embed(self.model, mel)
        elif space == "tags":
            out = tags.embed(self.tags_model, mel)
        elif space == "aisfx":
            out = aisfx.embed(self.aisfx_encoder, samples, sr)
        else:
            raise KeyError(space)
        return out.float().cpu().numpy()

    def raw(self, clips: list[np.ndarray], spaces: list[str] | None = None, batch_size: int = 32,
            progress: bool = False) -> dict[str, np.ndarray]:
        """Raw vectors of every clip in every space: ``{space: (N, D)}``.

        ``clips``: 1-D float arrays at the bundle's sample rate (any lengths; clips of equal
        length are batched together).
        """
        spaces = spaces or self.spaces
        by_length: dict[int, list[int]] = {}
        for i, c in enumerate(clips):
            by_length.setdefault(len(c), []).append(i)
        chunks = [idx[s:s + batch_size] for idx in by_length.values() for s in range(0, len(idx), batch_size)]
        out: dict[str, np.ndarray] = {}
        for chunk in tqdm(chunks, desc="embeddings", unit="batch", disable=not progress, leave=False):
            samples = np.stack([clips[i] for i in chunk]).astype(np.float32)
            mel = log_mel(samples, self.bundle.audio, self.device)
            for space in spaces:
                vec = self.raw_batch(space, samples, mel)
                if space not in out:
                    out[space] = np.zeros((len(clips), vec.shape[1]), np.float32)
                out[space][chunk] = vec
        return out


def finish(raw: np.ndarray, mean: np.ndarray | None, std: np.ndarray | None) -> np.ndarray:
    """Raw vectors -> the space's unit vectors (standardised first when ``mean`` is given)."""
    x = np.asarray(raw, dtype=np.float32)
    if mean is not None:
        x = (x - mean) / std
    return normalise(x)


def _statistics(raw: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    mean = raw.mean(0).astype(np.float32)
    std = raw.std(0).astype(np.float32)
    return mean, np.where(std > 1e-8 * (1 + np.abs(mean)), std, 1.0).astype(np.float32)


def _decode(paths, sample_rate: int, progress: bool, desc: str) -> list[np.ndarray]:
    return [load_audio(p, sample_rate).samples for p in tqdm(paths, desc=desc, unit="clip",
                                                              disable=not progress, leave=False)]


def _per_class(records, cap: int | None, seed: int):
    """At most ``cap`` records of each label, drawn with a seed, in their original order."""
    if not cap:
        return list(records)
    rng = np.random.default_rng(seed)
    keep = []
    labels = sorted({r.label for r in records})
    for label in labels:
        idx = [i for i, r in enumerate(records) if r.label == label]
        keep += sorted(rng.choice(idx, min(cap, len(idx)), replace=False).tolist())
    return [records[i] for i in sorted(keep)]


def _train_tags_space(bundle: Bundle, data, corpus, corpus_samples, device, epochs: int, seed: int,
                      cache_dir, progress: bool, log: Callable[[str], None]):
    """Train the tags space on ``data``'s train split (or on the corpus when no data is given)."""
    if data is not None:
        from ..data import load_features, read_collection

        table = read_collection(data, seed=seed).subset("train")
        feats = load_features(table, bundle.audio, class_names=table.labels, cache_dir=cache_dir,
                              progress=progress)
        mels, words, source = feats.features, [tags.tag_words(r.tags) for r in feats.records], f"{data} (train split)"
    else:
        mels = [log_mel(s, bundle.audio) for s in corpus_samples]
        words, source = [tags.tag_words(c.tags) for c in corpus], "the bundle's corpus"
    if len({w for ws in words for w in ws}) < 2:
        log("tags space left out: the clips carry no family/register/dynamics/... tags")
        return None, None
    log(f"training the tags space on {len(mels)} clips of {source} ({epochs} epochs)")
    started = time.perf_counter()
    training = tags.TagsTraining(epochs=epochs, seed=seed)
    model = tags.train_tags(mels, words, train=training, device=device, progress=progress)
    return model, {"trained_on": source, "clips": len(mels), "epochs": epochs, "seed": seed,
                   "wall_time_s": round(time.perf_counter() - started, 1),
                   "final_losses": training.log[-1] if training.log else {}}


def model_fingerprint(bundle: Bundle, model_id: str | None) -> str | None:
    """SHA-256 of a model's final weights file: the ``learned`` and ``prototype-profile``
    spaces built from it are only valid for these weights. None without a model."""
    if model_id is None:
        return None
    return hashlib.sha256((bundle.path / bundle.entry(model_id).weights).read_bytes()).hexdigest()


def _spaces_to_keep(bundle: Bundle, previous: dict, corpus, wanted: list[str], model_id: str | None,
                    fingerprint: str | None, log: Callable[[str], None]) -> tuple[list[str], list[str]]:
    """Stored spaces a partial rebuild keeps: ``(kept, untouched)``.

    Kept spaces are measured again with the rebuilt ones; untouched ones (``aisfx`` stored but
    not installed here) keep their entry as it is. Model spaces made from other weights are not
    kept: they are added to ``wanted`` and rebuilt.
    """
    if previous.get("format") != FORMAT or list(previous.get("ids", [])) != [c.id for c in corpus]:
        if previous:
            log("the stored spaces were built on another corpus (or format): only the requested spaces are kept")
        return [], []
    kept, untouched = [], []
    for s, entry in previous.get("spaces", {}).items():
        if s in wanted or s not in SPACES or not (bundle.path / entry.get("file", "")).is_file():
            continue
        if SPACES[s].needs == "model":
            if model_id is None:
                continue
            if previous.get("model") != model_id or previous.get("model_sha256") != fingerprint:
                log(f"{s}: its model's weights changed since it was built, so it is rebuilt too")
                wanted.append(s)
                continue
        if s == "tags" and "tags" not in previous:
            continue
        if s == "aisfx" and not aisfx.available():
            untouched.append(s)
            continue
        kept.append(s)
    wanted.sort(key=list(SPACES).index)
    return kept, untouched


def _stored_tags_model(bundle: Bundle, meta: dict) -> tags.TagsModel:
    """The tags space's two autoencoders as stored in the bundle (``meta``: its ``embeddings`` record)."""
    model = tags.TagsModel(tags.TagsConfig.from_dict(meta["tags"]["config"]))
    model.load_state_dict(read_weights(bundle.path / meta["tags"]["weights"]))
    return model


def _stored_space(bundle: Bundle, entry: dict) -> tuple[np.ndarray, tuple]:
    """A stored space's ``(N, D)`` unit vectors and its standardisation ``(mean, std)`` (Nones if none)."""
    t = read_weights(bundle.path / entry["file"])
    return t["vectors"].numpy(), (t["mean"].numpy(), t["std"].numpy()) if "mean" in t else (None, None)


def build_embeddings(bundle_path: str | Path | None = None, data: str | Path | None = None, device="cpu",
                     spaces: list[str] | None = None, tags_epochs: int = 20, seed: int = 0,
                     reference_per_class: int = 50, test_per_class: int | None = None,
                     cache_dir=None, progress: bool = True,
                     log: Callable[[str], None] = lambda msg: None) -> dict:
    """Compute every space for every corpus clip, measure the spaces, store both in the bundle.

    Parameters
    ----------
    bundle_path : the bundle (default: the one shipped). It needs a corpus
        (``auralens bundle add-corpus``) and, for ``learned`` and ``prototype-profile``, a model.
    data : a labelled collection with splits and tags (a manifest). When given, the tags space
        is trained on its train split and the quality is measured on its test split (at most
        ``test_per_class`` clips of each class, default all) against ``reference_per_class``
        train clips of each class. When None, the tags space is trained on the corpus and the
        quality is measured on the corpus itself (leave-one-out neighbours, cross-validated probes).
    spaces : which spaces to build (default: every one available; ``aisfx`` only when it is installed).
        The bundle keeps the other spaces it holds when they still fit: built on the same corpus,
        and for ``learned`` and ``prototype-profile`` from the same model weights (otherwise these
        two are rebuilt as well). Every space held is measured again, and the probe on all of
        them together re-fitted.
    tags_epochs : training epochs of the tags space.

    Returns
    -------
    The ``embeddings`` record written into ``bundle.json``.

    Examples
    --------
    >>> meta = build_embeddings("orchestra16/", data="o16/")          # doctest: +SKIP
    >>> meta["spaces"]["timbre"]["quality"]["nn_macro_f1"]           # doctest: +SKIP
    0.61
    """
    started = time.perf_counter()
    bundle = load_bundle(bundle_path)
    corpus = read_corpus(bundle.path)
    if not corpus:
        raise BundleError(f"The bundle at {bundle.path} has no corpus; add one first (auralens bundle add-corpus).")
    wanted = list(dict.fromkeys(spaces)) if spaces else [s for s in SPACES if s != "aisfx" or aisfx.available()]
    unknown = [s for s in wanted if s not in SPACES]
    if unknown:
        raise ValueError(f"Unknown space(s) {', '.join(unknown)}; the spaces are {', '.join(SPACES)}.")
    if "aisfx" in wanted and not aisfx.available():
        raise ValueError("The aisfx space needs its weights: pip install --no-deps aisfx==0.1.2")
    model_id = next((m.id for m in bundle.models.values() if kind_named(m.kind).shows.embedding_spaces), None)
    if model_id is None:
        wanted = [s for s in wanted if SPACES[s].needs != "model"]
    fingerprint = model_fingerprint(bundle, model_id)
    previous = bundle.extra.get("embeddings") or {}
    kept, untouched = [], []
    if spaces:
        kept, untouched = _spaces_to_keep(bundle, previous, corpus, wanted, model_id, fingerprint, log)
    device = torch.device(device)
    sr = bundle.audio.sample_rate
    corpus_samples = _decode([c.path for c in corpus], sr, progress, "corpus")

    tags_model, tags_meta = None, None
    if "tags" in wanted:
        tags_model, tags_meta = _train_tags_space(bundle, data, corpus, corpus_samples, device, tags_epochs,
                                                  seed, cache_dir, progress, log)
        if tags_model is None:
            wanted.remove("tags")
    elif "tags" in kept:
        tags_model = _stored_tags_model(bundle, previous)
        tags_meta = {k: v for k, v in previous["tags"].items() if k not in ("config", "weights")}
    held = [s for s in SPACES if s in wanted or s in kept]
    embedder = Embedder(bundle, device, tags_model=tags_model,
                        aisfx_encoder=aisfx.load_encoder(device) if "aisfx" in held else None)
    log(f"embedding {len(corpus)} corpus clips in {len(wanted)} spaces: {', '.join(wanted)}"
        + (f" (kept as stored: {', '.join(kept)})" if kept else ""))
    raw = embedder.raw(corpus_samples, wanted, progress=progress)
    stats = {s: _statistics(raw[s]) if SPACES[s].standardised else (None, None) for s in wanted}
    vectors = {s: finish(raw[s], *stats[s]) for s in wanted}
    for s in kept:
        vectors[s], stats[s] = _stored_space(bundle, previous["spaces"][s])

    log("measuring the spaces")
    quality, probes, protocol = _measure(embedder, held, stats, vectors, corpus, data, seed,
                                         reference_per_class, test_per_class, progress)
    if untouched:
        protocol += f"; {', '.join(untouched)} kept with the quality measured when built, not in 'all together'"

    out_dir = bundle.path / EMBEDDINGS_DIR
    for s in wanted:
        mean, std = stats[s]
        tensors = {"vectors": torch.from_numpy(vectors[s])}
        if mean is not None:
            tensors.update(mean=torch.from_numpy(mean), std=torch.from_numpy(std))
        write_weights(out_dir / f"{s}.safetensors", tensors, {"space": s, "clips": len(corpus)})
    if "tags" in wanted:
        write_weights(out_dir / TAGS_WEIGHTS, tags_model.state_dict())
    for stale in out_dir.glob("*.safetensors"):
        if stale.stem not in held + untouched and stale.name != TAGS_WEIGHTS:
            stale.unlink()
    if tags_model is None and (out_dir / TAGS_WEIGHTS).exists():
        (out_dir / TAGS_WEIGHTS).unlink()

    built = {s: {"description": SPACES[s].description, "dim": int(vectors[s].shape[1]),
                 "file": f"{EMBEDDINGS_DIR}/{s}.safetensors", "standardised": SPACES[s].standardised,
                 "quality": quality[s], **({"credit": aisfx.CREDIT} if s == "aisfx" else {})} for s in held}
    meta = {
        "format": FORMAT, "ids": [c.id for c in corpus], "model": embedder.model_id,
        "model_sha256": fingerprint if any(SPACES[s].needs == "model" for s in held) else None,
        "spaces": {s: built[s] if s in built else previous["spaces"][s] for s in SPACES if s in built or s in untouched},
        "probes": probes, "quality_protocol": protocol,
        "index": {"kind": "exact (FAISS flat inner product)", "approximate_above": 100_000},
        "build": {"device": str(device), "wall_time_s": round(time.perf_counter() - started, 1),
                  "data": str(Path(data).resolve()) if data is not None else None, "seed": seed},
    }
    if tags_model is not None:
        meta["tags"] = {"config": tags_model.cfg.to_dict(), "weights": f"{EMBEDDINGS_DIR}/{TAGS_WEIGHTS}",
                        **tags_meta}
    fresh = load_bundle(bundle.path)  # what others wrote meanwhile is kept
    fresh.extra["embeddings"] = meta
    fresh.save()
    write_embeddings_section(fresh)
    return meta


def _measure(embedder: Embedder, spaces: list[str], stats, corpus_vectors, corpus, data, seed: int,
             reference_per_class: int, test_per_class: int | None, progress: bool):
    """Quality of each space and the probes; see :func:`build_embeddings`."""
    if data is None:
        labels = [c.label for c in corpus]
        quality = {}
        for s in spaces:
            nn = nn_classification(corpus_vectors[s], labels)
            quality[s] = {"nn_macro_f1": nn["macro_f1"], "nn_accuracy": nn["accuracy"],
                          "dbi": davies_bouldin(corpus_vectors[s], labels),
                          "n_test": len(corpus), "n_reference": len(corpus) - 1}
        probes = linear_probes({s: corpus_vectors[s] for s in spaces}, labels, seed=seed)
        protocol = (f"the bundle's corpus ({len(corpus)} clips): each clip's nearest other corpus clip, "
                    "Davies-Bouldin index of the corpus classes, probes by 4-fold cross-validation")
        test_words, test_tags_vectors = [tags.tag_words(c.tags) for c in corpus], corpus_vectors.get("tags")
    else:
        from ..data import read_collection

        table = read_collection(data, seed=seed)
        reference = _per_class(table.subset("train").records, reference_per_class, seed)
        test = _per_class(table.subset("test").records, test_per_class, seed)
        if not reference or not test:
            raise ValueError(f"The data at {data} needs clips in both its train and test splits.")
        sr = embedder.bundle.audio.sample_rate
        ref_raw = embedder.raw(_decode([r.path for r in reference], sr, progress, "reference clips"), spaces,
                               progress=progress)
        test_raw = embedder.raw(_decode([r.path for r in test], sr, progress, "test clips"), spaces,
                                progress=progress)
        ref_vec = {s: finish(ref_raw[s], *stats[s]) for s in spaces}
        test_vec = {s: finish(test_raw[s], *stats[s]) for s in spaces}
        ref_labels, test_labels = [r.label for r in reference], [r.label for r in test]
        quality = {}
        for s in spaces:
            nn = nn_classification(ref_vec[s], ref_labels, test_vec[s], test_labels)
            quality[s] = {"nn_macro_f1": nn["macro_f1"], "nn_accuracy": nn["accuracy"],
                          "dbi": davies_bouldin(test_vec[s], test_labels),
                          "n_test": len(test), "n_reference": len(reference)}
        probes = linear_probes(ref_vec, ref_labels, test_vec, test_labels, seed=seed)
        test_words, test_tags_vectors = [tags.tag_words(r.tags) for r in test], test_vec.get("tags")
        protocol = (f"test split of {data} ({len(test)} clips) against {len(reference)} clips of its train "
                    f"split (at most {reference_per_class} per class): nearest neighbour, Davies-Bouldin "
                    "index of the test classes, probes fitted on the train clips")
    for s in spaces:
        quality[s]["probe"] = probes[s]
    if test_tags_vectors is not None:  # searching by one word: do the hits carry it?
        model = embedder.tags_model
        quality["tags"]["word_search"] = word_search_precision(
            lambda w: model.search_vector(w).cpu().numpy(), test_tags_vectors, test_words, list(model.cfg.vocabulary))
    return quality, probes, protocol


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


def load_spaces(bundle: Bundle | str | Path | None = None, device="cpu") -> EmbeddingSpaces:
    """Load the stored spaces of a bundle with their indexes and the models that embed new clips.

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
    tags_model = _stored_tags_model(bundle, meta) if "tags" in meta["spaces"] else None
    unavailable, encoder = {}, None
    if "aisfx" in meta["spaces"]:
        if aisfx.available():
            encoder = aisfx.load_encoder(device)
        else:
            unavailable["aisfx"] = "its weights are not installed: pip install --no-deps aisfx==0.1.2"
    model_id = meta.get("model")
    embedder = Embedder(bundle, device, model_id=model_id if model_id in bundle.models else None,
                        tags_model=tags_model, aisfx_encoder=encoder)
    vectors, stats = {}, {}
    for space, m in meta["spaces"].items():
        if space not in SPACES or space in unavailable or space not in embedder.spaces:
            unavailable.setdefault(space, "this version cannot compute it")
            continue
        vectors[space], stats[space] = _stored_space(bundle, m)
        if len(vectors[space]) != len(corpus_ids):
            raise BundleError(f"The stored {space} vectors do not match the corpus; rebuild the embeddings.")
    return EmbeddingSpaces(bundle, meta, vectors, stats, embedder, unavailable)
