"""An analysis exported for a paper or a colleague: one ZIP with the analysis as JSON (with
the bundle, model and audio settings that produced it), the original clip, and its
reconstructions as WAV files: every prototype at the model's last stage (the cross-class
listening set, best first) and the winning prototype at every stage; beside them what the page
shows as numbers (curves as CSV, spectrograms as JSON) and as figures (SVG), see
:mod:`.export_tables`.

Exports are built by a job (rendering takes seconds) into ``<data dir>/exports/<id>.zip``,
once per analysis: an analysis never changes, so neither does its export. Of a long clip only
the first render window is rendered, and an export is deleted ``export_ttl_hours`` after it
was built (asked for again, it is built again).
"""
from __future__ import annotations

import json
import time
import zipfile
from datetime import datetime, timezone
from pathlib import Path

import torch

from auralens.models.atomic import atomic_path
from auralens.models.kinds import kind_of

from . import __version__
from .export_tables import analysis_tables
from .jobs import Progress
from .renders import decoded_prototype_wav, reconstruction_wavs, render_window
from .state import AppState

README = """This archive is an analysis made with auralens {version}.

analysis.json            the analysis: prediction (class probabilities), every prototype's
                         reconstruction error at every stage, the timeline, and what made it
                         (bundle, model, audio settings)
clip{ext}                the analysed recording, as it was given
reconstructions/         the recording re-created by the model's prototypes, as sound:
  NN-<class>-p<k>-<stage>.wav   NN ranks the prototypes by how well they re-create the
                         recording (01 = best); stage is raw (the prototype alone), gain,
                         pitch (+ pitch shift) or filters (+ filters: the full model)

data/                    what the page shows, as numbers: prediction.csv, timeline.csv,
                         spectrograms/*.json (the clip and every reconstruction above: times_s,
                         freqs_hz, values_db in dB), curves/NN-<class>-p<k>.csv (per frame: gain in
                         dB, pitch shift in semitones, filter cut-offs in Hz, edge gains in dB)
figures/                 the page's figures as SVG: the ranking, the clip's spectrogram, the best
                         prototype's steps and its curves

Reconstructions are rendered from mel spectrograms (Griffin-Lim phase) and normalised to a peak
of -1 dBFS; the gain applied to each is listed in analysis.json under "files". They cover the
recording from {start_s:g} s to {end_s:g} s (of a long recording, its beginning: "rendered" in
analysis.json).
"""

README_LATENT = """This archive is an analysis made with auralens {version}.

analysis.json            the analysis: prediction (class probabilities), the clip's distance and
                         similarity to every latent prototype, the timeline, and what made it
                         (bundle, model, audio settings)
clip{ext}                the analysed recording, as it was given
prototypes/              the model's prototypes decoded into sound:
  NN-<class>-p<k>-decoded.wav   NN ranks the prototypes by how close the recording is to them
                         (01 = closest)

data/                    what the page shows, as numbers: prediction.csv, similarity.csv,
                         timeline.csv, spectrograms/clip.json (times_s, freqs_hz, values_db in dB)
figures/                 the ranking and the clip's spectrogram as SVG

Prototypes are decoded to mel spectrograms by the model's decoder, rendered with Griffin-Lim
phase and normalised to a peak of -1 dBFS; the gain applied to each is listed in analysis.json
under "files".
"""


def export_path(state: AppState, analysis_id: str) -> Path:
    return state.storage.root / "exports" / f"{analysis_id}.zip"


def expire_exports(state: AppState) -> int:
    """Delete the exports built more than ``export_ttl_hours`` ago; returns how many."""
    oldest = time.time() - state.settings.export_ttl_hours * 3600
    n = 0
    for path in (state.storage.root / "exports").glob("*.zip"):
        try:
            if path.stat().st_mtime < oldest:
                path.unlink()
                n += 1
        except FileNotFoundError:  # expired by another request at the same moment
            pass
    return n


