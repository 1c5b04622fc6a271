"""Long work as jobs: a POST answers 202 with a job id at once, the work runs on its own
worker thread, and ``GET /api/jobs/{id}`` says how far it got.

Jobs live in the database (kind, what was asked, status, progress, result or error), so a job
id stays meaningful after a restart; a job a previous run left unfinished is marked failed
with a sentence saying so. Progress is also kept in memory while a job runs, so polling is
cheap and the database sees at most one progress write per second.

Jobs are shared fairly between askers (:mod:`auralens.server.fair`): each may have
``per_asker`` waiting or running, and the next job to run is the oldest of the asker with the
least running. When the server stops, the running job stops at its next progress report and,
with the jobs still waiting, is marked ``interrupted``.
"""
from __future__ import annotations

import logging
import threading
import time
from typing import Callable

import torch

from .errors import NO_SPACE, DomainError, disk_full
from .fair import ASKER, FairQueue
from .storage import LOCAL_OWNER, Storage

log = logging.getLogger("auralens.jobs")

Progress = Callable[[float], None]
Work = Callable[[Progress], dict]

RESTARTED = "The server restarted before this job finished; please start it again."
INTERRUPTED = "The server was stopped before this job finished; please start it again."
INTERNAL = "Something went wrong inside the server while running this job (it has been logged)."


class JobFailed(Exception):
    """Raised by a job's work to end it with a message meant for the person who started it."""


class JobInterrupted(Exception):
    """Raised from a job's progress report when the server is stopping."""


class Jobs:
    """A bounded, fair queue of long jobs run one after another on a dedicated thread.

    ``submit(kind, params, work, owner)`` stores user ``owner``'s job and queues ``work(progress)``; ``work``
    returns a JSON-able result and may call ``progress(fraction)`` as it goes. A
    :class:`JobFailed`, a domain error (:mod:`auralens.server.errors`) or a ``ValueError`` ends
    the job with its message; anything else with a generic message (and the traceback in the
    log). When ``max_pending`` jobs are waiting or running, or the asker already has
    ``per_asker``, ``submit`` raises :class:`Busy`.
    """

    def __init__(self, storage: Storage, max_pending: int, per_asker: int = 4):
        self.storage = storage
        self._stopping = threading.Event()
        self._queue = FairQueue(1, max_pending, per_asker, "job", initializer=lambda: torch.set_num_threads(1),
                                noun="long jobs", retry_after=30,
                                busy="The server already has as many long jobs waiting as it takes; try again in a minute.")
        self._live: dict[str, float] = {}
        n = storage.abandon_unfinished_jobs(RESTARTED)
        if n:
            log.warning("%d job(s) left unfinished by the previous run marked failed", n)

    def submit(self, kind: str, params: dict, work: Work, owner: str = LOCAL_OWNER) -> str:
        asker, lane = ASKER.get()
        self._queue.admits(asker)
        job_id = self.storage.add_job(kind, params, owner)
        try:
            self._queue.submit(asker, lane, self._run, job_id, work)
        except DomainError as err:  # Busy after all (another job came first): this one never starts
            self.storage.update_job(job_id, "failed", 0.0, error=err.detail)
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
            if self._stopping.is_set():
                raise JobInterrupted
            fraction = min(max(float(fraction), 0.0), 1.0)
            self._live[job_id] = fraction
            if time.monotonic() - last_write[0] >= 1.0:
                self.storage.update_job(job_id, "running", fraction)
                last_write[0] = time.monotonic()

        try:
            self._live[job_id] = 0.0
            self.storage.update_job(job_id, "running", 0.0)
            result = work(progress)
            self.storage.update_job(job_id, "done", 1.0, result=result)
        except JobInterrupted:
            self.storage.update_job(job_id, "interrupted", self._live.get(job_id, 0.0), error=INTERRUPTED)
        except (JobFailed, DomainError, ValueError) as err:
            self.storage.update_job(job_id, "failed", self._live.get(job_id, 0.0), error=str(err))
        except Exception as err:
            if not disk_full(err):
                log.exception("job %s failed", job_id)
            self.storage.update_job(job_id, "failed", self._live.get(job_id, 0.0),
                                    error=NO_SPACE if disk_full(err) else INTERNAL)
        finally:
            self._live.pop(job_id, None)

    def close(self) -> None:
        """Stop promptly: the running job ends at its next progress report, and it and the jobs
        still waiting are marked interrupted."""
        self._stopping.set()
        for job_id, _ in self._queue.close():
            self.storage.update_job(job_id, "interrupted", 0.0, error=INTERRUPTED)
