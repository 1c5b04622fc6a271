"""The map of a clip source (the corpus, a user's uploads, a collection) in an embedding space:
every clip at a place in 2-D, with its class, the model's prediction and trust verdict, and tags.

A layout is fitted once per (who sees it, source, space, method) and kept in the data folder
(``maps/<bundle>/fits/<key>.safetensors`` with a ``.json`` record of the clips it was fitted
on, see :class:`~auralens.models.embeddings.projection.Projection`). When the source's clips
change a little, the new clips are placed with the fitted transform and the others keep their
places; once fewer than ``1 - REFIT_SHARE`` of the source's clips are the fitted ones, it is
fitted again. Clips read through :func:`~auralens.server.sources.clips_of` only.

What is computed per clip is computed once: corpus vectors come from the bundle, other clips'
vectors are kept under ``maps/<bundle>/vectors/<space>/``; the model's prediction and trust of
the corpus are computed in one batch and kept in ``maps/<bundle>/predictions-<model>.json``,
other clips' under ``maps/<bundle>/predictions/<model>/`` (``<model>``: its id and a hash of its
settings, so that a model given a trust score since is asked again).
"""
from __future__ import annotations

import hashlib
import json
import re
import threading
import time
from dataclasses import asdict, dataclass, is_dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import torch

from auralens.models.atomic import write_bytes_atomic
from auralens.models.audio import log_mel
from auralens.models.embeddings.projection import MIN_CLIPS, Projection, fit_projection
from auralens.models.kinds import kind_of
from auralens.models.prototypes.evidence import evidence
from auralens.models.trust import TrustModel
from auralens.models.weights import WeightsError

from .clip_ref import ClipRef
from .lru import LRU
from .state import AppState

REFIT_SHARE = 0.25  # refit once more than this share of the source's clips were not fitted
INLINE_CLIPS = 64  # at most this many clips embedded or predicted inside a request; more: a job
MAX_TAG_VALUES = 40  # tags with more distinct values than this are not offered as colours
BATCH = 32
Progress = Callable[[float], None]


@dataclass(frozen=True)
class MapKey:
    """Which map: ``scope`` is ``"bundle"`` for the corpus (the same for everyone), else the user's id."""

    scope: str
    source: str
    space: str
    method: str

    @property
    def file_stem(self) -> str:
        text = json.dumps([self.scope, self.source, self.space, self.method])
        return f"{_safe(self.source)}-{self.space}-{self.method}-{hashlib.sha1(text.encode()).hexdigest()[:16]}"


