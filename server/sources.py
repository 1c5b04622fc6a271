"""Where a set of clips comes from, by name: ``"corpus"`` (the bundle's corpus clips),
``"uploads"`` (the asker's uploads, newest first) - and ``"collection:<id>"`` for a named
collection of the asker's. The table, the map and collection-wide views read clips through
:func:`clips_of`, so each source is named in one place."""
from __future__ import annotations

from .clip_ref import ClipRef
from .errors import Invalid
from .state import AppState

SOURCES = ("corpus", "uploads")


def clips_of(state: AppState, owner: str, source: str) -> list[ClipRef]:
    """The clips of ``source`` that user ``owner`` may see, in a stable order.

    Raises :class:`~auralens.server.errors.Invalid` with a sentence for a source it does not know.

    Example: ``clips_of(state, user.id, "corpus")[0].id`` is the first corpus clip's id.
    """
    if source == "corpus":
        return list(state.corpus.values())
    if source == "uploads":
        n = state.storage.count_clips(owner)
        return [state.upload_ref(c) for c in state.storage.clips(n, 0, owner)]
    raise Invalid(f"There is no clip source '{source}'; use one of: {', '.join(SOURCES)}.")
