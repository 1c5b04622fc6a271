"""How well a space separates the classes: nearest-neighbour classification macro F1, the
Davies-Bouldin index, and linear probes on each space alone and on all together.

The first two follow the sound-effects embedding paper (Ma and Lerch): a 1-nearest-neighbour
classifier on the space (higher macro F1 is better) and the Davies-Bouldin index of the
classes as clusters (lower is better: tight classes, far apart). The probes follow the
diverse-embeddings paper: a logistic regression on each stream alone and on the concatenation
of all streams says how much each stream contributes.
"""
from __future__ import annotations

import numpy as np

from ..metrics import classification_metrics
from .index import NeighbourIndex


def _codes(labels) -> tuple[np.ndarray, list[str]]:
    names = sorted(set(labels))
    index = {n: i for i, n in enumerate(names)}
    return np.array([index[x] for x in labels]), names


def nn_classification(reference: np.ndarray, reference_labels, queries: np.ndarray | None = None,
                      query_labels=None) -> dict:
    """1-nearest-neighbour classification by cosine similarity.

    Parameters
    ----------
    reference : ``(N, D)`` labelled vectors searched.
    reference_labels : ``N`` class names.
    queries, query_labels : ``(Q, D)`` vectors classified and their true classes; when None,
        every reference vector is classified by the others (leave-one-out).

    Returns
    -------
    ``{"macro_f1", "accuracy", "n"}`` (fractions in [0, 1]).

    Examples
    --------
    >>> ref = np.array([[1, 0], [0.9, 0.1], [0, 1], [0.1, 0.9]])
    >>> nn_classification(ref, ["a", "a", "b", "b"])["accuracy"]
    1.0
    """
    index = NeighbourIndex(reference, [str(i) for i in range(len(reference))], kind="exact")
    ref_labels = np.asarray(list(reference_labels), dtype=object)
    if queries is None:
        _, rows = index.search_rows(reference, k=2)
        own = np.arange(len(reference))
        nearest = np.where(rows[:, 0] == own, rows[:, 1], rows[:, 0])  # skip the query itself
        true = ref_labels
    else:
        _, rows = index.search_rows(queries, k=1)
        nearest, true = rows[:, 0], np.asarray(list(query_labels), dtype=object)
    pred = ref_labels[nearest]
    codes, names = _codes(list(true) + list(pred))
    m = classification_metrics(codes[:len(true)], codes[len(true):], names)
    return {"macro_f1": m["macro_f1"], "accuracy": m["oa"], "n": m["n"]}


def davies_bouldin(vectors: np.ndarray, labels) -> float:
    """Davies-Bouldin index of the classes as clusters (lower: tighter, better separated)."""
    from sklearn.metrics import davies_bouldin_score

    if len(set(labels)) < 2:
        return float("nan")
    return float(davies_bouldin_score(np.asarray(vectors, dtype=np.float64), list(labels)))


def _fit_predict(train_x: np.ndarray, train_y, test_x: np.ndarray, seed: int) -> np.ndarray:
    """A standardised logistic regression fitted on ``train``, its classes for ``test_x``."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    clf = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000, C=1.0, random_state=seed))
    return clf.fit(train_x, list(train_y)).predict(test_x)


def _scores(true, pred) -> dict:
    codes, names = _codes(list(true) + list(pred))
    m = classification_metrics(codes[:len(true)], codes[len(true):], names)
    return {"accuracy": m["oa"], "macro_f1": m["macro_f1"]}


def linear_probes(train: dict[str, np.ndarray], train_labels, test: dict[str, np.ndarray] | None = None,
                  test_labels=None, folds: int = 4, seed: int = 0) -> dict:
    """Logistic-regression probes on each stream alone and on all streams concatenated.

    Parameters
    ----------
    train : ``{space: (N, D_space)}`` vectors the probes are fitted on.
    train_labels : ``N`` class names.
    test, test_labels : held-out vectors and classes scored; when None, the probes are scored
        by stratified ``folds``-fold cross-validation on ``train``.

    Returns
    -------
    ``{space: {"accuracy", "macro_f1"}, ..., "all": {...}}``.
    """
    streams = {**train, "all": np.concatenate([train[s] for s in train], axis=1)}
    y = np.asarray(list(train_labels), dtype=object)
    if test is not None:
        test_streams = {**test, "all": np.concatenate([test[s] for s in train], axis=1)}
        return {name: _scores(list(test_labels), _fit_predict(x, y, test_streams[name], seed))
                for name, x in streams.items()}
    from sklearn.model_selection import StratifiedKFold

    n_folds = max(2, min(folds, min(np.unique(y, return_counts=True)[1])))
    splits = list(StratifiedKFold(n_folds, shuffle=True, random_state=seed).split(np.zeros(len(y)), y))
    out = {}
    for name, x in streams.items():
        pred = np.empty(len(y), dtype=object)
        for tr, te in splits:
            pred[te] = _fit_predict(x[tr], y[tr], x[te], seed)
        out[name] = _scores(y, pred)
    return out


def word_search_precision(search_vector, vectors: np.ndarray, clip_words: list[list[str]],
                          vocabulary: list[str], k: int = 10) -> dict:
    """How often a search by one tag word returns clips that carry the word.

    Parameters
    ----------
    search_vector : ``word -> (D,)`` unit vector of the query (the tag side of the tags space).
    vectors : ``(N, D)`` the clips' vectors (the audio side).
    clip_words : the ``N`` clips' tag words.
    vocabulary : the words tried (words no clip carries are skipped).
    k : hits looked at per word.

    Returns
    -------
    ``{"precision_at_k", "base_rate", "k", "per_word": {word: {"precision", "base_rate"}}}``: the
    mean over words of the share of the top ``k`` hits carrying the word, and the share of all
    clips that carry it (what a random pick would score).
    """
    index = NeighbourIndex(vectors, [str(i) for i in range(len(vectors))], kind="exact")
    per_word = {}
    for word in vocabulary:
        carries = np.array([word in ws for ws in clip_words])
        if not carries.any():
            continue
        _, rows = index.search_rows(np.asarray(search_vector(word))[None], k)
        per_word[word] = {"precision": float(carries[rows[0]].mean()), "base_rate": float(carries.mean())}
    return {"precision_at_k": float(np.mean([w["precision"] for w in per_word.values()])),
            "base_rate": float(np.mean([w["base_rate"] for w in per_word.values()])), "k": k,
            "per_word": per_word}