def _safe(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", text)[:40]


def _hashed(clip_id: str) -> str:
    return hashlib.sha1(clip_id.encode()).hexdigest()


def set_fingerprint(ids: list[str]) -> str:
    """A short hash of a set of clip ids (their order does not count)."""
    return hashlib.sha256("\n".join(sorted(ids)).encode()).hexdigest()[:20]


@dataclass(frozen=True)
class Base:
    """The source whose map clips are laid on: its map's key and its clips."""

    key: MapKey
    clips: list


@dataclass
class Fit:
    """A stored layout: the projection, the clips it was fitted on (in its rows' order), and
    the clips placed with it since, ``{id: (x, y)}``."""

    projection: Projection
    record: dict
    rows: dict[str, int]

    @property
    def placed(self) -> dict[str, list[float]]:
        return self.record["placed"]


class Maps:
    """The maps of one running app (one per :class:`~auralens.server.state.AppState`, see
    :func:`maps_of`)."""

    def __init__(self, state: AppState):
        self.state = state
        b = state.bundle
        self.root = Path(state.settings.data_dir) / "maps" / _safe(f"{b.name}-{b.version}")
        self._lock = threading.Lock()
        self._key_locks: dict[MapKey, threading.Lock] = {}
        self._fits: dict[MapKey, Fit | None] = {}
        self._answers = LRU(8, max_bytes=128 * 2**20, weigh=len)
        self._jobs: dict[tuple[MapKey, str], str] = {}  # (map, who asked) -> the job making it
        self._corpus_predictions: dict | None = None
        self.model_id = next((mid for mid, m in state.models.items() if kind_of(m).shows.reconstructions), None)
        # predictions kept are those of this very model: its id and a hash of its settings (trust included)
        self.model_tag = None
        if self.model_id is not None:
            cfg = state.models[self.model_id].cfg
            settings = json.dumps(asdict(cfg) if is_dataclass(cfg) else vars(cfg), sort_keys=True, default=str)
            self.model_tag = f"{_safe(self.model_id)}-{hashlib.sha1(settings.encode()).hexdigest()[:12]}"

    # -- what a request needs ---------------------------------------------------------------
    @staticmethod
    def key(owner: str, source: str, space: str, method: str) -> MapKey:
        return MapKey("bundle" if source == "corpus" else owner, source, space, method)

    @staticmethod
    def _clips_hash(clips: list[ClipRef]) -> str:
        return hashlib.sha256("\n".join(f"{c.id}\t{c.label or ''}" for c in clips).encode()).hexdigest()

    def answer_key(self, key: MapKey, clips: list[ClipRef], base: Base | None = None) -> tuple:
        if base is None:
            return (key, self._clips_hash(clips))
        return (key, base.key, self._clips_hash(clips), self._clips_hash(base.clips))

    def cached_answer(self, key: MapKey, clips: list[ClipRef], base: Base | None = None) -> bytes | None:
        """The answer made before for exactly these clips (on ``base``'s map), if it is still held."""
        return self._answers.get(self.answer_key(key, clips, base))

    def answer_unless_long(self, key: MapKey, clips: list[ClipRef], base: Base | None = None) -> bytes | None:
        """The map's answer, made now - or None when making it takes long (see :meth:`needs_job`)."""
        return None if self.needs_job(key, clips, base) else self.build(key, clips, base=base)

    def needs_job(self, key: MapKey, clips: list[ClipRef], base: Base | None = None) -> bool:
        """Whether making this map takes long: a UMAP fit, or many clips to embed or predict."""
        fitted_on = base or Base(key, clips)
        if key.method == "umap" and self._needs_fit(fitted_on.key, [c.id for c in fitted_on.clips]):
            return True
        extra = self._missing(key.space, clips) if base is not None else 0
        return self._missing(key.space, fitted_on.clips) + extra > INLINE_CLIPS

    def running_job(self, key: MapKey, owner: str, base: Base | None = None) -> str | None:
        """The job of user ``owner`` already making this map, if one is waiting or running (a
        job is seen by its owner only; another user asking for the corpus's map gets a job of
        their own, which finds the map made once the first is done)."""
        slot = (key, base.key if base else None, owner)
        job_id = self._jobs.get(slot)
        if job_id is None:
            return None
        job = self.state.jobs.get(job_id, owner)
        if job is not None and job["status"] in ("queued", "running"):
            return job_id
        self._jobs.pop(slot, None)
        return None

    def start_job(self, key: MapKey, clips: list[ClipRef], owner: str, base: Base | None = None) -> str:
        """Make the map as a job (the answer is kept; the job's result says how many clips)."""
        with self._lock:
            job_id = self.running_job(key, owner, base)
            if job_id is None:
                params = {"source": key.source, "space": key.space, "method": key.method, "clips": len(clips),
                          "on": base.key.source if base else None}
                job_id = self.state.jobs.submit("map", params, lambda progress: self._job(key, clips, base, progress),
                                                owner=owner)
                self._jobs[(key, base.key if base else None, owner)] = job_id
            return job_id

    def _job(self, key: MapKey, clips: list[ClipRef], base: Base | None, progress: Progress) -> dict:
        self.build(key, clips, progress, base)
        return {"source": key.source, "space": key.space, "method": key.method, "clips": len(clips),
                "on": base.key.source if base else None}

    # -- making a map -------------------------------------------------------------------------
    def build(self, key: MapKey, clips: list[ClipRef], progress: Progress | None = None,
              base: Base | None = None) -> bytes:
        """The map of ``clips`` as the JSON bytes of :class:`~auralens.server.map_schemas.ClipMap`,
        fitting, placing, embedding and predicting what is not kept yet. With ``base``, the clips
        are laid on the map of another source (fitted on its clips): each is placed with that
        fitted transform (a clip of both keeps its place there)."""
        progress = progress or (lambda f: None)
        fitted_on = base or Base(key, clips)
        with self._key_lock(fitted_on.key):
            cached = self.cached_answer(key, clips, base)
            if cached is not None:
                return cached
            fit = self._ensure_fit(fitted_on.key, fitted_on.clips, lambda f: progress(0.5 * f))
            xy, placed = self._places(key.space, clips, fit)
            progress(0.6)
            predictions = self.predictions(clips, lambda f: progress(0.6 + 0.35 * f))
            body = self._answer(key, clips, fit, xy, placed, predictions, base)
            progress(1.0)
            return self._answers.put(self.answer_key(key, clips, base), body)

    def _ensure_fit(self, key: MapKey, clips: list[ClipRef], progress: Progress) -> Fit:
        """The fit of ``key`` for ``clips``: the stored one, its new clips placed (and kept), or a
        new fit when the clips changed too much."""
        ids = [c.id for c in clips]
        if self._needs_fit(key, ids):
            return self._fit(key, ids, self.vectors(key.space, clips, progress))
        fit = self._stored_fit(key)
        new = [c for c in clips if c.id not in fit.rows and c.id not in fit.placed]
        if new:
            xy = fit.projection.transform(self.vectors(key.space, new, progress))
            fit.placed.update({c.id: [float(a), float(b)] for c, (a, b) in zip(new, xy)})
            self._write_record(key, fit.record)
        return fit

    def _places(self, space: str, clips: list[ClipRef], fit: Fit) -> tuple[np.ndarray, list[int]]:
        """``(N, 2)`` places of ``clips`` on ``fit``'s map, and the indices of those not fitted on
        (kept placements, or placed now with the fitted transform)."""
        xy = np.zeros((len(clips), 2), np.float32)
        placed, todo = [], []
        for i, c in enumerate(clips):
            row = fit.rows.get(c.id)
            if row is not None:
                xy[i] = fit.projection.positions[row]
                continue
            placed.append(i)
            if c.id in fit.placed:
                xy[i] = fit.placed[c.id]
            else:
                todo.append(i)
        if todo:
            xy[todo] = fit.projection.transform(self.vectors(space, [clips[i] for i in todo]))
        return xy, placed

    def _key_lock(self, key: MapKey) -> threading.Lock:
        with self._lock:
            return self._key_locks.setdefault(key, threading.Lock())

    # -- fits ---------------------------------------------------------------------------------
    def _paths(self, key: MapKey) -> tuple[Path, Path]:
        stem = self.root / "fits" / key.file_stem
        return stem.with_suffix(".safetensors"), stem.with_suffix(".json")

    def _stored_fit(self, key: MapKey) -> Fit | None:
        if key in self._fits:
            return self._fits[key]
        arrays, record = self._paths(key)
        fit = None
        try:
            rec = json.loads(record.read_text())
            proj = Projection.load(arrays)
            if rec.get("key") == [key.scope, key.source, key.space, key.method] and len(rec["ids"]) == len(proj.positions):
                fit = Fit(proj, rec, {cid: i for i, cid in enumerate(rec["ids"])})
        except (OSError, ValueError, KeyError, WeightsError):
            fit = None  # none yet, or unreadable: fitted again
        self._fits[key] = fit
        return fit

    def _needs_fit(self, key: MapKey, ids: list[str]) -> bool:
        """No stored fit; or the clips changed so much that the fitted ones are fewer than
        ``1 - REFIT_SHARE`` of the clips now or of the clips then."""
        fit = self._stored_fit(key)
        if fit is None or fit.projection.dim != self.state.spaces.info(key.space)["dim"]:
            return True  # none yet, or made from another version of the space
        if fit.record["fingerprint"] == set_fingerprint(ids):
            return False
        kept = sum(1 for i in ids if i in fit.rows)
        return kept < (1 - REFIT_SHARE) * max(len(ids), len(fit.rows))

    def _fit(self, key: MapKey, ids: list[str], vectors: np.ndarray) -> Fit:
        started = time.perf_counter()
        projection = fit_projection(vectors, key.method)
        record = {"key": [key.scope, key.source, key.space, key.method], "fingerprint": set_fingerprint(ids),
                  "ids": ids, "placed": {}, "fitted_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                  "fit_seconds": round(time.perf_counter() - started, 3), "params": projection.params}
        arrays, _ = self._paths(key)
        projection.save(arrays, {"fingerprint": record["fingerprint"]})
        self._write_record(key, record)
        fit = Fit(projection, record, {cid: i for i, cid in enumerate(ids)})
        self._fits[key] = fit
        return fit

    def _write_record(self, key: MapKey, record: dict) -> None:
        write_bytes_atomic(self._paths(key)[1], json.dumps(record).encode())

    # -- vectors ------------------------------------------------------------------------------
    def _vector_path(self, space: str, clip_id: str) -> Path:
        return self.root / "vectors" / space / f"{_hashed(clip_id)}.npy"

    def _missing(self, space: str, clips: list[ClipRef]) -> int:
        others = [c for c in clips if c.origin != "corpus"]
        if not others:
            return 0
        missing_vectors = sum(1 for c in others if not self._vector_path(space, c.id).is_file())
        missing_predictions = (sum(1 for c in others if not self._prediction_path(c.id).is_file())
                               if self.model_id else 0)
        return max(missing_vectors, missing_predictions)

    def vectors(self, space: str, clips: list[ClipRef], progress: Progress | None = None) -> np.ndarray:
        """``(N, D)`` unit vectors of ``clips`` in ``space``: corpus clips' from the bundle, others'
        kept from before or computed now in batches (and kept)."""
        spaces = self.state.spaces
        out: list[np.ndarray | None] = [None] * len(clips)
        todo = []
        for i, c in enumerate(clips):
            if c.origin == "corpus":
                out[i] = spaces.vector(space, c.id)
                continue
            path = self._vector_path(space, c.id)
            try:
                out[i] = np.load(path, allow_pickle=False)
            except (OSError, ValueError):
                todo.append(i)
        for s in range(0, len(todo), BATCH):
            chunk = todo[s:s + BATCH]
            vecs = spaces.embed_many(space, [self.state.clip_audio(clips[i]).samples for i in chunk])
            for i, v in zip(chunk, vecs):
                out[i] = v
                path = self._vector_path(space, clips[i].id)
                path.parent.mkdir(parents=True, exist_ok=True)
                write_bytes_atomic(path, _npy(v))
            if progress:
                progress((s + len(chunk)) / len(todo))
        dim = spaces.info(space)["dim"]
        return np.stack(out).astype(np.float32) if out else np.zeros((0, dim), np.float32)

    # -- predictions --------------------------------------------------------------------------
    def _prediction_path(self, clip_id: str) -> Path:
        return self.root / "predictions" / (self.model_tag or "none") / f"{_hashed(clip_id)}.json"

    def _evidence(self, features: list[torch.Tensor]) -> list[list]:
        """``[predicted class index, confidence, trust score or None]`` of each clip's log-mel."""
        model = self.state.models[self.model_id]
        ev = evidence(model, features, self.state.device)
        conf, pred = ev.probabilities.max(1)
        trust = (TrustModel.from_dict(model.cfg.trust).score(ev.trust).tolist() if getattr(model.cfg, "trust", None)
                 else [None] * len(features))
        return [[int(p), round(float(c), 4), None if t is None else round(float(t), 4)]
                for p, c, t in zip(pred.tolist(), conf.tolist(), trust)]

    def _corpus(self) -> dict:
        if self._corpus_predictions is None:
            path = self.root / f"predictions-{self.model_tag}.json"
            try:
                self._corpus_predictions = json.loads(path.read_text())
            except (OSError, ValueError):
                features = self.state.corpus_features()
                ids = list(features)
                found = self._evidence([features[i] for i in ids])
                self._corpus_predictions = dict(zip(ids, found))
                write_bytes_atomic(path, json.dumps(self._corpus_predictions).encode())
        return self._corpus_predictions

    def predictions(self, clips: list[ClipRef], progress: Progress | None = None) -> dict[str, list]:
        """``{clip id: [predicted class index, confidence, trust score or None]}`` (empty
        without a model that predicts with prototypes)."""
        if self.model_id is None:
            return {}
        out = {}
        if any(c.origin == "corpus" for c in clips):
            corpus = self._corpus()
            out.update({c.id: corpus[c.id] for c in clips if c.origin == "corpus" and c.id in corpus})
        todo = []
        for c in clips:
            if c.origin == "corpus":
                continue
            try:
                out[c.id] = json.loads(self._prediction_path(c.id).read_text())
            except (OSError, ValueError):
                todo.append(c)
        cfg = self.state.bundle.audio
        for s in range(0, len(todo), BATCH):
            chunk = todo[s:s + BATCH]
            found = self._evidence([log_mel(self.state.clip_audio(c).samples, cfg) for c in chunk])
            for c, f in zip(chunk, found):
                out[c.id] = f
                path = self._prediction_path(c.id)
                path.parent.mkdir(parents=True, exist_ok=True)
                write_bytes_atomic(path, json.dumps(f).encode())
            if progress:
                progress((s + len(chunk)) / len(todo))
        return out

    # -- the answer ---------------------------------------------------------------------------
    def _answer(self, key: MapKey, clips: list[ClipRef], fit: Fit, xy: np.ndarray, placed: list[int],
                predictions: dict, base: Base | None) -> bytes:
        n = len(clips)
        classes = list(self.state.bundle.classes)
        extra = sorted({c.label for c in clips if c.label and c.label not in classes})
        classes += extra
        code = {name: i for i, name in enumerate(classes)}
        model_classes = list(self.state.bundle.classes)
        pred = [predictions.get(c.id) for c in clips]
        trust_threshold = None
        if self.model_id and getattr(self.state.models[self.model_id].cfg, "trust", None):
            trust_threshold = round(float(self.state.models[self.model_id].cfg.trust["threshold"]), 4)
        body = {
            "source": key.source, "space": key.space, "method": key.method, "n": n,
            "on": base.key.source if base else None,
            "axes": _axes(fit.projection),
            "fit": {"fingerprint": fit.record["fingerprint"], "fitted": len(fit.rows), "placed": len(placed),
                    "fitted_at": fit.record["fitted_at"]},
            "ids": [c.id for c in clips],
            "x": np.round(xy[:, 0].astype(np.float64), 5).tolist(),
            "y": np.round(xy[:, 1].astype(np.float64), 5).tolist(),
            "placed": placed,
            "classes": classes,
            "label": [code.get(c.label, -1) if c.label else -1 for c in clips],
            "model": self.model_id if predictions else None,
            "prediction": [code[model_classes[p[0]]] if p else -1 for p in pred],
            "confidence": [p[1] if p else None for p in pred],
            "trust": [p[2] if p else None for p in pred],
            "trust_threshold": trust_threshold,
            "tags": _tag_columns(clips),
        }
        return json.dumps(body, separators=(",", ":")).encode()


def _axes(projection: Projection) -> list[str]:
    if projection.method == "pca":
        share = projection.arrays.get("explained", np.zeros(2))
        return [f"principal axis {i + 1} ({100 * float(s):.0f} % of the variation)" for i, s in enumerate(share)]
    return ["UMAP 1", "UMAP 2"]


def _tag_columns(clips: list[ClipRef]) -> dict[str, dict]:
    """``{tag: {"values": [...], "codes": [index per clip, -1 none]}}`` for tags with at most
    ``MAX_TAG_VALUES`` distinct values."""
    names = []
    for c in clips:
        for name in c.tags or {}:
            if name not in names:
                names.append(name)
    out = {}
    for name in names:
        column = [(c.tags or {}).get(name) for c in clips]
        values = sorted({str(v) for v in column if v not in (None, "")}, key=_natural)
        if not values or len(values) > MAX_TAG_VALUES:
            continue
        code = {v: i for i, v in enumerate(values)}
        out[name] = {"values": values, "codes": [code.get(str(v), -1) if v not in (None, "") else -1 for v in column]}
    return out


def _natural(value: str):
    try:
        return (0, float(value), value)
    except ValueError:
        return (1, 0.0, value)


def _npy(vector: np.ndarray) -> bytes:
    import io

    buf = io.BytesIO()
    np.save(buf, np.asarray(vector, dtype=np.float32), allow_pickle=False)
    return buf.getvalue()


def too_few(method: str, n: int) -> str | None:
    """A sentence when ``n`` clips are too few for ``method``, else None."""
    need = MIN_CLIPS[method]
    if n >= need:
        return None
    if n == 0:
        return "This source has no clips yet, so there is nothing to map."
    return f"A {method.upper()} map needs at least {need} clips; this source has {n}."


_MAPS_LOCK = threading.Lock()


def maps_of(state: AppState) -> Maps:
    """The :class:`Maps` of ``state``, made on first use."""
    with _MAPS_LOCK:
        found = getattr(state, "maps", None)
        if found is None:
            found = state.maps = Maps(state)
        return found
