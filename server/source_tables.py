"""The table of a clip source (``corpus``, ``uploads``, ``collection:<id>``) for a model, built
once and kept until the source changes.

A collection's clips are analysed by its job; the corpus's and the uploads' clips are
analysed here, the first time their table is asked for, in batches - and an upload's figures
are stored, so that it is never analysed twice. Building runs on a worker (call
:func:`source_table` through :meth:`~auralens.server.state.AppState.run`).
"""
from __future__ import annotations

import threading

from auralens.models.collection import Analyser, analyse_clips, clip_figures

from .clip_table import ClipTable, rows_from_storage
from .errors import Invalid, NotFound
from .state import AppState

_LOCK = threading.Lock()  # one table built at a time


def collection_id_of(source: str) -> str | None:
    """``"collection:c-x"`` -> ``"c-x"``; None for another source."""
    return source.split(":", 1)[1] if source.startswith("collection:") else None


def check_source(state: AppState, owner: str, source: str) -> dict | None:
    """The collection a source names (None for corpus and uploads). An unknown source is
    :class:`Invalid`; a collection that does not exist, or is another user's, :class:`NotFound`."""
    cid = collection_id_of(source)
    if cid is not None:
        head = state.storage.collection_head(cid, owner)
        if head is None:
            raise NotFound(f"There is no collection '{cid}'.")
        return head
    if source not in ("corpus", "uploads"):
        raise Invalid(f"There is no clip source '{source}'; use corpus, uploads or collection:<id>.")
    return None


def model_of(state: AppState, source_head: dict | None, model: str | None) -> str:
    """The model a table is made with: the one asked for, else a collection's own, else the bundle's first."""
    if model is None and source_head is not None:
        model = source_head["model"]
    return state.model(model).id


def version_of(state: AppState, owner: str, source: str, head: dict | None):
    """What changes whenever the source's clips or their figures change."""
    if head is not None:
        return state.storage.collection_head(head["id"])["version"]
    if source == "uploads":
        return state.storage.uploads_version(owner)
    return 0


def source_table(state: AppState, owner: str, source: str, model: str | None = None) -> ClipTable:
    """The :class:`ClipTable` of ``source`` as user ``owner`` sees it, with model ``model``'s figures."""
    head = check_source(state, owner, source)
    model_id = model_of(state, head, model)
    key = (owner if source != "corpus" else "", source, model_id)
    version = version_of(state, owner, source, head)
    with _LOCK:
        cached = state.clip_tables.get(key)
        if cached is not None and cached[0] == version:
            return cached[1]
        if source == "corpus":
            table = ClipTable.from_rows(corpus_rows(state, model_id))
        elif source == "uploads":
            table = ClipTable.from_rows(upload_rows(state, owner, model_id))
        else:
            table = ClipTable.from_rows(rows_from_storage(
                state.storage.collection_rows(head["id"], model_id, state.bundle.name)))
        table.classes = list(state.bundle.classes)
        state.clip_tables.put(key, (version, table))
        return table


def corpus_rows(state: AppState, model_id: str) -> list[dict]:
    """The corpus clips with the model's figures (computed once per model, batched)."""
    key = ("corpus rows", model_id)
    rows = state.clip_tables.get(key)
    if rows is None:
        feats = state.corpus_features()
        clips = list(state.corpus.values())
        figures = clip_figures(state.models[model_id], [feats[c.id] for c in clips], state.bundle.classes,
                               state.device)
        rows = state.clip_tables.put(key, [{"id": c.id, "name": c.name, "path": c.name, "label": c.label,
                         "tags": {**(c.tags or {}), **({"split": c.split} if c.split else {})},
                         "duration_s": c.duration_s, "result": f} for c, f in zip(clips, figures)])
    return rows


def upload_rows(state: AppState, owner: str, model_id: str) -> list[dict]:
    """The user's uploads, newest first, with the model's figures; uploads not analysed yet
    are analysed now (batched) and their figures stored."""
    storage = state.storage
    clips = storage.clips(storage.count_clips(owner), 0, owner)
    results = storage.results(model_id, state.bundle.name, owner)
    missing = [c for c in clips if c.id not in results]
    if missing:
        refs = [state.upload_ref(c) for c in missing]
        paths = [r.canonical if r.canonical is not None and r.canonical.is_file() else r.path for r in refs]
        analyser = Analyser(model_id=model_id, device=state.device, model=state.models[model_id],
                            classes=state.bundle.classes, audio=state.bundle.audio)
        rows = analyse_clips(analyser, paths)
        storage.add_results(model_id, state.bundle.name, [(c.id, r) for c, r in zip(missing, rows)])
        results.update({c.id: r for c, r in zip(missing, rows)})
    return [{"id": c.id, "name": c.name, "path": c.name, "label": c.label, "tags": {}, "duration_s": c.duration_s,
             "result": None if "skipped" in results[c.id] else results[c.id]} for c in clips]


def note_results(state: AppState, owner: str, collection_id: str, model_id: str, results: dict[str, dict]) -> None:
    """A collection's job stored figures ``{clip id: result}``: patch its kept table instead of
    building it again (when the table kept is the one just before these figures; else it is
    left to be built anew)."""
    key = (owner, f"collection:{collection_id}", model_id)
    with _LOCK:
        cached = state.clip_tables.get(key)
        head = state.storage.collection_head(collection_id)
        if cached is None or head is None or cached[0] + 1 != head["version"]:
            return
        cached[1].update_results({cid: None if "skipped" in r else r for cid, r in results.items()})
        state.clip_tables.put(key, (head["version"], cached[1]))
