"""Building a bundle's spaces: every corpus clip embedded in every space, the spaces measured,
both stored in the bundle (:mod:`.stored`) and described in its model card."""
from __future__ import annotations

import hashlib
import time
from pathlib import Path
from typing import Callable

import torch

from .. import aisfx_network
from ..audio import log_mel
from ..bundle import Bundle, BundleError, load_bundle, read_corpus, write_embeddings_section
from ..data import load_features, read_collection
from . import tags
from .embedder import Embedder, decode_clips, space_model_id
from .index import APPROXIMATE_ABOVE
from .measure import measure_spaces
from .registry import SPACES
from .standardise import finish, standardisation
from .stored import FORMAT, TAGS_FILE, read_space, read_tags_model, remove_stale, space_file, write_space, \
    write_tags_model


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
        if s == "aisfx" and not aisfx_network.available():
            untouched.append(s)
            continue
        kept.append(s)
    wanted.sort(key=list(SPACES).index)
    return kept, untouched


def _train_tags_space(bundle: Bundle, data, corpus, corpus_samples, device, epochs: int, seed: int,
                      cache_dir, progress: bool, log: Callable[[str], None]):
    """Train the tags space on ``data``'s train split (or on the corpus when no data is given)."""
    if data is not None:
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
    wanted = list(dict.fromkeys(spaces)) if spaces else [s for s in SPACES if s != "aisfx" or aisfx_network.available()]
    unknown = [s for s in wanted if s not in SPACES]
    if unknown:
        raise ValueError(f"Unknown space(s) {', '.join(unknown)}; the spaces are {', '.join(SPACES)}.")
    if "aisfx" in wanted and not aisfx_network.available():
        raise ValueError("The aisfx space needs its weights: pip install --no-deps aisfx==0.1.2")
    model_id = space_model_id(bundle)
    if model_id is None:
        wanted = [s for s in wanted if SPACES[s].needs != "model"]
    fingerprint = model_fingerprint(bundle, model_id)
    previous = bundle.extra.get("embeddings") or {}
    kept, untouched = [], []
    if spaces:
        kept, untouched = _spaces_to_keep(bundle, previous, corpus, wanted, model_id, fingerprint, log)
    device = torch.device(device)
    sr = bundle.audio.sample_rate
    corpus_samples = decode_clips([c.path for c in corpus], sr, progress, "corpus")

    tags_model, tags_meta = None, None
    if "tags" in wanted:
        tags_model, tags_meta = _train_tags_space(bundle, data, corpus, corpus_samples, device, tags_epochs,
                                                  seed, cache_dir, progress, log)
        if tags_model is None:
            wanted.remove("tags")
    elif "tags" in kept:
        tags_model = read_tags_model(bundle, previous)
        tags_meta = {k: v for k, v in previous["tags"].items() if k not in ("config", "weights")}
    held = [s for s in SPACES if s in wanted or s in kept]
    embedder = Embedder(bundle, device, tags_model=tags_model,
                        aisfx_encoder=aisfx_network.load_encoder(device) if "aisfx" in held else None)
    log(f"embedding {len(corpus)} corpus clips in {len(wanted)} spaces: {', '.join(wanted)}"
        + (f" (kept as stored: {', '.join(kept)})" if kept else ""))
    raw = embedder.raw(corpus_samples, wanted, progress=progress)
    stats = {s: standardisation(raw[s]) if SPACES[s].standardised else (None, None) for s in wanted}
    vectors = {s: finish(raw[s], *stats[s]) for s in wanted}
    for s in kept:
        vectors[s], stats[s] = read_space(bundle, previous["spaces"][s])

    log("measuring the spaces")
    quality, probes, protocol = measure_spaces(embedder, held, stats, vectors, corpus, data, seed,
                                               reference_per_class, test_per_class, progress)
    if untouched:
        protocol += f"; {', '.join(untouched)} kept with the quality measured when built, not in 'all together'"

    for s in wanted:
        write_space(bundle, s, vectors[s], *stats[s])
    if "tags" in wanted:
        write_tags_model(bundle, tags_model)
    remove_stale(bundle, held + untouched, tags_model is not None)

    built = {s: {"description": SPACES[s].description, "dim": int(vectors[s].shape[1]),
                 "file": space_file(s), "standardised": SPACES[s].standardised,
                 "quality": quality[s], **({"credit": aisfx_network.CREDIT} if s == "aisfx" else {})} for s in held}
    meta = {
        "format": FORMAT, "ids": [c.id for c in corpus], "model": embedder.model_id,
        "model_sha256": fingerprint if any(SPACES[s].needs == "model" for s in held) else None,
        "spaces": {s: built[s] if s in built else previous["spaces"][s] for s in SPACES if s in built or s in untouched},
        "probes": probes, "quality_protocol": protocol,
        "index": {"kind": "exact (FAISS flat inner product)", "approximate_above": APPROXIMATE_ABOVE},
        "build": {"device": str(device), "wall_time_s": round(time.perf_counter() - started, 1),
                  "data": str(Path(data).resolve()) if data is not None else None, "seed": seed},
    }
    if tags_model is not None:
        meta["tags"] = {"config": tags_model.cfg.to_dict(), "weights": TAGS_FILE, **tags_meta}
    fresh = load_bundle(bundle.path)  # what others wrote meanwhile is kept
    fresh.extra["embeddings"] = meta
    fresh.save()
    write_embeddings_section(fresh)
    return meta
