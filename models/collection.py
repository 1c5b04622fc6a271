"""A whole collection through a model at once: for each clip the predicted class, how sure the
model is, whether the clip is like what it knows (trust), the prototype that explains it best
and how well.

One code path for the app's collection job and for ``auralens analyse``: clips are read,
turned into log-mels and sent through the model in batches of equal length (each model kind's
``collection_figures``, :mod:`auralens.models.kinds`); the batches run here, one after another,
or - given a Ray cluster - as Ray tasks, each worker loading the bundle once.

Shapes: N clips, K prototypes, C classes.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Sequence

import torch

from .audio import AudioError, load_audio, log_mel
from .kinds import kind_of

@torch.inference_mode()
def clip_figures(model, features: list[torch.Tensor], class_names: list[str], device="cpu",
                 batch_size: int = 32) -> list[dict]:
    """The figures of clips ``[(F, T_i)]`` of any lengths (equal lengths batched together).

    Parameters
    ----------
    model : a spectral or latent prototype model of a bundle.
    features : log-mels of the clips, each ``(F, T_i)``.
    class_names : the model's ``C`` classes in its order.

    Returns
    -------
    list of dict, one per clip: ``prediction`` (class name), ``confidence`` (its probability,
    0..1), ``trusted`` (True: like what the model knows, False: unlike it, None: the model has
    no trust score), ``trust_score`` (0..1 or None), ``best_prototype`` (index k),
    ``best_prototype_label`` (its class), ``error`` (the best prototype's reconstruction error,
    or for a latent model its distance).

    Example
    -------
    >>> clip_figures(model, [log_mel(y) for y in clips], bundle.classes)[0]["prediction"]  # doctest: +SKIP
    'cello'
    """
    if not features:
        return []
    errors, probs, scores, threshold = kind_of(model).collection_figures(model, features, device, batch_size)
    owner = model.prototype_class.tolist()
    confidence, predicted = probs.max(1)
    best_error, best = errors.min(1)
    rows = []
    for i in range(len(features)):
        k = int(best[i])
        score = None if scores is None else round(float(scores[i]), 4)  # the model's trust, when it has one
        rows.append({"prediction": class_names[int(predicted[i])], "confidence": round(float(confidence[i]), 6),
                     "trusted": None if score is None else bool(score >= threshold), "trust_score": score,
                     "best_prototype": k, "best_prototype_label": class_names[owner[k]],
                     "error": float(best_error[i])})
    return rows


@dataclass
class Analyser:
    """What analyses a batch of audio files: a bundle's model, loaded where it runs.

    ``bundle`` is a bundle folder (None: the default bundle), ``model_id`` one of its models
    (None: its first). Built with ``model=`` (an already loaded model, e.g. the app's) it uses
    that one here; sent to a Ray worker it loads the bundle there, once per worker process.

    Calling it on paths gives one row per path: the :func:`clip_figures` and ``duration_s``, or
    ``{"skipped": reason}`` for a file that cannot be used as audio.
    """

    bundle: str | None = None
    model_id: str | None = None
    device: str = "cpu"
    batch_size: int = 32
    model: object = field(default=None, repr=False, compare=False)
    classes: list[str] | None = field(default=None, repr=False, compare=False)
    audio: object = field(default=None, repr=False, compare=False)

    def __getstate__(self):  # a Ray worker loads the bundle itself; the loaded model stays here
        return {**self.__dict__, "model": None, "classes": None, "audio": None}

    def _load(self) -> None:
        if self.model is None:
            from .bundle import load_bundle

            loaded = _LOADED.get((self.bundle, self.model_id, self.device))
            if loaded is None:
                b = load_bundle(self.bundle)
                entry = b.entry(self.model_id)
                loaded = (b.load_model(entry.id, device=self.device), b.classes, b.audio)
                _LOADED[(self.bundle, self.model_id, self.device)] = loaded
            self.model, self.classes, self.audio = loaded

    def __call__(self, paths: Sequence[str | Path]) -> list[dict]:
        self._load()
        rows: list[dict | None] = [None] * len(paths)
        features, where = [], []
        for i, path in enumerate(paths):
            try:
                samples = load_audio(path, self.audio.sample_rate, max_seconds=None, min_samples=0).samples
            except (AudioError, OSError) as err:
                rows[i] = {"skipped": str(err)}
                continue
            features.append(log_mel(samples, self.audio))
            where.append((i, len(samples) / self.audio.sample_rate))
        figures = clip_figures(self.model, features, self.classes, self.device, self.batch_size)
        for (i, duration), row in zip(where, figures):
            rows[i] = {**row, "duration_s": round(duration, 4)}
        return rows


_LOADED: dict = {}  # (bundle, model id, device) -> (model, classes, audio config), per process


def _batches(n: int, size: int) -> list[range]:
    return [range(start, min(start + size, n)) for start in range(0, n, size)]


def analyse_clips(analyser: Analyser, paths: Sequence[str | Path], batch_clips: int = 32,
                  on_batch: Callable[[list[int], list[dict]], None] | None = None,
                  ray_address: str | None = None) -> list[dict]:
    """Analyse audio files ``paths`` in batches of ``batch_clips``: one row per path, in order.

    Parameters
    ----------
    analyser : what analyses one batch (:class:`Analyser`).
    paths : the audio files.
    batch_clips : files per batch (a Ray task analyses one batch).
    on_batch : called with ``(indices into paths, rows)`` as each batch is done (in the order
        they finish), e.g. to store the rows or report progress; an exception it raises stops
        the analysis.
    ray_address : a Ray cluster (``"auto"``, ``"ray://host:10001"``, or ``"local"`` for a Ray
        started here) to map the batches over as Ray tasks; None: here, one batch after another.

    Returns
    -------
    list of dict: :attr:`Analyser.__call__`'s rows.

    Example
    -------
    >>> rows = analyse_clips(Analyser(), ["a.wav", "b.flac"])           # doctest: +SKIP
    >>> rows[0]["prediction"], rows[0]["best_prototype"]                # doctest: +SKIP
    ('cello', 4)
    """
    paths = [str(p) for p in paths]
    out: list[dict | None] = [None] * len(paths)

    def done(idx: list[int], rows: list[dict]) -> None:
        for i, row in zip(idx, rows):
            out[i] = row
        if on_batch is not None:
            on_batch(idx, rows)

    batches = _batches(len(paths), max(1, int(batch_clips)))
    if ray_address is None:
        for idx in batches:
            done(list(idx), analyser([paths[i] for i in idx]))
    else:
        for idx, rows in ray_batches(analyser, [[paths[i] for i in idx] for idx in batches], ray_address):
            done(list(batches[idx]), rows)
    return out  # type: ignore[return-value]


def ray_batches(analyser: Analyser, batches: list[list[str]], address: str) -> Iterable[tuple[int, list[dict]]]:
    """Run ``analyser`` on each batch as a Ray task on the cluster at ``address`` (``"local"``:
    the Ray already started in this process, or a new local one); yields ``(batch index,
    rows)`` as the tasks finish. Ray is an optional extra: ``pip install auralens[ray]``."""
    try:
        import ray
    except ImportError:
        raise ValueError("Running on a Ray cluster needs Ray: pip install 'auralens[ray]'.") from None
    if not ray.is_initialized():
        ray.init(address=None if address == "local" else address, ignore_reinit_error=True,
                 log_to_driver=False, include_dashboard=False)
    task = ray.remote(_run_batch)
    pending = {task.remote(analyser, batch): i for i, batch in enumerate(batches)}
    while pending:
        ready, _ = ray.wait(list(pending), num_returns=1)
        for ref in ready:
            yield pending.pop(ref), ray.get(ref)


def _run_batch(analyser: Analyser, paths: list[str]) -> list[dict]:
    torch.set_num_threads(1)  # one core per Ray worker
    return analyser(paths)

