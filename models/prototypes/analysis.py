"""Everything the explorer shows about one clip: prediction, errors at every stage,
reconstructions by every prototype at every stage, and the transformations in human units."""
from __future__ import annotations

from dataclasses import dataclass

import torch

from ..audio import AudioConfig
from ..trust import TrustModel, spectral_summary, trust_features
from .model import PrototypeModel
from .pitch import midi_to_hz, note_name, sounding_frames
from .transforms import STAGES, Transforms, frame_errors, reconstruct


@dataclass
class Analysis:
    """The model's account of one clip (T frames, K prototypes, F bands, C classes).

    scores: ``(C,)`` calibrated class probabilities, ``softmax(-tau * class error / T)``.
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
    pitch: torch.Tensor | None = None  # (T,) MIDI: the clip's pitch track (pitch-anchored models)
    voiced: torch.Tensor | None = None  # (T,) bool: frames in which a pitch was heard


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
    f0 = voiced = None
    if model.cfg.pitch_anchored:
        f0, voiced = model.pitch.track(xb)
    tr = model.transforms(xb, last, f0)
    stages = STAGES[: STAGES.index(last) + 1]
    protos, env = model.parts()
    per_stage = [frame_errors(xb, protos, tr.up_to(s), model.tables, env)[0] for s in stages]  # (K, T)
    stage_errors = torch.stack([model.clip_errors(xb, e.unsqueeze(0))[0] for e in per_stage])  # (S, K)
    class_errors = model.class_errors(stage_errors[-1:])[0]
    scores = model.probabilities(class_errors)
    recs = None
    if with_reconstructions:
        recs = torch.stack([reconstruct(protos, tr.up_to(s), model.tables, (1, T), env)[0] for s in stages])
        recs = recs.permute(0, 2, 3, 1)  # (S, K, F, T)
    units = {k: v[0].T for k, v in transforms_in_units(model, tr, db_per_unit).items()}  # (K, T)
    return Analysis(scores, stage_errors, per_stage[-1], recs, units,
                    None if f0 is None else f0[0], None if voiced is None else voiced[0])


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
    "prototype", "label"}]}``. A pitch-anchored model adds each prototype's ``reference_midi``
    and ``reference_note``; a model with a fitted trust score adds ``trust`` (see
    :meth:`auralens.models.trust.TrustModel.verdict`).
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
    out = {"prediction": prediction, "prototypes": prototypes, "timeline": segments}
    if model.cfg.pitch_anchored:
        for p, ref in zip(prototypes, model.reference_midi.tolist()):
            p["reference_midi"], p["reference_note"] = float(ref), note_name(ref)
            p["reference_hz"] = round(float(midi_to_hz(ref)), 2)
    if model.cfg.trust:
        errors = a.stage_errors[-1:]
        sounding = sounding_frames(x.unsqueeze(0))[0]
        share = None
        if a.voiced is not None:
            share = ((a.voiced & sounding).sum() / sounding.sum().clamp_min(1)).reshape(1)
        features = trust_features(errors, model.class_errors(errors), share, spectral_summary(x).unsqueeze(0))[0]
        out["trust"] = TrustModel.from_dict(model.cfg.trust).verdict(features)
    return out
