"""Raw vectors of clips in every space whose models are at hand (see :data:`.registry.SPACES`)."""
from __future__ import annotations

import numpy as np
import torch
import torch.nn as nn
from tqdm import tqdm

from ..audio import load_audio, log_mel
from ..bundle import Bundle
from ..kinds import kinds_showing
from .. import aisfx_network
from . import aisfx, learned, pitch, profile, tags, timbre
from .registry import SPACES


def space_model_id(bundle: Bundle) -> str | None:
    """The model of the ``learned`` and ``prototype-profile`` spaces: the bundle's first model
    whose kind gives them (a spectral prototype model); None without one."""
    giving = {kind.name for kind in kinds_showing("embedding_spaces")}
    return next((m.id for m in bundle.models.values() if m.kind in giving), None)


def decode_clips(paths, sample_rate: int, progress: bool, desc: str) -> list[np.ndarray]:
    """The audio files at ``paths`` as 1-D float arrays at ``sample_rate`` (a progress bar named
    ``desc`` when ``progress``)."""
    return [load_audio(p, sample_rate).samples for p in tqdm(paths, desc=desc, unit="clip",
                                                              disable=not progress, leave=False)]


class Embedder:
    """Raw vectors of clips in the spaces whose models it holds.

    Parameters
    ----------
    bundle : the bundle (its audio settings and its prototype model).
    device : where models run.
    model_id : the prototype model of the ``learned`` and ``prototype-profile`` spaces
        (default: :func:`space_model_id`; without one these spaces are left out).
    tags_model : a trained :class:`~auralens.models.embeddings.tags.TagsModel`, or None (no tags space).
    aisfx_encoder : the pretrained encoder, or None (no aisfx space).
    models : the bundle's models already loaded on ``device``, in eval mode (``{model id: model}``,
        as the app holds them): the prototype model is taken from there instead of loaded again.
    """

    def __init__(self, bundle: Bundle, device="cpu", model_id: str | None = None,
                 tags_model: tags.TagsModel | None = None, aisfx_encoder: aisfx_network.AisfxEncoder | None = None,
                 models: dict[str, nn.Module] | None = None):
        self.bundle, self.device = bundle, torch.device(device)
        if model_id is None:
            model_id = space_model_id(bundle)
        self.model_id = bundle.entry(model_id).id if model_id is not None else None
        self.model = None
        if self.model_id is not None:
            loaded = (models or {}).get(self.model_id)
            self.model = loaded if loaded is not None else bundle.load_model(self.model_id, device=self.device)
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
