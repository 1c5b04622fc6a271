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
from ..maps import Base, too_few
from ..schemas import JobStarted
from ..sources import clips_of

router = APIRouter(tags=["maps"], responses=COMMON)


@router.get("/api/map", response_model=ClipMap,
            responses={202: {"model": JobStarted, "description": "the map is being made: poll the job, then ask again"}})
async def get_map(source: str = Query("corpus", max_length=200, description="'corpus', 'uploads' or 'collection:<id>'"),
                  space: str = Query("timbre", max_length=80, description="an embedding space (see GET /api/spaces)"),
                  method: Literal["pca", "umap"] = Query("pca", description="PCA (fast, linear) or UMAP (neighbourhoods)"),
                  on: str | None = Query(None, max_length=200, description="lay the clips on this source's map "
                                         "(e.g. 'corpus'), placed with its fitted transform; default: their own"),
                  *, state: State, maps: MapsDep, user: CurrentUser) -> Response:
    """Every clip of ``source`` placed in 2-D from ``space``, with its class, the model's
    prediction and confidence, its trust score and its tags - as columns, in one clip order.
    The layout is fitted once and kept; clips added later are placed with the fitted transform
    until they are a quarter of the source, then it is fitted again. With ``on`` (e.g.
    ``source=uploads&on=corpus``) the clips are placed on another source's map instead, so that
    they can be seen among its clips. A UMAP fit, or many clips
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
    base = None
    if on is not None and on != source:
        base_clips = clips_of(state, user.id, on)
        short = too_few(method, len(base_clips))
        if short:
            raise Invalid(f"The map to lay the clips on: {short[0].lower()}{short[1:]}")
        base = Base(maps.key(user.id, on, space, method), base_clips)
    job_id = maps.running_job(key, user.id, base)
    if job_id is None:
        # off the event loop: reading a stored fit, checking which clips are embedded, building
        body = maps.cached_answer(key, clips, base) or await state.run(maps.answer_unless_long, key, clips, base,
                                                                      long=True)
        if body is not None:
            return Response(body, media_type="application/json")
        job_id = maps.start_job(key, clips, user.id, base)
    return JSONResponse(JobStarted(job_id=job_id, status_url=f"/api/jobs/{job_id}").model_dump(), status_code=202)
