"""The map's contract: every clip of a source in 2-D, as columns (one list per field, in the
same clip order), so that 100 000 clips stay a compact answer."""
from __future__ import annotations

from pydantic import BaseModel, Field


class MapFit(BaseModel):
    fingerprint: str = Field(description="hash of the set of clips the layout was fitted on")
    fitted: int = Field(description="clips the layout was fitted on")
    placed: int = Field(description="clips of this answer placed with the fitted transform since")
    fitted_at: str = Field(description="when the layout was fitted (UTC)")


class TagColumn(BaseModel):
    values: list[str] = Field(description="the tag's values, in a natural order")
    codes: list[int] = Field(description="per clip: index into values, -1 for none")


class ClipMap(BaseModel):
    source: str = Field(description="'corpus', 'uploads' or 'collection:<id>'")
    space: str
    method: str = Field(description="'pca' or 'umap'")
    n: int = Field(description="how many clips")
    on: str | None = Field(None, description="the source whose map the clips are laid on (null: their own)")
    axes: list[str] = Field(description="what each axis is, in words")
    fit: MapFit = Field(description="the layout: fitted on the clips of `on`, or of `source` itself")
    ids: list[str] = Field(description="clip ids; every other list is in this order")
    x: list[float]
    y: list[float]
    placed: list[int] = Field(description="indices of the clips placed with the fitted transform, not fitted on")
    classes: list[str] = Field(description="the names that label and prediction index")
    label: list[int] = Field(description="per clip: its class (index into classes), -1 unknown")
    model: str | None = Field(None, description="the model whose prediction and trust are given")
    prediction: list[int] = Field(description="per clip: the model's predicted class (index into classes), -1 unknown")
    confidence: list[float | None] = Field(description="per clip: the model's confidence in it, 0..1")
    trust: list[float | None] = Field(description="per clip: how much it is like what the model knows, 0..1")
    trust_threshold: float | None = Field(None, description="below this trust score a clip is flagged")
    tags: dict[str, TagColumn] = Field(description="tags with few values (family, register, dynamics ...)")
