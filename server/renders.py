"""Sounds the app renders from mel spectrograms (Griffin-Lim, or partials at the pitch a
prototype with a reference plays), kept in the render cache:
reconstructions of an analysed clip, and latent prototypes through their decoder.

Used by the analysis and model routers and by exports alike, so that a sound rendered for one
is cached for the others. A reconstruction is rendered by window, at most ``render_window_s``
seconds at once, so that no request of a long clip holds a worker for long.
"""
from __future__ import annotations

from collections import defaultdict
from typing import NamedTuple

import torch

from auralens.models.audio import encode_wav, log_mel_to_audio
from auralens.models.kinds import kind_of
from auralens.models.prototypes.sound import reconstruction_audio, reconstruction_pitch

from .errors import Invalid
from .state import AppState

PRERENDER_OTHERS = 3  # besides the winner at every stage, the next best prototypes at the last stage


def stage_or_last(state: AppState, found: dict, stage: str | None) -> str:
    """``stage``, or when None the last stage of the analysis's model (what it decides with);
    a model that shows no reconstructions is :class:`Invalid`."""
    if stage is not None:
        return stage
    return state.model_showing(found["model"], "reconstructions", "Reconstruction stage by stage").model.stage


def reconstruction(state: AppState, found: dict, k: int, stage: str):
    """Prototype ``k``'s reconstruction of a stored analysis's clip at ``stage``:
    ``(model, clip, x (F, T), reconstruction (F, T), transforms)``; raises NotFound / Invalid."""
    state.model_showing(found["model"], "reconstructions", "Reconstruction stage by stage")
    _, model = state.prototype(found["model"], k)
    _check_stage(model, stage)
    clip = state.find_clip(found["clip_id"])
    x = state.clip_features(clip)
    rec, tr = model.reconstruct(x.unsqueeze(0), stage, k=torch.tensor([k], device=x.device))
    return model, clip, x, rec[0, 0], tr


def _check_stage(model, stage: str) -> None:
    """A stage the model was not trained up to is :class:`Invalid`."""
    if stage not in kind_of(model).stages_of(model):
        raise Invalid(f"This model was trained up to the '{model.stage}' stage only.")


class Window(NamedTuple):
    """The stretch of a clip rendered at once: frames ``start`` to ``end`` (excluded), and the
    same in seconds."""

    start: int
    end: int
    start_s: float
    end_s: float


def render_window(state: AppState, n_frames: int, start_s: float = 0.0) -> Window:
    """The window of at most ``render_window_s`` seconds of a clip of ``n_frames`` frames that
    starts at ``start_s`` seconds; a start at or past the clip's end is :class:`Invalid`."""
    cfg = state.bundle.audio
    start = int(round(start_s / cfg.frame_seconds))
    if start_s > 0 and start >= n_frames - 1:
        raise Invalid(f"The clip is {cfg.n_samples(n_frames) / cfg.sample_rate:.2f} s long; a rendering cannot "
                      f"start at {start_s:g} s.")
    end = min(n_frames, start + cfg.n_frames(int(state.settings.render_window_s * cfg.sample_rate)))
    return Window(start, end, start * cfg.frame_seconds, (end - 1) * cfg.frame_seconds)


def render_key(analysis_id: str, k: int, stage: str, window_start: int = 0) -> tuple:
    """The render cache's key of prototype ``k``'s reconstruction at ``stage`` from frame ``window_start``."""
    return analysis_id, k, stage, window_start


def reconstruction_wavs(state: AppState, found: dict, items: list[tuple[int, str]],
                        start_s: float = 0.0) -> list[tuple[bytes, float]]:
    """WAVs (and the gain applied, dB) of reconstructions ``(k, stage)`` of an analysis, over
    the :func:`render_window` that starts at ``start_s`` seconds: one network pass per stage,
    one Griffin-Lim batch for all; each kept in the render cache."""
    state.model_showing(found["model"], "reconstructions", "Reconstruction stage by stage")
    for k, _ in items:
        _, model = state.prototype(found["model"], k)  # 404 for a prototype that does not exist
    x = state.clip_features(state.find_clip(found["clip_id"]))
    window = render_window(state, x.shape[-1], start_s)
    by_stage = defaultdict(list)
    for k, stage in items:
        _check_stage(model, stage)
        by_stage[stage].append(k)
    recs, pitches = {}, {}
    for stage, ks in by_stage.items():
        rec, tr = model.reconstruct(x.unsqueeze(0), stage, k=torch.tensor(ks, device=x.device))  # (1, K', F, T)
        recs.update({(k, stage): r[..., window.start:window.end] for k, r in zip(ks, rec[0])})
        pitch = reconstruction_pitch(model, tr, ks, x.shape[-1])  # (K', T) MIDI or None
        if pitch is not None:
            pitches.update({(k, stage): p[window.start:window.end] for k, p in zip(ks, pitch)})
    cfg = state.bundle.audio
    audio = reconstruction_audio(torch.stack([recs[item] for item in items]),
                                 torch.stack([pitches[item] for item in items]) if pitches else None,
                                 cfg, cfg.n_samples(window.end - window.start))
    return [state.renders.put(render_key(found["id"], k, stage, window.start), encode_wav(a, cfg.sample_rate))
            for (k, stage), a in zip(items, audio)]


def prerender(state: AppState, found: dict) -> None:
    """Render what a listener plays first - the winning prototype at every stage and the next
    best ones - so that it is in the cache before it is asked for."""
    model = state.models.get(found["model"])
    if model is None or not kind_of(model).shows.reconstructions:
        return
    stages = kind_of(model).stages_of(model)
    ranked = [p["index"] for p in sorted(found["prototypes"], key=lambda p: p["error"])]
    for batch in ([(ranked[0], s) for s in stages], [(k, stages[-1]) for k in ranked[1:1 + PRERENDER_OTHERS]]):
        batch = [(k, s) for k, s in batch if state.renders.get(render_key(found["id"], k, s)) is None]
        if batch:  # the winner's stages first, ready sooner
            reconstruction_wavs(state, found, batch)


def decoded_prototype_wav(state: AppState, model_id: str, k: int) -> tuple[bytes, float]:
    """A latent prototype through its decoder, as a WAV (and the gain applied); cached."""
    key = ("latent", model_id, k, "decoded")
    cached = state.renders.get(key)
    if cached is None:
        cfg = state.bundle.audio
        cached = state.renders.put(key, encode_wav(log_mel_to_audio(state.decoded_prototypes(model_id)[k], cfg),
                                                   cfg.sample_rate))
    return cached
