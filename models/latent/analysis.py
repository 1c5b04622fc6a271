"""What the latent prototype model says about one clip, as a whole and over time."""
from __future__ import annotations

from dataclasses import dataclass

import torch

from ..audio import AudioConfig


@dataclass
class Timeline:
    """Windows of a long clip, each classified on its own.

    times_s: ``(W,)`` start of each window in seconds.
    similarities: ``(W, K)`` similarity of each window to each prototype.
    scores: ``(W, C)`` class probabilities of each window.
    """

    times_s: torch.Tensor
    similarities: torch.Tensor
    scores: torch.Tensor


@torch.inference_mode()
def timeline(model, x: torch.Tensor, frame_seconds: float, hop_frames: int | None = None) -> Timeline:
    """Slide a window of the decoder's length (``model.cfg.frames``) over ``x (F, T)``.

    A clip no longer than one window gives one window (the whole clip). ``hop_frames``
    defaults to half a window. ``frame_seconds`` is the bundle's ``AudioConfig.frame_seconds``.

    Examples
    --------
    >>> tl = timeline(model, torch.rand(128, 400), AudioConfig().frame_seconds)    # doctest: +SKIP
    >>> tl.similarities.shape                                                       # doctest: +SKIP
    torch.Size([8, 48])
    """
    model.eval()
    L = model.cfg.frames
    hop = hop_frames or max(1, L // 2)
    T = x.shape[-1]
    starts = list(range(0, max(T - L, 0) + 1, hop))
    if T > L and starts[-1] != T - L:
        starts.append(T - L)  # the end of the clip gets a window too
    device = model.prototypes.device
    windows = torch.stack([x[:, s:s + L] for s in starts]).to(device)  # (W, F, <= L)
    sims, scores = [], []
    for chunk in windows.split(64):
        out = model(chunk)
        sims.append(out.similarities.float().cpu())
        scores.append(out.scores.float().cpu())
    return Timeline(torch.tensor(starts, dtype=torch.float32) * frame_seconds, torch.cat(sims), torch.cat(scores))


def analyse_latent(model, x: torch.Tensor, class_names: list[str], audio: AudioConfig) -> dict:
    """One clip's analysis as the app keeps it: prediction, the clip's distance and similarity
    to every prototype, and (for a clip longer than one window) the closest prototype per window.

    ``x (F, T)`` is the clip's log-mel, ``class_names`` the ``C`` classes in the model's order,
    ``audio`` the bundle's settings (``frame_seconds``). Returns ``{"prediction": [{"label",
    "score"}] best first, "prototypes": [{"index", "label", "error" (the distance), "similarity"}],
    "timeline": [{"start_s", "end_s", "prototype", "label"}]}`` (seconds).
    """
    out = model(x.unsqueeze(0))
    owner = model.prototype_class.tolist()
    prediction = sorted(({"label": class_names[c], "score": float(s)} for c, s in enumerate(out.scores[0].tolist())),
                        key=lambda p: -p["score"])
    prototypes = [{"index": k, "label": class_names[owner[k]], "error": float(d), "similarity": float(sim)}
                  for k, (d, sim) in enumerate(zip(out.distances[0].tolist(), out.similarities[0].tolist()))]
    tl = timeline(model, x, audio.frame_seconds)
    window = model.cfg.frames * audio.frame_seconds
    duration = x.shape[-1] * audio.frame_seconds
    segments = []
    if len(tl.times_s) > 1:
        for start, sims in zip(tl.times_s.tolist(), tl.similarities):
            k = int(sims.argmax())
            segments.append({"start_s": round(start, 3), "end_s": round(min(start + window, duration), 3),
                             "prototype": k, "label": class_names[owner[k]]})
    return {"prediction": prediction, "prototypes": prototypes, "timeline": segments}


@torch.inference_mode()
def collection_figures(model, features: list[torch.Tensor], device="cpu", batch_size: int = 64):
    """What a collection's table shows of clips ``[(F, T_i)]``: ``(distances (N, K), class
    probabilities (N, C), None, None)`` - a latent model has no trust score."""
    from ..metrics import batches_by_length

    model.eval()
    errors = torch.empty(len(features), model.cfg.n_prototypes)
    probs = torch.empty(len(features), model.cfg.n_classes)
    for chunk, x in batches_by_length(features, batch_size, device):
        out = model(x)
        errors[chunk], probs[chunk] = out.errors.float().cpu(), out.scores.float().cpu()
    return errors, probs, None, None
