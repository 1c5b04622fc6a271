"""Everything the explorer shows about one clip: prediction, errors at every stage,
reconstructions by every prototype at every stage, and the transformations in human units."""
from __future__ import annotations

from dataclasses import dataclass

import torch

from ..audio import AudioConfig
from .model import PrototypeModel
from .transforms import STAGES, Transforms, frame_errors, reconstruct


@dataclass
class Analysis:
    """The model's account of one clip (T frames, K prototypes, F bands, C classes).

    scores: ``(C,)`` class probabilities, ``softmax(-tau * class error)``.
    stage_errors: ``(S, K)`` mean error of each prototype with the stages' transformations
        switched on cumulatively (raw, + gain, + pitch, + filters).
    frame_errors: ``(K, T)`` per-frame error at the last stage (for the timeline).
    reconstructions: ``(S, K, F, T)`` log-mel reconstructions, or None when not asked for.
    units: ``{"gain_db", "shift_semitones", "low_cut_hz", "low_edge_db", "high_cut_hz",
        "high_edge_db"}`` each ``(K, T)``: the transformations as a person reads them.
    """

    scores: torch.Tensor
    stage_errors: torch.Tensor
    frame_errors: torch.Tensor
    reconstructions: torch.Tensor | None
    units: dict[str, torch.Tensor]


def transforms_in_units(model: PrototypeModel, tr: Transforms, db_per_unit: float) -> dict[str, torch.Tensor]:
    """Model units -> dB, semitones and Hz. Parameters ``(..., K)`` -> same shapes.

    A filter's edge gain is what it adds at the outermost band: ``slope * distance from the
    cutoff to the edge`` (negative: that end is attenuated)."""
    centre_hz = model.tables.centre_hz
    n = centre_hz.shape[0]

    def hz(cut):
        index = cut * (n - 1)
        lo = index.floor().long().clamp(max=n - 2)
        return torch.lerp(centre_hz[lo], centre_hz[lo + 1], index - lo)

    out = {}
    if tr.gain is not None:
        out["gain_db"] = tr.gain * db_per_unit
    if tr.shift is not None:
        out["shift_semitones"] = tr.shift
    if tr.low_cut is not None:
        out["low_cut_hz"], out["high_cut_hz"] = hz(tr.low_cut), hz(tr.high_cut)
        out["low_edge_db"] = tr.low_slope * tr.low_cut * db_per_unit
        out["high_edge_db"] = tr.high_slope * (1 - tr.high_cut) * db_per_unit
    return out


@torch.inference_mode()
def analyse(model: PrototypeModel, x: torch.Tensor, db_per_unit: float = 170.0,
            with_reconstructions: bool = True) -> Analysis:
    """Analyse one clip ``x (F, T)`` with the model's last stage; one network pass in all.

    Examples
    --------
    >>> a = analyse(model, log_mel(samples))                     # doctest: +SKIP
    >>> a.scores.argmax(), a.stage_errors.shape                   # doctest: +SKIP
    (tensor(7), torch.Size([4, 16]))
    """
    model.eval()
    xb = x.unsqueeze(0)  # (1, F, T)
    T = x.shape[-1]
    last = model.stage
    tr = model.transforms(xb, last)
    stages = STAGES[: STAGES.index(last) + 1]
    per_stage = [frame_errors(xb, model.prototypes, tr.up_to(s), model.tables)[0] for s in stages]  # (K, T)
    stage_errors = torch.stack([e.mean(-1) for e in per_stage])  # (S, K)
    class_errors = model.class_errors(stage_errors[-1:])[0]
    scores = torch.softmax(-model.temperature * class_errors, dim=0)
    recs = None
    if with_reconstructions:
        recs = torch.stack([reconstruct(model.prototypes, tr.up_to(s), model.tables, (1, T))[0] for s in stages])
        recs = recs.permute(0, 2, 3, 1)  # (S, K, F, T)
    units = {k: v[0].T for k, v in transforms_in_units(model, tr, db_per_unit).items()}  # (K, T)
    return Analysis(scores, stage_errors, per_stage[-1], recs, units)


def timeline(frame_errors: torch.Tensor, seconds_per_frame: float, segment_s: float = 1.0) -> list[dict]:
    """Which prototype explains each stretch of a clip best.

    ``frame_errors (K, T)`` -> ``[{"start_s", "end_s", "prototype"}]``, one entry per segment of
    ``segment_s`` seconds (the last may be shorter), neighbouring segments with the same
    winner merged.

    Examples
    --------
    >>> e = torch.tensor([[0.1] * 50 + [0.9] * 50, [0.5] * 100])
    >>> [(s["prototype"], round(s["end_s"], 2)) for s in timeline(e, 0.02)]
    [(0, 1.0), (1, 2.0)]
    """
    K, T = frame_errors.shape
    per = max(1, int(round(segment_s / seconds_per_frame)))
    out: list[dict] = []
    for start in range(0, T, per):
        k = int(frame_errors[:, start:start + per].mean(1).argmin())
        end_s = min(start + per, T) * seconds_per_frame
        if out and out[-1]["prototype"] == k:
            out[-1]["end_s"] = end_s
        else:
            out.append({"start_s": start * seconds_per_frame, "end_s": end_s, "prototype": k})
    return out


def analyse_spectral(model: PrototypeModel, x: torch.Tensor, class_names: list[str], audio: AudioConfig) -> dict:
    """One clip's analysis as the app keeps it: prediction, every prototype's error at every
    stage, and which prototype explains each second best.

    ``x (F, T)`` is the clip's log-mel, ``class_names`` the ``C`` classes in the model's order,
    ``audio`` the bundle's settings (``db_per_unit``, ``frame_seconds``). Returns
    ``{"prediction": [{"label", "score"}] best first, "prototypes": [{"index", "label", "error",
    "stage_errors": {stage: error}}] (error at the last stage), "timeline": [{"start_s", "end_s",
    "prototype", "label"}]}``.
    """
    a = analyse(model, x, audio.db_per_unit, with_reconstructions=False)
    owner = model.prototype_class.tolist()
    stages = STAGES[: a.stage_errors.shape[0]]
    prediction = sorted(({"label": class_names[c], "score": float(s)} for c, s in enumerate(a.scores.tolist())),
                        key=lambda p: -p["score"])
    prototypes = [{"index": k, "label": class_names[owner[k]], "error": float(a.stage_errors[-1, k]),
                   "stage_errors": {s: float(a.stage_errors[i, k]) for i, s in enumerate(stages)}}
                  for k in range(a.stage_errors.shape[1])]
    segments = [{**seg, "label": class_names[owner[seg["prototype"]]]}
                for seg in timeline(a.frame_errors, audio.frame_seconds)]
    return {"prediction": prediction, "prototypes": prototypes, "timeline": segments}
