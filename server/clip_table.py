"""A source's clips as a table in columns (numpy arrays), built once per source, model and
version and kept, so that a page of it - sorted and filtered - is masks and an argsort away,
at 100 000 clips too.

A row is a clip with what the model says of it: ``id, name, path, label, prediction,
confidence, trusted, trust_score, best_prototype, best_prototype_label, error, duration_s,
tags``. A clip not analysed (yet) has no prediction (None) and sorts last.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field

import numpy as np

TRUST_CODES = {"familiar": 1, "unlike": 0, "unknown": -1}
SORTABLE = ("position", "name", "label", "prediction", "confidence", "trust_score", "best_prototype", "error",
            "duration_s")


def _codes(values: list[str | None]) -> tuple[np.ndarray, list[str]]:
    """Strings -> ``(codes (N,) int32, names)``; None is -1. Codes follow the names' sorted order."""
    names = sorted({v for v in values if v is not None})
    index = {n: i for i, n in enumerate(names)}
    return np.array([index.get(v, -1) if v is not None else -1 for v in values], dtype=np.int32), names


def _floats(rows: list[dict], key: str) -> np.ndarray:
    return np.array([np.nan if r.get(key) is None else r[key] for r in rows], dtype=np.float64)


def tag_keys(tags: dict) -> list[str]:
    """How a clip's tags are asked for: ``name=value`` and the value alone."""
    out = []
    for k, v in (tags or {}).items():
        if v in (None, ""):
            continue
        out += [f"{k}={v}", str(v)]
    return out


