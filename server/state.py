"""What the app holds while it runs: the bundle's models (loaded once), storage, the worker."""
from __future__ import annotations

import asyncio
import logging
import threading
from pathlib import Path
from typing import NamedTuple

import torch
import torch.nn as nn

import soundfile as sf

from auralens.models.audio import load_audio, log_mel
from auralens.models.bundle import Bundle, best_clips, load_bundle, read_concept_sets, read_corpus, read_nearest_clips
from auralens.models.latent import prototype_log_mel
from auralens.models.runtime import release_freed_memory
from auralens.models.concepts import ConceptCache, describe_layers
from auralens.models.embeddings import load_spaces
from auralens.models.embeddings.aspects import Aspects
from auralens.models.kinds import kind_of, kinds_showing

from .clip_ref import ClipRef
from .config import Settings
from .errors import Invalid, NotFound
from .fair import ASKER, FairQueue
from .jobs import Jobs
from .lru import LRU
from .storage import Storage, StoredClip

log = logging.getLogger("auralens")
SPIKE_S = 0.5  # model work longer than this may have left much freed memory behind


class LoadedModel(NamedTuple):
    """A model of the bundle as the app serves it: its id in the bundle and the network."""

    id: str
    model: nn.Module


def models_showing(capability: str) -> str:
    """The models whose kind shows ``capability``, in words ("spectral prototype models")."""
    return " or ".join(f"{kind.noun}s" for kind in kinds_showing(capability))


