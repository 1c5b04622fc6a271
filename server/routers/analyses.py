"""Analyses: a clip through a model, kept as a permalink; every prototype's reconstruction
at every stage, as spectrogram, transformation curves and sound."""
from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Path, Query, Request, Response
from fastapi.responses import FileResponse

from auralens.models.audio import spectrogram_for_display
from auralens.models.kinds import kind_of
from auralens.models.prototypes.analysis import transforms_in_units

from ..byte_ranges import ranged
from ..deps import CurrentUser, State
from ..errors import COMMON, NotFound
from ..exports import expire_exports, export_analysis, export_path
from ..fair import LONG_AUDIO_S
from ..renders import prerender, reconstruction, reconstruction_wavs, render_key, render_window, stage_or_last
from ..schemas import Analysis, AnalysisRequest, JobStarted, Reconstruction
from ..state import AppState

router = APIRouter(prefix="/api/analyses", tags=["analyses"], responses=COMMON)
Stage = Literal["raw", "gain", "pitch", "filters"]
PROTOTYPE = Path(..., ge=0, description="prototype index, 0 to K-1")
STAGE = Query(None, description="raw prototype, + gain, + pitch shift, + filters (cumulative); default: the "
                              "model's last stage (a model may end its curriculum before filters)")


def stored_analysis(state: AppState, analysis_id: str, owner: str) -> dict:
    found = state.storage.analysis(analysis_id, owner)
    if found is None:
        raise NotFound(f"There is no analysis '{analysis_id}'.")
    return found


@router.post("", status_code=201, response_model=Analysis)
async def create_analysis(request: AnalysisRequest, state: State, user: CurrentUser) -> Analysis:
    """Analyse a clip with a model of the bundle; the result is kept under a permanent id."""
    clip = state.find_clip(request.clip_id, user.id)
    model_id, model = state.model(request.model)
    analyse = kind_of(model).analyse
    body = await state.run(lambda: analyse(model, state.clip_features(clip), state.bundle.classes, state.bundle.audio),
                           long=clip.duration_s > LONG_AUDIO_S)
    analysis_id = state.storage.add_analysis(clip.id, model_id, state.bundle.name, body, user.id)
    found = stored_analysis(state, analysis_id, user.id)
    if clip.duration_s <= 30:  # long clips: render on demand only
        state.run_when_idle(lambda: prerender(state, found))
    return Analysis(**found)


@router.get("/{analysis_id}", response_model=Analysis)
def get_analysis(analysis_id: str, state: State, user: CurrentUser) -> Analysis:
    """An analysis made earlier (a permalink: it survives restarts)."""
    return Analysis(**stored_analysis(state, analysis_id, user.id))


@router.get("/{analysis_id}/reconstructions/{k}", response_model=Reconstruction)
async def get_reconstruction(analysis_id: str, k: int = PROTOTYPE, stage: Stage | None = STAGE, *,
                             state: State, user: CurrentUser) -> Reconstruction:
    """The clip as prototype ``k`` re-creates it at a stage, with the transformations over time."""
    found = stored_analysis(state, analysis_id, user.id)
    stage = stage_or_last(state, found, stage)

    def work():
        model, clip, x, rec, tr = reconstruction(state, found, k, stage)
        cfg = state.bundle.audio
        units = {name: v[0, :, 0].tolist() for name, v in transforms_in_units(model, tr, cfg.db_per_unit).items()}
        curves = {"times_s": [t * cfg.frame_seconds for t in range(x.shape[-1])],
                  "gain_db": units.get("gain_db"), "shift_semitones": units.get("shift_semitones"),
                  "lowcut_hz": units.get("low_cut_hz"), "highcut_hz": units.get("high_cut_hz"),
                  "low_edge_db": units.get("low_edge_db"), "high_edge_db": units.get("high_edge_db")}
        label = state.bundle.classes[int(model.prototype_class[k])]
        return Reconstruction(analysis_id=analysis_id, prototype=k, label=label, stage=stage,
                              error=float((rec - x).square().mean()),
                              spectrogram=spectrogram_for_display(rec, cfg), transforms=curves,
                              audio_url=f"/api/analyses/{analysis_id}/reconstructions/{k}/audio.wav?stage={stage}")

    return await state.run(work, long=state.find_clip(found["clip_id"]).duration_s > LONG_AUDIO_S)


@router.get("/{analysis_id}/reconstructions/{k}/audio.wav", response_class=Response,
            responses={200: {"content": {"audio/wav": {}}}})
async def reconstruction_audio(request: Request, analysis_id: str, k: int = PROTOTYPE, stage: Stage | None = STAGE,
                               start_s: float = Query(0.0, ge=0, le=86_400, description="where the sound starts "
                                                      "in the clip, seconds"),
                               *, state: State, user: CurrentUser) -> Response:
    """The reconstruction as sound (Griffin-Lim), peak-normalised to -1 dBFS, from ``start_s``
    for at most the server's render window (30 s unless set otherwise); the gain applied is
    in the ``X-Gain-Db`` header, the stretch of the clip in ``X-Start-S`` and ``X-End-S``.
    Answers byte ranges (206), so that players can seek."""
    found = stored_analysis(state, analysis_id, user.id)
    stage = stage_or_last(state, found, stage)
    clip = state.find_clip(found["clip_id"], user.id)
    cfg = state.bundle.audio
    window = render_window(state, cfg.n_frames(int(round(clip.duration_s * cfg.sample_rate))), start_s)
    cached = state.renders.get(render_key(analysis_id, k, stage, window.start))
    if cached is None:
        cached = (await state.run(reconstruction_wavs, state, found, [(k, stage)], start_s,
                                  long=window.end_s - window.start_s > LONG_AUDIO_S))[0]
    data, gain_db = cached
    return ranged(request, data, "audio/wav", {
        "X-Gain-Db": f"{gain_db:.2f}", "X-Start-S": f"{window.start_s:.3f}", "X-End-S": f"{window.end_s:.3f}"})


@router.post("/{analysis_id}/export", status_code=202, response_model=JobStarted)
def start_export(analysis_id: str, state: State, user: CurrentUser) -> JobStarted:
    """Package the analysis for a paper or a colleague: a ZIP with the analysis as JSON (model
    version and settings included), the clip, and its reconstructions as WAV files. Rendering
    takes seconds, so this starts a job; when it is done its result holds the download URL."""
    found = stored_analysis(state, analysis_id, user.id)
    expire_exports(state)
    job_id = state.jobs.submit("export", {"analysis_id": analysis_id},
                               lambda progress: export_analysis(state, found, progress), owner=user.id)
    return JobStarted(job_id=job_id, status_url=f"/api/jobs/{job_id}")


@router.get("/{analysis_id}/export.zip", response_class=FileResponse,
            responses={200: {"content": {"application/zip": {}}}})
def download_export(analysis_id: str, state: State, user: CurrentUser) -> FileResponse:
    """The export built by ``POST /api/analyses/{id}/export``."""
    stored_analysis(state, analysis_id, user.id)
    expire_exports(state)
    path = export_path(state, analysis_id)
    if not path.is_file():
        raise NotFound(f"This analysis has no export (an export is kept for {state.settings.export_ttl_hours:g} "
                       f"hours); POST /api/analyses/{analysis_id}/export first.")
    return FileResponse(path, media_type="application/zip", filename=f"auralens-{analysis_id}.zip")
