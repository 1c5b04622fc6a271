"""What an analysis page shows, as numbers and figures for its export: the class ranking, the
timeline, every spectrogram (JSON, as the API serves them), the transformation curves (CSV) and
the figures (SVG, :mod:`.figures`).

Files, by their path in the archive::

    data/prediction.csv                    class, score (best first)
    data/timeline.csv                      start_s, end_s, label, prototype
    data/similarity.csv                    latent models: prototype, label, distance, similarity
    data/spectrograms/clip.json            the clip: {"times_s", "freqs_hz", "values_db"}
    data/spectrograms/NN-<class>-p<k>-<stage>.json   each reconstruction the archive holds as sound
    data/curves/NN-<class>-p<k>.csv        time_s and the gain (dB), pitch shift (semitones; with
                                           a reference pitch also the note played), cut-offs
                                           (Hz) and edge gains (dB) at the model's last stage
    figures/ranking.svg, figures/clip-spectrogram.svg, figures/01-<class>-p<k>-<stage>.svg
    (the winner's steps), figures/01-<class>-p<k>-curves.svg

Example::

    >>> files = analysis_tables(state, found, model, plan, rank)      # doctest: +SKIP
    >>> sorted(files)[:2]
    ['data/curves/01-cello-p3.csv', 'data/curves/02-viola-p14.csv']
"""
from __future__ import annotations

import csv
import io
import json

import torch

from auralens.models.audio import spectrogram_for_display
from auralens.models.prototypes.analysis import transforms_in_units

from .figures import curves_svg, db_range, note_name, ranking_svg, spectrogram_svg
from .state import AppState

STAGE_NAMES = {"raw": "the prototype alone", "gain": "+ loudness (gain)", "pitch": "+ pitch shift",
               "filters": "+ filters (tone colour)"}
CURVES = [("gain_db", "gain_db"), ("shift_semitones", "shift_semitones"), ("lowcut_hz", "low_cut_hz"),
          ("highcut_hz", "high_cut_hz"), ("low_edge_db", "low_edge_db"), ("high_edge_db", "high_edge_db")]


def _csv(header: list[str], rows) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue()


def _reference(p: dict) -> float | None:
    """A prototype's reference pitch (MIDI number) when the analysis carries one."""
    value = p.get("reference_midi")
    return float(value) if isinstance(value, (int, float)) else None


def curves_csv(curves: dict, reference_midi: float | None = None) -> str:
    """Curves ``{"times_s": [T], name: [T] or None}`` as CSV, a column per curve present (the
    note played beside the pitch shift when ``reference_midi`` is given)."""
    names = [n for n, _ in CURVES if curves.get(n) is not None]
    header = ["time_s", *names]
    if reference_midi is not None and "shift_semitones" in names:
        header.insert(header.index("shift_semitones") + 1, "note_played")
    rows = []
    for t, time_s in enumerate(curves["times_s"]):
        row = [round(time_s, 4)]
        for n in names:
            row.append(round(float(curves[n][t]), 4))
            if n == "shift_semitones" and "note_played" in header:
                row.append(note_name(reference_midi + curves[n][t]))
        rows.append(row)
    return _csv(header, rows)


def analysis_tables(state: AppState, found: dict, model, plan: dict[str, list[int]], rank: dict[int, int],
                    decoded: bool = False) -> dict[str, str]:
    """The numbers and figures of a stored analysis ``found`` (see the module's docstring):
    ``{path in the archive: text}``. ``plan``: stage -> the prototypes rendered at it;
    ``rank``: prototype -> its place, 1 = best; ``decoded``: a latent model (no reconstructions)."""
    cfg = state.bundle.audio
    classes = state.bundle.classes
    x = state.clip_features(state.find_clip(found["clip_id"]))
    clip_spec = spectrogram_for_display(x, cfg)
    lo_hi = db_range(clip_spec["values_db"])
    files = {
        "data/prediction.csv": _csv(["class", "score"], [(p["label"], p["score"]) for p in found["prediction"]]),
        "data/timeline.csv": _csv(["start_s", "end_s", "label", "prototype"],
                                  [(s["start_s"], s["end_s"], s["label"], s.get("prototype")) for s in found["timeline"]]),
        "data/spectrograms/clip.json": json.dumps(clip_spec),
        "figures/ranking.svg": ranking_svg(found["prediction"]),
        "figures/clip-spectrogram.svg": spectrogram_svg(clip_spec, "your clip", lo_hi),
    }
    if decoded:
        files["data/similarity.csv"] = _csv(["prototype", "label", "distance", "similarity"],
                                            [(p["index"], p["label"], p.get("distance"), p.get("similarity"))
                                             for p in sorted(found["prototypes"], key=lambda p: rank[p["index"]])])
        return files
    by_index = {p["index"]: p for p in found["prototypes"]}
    last = list(plan)[-1]
    for stage, ks in plan.items():
        with torch.inference_mode():
            rec, tr = model.reconstruct(x.unsqueeze(0), stage, k=torch.tensor(ks, device=x.device))
            units = transforms_in_units(model, tr, cfg.db_per_unit)
        for j, k in enumerate(ks):
            label = classes[int(model.prototype_class[k])]
            name, title = f"{rank[k]:02d}-{label}-p{k}", f"the {label.replace('_', ' ')} prototype ({k})"
            spec = spectrogram_for_display(rec[0, j], cfg)
            files[f"data/spectrograms/{name}-{stage}.json"] = json.dumps(spec)
            if rank[k] == 1:  # the winner's steps, as on the page: the prototype alone at its own level
                files[f"figures/{name}-{stage}.svg"] = spectrogram_svg(
                    spec, f"{title}: {STAGE_NAMES.get(stage, stage)}", None if stage == "raw" else lo_hi)
            if stage != last:
                continue
            curves = {"times_s": [t * cfg.frame_seconds for t in range(x.shape[-1])]}
            curves.update({out: units[key][0, :, j].tolist() if key in units else None for out, key in CURVES})
            reference = _reference(by_index.get(k, {}))
            files[f"data/curves/{name}.csv"] = curves_csv(curves, reference)
            if rank[k] == 1:
                files[f"figures/{name}-curves.svg"] = curves_svg(curves, f"{title}: how it was transformed over time",
                                                                 reference)
    return files
