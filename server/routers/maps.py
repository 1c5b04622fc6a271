"""The map: every clip of a source in two dimensions from an embedding space (PCA or UMAP),
for colouring by class, prediction, trust or tag, hearing by hovering and selecting by lasso."""
from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Query, Response
from fastapi.responses import JSONResponse

from auralens.models.embeddings.projection import INSTALL_UMAP, umap_available

from ..deps import CurrentUser, MapsDep, State
from ..errors import COMMON, Invalid, NotFound
from ..map_schemas import ClipMap
from ..maps import too_few
from ..schemas import JobStarted
from ..sources import clips_of

router = APIRouter(tags=["maps"], responses=COMMON)


@router.get("/api/map", response_model=ClipMap,
            responses={202: {"model": JobStarted, "description": "the map is being made: poll the job, then ask again"}})
async def get_map(source: str = Query("corpus", max_length=200, description="'corpus', 'uploads' or 'collection:<id>'"),
                  space: str = Query("timbre", max_length=80, description="an embedding space (see GET /api/spaces)"),
                  method: Literal["pca", "umap"] = Query("pca", description="PCA (fast, linear) or UMAP (neighbourhoods)"),
                  *, state: State, maps: MapsDep, user: CurrentUser) -> Response:
    """Every clip of ``source`` placed in 2-D from ``space``, with its class, the model's
    prediction and confidence, its trust score and its tags - as columns, in one clip order.
    The layout is fitted once and kept; clips added later are placed with the fitted transform
    until they are a quarter of the source, then it is fitted again. A UMAP fit, or many clips
    not embedded yet, is a job: the answer is then 202 with its id; poll ``/api/jobs/{id}``
    and ask again when it is done."""
    spaces = state.spaces
    if spaces is None:
        raise NotFound("This bundle has no embedding spaces (add them with `auralens bundle add-embeddings`).")
    if space not in spaces.names:
        why = spaces.unavailable.get(space)
        if why:
            raise Invalid(f"The '{space}' space is not available on this server: {why}.")
        raise NotFound(f"There is no space '{space}'; there are: {', '.join(spaces.names)}.")
    if method == "umap" and not umap_available():
        raise Invalid(INSTALL_UMAP)
    clips = clips_of(state, user.id, source)
    short = too_few(method, len(clips))
    if short:
        raise Invalid(short)
    key = maps.key(user.id, source, space, method)
    job_id = maps.running_job(key, user.id)
    if job_id is None:
        # off the event loop: reading a stored fit, checking which clips are embedded, building
        body = maps.cached_answer(key, clips) or await state.run(maps.answer_unless_long, key, clips, long=True)
        if body is not None:
            return Response(body, media_type="application/json")
        job_id = maps.start_job(key, clips, user.id)
    return JSONResponse(JobStarted(job_id=job_id, status_url=f"/api/jobs/{job_id}").model_dump(), status_code=202)
