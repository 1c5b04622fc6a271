"""The contract of blended neighbours (aspects): what ``GET /api/clips/{id}/neighbours/blend`` returns."""
from __future__ import annotations

from pydantic import BaseModel, Field


class BlendedClip(BaseModel):
    clip_id: str
    label: str | None
    tags: dict[str, str]
    similarity: float = Field(description="blended similarity, 0..1: the weighted geometric mean of the "
                                          "per-aspect ones (1: alike in every weighted aspect)")
    distance: float = Field(description="blended distance in units of each space's typical neighbour "
                                        "distance (1: as near as a typical close neighbour)")
    aspects: dict[str, float] = Field(description="similarity in each space asked about, 0..1 "
                                                  "(0.5 at that space's typical neighbour distance)")
    audio_url: str


class Blend(BaseModel):
    clip_id: str = Field(description="the clip whose neighbours these are")
    weights: dict[str, float] = Field(description="the weights as used: made to sum to 1 (0 for spaces only "
                                                  "reported)")
    scales: dict[str, float] = Field(description="each space's typical neighbour distance (cosine), the unit "
                                                 "its distances are divided by")
    neighbours: list[BlendedClip]
