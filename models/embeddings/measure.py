"""How good each space of a bundle is: nearest-neighbour classification, Davies-Bouldin index,
linear probes and, for the tags space, searching by one word (see :mod:`.quality`)."""
from __future__ import annotations

import numpy as np

from ..data import read_collection
from . import tags
from .embedder import Embedder, decode_clips
from .quality import davies_bouldin, linear_probes, nn_classification, word_search_precision
from .standardise import finish


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


def measure_spaces(embedder: Embedder, spaces: list[str], stats, corpus_vectors, corpus, data, seed: int,
                   reference_per_class: int, test_per_class: int | None, progress: bool):
    """Quality of each space and the probes, on the corpus or on ``data``'s splits.

    Parameters
    ----------
    embedder : embeds the clips of ``data`` in every space of ``spaces``.
    stats : ``{space: (mean, std)}`` standardisation (Nones for a space without one).
    corpus_vectors : ``{space: (N, D)}`` unit vectors of the ``corpus`` clips (``CorpusClip`` list).
    data, seed, reference_per_class, test_per_class : as in
        :func:`~auralens.models.embeddings.build.build_embeddings`.

    Returns
    -------
    ``(quality, probes, protocol)``: ``{space: figures}``, the probes of every space and of all
    of them together, and a sentence saying what the figures were measured on.
    """
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
        table = read_collection(data, seed=seed)
        reference = _per_class(table.subset("train").records, reference_per_class, seed)
        test = _per_class(table.subset("test").records, test_per_class, seed)
        if not reference or not test:
            raise ValueError(f"The data at {data} needs clips in both its train and test splits.")
        sr = embedder.bundle.audio.sample_rate
        ref_raw = embedder.raw(decode_clips([r.path for r in reference], sr, progress, "reference clips"), spaces,
                               progress=progress)
        test_raw = embedder.raw(decode_clips([r.path for r in test], sr, progress, "test clips"), spaces,
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