@dataclass
class ClipTable:
    """The clips of one source (N rows) in columns; see the module's notes."""

    ids: list[str]
    names: list[str]
    paths: list[str]
    tags: list[dict]
    label: np.ndarray  # (N,) int32 codes into labels, -1: none
    labels: list[str]
    prediction: np.ndarray  # (N,) int32 codes into predictions, -1: not analysed
    predictions: list[str]
    confidence: np.ndarray  # (N,) float64, NaN: not analysed
    trusted: np.ndarray  # (N,) int8: 1 familiar, 0 unlike, -1 the model has no trust score (or not analysed)
    trust_score: np.ndarray  # (N,) float64
    best_prototype: np.ndarray  # (N,) int32, -1: not analysed
    best_prototype_label: list[str | None]
    error: np.ndarray  # (N,) float64
    duration_s: np.ndarray  # (N,) float64
    classes: list[str] = field(default_factory=list)  # the model's classes, which labels are compared with
    _by_tag: dict[str, np.ndarray] = field(default_factory=dict, repr=False)
    _orders: dict[tuple[str, str], np.ndarray] = field(default_factory=dict, repr=False)
    _row_of: dict[str, int] | None = field(default=None, repr=False)
    _derived: dict = field(default_factory=dict, repr=False)

    def __len__(self) -> int:
        return len(self.ids)

    @classmethod
    def from_rows(cls, rows: list[dict]) -> "ClipTable":
        """Rows ``{id, name, path, label, tags, duration_s, result}`` (``result`` the figures of
        :func:`auralens.models.collection.clip_figures` or None) -> a table."""
        results = [r.get("result") or {} for r in rows]
        label, labels = _codes([r.get("label") for r in rows])
        prediction, predictions = _codes([x.get("prediction") for x in results])
        trusted = np.array([-1 if x.get("trusted") is None else int(bool(x["trusted"])) for x in results], dtype=np.int8)
        table = cls(ids=[r["id"] for r in rows], names=[r["name"] for r in rows],
                    paths=[r.get("path") or r["name"] for r in rows], tags=[r.get("tags") or {} for r in rows],
                    label=label, labels=labels, prediction=prediction, predictions=predictions,
                    confidence=_floats(results, "confidence"), trusted=trusted,
                    trust_score=_floats(results, "trust_score"),
                    best_prototype=np.array([x.get("best_prototype", -1) for x in results], dtype=np.int32),
                    best_prototype_label=[x.get("best_prototype_label") for x in results],
                    error=_floats(results, "error"), duration_s=_floats(rows, "duration_s"))
        by_tag: dict[str, list[int]] = {}
        for i, tags in enumerate(table.tags):
            for key in tag_keys(tags):
                by_tag.setdefault(key, []).append(i)
        table._by_tag = {k: np.array(v, dtype=np.int64) for k, v in by_tag.items()}
        return table

    def update_results(self, results: dict[str, dict | None]) -> None:
        """Put new figures ``{clip id: result or None}`` into the rows they belong to (a
        collection being analysed: a batch at a time, without building the table again);
        ids not in the table are ignored. Kept orders and derived figures are dropped."""
        rows = self.rows_of(list(results))
        for i in rows.tolist():
            x = results[self.ids[i]] or {}
            name = x.get("prediction")
            if name is not None and name not in self.predictions:
                self.predictions.append(name)  # codes need not follow the names' order (sorting ranks them)
            self.prediction[i] = self.predictions.index(name) if name is not None else -1
            self.confidence[i] = np.nan if x.get("confidence") is None else x["confidence"]
            self.trusted[i] = -1 if x.get("trusted") is None else int(bool(x["trusted"]))
            self.trust_score[i] = np.nan if x.get("trust_score") is None else x["trust_score"]
            self.best_prototype[i] = x.get("best_prototype", -1)
            self.best_prototype_label[i] = x.get("best_prototype_label")
            self.error[i] = np.nan if x.get("error") is None else x["error"]
        self._orders.clear()
        self._derived.clear()

    def derived(self, key, make):
        """``make()``, computed once per table (a table is rebuilt when its source changes)."""
        if key not in self._derived:
            self._derived[key] = make()
        return self._derived[key]

    # -- the columns a person asks by ------------------------------------------------------
    def tag_names(self) -> list[str]:
        """Every ``name=value`` tag some clip carries, sorted."""
        return sorted(k for k in self._by_tag if "=" in k)

    def rows_of(self, ids: list[str]) -> np.ndarray:
        """Row indices of the clip ids that are in the table (others are ignored)."""
        if self._row_of is None:
            self._row_of = {cid: i for i, cid in enumerate(self.ids)}
        return np.array(sorted({self._row_of[c] for c in ids if c in self._row_of}), dtype=np.int64)

    def mask(self, label: str | None = None, prediction: str | None = None, trust: str | None = None,
             tag: str | None = None, prototype: int | None = None, min_error: float | None = None,
             max_error: float | None = None, min_duration: float | None = None, max_duration: float | None = None,
             min_confidence: float | None = None, max_confidence: float | None = None,
             ids: list[str] | None = None, confused: bool = False) -> np.ndarray:
        """``(N,)`` bool: the rows that pass every filter given (None: no filter). ``trust``:
        ``familiar``, ``unlike`` or ``unknown``; ``tag``: ``name=value`` or a value;
        ``confused``: only clips labelled with one of the model's classes and heard as another
        (see :meth:`confusions`)."""
        keep = np.ones(len(self), dtype=bool)

        def code(names: list[str], value: str) -> int:
            return names.index(value) if value in names else -2  # -2 matches nothing

        if label is not None:
            keep &= self.label == code(self.labels, label)
        if prediction is not None:
            keep &= self.prediction == code(self.predictions, prediction)
        if trust is not None:
            keep &= self.trusted == TRUST_CODES[trust]
        if tag is not None:
            hit = np.zeros(len(self), dtype=bool)
            hit[self._by_tag.get(tag, np.empty(0, dtype=np.int64))] = True
            keep &= hit
        if prototype is not None:
            keep &= self.best_prototype == prototype
        for column, lo, hi in ((self.error, min_error, max_error), (self.duration_s, min_duration, max_duration),
                               (self.confidence, min_confidence, max_confidence)):
            if lo is not None:
                keep &= column >= lo
            if hi is not None:
                keep &= column <= hi
        if ids is not None:
            chosen = np.zeros(len(self), dtype=bool)
            chosen[self.rows_of(ids)] = True
            keep &= chosen
        if confused:
            keep &= self.confusions()
        return keep

    def confusions(self) -> np.ndarray:
        """``(N,)`` bool: analysed clips labelled with one of the model's :attr:`classes` (when
        not set: the classes predicted) whose prediction is another class. Labels are compared
        as class names are written ("French horn" is ``french_horn``); a label that names no
        class (a folder called "live takes") is no confusion."""
        known = {class_key(c) for c in (self.classes or self.predictions)}
        keys = [class_key(p) for p in self.predictions]
        as_prediction = np.array([keys.index(class_key(name)) if class_key(name) in keys else -3
                                  for name in self.labels] + [-3])
        comparable = np.array([class_key(name) in known for name in self.labels] + [False])
        return (self.prediction >= 0) & comparable[self.label] & (as_prediction[self.label] != self.prediction)

    def order(self, sort: str, descending: bool) -> np.ndarray:
        """Row indices sorted by column ``sort`` (``position``: as the source lists them);
        rows without a value last, ties in the source's order. Kept for the next page."""
        key = (sort, "desc" if descending else "asc")
        if key not in self._orders:
            self._orders[key] = self._order(sort, descending)
        return self._orders[key]

    def _order(self, sort: str, descending: bool) -> np.ndarray:
        n = len(self)
        if sort == "position":
            return np.arange(n)[::-1].copy() if descending else np.arange(n)
        if sort == "name":
            keys, _ = _codes([s.casefold() for s in self.names])
            values, missing = keys.astype(np.float64), np.zeros(n, dtype=bool)
        elif sort in ("label", "prediction"):
            codes, names = getattr(self, sort), getattr(self, f"{sort}s")
            rank = np.argsort(np.argsort(np.array(names, dtype=object), kind="stable"), kind="stable")  # by name
            values, missing = np.append(rank, 0)[codes].astype(np.float64), codes < 0
        elif sort == "best_prototype":
            codes = self.best_prototype
            values, missing = codes.astype(np.float64), codes < 0
        else:
            values = getattr(self, sort)
            missing = np.isnan(values)
        values = np.where(missing, 0.0, -values if descending else values)
        return np.lexsort((np.arange(n), values, missing))  # missing last, then the value, then position

    def page(self, rows: np.ndarray) -> list[dict]:
        """The rows at indices ``rows`` as the API shows them."""
        out = []
        for i in rows.tolist():
            analysed = self.prediction[i] >= 0
            out.append({
                "id": self.ids[i], "name": self.names[i], "path": self.paths[i],
                "label": self.labels[self.label[i]] if self.label[i] >= 0 else None,
                "prediction": self.predictions[self.prediction[i]] if analysed else None,
                "confidence": _num(self.confidence[i]),
                "trust": {1: "familiar", 0: "unlike", -1: "unknown"}[int(self.trusted[i])] if analysed else None,
                "trust_score": _num(self.trust_score[i]),
                "best_prototype": int(self.best_prototype[i]) if self.best_prototype[i] >= 0 else None,
                "best_prototype_label": self.best_prototype_label[i],
                "error": _num(self.error[i]), "duration_s": _num(self.duration_s[i]),
                "tags": self.tags[i], "audio_url": f"/api/clips/{self.ids[i]}/audio.wav",
            })
        return out


def class_key(name: str) -> str:
    """A label as a class name is written: ``class_key(" French horn") == "french_horn"``."""
    return "_".join(name.strip().lower().replace("-", " ").split())


def code_or_none(names: list[str], value: str) -> float:
    return names.index(value) if value in names else np.nan


def _num(x) -> float | None:
    return None if np.isnan(x) else float(x)


def rows_from_storage(records) -> list[dict]:
    """Storage rows (:meth:`~auralens.server.storage.Storage.collection_rows`) -> table rows.
    (The JSON of all rows is parsed in one go: a hundred thousand small parses cost seconds.)"""
    tags = json.loads("[" + ",".join(r["tags"] for r in records) + "]")
    results = json.loads("[" + ",".join(r["result"] or "null" for r in records) + "]")
    return [{"id": r["clip_id"], "name": r["name"], "path": r["path"], "label": r["label"], "tags": t,
             "duration_s": r["duration_s"], "result": None if x is None else _usable(x)}
            for r, t, x in zip(records, tags, results)]


def _usable(result: dict) -> dict | None:
    return None if "skipped" in result else result
