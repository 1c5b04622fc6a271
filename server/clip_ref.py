"""What the API knows of a clip it can serve, an upload or a corpus clip alike."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class ClipRef:
    """A clip the API can serve: an upload (kept in storage) or a corpus clip of the bundle."""

    id: str
    origin: str  # "upload" or "corpus"
    name: str
    duration_s: float
    sample_rate: int
    path: Path
    label: str | None = None
    split: str | None = None
    tags: dict | None = None
    canonical: Path | None = None  # an upload's decoded mono audio at the bundle's rate, once made
