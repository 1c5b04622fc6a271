"""The embedding spaces this version knows, in display order, and what each needs to embed a clip."""
from __future__ import annotations

from dataclasses import dataclass

from . import aisfx, learned, pitch, profile, tags, timbre


@dataclass(frozen=True)
class SpaceSpec:
    name: str
    description: str  # one sentence for people: what "near" means in this space
    standardised: bool  # z-scored with the corpus statistics before normalising
    needs: str  # "mel", "samples", "model", "tags", "aisfx"


SPACES = {s.name: s for s in [
    SpaceSpec("timbre", timbre.DESCRIPTION, True, "mel"),
    SpaceSpec("pitch", pitch.DESCRIPTION, False, "samples"),
    SpaceSpec("learned", learned.DESCRIPTION, True, "model"),
    SpaceSpec("prototype-profile", profile.DESCRIPTION, True, "model"),
    SpaceSpec("tags", tags.DESCRIPTION, False, "tags"),
    SpaceSpec("aisfx", aisfx.DESCRIPTION, True, "aisfx"),
]}
