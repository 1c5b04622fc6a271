"""Two models side by side: on one clip, and on a source of clips (the corpus, one's uploads,
a collection)."""
from __future__ import annotations

import asyncio
import hashlib

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse

from auralens.models.kinds import kind_of

from ..compare_schemas import ClipComparison, ClipComparisonRequest, SelectionComparisonRequest, SourceComparison
from ..comparisons import clip_comparison, compute_verdicts, missing, source_comparison
from ..deps import CurrentUser, State
from ..errors import COMMON, ErrorDetail, Invalid
from ..fair import LONG_AUDIO_S
from ..schemas import ID_LENGTH, JobStarted
from ..sources import clips_of
from ..state import AppState

router = APIRouter(prefix="/api/compare", tags=["compare"], responses=COMMON)


def two_models(state: AppState, a: str, b: str) -> tuple[str, str]:
    """Two different models of the bundle by id (an unknown one is a 404 naming the models)."""
    a_id, _ = state.model(a)
    b_id, _ = state.model(b)
    if a_id == b_id:
        raise Invalid(f"Choose two different models to compare; both sides are '{a_id}'.")
    return a_id, b_id


async def analysis_of(state: AppState, clip, model_id: str, owner: str) -> dict:
    """The user's newest stored analysis of the clip by the model, made (and stored) when there is none."""
    found = state.storage.latest_analysis(clip.id, model_id, state.bundle.name, owner)
    if found is not None:
        return found
    model = state.models[model_id]
    analyse = kind_of(model).analyse
    body = await state.run(lambda: analyse(model, state.clip_features(clip), state.bundle.classes, state.bundle.audio),
                           long=clip.duration_s > LONG_AUDIO_S)
    return state.storage.analysis(state.storage.add_analysis(clip.id, model_id, state.bundle.name, body, owner), owner)


@router.post("/clip", response_model=ClipComparison)
async def compare_clip(request: ClipComparisonRequest, state: State, user: CurrentUser) -> ClipComparison:
    """One clip under two models, side by side: each model's ranking, top class, confidence,
    trust verdict (when it measures one) and explanation - the prototype that re-creates the
    clip best, with the re-creation to hear, or the prototypes the clip is closest to - and a
    sentence on where they agree. Each side is the model's stored analysis of the clip (made
    now when the user has none), so each has its permalink."""
    clip = state.find_clip(request.clip_id, user.id)
    a_id, b_id = two_models(state, request.a, request.b)
    await state.run(state.clip_features, clip, long=clip.duration_s > LONG_AUDIO_S)  # decoded once, for both
    analysis_a, analysis_b = await asyncio.gather(analysis_of(state, clip, a_id, user.id),
                                                  analysis_of(state, clip, b_id, user.id))  # on two workers
    return clip_comparison(state, clip, a_id, analysis_a, b_id, analysis_b)


def comparison_or_job(state: AppState, owner: str, source: str, clips: list, a_id: str, b_id: str, offset: int,
                      limit: int, job_key: tuple):
    """The comparison when every clip's verdicts are known, else 202 with the job that works
    them out (one job per source and pair of models at a time)."""
    if not missing(state, [a_id, b_id], clips):
        return source_comparison(state, source, clips, a_id, b_id, offset, limit)
    key = ("job", owner, *job_key, a_id, b_id)
    running = state.verdicts.get(key)
    job = state.jobs.get(running, owner) if running else None
    if job is None or job["status"] not in ("queued", "running"):
        params = {"source": source, "a": a_id, "b": b_id, "clips": len(clips)}
        running = state.jobs.submit("comparison", params, lambda progress: {
            **params, "clips_worked_on": compute_verdicts(state, [a_id, b_id], clips, progress)}, owner=owner)
        state.verdicts.put(key, running)
    return JSONResponse(JobStarted(job_id=running, status_url=f"/api/jobs/{running}").model_dump(), status_code=202)


WORKING = {202: {"model": JobStarted, "description": "the comparison is being worked out: follow the job, then ask again"}}


@router.get("", response_model=SourceComparison, responses=WORKING)
def compare_source(source: str = Query(..., max_length=ID_LENGTH, description="corpus, uploads or collection:<id>"),
                   a: str = Query(..., max_length=ID_LENGTH, description="model id (rows of the confusion table)"),
                   b: str = Query(..., max_length=ID_LENGTH, description="model id (columns)"),
                   offset: int = Query(0, ge=0, le=10_000_000, description="first disagreement listed"),
                   limit: int = Query(100, ge=1, le=1000, description="disagreements listed"),
                   *, state: State, user: CurrentUser):
    """Two models on every clip of a source: how often they name the same class, the confusion
    table of model A's prediction against model B's, each one's accuracy on the clips whose
    class is known, and the clips where they disagree (both surest first, paged). What each
    model says of each clip is worked out once and kept: when some clips are new, the answer is
    202 with a job that works them out (batched); ask again when it is done."""
    a_id, b_id = two_models(state, a, b)
    clips = clips_of(state, user.id, source)
    return comparison_or_job(state, user.id, source, clips, a_id, b_id, offset, limit, (source,))


@router.post("/selection", response_model=SourceComparison,
             responses={**WORKING, 413: {"model": ErrorDetail, "description": "a request body over the limit"}})
def compare_selection(request: SelectionComparisonRequest, state: State, user: CurrentUser):
    """As ``GET /api/compare``, on clips picked by hand (a lasso on the map, rows of a table):
    corpus clips and the user's uploads, in any mix; an id that names no clip is a 404."""
    a_id, b_id = two_models(state, request.a, request.b)
    seen, clips = set(), []
    for clip_id in request.clip_ids:
        if clip_id not in seen:
            seen.add(clip_id)
            clips.append(state.find_clip(clip_id, user.id))
    fingerprint = hashlib.sha256("\n".join(sorted(seen)).encode()).hexdigest()[:16]
    return comparison_or_job(state, user.id, "selection", clips, a_id, b_id, request.offset, request.limit,
                             ("selection", fingerprint))