class AppState:
    def __init__(self, bundle: str | Path | None, device: str, settings: Settings):
        self.bundle: Bundle = load_bundle(bundle)
        self.device = device
        self.settings = settings
        self.models = {mid: self.bundle.load_model(mid, device=device) for mid in self.bundle.models}
        self.corpus = {}
        for c in read_corpus(self.bundle.path):
            info = sf.info(c.path)
            self.corpus[c.id] = ClipRef(c.id, "corpus", c.path.name, info.duration, info.samplerate, c.path,
                                        c.label, c.split, c.tags)
        self.best_clips = best_clips(self.bundle.path)
        self.concept_index, self.concept_sets = read_concept_sets(self.bundle.path)
        self.spaces = (load_spaces(self.bundle, device, models=self.models) if self.bundle.extra.get("embeddings")
                       else None)
        self.neighbours = LRU(2048)  # (clip id, space, k) -> neighbours
        self.clip_tables = LRU(16)  # (owner, source, model) -> (version, table) (server/source_tables.py)
        self.concept_cache = ConceptCache(max_bytes=256 * 2**20)  # activations and CAVs, by content
        self.aspects = Aspects.from_spaces(self.spaces) if self.spaces is not None else None  # blended spaces
        self.verdicts = LRU(200_000)  # (model id, clip id) -> what the model says of the clip, in brief
        self._corpus_features: dict[str, torch.Tensor] | None = None
        self._layers: dict[int, list[dict]] = {}
        self._derived: dict = {}
        self._lock = threading.Lock()
        self._background_lock = threading.Lock()
        self._background = None  # the latest best-effort work waiting for idle workers
        self._closing = False
        # clip id -> (F, T) log-mel on the device (a 10-minute clip is 13 MB)
        self.features = LRU(64, max_bytes=256 * 2**20, weigh=lambda x: x.numel() * x.element_size())
        # (analysis, k, stage) -> (WAV bytes, gain dB); a 10-minute render is 26 MB
        self.renders = LRU(512, max_bytes=512 * 2**20, weigh=lambda item: len(item[0]))
        self.storage = None
        self.open()

    def open(self) -> None:
        """Open the data directory and start the workers (again, after :meth:`close`)."""
        if self.storage is not None:
            return
        self.storage = Storage(self.settings.data_dir)
        self.jobs = Jobs(self.storage, self.settings.pending_jobs, self.settings.asker_jobs)
        self._closing = False
        # One intra-op thread per worker: the many small operations of Griffin-Lim and of a
        # single clip's analysis run twice as fast that way off the main thread, and the
        # workers share the cores between concurrent requests instead of contending.
        self._queue = FairQueue(self.settings.workers, self.settings.queue_size, self.settings.asker_queue, "model",
                                initializer=lambda: torch.set_num_threads(1), on_idle=self._idle)

    def model(self, model_id: str | None) -> LoadedModel:
        """A model of the bundle by id (None: the bundle's first); an unknown id is :class:`NotFound`."""
        if model_id is None:
            return LoadedModel(self.bundle.entry().id, self.models[self.bundle.entry().id])
        if model_id not in self.models:
            raise NotFound(f"This bundle has no model '{model_id}'; it has: {', '.join(self.models)}.")
        return LoadedModel(model_id, self.models[model_id])

    def model_showing(self, model_id: str | None, capability: str, what: str) -> LoadedModel:
        """A model whose kind shows ``capability`` (a field of :class:`~auralens.models.kinds.Shows`;
        None: the bundle's first such model); one of another kind is :class:`Invalid`, saying
        ``what`` needs one."""
        if model_id is None:
            model_id = next((m for m, x in self.models.items() if getattr(kind_of(x).shows, capability)), None)
        model_id, model = self.model(model_id)
        if not getattr(kind_of(model).shows, capability):
            raise Invalid(f"{what} is for {models_showing(capability)}; '{model_id}' is a "
                          f"{self.bundle.models[model_id].kind} model.")
        return LoadedModel(model_id, model)

    def prototype(self, model_id: str | None, k: int) -> LoadedModel:
        """The model holding prototype ``k``; a prototype that does not exist is :class:`NotFound`."""
        model_id, model = self.model(model_id)
        if not 0 <= k < model.cfg.n_prototypes:
            raise NotFound(f"Prototype {k} does not exist; this model has "
                           f"{model.cfg.n_prototypes} (0 to {model.cfg.n_prototypes - 1}).")
        return LoadedModel(model_id, model)

    async def run(self, fn, *args, long: bool = False):
        """Run model work on a worker thread, shared fairly between askers (see
        :mod:`auralens.server.fair`; the asker is the request's, :data:`~auralens.server.fair.ASKER`).
        ``long``: work that may take seconds (a rendering). A full queue, or an asker holding
        their whole share, is :class:`Busy` (the client may retry)."""
        asker, lane = ASKER.get()
        future = self._queue.submit(asker, lane, _inference, fn, *args, long=long)
        return await asyncio.wrap_future(future)

    def _idle(self, longest_s: float) -> None:
        """The workers have fallen idle: start the best-effort work, or - after work that took
        long (a long clip, a rendering) - give the memory it freed back to the system, so that
        the server returns near its working set."""
        if self._background is None:
            if longest_s > SPIKE_S:
                release_freed_memory()
        else:
            self._start_background()

    def run_when_idle(self, fn) -> None:
        """Best-effort work for later (e.g. rendering sounds a user is likely to play next):
        started at once when no request is waiting or running, otherwise kept until the
        workers fall idle - only the latest such work is kept, older ones are dropped. It never
        delays a request for long; failures are logged, never raised."""
        with self._background_lock:
            self._background = fn
        self._start_background()

    def _start_background(self) -> None:
        with self._background_lock:
            if self._queue.pending or self._background is None or self._closing:
                return
            fn, self._background = self._background, None
            future = self._queue.submit("", "", _inference, fn, long=True, bounded=False)

        def done(f):
            if f.exception() is not None:
                log.warning("background work failed: %s", f.exception())
        future.add_done_callback(done)

    def upload_ref(self, clip: StoredClip) -> ClipRef:
        return ClipRef(clip.id, clip.origin, clip.name, clip.duration_s, clip.sample_rate,
                       self.storage.audio_path(clip.sha256, clip.ext), label=clip.label,
                       canonical=self.storage.canonical_path(clip.sha256, self.bundle.audio.sample_rate))

    def find_clip(self, clip_id: str, owner: str | None = None) -> ClipRef:
        """An upload or a corpus clip by id; an unknown id is :class:`NotFound`, and so is, with
        ``owner``, another user's upload."""
        if clip_id in self.corpus:
            return self.corpus[clip_id]
        stored = self.storage.clip(clip_id, owner)
        if stored is None:
            raise NotFound(f"There is no clip '{clip_id}'.")
        return self.upload_ref(stored)

    def clip_audio(self, clip: ClipRef):
        """Decoded audio of a clip at the bundle's rate. An upload is decoded once: its canonical
        mono audio is kept beside it (made now for one uploaded before it was kept)."""
        rate = self.bundle.audio.sample_rate
        if clip.canonical is not None and clip.canonical.is_file():
            return load_audio(clip.canonical, rate, max_seconds=None, min_samples=0)
        audio = load_audio(clip.path, rate, max_seconds=None, min_samples=0)
        if clip.canonical is not None:
            self.storage.keep_canonical(clip.canonical, audio.samples, rate)
        return audio

    def clip_features(self, clip: ClipRef) -> torch.Tensor:
        cached = self.features.get(clip.id)
        if cached is None:
            cached = self.features.put(clip.id, log_mel(self.clip_audio(clip).samples, self.bundle.audio, self.device))
        return cached

    def corpus_features(self) -> dict[str, torch.Tensor]:
        """Log-mels of every corpus clip (on the CPU), computed once."""
        with self._lock:
            if self._corpus_features is None:
                self._corpus_features = {cid: log_mel(self.clip_audio(c).samples, self.bundle.audio)
                                         for cid, c in self.corpus.items()}
            return self._corpus_features

    def layers(self, model) -> list[dict]:
        """The model's layers with their output shapes for a 1 s clip, found once."""
        with self._lock:
            if id(model) not in self._layers:
                example = torch.zeros(1, self.bundle.audio.n_mels, self.bundle.audio.n_frames(self.bundle.audio.sample_rate),
                                      device=next(model.parameters()).device)
                with torch.no_grad():
                    self._layers[id(model)] = describe_layers(model, example)
            return self._layers[id(model)]

    def decoded_prototypes(self, model_id: str) -> torch.Tensor:
        """A latent model's prototypes through its decoder, ``(K, F, frames)`` on the CPU, once."""
        with self._lock:
            key = ("decoded", model_id)
            if key not in self._derived:
                self._derived[key] = prototype_log_mel(self.models[model_id])
            return self._derived[key]

    def nearest_clips(self, model_id: str) -> list:
        """The training clip nearest to each prototype of a latent model, as the bundle keeps them."""
        with self._lock:
            key = ("nearest", model_id)
            if key not in self._derived:
                self._derived[key] = read_nearest_clips(self.bundle.path, model_id)
            return self._derived[key]

    def close(self) -> None:
        if self.storage is None:
            return
        with self._background_lock:
            self._closing, self._background = True, None  # nothing new on the workers from here
        self.jobs.close()
        self._queue.close()
        self.storage.close()
        self.storage = None


def _inference(fn, *args):
    with torch.inference_mode():
        return fn(*args)

