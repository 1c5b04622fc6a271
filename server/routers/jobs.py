"""Jobs: how far a long piece of work (an export, a TCAV run, a concept discovery) has got."""
from __future__ import annotations

from fastapi import APIRouter

from ..deps import CurrentUser, State
from ..errors import COMMON, NotFound
from ..schemas import Job

router = APIRouter(prefix="/api/jobs", tags=["jobs"], responses=COMMON)


@router.get("/{job_id}", response_model=Job)
def get_job(job_id: str, state: State, user: CurrentUser) -> Job:
    """Status (queued, running, done, failed), progress from 0 to 1, and the result or the
    reason it failed."""
    job = state.jobs.get(job_id, user.id)
    if job is None:
        raise NotFound(f"There is no job '{job_id}'.")
    return Job(**job)
