"""The model card's section on a spectral prototype model, written from its bundle entry."""
from __future__ import annotations

import math

from ..card_text import percent, resumed

LIMIT = ("A first-version spectral model's networks choose how each prototype is transformed, and "
         "that choice carries the decision: other classes' prototypes fit a clip badly mostly because "
         "the networks make them fit badly (`bench/bench_fitted_transforms.py`). A pitch-anchored "
         "model's prototypes are single spectra at a reference pitch: an instrument whose timbre "
         "changes across its range or over a note is explained by its nearest register's prototype, "
         "transposed, and sample sets it has not heard are recognised far less well than its own.")


def card_section(entry) -> list[str]:
    """Markdown lines on one model: data, training, metrics per curriculum stage.

    ``entry``: the model's :class:`~auralens.models.bundle.ModelEntry` (its ``id``, ``kind``,
    ``config``, ``training`` and ``metrics`` records).
    """
    t, m, cfg = entry.training, entry.metrics, entry.config
    lines = [f"## Model `{entry.id}` ({entry.kind}, {'supervised' if cfg.get('supervised') else 'clustering'})", "",
             "### Data", "",
             f"- Source: `{t.get('data', {}).get('source', '?')}`",
             f"- Clips: {t.get('data', {}).get('clips')} (unreadable, skipped: {t.get('data', {}).get('skipped', 0)})",
             "", "### Training", "",
             f"- Command: `{t.get('command', '?')}`",
             f"- Seed {t.get('seed')}, {t.get('epochs')} epochs, {t.get('wall_time_s')} s{resumed(t)} on "
             f"{t.get('hardware', {}).get('device', '?')} ({t.get('hardware', {}).get('cpu_threads', '?')} threads)",
             f"- {cfg.get('n_classes', 0) * cfg.get('protos_per_class', 1)} prototypes, "
             f"{t.get('n_parameters', '?')} parameters",
             "", f"### Metrics on the held-out `{m.get('split', 'test')}` split ({m.get('n', 0)} clips)", "",
             *([] if cfg.get("supervised") else
               ["Accuracies of the clustering model name each cluster after the majority class of its "
                "training clips (clustering accuracy); chance is "
                f"{100 / max(cfg.get('n_classes', 1), 1):.1f} %.", ""]),
             "| stage | OA | AA | macro F1 | reconstruction error |", "|---|---|---|---|---|"]
    for stage, s in m.get("stages", {}).items():
        lines.append(f"| {stage} | {percent(s['oa'])} | {percent(s['aa'])} | {percent(s['macro_f1'])} | "
                     f"{s['reconstruction_error']:.5f} |")
    if cfg.get("pitch_anchored"):
        lines += anchored_lines(cfg)
    if m.get("trust"):
        lines += trust_lines(m["trust"])
    return lines


def anchored_lines(cfg: dict) -> list[str]:
    """The prototypes' reference pitches (a pitch-anchored model)."""
    from .pitch import note_name

    per = max(cfg.get("protos_per_class", 1), 1)
    refs = cfg.get("reference_midi", [])
    lines = ["", "### Prototypes", "",
             "Every prototype is a harmonic tone at a reference pitch; a clip's pitch track (from the "
             "model's pitch network) minus the reference is its pitch shift, shared by all prototypes, "
             "and its gain is fitted in closed form; "
             + ("only the filters come from a network, trained to make every prototype fit. "
                if cfg.get("last_stage", "filters") == "filters" else
                f"its curriculum ends at the {cfg.get('last_stage')} stage: no network reshapes a prototype, "
                "so it decides with the prototypes as they are, at the clip's melody. ")
             + ("Each prototype is a source and a filter: a harmonic part that the pitch shift moves "
                "with the note, and an envelope (the instrument's resonances) that stays where it is in "
                "frequency; at its reference it sounds as the two together. " if cfg.get("source_filter") else "")
             + "References, "
             f"{per} per class in class order: "
             + ", ".join(f"{note_name(r)}" for r in refs) + "."]
    return lines


def trust_lines(t: dict) -> list[str]:
    """Trust and calibration figures (``auralens bundle add-trust``)."""
    cal = t.get("calibration", {})
    lines = ["", "### Trust and calibration", "",
             f"- Sounds that are no class (held-out negatives, {t.get('negatives_measured')} clips) flagged: "
             f"{percent(t.get('negatives_flagged'))} ("
             + ", ".join(f"{k} {percent(v)}" for k, v in t.get("negatives_flagged_by_kind", {}).items())
             + f"); test clips flagged: {percent(t.get('test_flagged'))}"
             + "".join(f"; {k} clips flagged: {percent(v)}" for k, v in t.get("checks_flagged", {}).items()) + ".",
             calibration_sentence(cal), "",
             "| clips | n | OA | calibration error before | one temperature | after |", "|---|---|---|---|---|---|"]
    for name, s in cal.get("sets", {}).items():
        alone = s.get("ece_one_temperature")
        lines.append(f"| {name} | {s['n']} | {percent(s['accuracy'])} | {s['ece_before']:.3f} | "
                     f"{'-' if alone is None else f'{alone:.3f}'} | {s['ece_after']:.3f} |")
    return lines


def calibration_sentence(cal: dict) -> str:
    """How the confidences were calibrated, in one sentence."""
    fitted_on = cal.get("fitted_on")
    where = ", ".join(f"`{f}`" for f in fitted_on) if isinstance(fitted_on, list) else f"`{fitted_on}`"
    if cal.get("slope"):
        one = cal.get("one_temperature")
        return (f"- Calibration: the logits are divided by {cal.get('temperature', 1.0):.3f} x "
                f"(best error / {math.exp(cal.get('centre', 0.0)):.5f}) ^ {cal['slope']:.2f}, so that clips the "
                f"prototypes explain badly get softer confidences; fitted on {cal.get('fitted_clips')} clips of "
                f"{where}, each collection weighing the same"
                + (f" (one temperature for every clip, fitted on the unheard sample sets alone: {one:.3f}, in the "
                   f"column \"one temperature\")." if one else "."))
    return (f"- Calibration temperature {cal.get('temperature', 1.0):.3f}, fitted on {cal.get('fitted_clips')} "
            f"clips of {where} (a sample set the model was not trained on).")
