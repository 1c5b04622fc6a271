"""Long work as jobs: a POST answers 202 with a job id at once, the work runs on its own
worker thread, and ``GET /api/jobs/{id}`` says how far it got.

Jobs live in the database (kind, what was asked, status, progress, result or error), so a job
id stays meaningful after a restart; a job a previous run left unfinished is marked failed
with a sentence saying so. Progress is also kept in memory while a job runs, so polling is
cheap and the database sees at most one progress write per second.
"""
from __future__ import annotations

import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Callable

import torch

from .errors import Busy, DomainError
from .storage import LOCAL_OWNER, Storage

log = logging.getLogger("auralens.jobs")

Progress = Callable[[float], None]
Work = Callable[[Progress], dict]

RESTARTED = "The server restarted before this job finished; please start it again."
INTERNAL = "Something went wrong inside the server while running this job (it has been logged)."


class JobFailed(Exception):
    """Raised by a job's work to end it with a message meant for the person who started it."""


class Jobs:
    """A bounded queue of long jobs run one after another on a dedicated thread.

    ``submit(kind, params, work, owner)`` stores user ``owner``'s job and queues ``work(progress)``; ``work``
    returns a JSON-able result and may call ``progress(fraction)`` as it goes. A
    :class:`JobFailed`, a domain error (:mod:`auralens.server.errors`) or a ``ValueError`` ends
    the job with its message; anything else with a generic message (and the traceback in the
    log). When ``max_pending`` jobs are waiting or running, ``submit`` raises :class:`Busy`.
    """

    def __init__(self, storage: Storage, max_pending: int):
        self.storage = storage
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="job")
        self._slots = threading.BoundedSemaphore(max_pending)
        self._live: dict[str, float] = {}
        n = storage.abandon_unfinished_jobs(RESTARTED)
        if n:
            log.warning("%d job(s) left unfinished by the previous run marked failed", n)

    def submit(self, kind: str, params: dict, work: Work, owner: str = LOCAL_OWNER) -> str:
        if not self._slots.acquire(blocking=False):
            raise Busy("The server already has as many long jobs waiting as it takes; try again in a minute.",
                       retry_after=30)
        try:
            job_id = self.storage.add_job(kind, params, owner)
            self._executor.submit(self._run, job_id, work)
        except BaseException:
            self._slots.release()
            raise
        return job_id

    def get(self, job_id: str, owner: str | None = None) -> dict | None:
        """A job by id (with ``owner``: only that user's), its progress live while it runs."""
        job = self.storage.job(job_id, owner)
        if job is not None and job["status"] == "running" and job_id in self._live:
            job["progress"] = self._live[job_id]
        return job

    def _run(self, job_id: str, work: Work) -> None:
        last_write = [time.monotonic()]

        def progress(fraction: float) -> None:
            fraction = min(max(float(fraction), 0.0), 1.0)
            self._live[job_id] = fraction
            if time.monotonic() - last_write[0] >= 1.0:
                self.storage.update_job(job_id, "running", fraction)
                last_write[0] = time.monotonic()

        try:
            self._live[job_id] = 0.0
            self.storage.update_job(job_id, "running", 0.0)
            torch.set_num_threads(1)  # as on the model workers: one core per worker thread
            result = work(progress)
            self.storage.update_job(job_id, "done", 1.0, result=result)
        except (JobFailed, DomainError, ValueError) as err:
            self.storage.update_job(job_id, "failed", self._live.get(job_id, 0.0), error=str(err))
        except Exception:
            log.exception("job %s failed", job_id)
            self.storage.update_job(job_id, "failed", self._live.get(job_id, 0.0), error=INTERNAL)
        finally:
            self._live.pop(job_id, None)
            self._slots.release()

    def close(self) -> None:
        """Finish the running job, drop the queued ones (the next start marks them failed)."""
        self._executor.shutdown(wait=True, cancel_futures=True)
