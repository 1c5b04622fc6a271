"""A collection analysed as a job: its clips through the model in batches
(:func:`auralens.models.collection.analyse_clips`, the code ``auralens analyse`` runs too), each
batch's figures stored as soon as it is done.

Resumable: a clip's figures are kept per clip and model, so a job that stops (the server
stopped, or crashed) leaves what it had done; when the server opens again, every collection
with clips not yet analysed gets a job that analyses only those - nothing is analysed twice.
"""
from __future__ import annotations

import logging

from auralens.models.collection import Analyser, analyse_clips

from .errors import DomainError
from .fair import ASKER
from .source_tables import note_results
from .state import AppState

log = logging.getLogger("auralens.collections")
BATCH_CLIPS = 16  # clips per batch: a progress report and a database write each


def collection_work(state: AppState, collection_id: str):
    """The work of a job analysing the collection's clips not analysed yet (see :mod:`auralens.server.jobs`)."""

    def work(progress) -> dict:
        head = state.storage.collection_head(collection_id)
        if head is None:
            return {"collection_id": collection_id, "analysed": 0, "deleted": True}
        model_id, bundle = head["model"], head["bundle"]
        todo = state.storage.unanalysed_clips(collection_id, model_id, bundle)
        total = state.storage.collection(collection_id)["n_clips"]
        done = [total - len(todo)]
        progress(done[0] / max(total, 1))
        refs = [state.upload_ref(c) for c in todo]
        paths = [r.canonical if r.canonical is not None and r.canonical.is_file() else r.path for r in refs]
        analyser = Analyser(model_id=model_id, device=state.device, model=state.models[model_id],
                            classes=state.bundle.classes, audio=state.bundle.audio)

        def store(idx: list[int], rows: list[dict]) -> None:
            results = {todo[i].id: row for i, row in zip(idx, rows)}
            state.storage.add_results(model_id, bundle, list(results.items()), collection_id)
            note_results(state, head["owner"], collection_id, model_id, results)
            done[0] += len(idx)
            progress(done[0] / max(total, 1))

        rows = analyse_clips(analyser, paths, BATCH_CLIPS, on_batch=store)
        return {"collection_id": collection_id, "analysed": len(rows),
                "skipped": sum(1 for r in rows if "skipped" in r), "n_clips": total}

    return work


def start_analysis(state: AppState, collection_id: str, owner: str) -> str:
    """Queue a job analysing the collection's clips not analysed yet; returns its id."""
    job_id = state.jobs.submit("collection", {"collection_id": collection_id},
                               collection_work(state, collection_id), owner=owner)
    state.storage.set_collection_job(collection_id, job_id)
    return job_id


def resume_collections(state: AppState) -> int:
    """Start a job for every collection with clips not analysed yet (after a restart);
    returns how many were started. One the queue cannot take now is logged and left for
    the next start (or the owner's next look at it)."""
    started = 0
    for c in state.storage.unfinished_collections():
        token = ASKER.set((f"user:{c['owner']}", "resume"))
        try:
            start_analysis(state, c["id"], c["owner"])
            started += 1
        except DomainError as err:
            log.warning("collection %s not resumed now: %s", c["id"], err.detail)
        finally:
            ASKER.reset(token)
    return started
