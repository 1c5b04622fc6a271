"""Collections: many recordings sent at once (files, a dropped folder, or a ZIP), named,
labelled from their folders or a CSV, and analysed as a job - each clip's prediction,
confidence, trust, best prototype and error."""
from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, File, Form, UploadFile

from ..archives import Member, read_archive
from ..collection_intake import keep_files, read_labels_csv
from ..collection_jobs import start_analysis
from ..collection_schemas import Collection, CollectionDeleted
from ..deps import CurrentUser, State
from ..errors import COMMON, UPLOAD, Busy, Invalid, NotFound, TooLarge
from ..state import AppState

router = APIRouter(prefix="/api/collections", tags=["collections"], responses=COMMON)
MAX_LABELS_BYTES = 4 * 2**20  # a labels CSV of a hundred thousand lines
MAX_FORM_FILES = 100_000  # the form's own bound; the server's setting (max_collection_files) is checked below


def collection_out(state: AppState, c: dict) -> Collection:
    job = state.jobs.get(c["job_id"]) if c["job_id"] else None
    finished = c["n_analysed"] >= c["n_clips"]
    running = job is not None and job["status"] in ("queued", "running")
    return Collection(id=c["id"], name=c["name"], model=c["model"], created=c["created"], n_clips=c["n_clips"],
                      n_analysed=c["n_analysed"], progress=c["n_analysed"] / c["n_clips"] if c["n_clips"] else 1.0,
                      status="done" if finished else "analysing" if running else "waiting",
                      job_id=c["job_id"], skipped=c["skipped"], source=f"collection:{c['id']}")


def own_collection(state: AppState, collection_id: str, owner: str) -> dict:
    found = state.storage.collection(collection_id, owner)
    if found is None:
        raise NotFound(f"There is no collection '{collection_id}'.")
    return found


def _read_upload(f: UploadFile, limit: int) -> bytes:
    """A sent file's bytes (from the form's spooled file, on a worker thread)."""
    f.file.seek(0)
    return f.file.read(limit + 1)


async def _members(state: AppState, files: list[UploadFile], archive: UploadFile | None) -> tuple[list[Member], list[dict]]:
    """The files sent, within the limits: loose files, and the members of a ZIP - each read
    when it is kept (:func:`~auralens.server.collection_intake.keep_files`), one at a time."""
    s = state.settings
    if len(files) > s.max_collection_files:
        raise Invalid(f"{len(files)} files were sent; at most {s.max_collection_files} can be sent at once.")
    members, skipped, total = [], [], 0
    for f in files:
        name = (f.filename or "clip").replace("\\", "/")
        size = f.size if f.size is not None else s.max_upload_bytes + 1
        total += size
        if total > s.max_collection_bytes:
            raise TooLarge(f"The files together are larger than the limit of {s.max_collection_mb:g} MB.")
        members.append(Member(name, size, lambda f=f: _read_upload(f, s.max_upload_bytes)))
    if archive is not None:
        data = await archive.read(s.max_collection_bytes + 1)
        if len(data) > s.max_collection_bytes:
            raise TooLarge(f"The archive is larger than the limit of {s.max_collection_mb:g} MB for a collection.")
        more, left_out = await state.run(read_archive, data, s.max_collection_files - len(members),
                                         s.max_collection_bytes - total, s.max_upload_bytes, long=True)
        members += more
        skipped += left_out
    return members, skipped


@router.post("", status_code=201, response_model=Collection, responses=UPLOAD,
             form_limits={"max_files": MAX_FORM_FILES + 2, "max_fields": 8, "max_part_size": 64 * 1024})
async def create_collection(name: str = Form(..., min_length=1, max_length=200, description="what to call it"),
                            files: list[UploadFile] = File(default_factory=list, description=(
                                "audio files; a file's name may carry its folders (viola/take1.wav)")),
                            archive: UploadFile | None = File(None, description="a ZIP of audio files (in folders)"),
                            labels: UploadFile | None = File(None, description="a CSV of lines filename,label"),
                            labels_from: Literal["folders", "csv", "none"] = Form(
                                "folders", description="label each clip by its folder's name, by the CSV, or not"),
                            model: str | None = Form(None, description="the bundle's model to analyse it with"),
                            *, state: State, user: CurrentUser) -> Collection:
    """Make a collection from many recordings at once and start analysing it (a job: poll
    ``job_id``, or this collection, for progress). Files that are not usable audio are left out
    and listed under ``skipped`` with the reason; a ZIP that is unreadable, too large, or
    unpacks to far more than it holds is refused (4xx) as a whole."""
    name = name.strip()
    if not name:
        raise Invalid("A collection needs a name.")
    model_id = state.model(model).id
    csv_labels = {}
    if labels is not None:
        text = await labels.read(MAX_LABELS_BYTES + 1)
        if len(text) > MAX_LABELS_BYTES:
            raise TooLarge(f"The labels file is larger than {MAX_LABELS_BYTES // 2**20} MB.")
        csv_labels = read_labels_csv(text)
        labels_from = "csv" if labels_from == "folders" else labels_from
    elif labels_from == "csv":
        raise Invalid("Labels from a CSV need the CSV: send it as 'labels' (lines filename,label).")
    members, skipped = await _members(state, files, archive)
    if not members:
        raise Invalid("No files were sent" + (": " + "; ".join(f"{s['name']}: {s['reason']}" for s in skipped[:5])
                                              if skipped else "; send audio files or a ZIP of them."))
    kept, left_out = await state.run(keep_files, state, user.id, members, labels_from, csv_labels, long=True)
    skipped += left_out
    if not kept:
        raise Invalid("None of the files is usable audio: "
                      + "; ".join(f"{s['name']}: {s['reason']}" for s in skipped[:5]))
    collection_id = state.storage.add_collection(name, model_id, state.bundle.name, user.id, skipped)
    state.storage.add_collection_clips(collection_id, [(c.clip_id, c.path, c.label, c.tags) for c in kept])
    try:
        start_analysis(state, collection_id, user.id)
    except Busy:  # kept all the same: it waits, and looking at it later starts its analysis
        pass
    return collection_out(state, own_collection(state, collection_id, user.id))


@router.get("", response_model=list[Collection])
def list_collections(state: State, user: CurrentUser) -> list[Collection]:
    """The asker's collections, oldest first."""
    return [collection_out(state, c) for c in state.storage.collections(user.id)]


@router.get("/{collection_id}", response_model=Collection)
def get_collection(collection_id: str, state: State, user: CurrentUser) -> Collection:
    """One collection and how far its analysis got. One left unfinished with no job running
    (the server could not take it on restarting) is started again here."""
    c = own_collection(state, collection_id, user.id)
    out = collection_out(state, c)
    if out.status == "waiting":
        try:
            start_analysis(state, collection_id, user.id)
        except Busy:  # the server's long-job queue is full: it stays waiting, ask again later
            return out
        out = collection_out(state, own_collection(state, collection_id, user.id))
    return out


@router.delete("/{collection_id}", response_model=CollectionDeleted)
def delete_collection(collection_id: str, state: State, user: CurrentUser) -> CollectionDeleted:
    """Delete a collection; its clips stay among the asker's uploads (with their figures)."""
    own_collection(state, collection_id, user.id)
    state.storage.delete_collection(collection_id, user.id)
    return CollectionDeleted(id=collection_id)