def export_analysis(state: AppState, found: dict, progress: Progress) -> dict:
    """Build the export of a stored analysis (the dict :meth:`Storage.analysis` returns); a model
    or clip that has gone is a NotFound, which ends the job with its sentence."""
    path = export_path(state, found["id"])
    result = {"download_url": f"/api/analyses/{found['id']}/export.zip"}
    if path.is_file():
        return {**result, "bytes": path.stat().st_size}
    model_id, model = state.model(found["model"])
    clip = state.find_clip(found["clip_id"])
    cfg = state.bundle.audio
    ranked = sorted(found["prototypes"], key=lambda p: p["error"])
    rank = {p["index"]: i + 1 for i, p in enumerate(ranked)}
    kind = kind_of(model)
    decoded = kind.shows.decoded_prototypes
    if decoded:  # no reconstruction of the clip: the prototypes as the decoder renders them
        plan = {"decoded": [p["index"] for p in ranked]}
    else:
        stages = kind.stages_of(model)
        plan = {stage: [ranked[0]["index"]] for stage in stages[:-1]}
        plan[stages[-1]] = [p["index"] for p in ranked]
    total = sum(len(ks) for ks in plan.values())

    window = render_window(state, state.clip_features(clip).shape[-1])  # a long clip: its first window only
    batch = max(1, min(8, 4000 // (window.end - window.start)))  # bound Griffin-Lim's memory
    files, done = [], 0
    with atomic_path(path) as tmp, zipfile.ZipFile(tmp, "w") as z:
        z.write(clip.path, f"clip{clip.path.suffix}")
        for stage, ks in plan.items():
            for start in range(0, len(ks), batch):
                chunk = ks[start:start + batch]
                with torch.inference_mode():
                    wavs = ([decoded_prototype_wav(state, model_id, k) for k in chunk] if decoded
                            else reconstruction_wavs(state, found, [(k, stage) for k in chunk]))
                for k, (data, gain_db) in zip(chunk, wavs):
                    label = state.bundle.classes[int(model.prototype_class[k])]
                    folder = "prototypes" if decoded else "reconstructions"
                    name = f"{folder}/{rank[k]:02d}-{label}-p{k}-{stage}.wav"
                    z.writestr(name, data)
                    files.append({"path": name, "prototype": k, "label": label, "stage": None if decoded else stage,
                                  "rank": rank[k], "gain_db": round(gain_db, 2)})
                done += len(chunk)
                progress(done / total)
        tables = analysis_tables(state, found, model, plan, rank, decoded=decoded)
        for name, text in tables.items():
            z.writestr(name, text, compress_type=zipfile.ZIP_DEFLATED)
        entry = state.bundle.models[model_id]
        document = {
            "analysis": found,
            "made_with": {"auralens": __version__, "device": state.device,
                          "exported": datetime.now(timezone.utc).isoformat(timespec="seconds")},
            "bundle": {"name": state.bundle.name, "version": state.bundle.version,
                       "audio": cfg.to_dict(), "classes": state.bundle.classes},
            "model": {"id": model_id, "kind": entry.kind, "stage": getattr(model, "stage", None), "config": entry.config,
                      "metrics": entry.metrics},
            "clip": {"id": clip.id, "name": clip.name, "origin": clip.origin, "duration_s": clip.duration_s,
                     "label": clip.label, "tags": clip.tags},
            "files": files,
            "tables": sorted(tables),
            "rendered": {"start_s": window.start_s, "end_s": window.end_s},
        }
        z.writestr("analysis.json", json.dumps(document, indent=2), compress_type=zipfile.ZIP_DEFLATED)
        readme = (README_LATENT if decoded else README).format(version=__version__, ext=clip.path.suffix,
                                                               start_s=round(window.start_s, 2),
                                                               end_s=round(window.end_s, 2))
        z.writestr("README.txt", readme, compress_type=zipfile.ZIP_DEFLATED)
    return {**result, "bytes": path.stat().st_size, "files": len(files) + len(tables) + 3}
