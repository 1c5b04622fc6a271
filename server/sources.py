"""Where a set of clips comes from, by name: ``"corpus"`` (the bundle's corpus clips),
``"uploads"`` (the asker's uploads, newest first) - and ``"collection:<id>"`` for a named
collection of the asker's. The table, the map and collection-wide views read clips through
:func:`clips_of`, so each source is named in one place."""
from __future__ import annotations

import json

from .clip_ref import ClipRef
from .errors import Invalid, NotFound
from .state import AppState

SOURCES = ("corpus", "uploads", "collection:<id>")


def clips_of(state: AppState, owner: str, source: str) -> list[ClipRef]:
    """The clips of ``source`` that user ``owner`` may see, in a stable order (a collection's:
    the order its files came in; its label as the collection gives it).

    Raises :class:`~auralens.server.errors.Invalid` with a sentence for a source it does not
    know, :class:`~auralens.server.errors.NotFound` for a collection that is not the user's.

    Example: ``clips_of(state, user.id, "corpus")[0].id`` is the first corpus clip's id.
    """
    if source == "corpus":
        return list(state.corpus.values())
    if source == "uploads":
        n = state.storage.count_clips(owner)
        return [state.upload_ref(c) for c in state.storage.clips(n, 0, owner)]
    if source.startswith("collection:"):
        collection_id = source.split(":", 1)[1]
        head = state.storage.collection_head(collection_id, owner)
        if head is None:
            raise NotFound(f"There is no collection '{collection_id}'.")
        storage, rate = state.storage, state.bundle.audio.sample_rate
        refs = [ClipRef(r["clip_id"], "upload", r["name"], r["duration_s"], r["sample_rate"],
                        storage.audio_path(r["sha256"], r["ext"]), label=r["label"], tags=json.loads(r["tags"]),
                        canonical=storage.canonical_path(r["sha256"], rate))
                for r in storage.collection_rows(collection_id, head["model"], head["bundle"])]
        return refs
    raise Invalid(f"There is no clip source '{source}'; use one of: {', '.join(SOURCES)}.")
