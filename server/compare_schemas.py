"""The contract of two models side by side: on one clip (``POST /api/compare/clip``) and on a
source of clips (``GET /api/compare``)."""
from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, Field

from .schemas import ID_LENGTH, Rendering, Score, Trust


class ClipComparisonRequest(BaseModel):
    clip_id: str = Field(max_length=ID_LENGTH)
    a: str = Field(max_length=ID_LENGTH, description="model id of the left side")
    b: str = Field(max_length=ID_LENGTH, description="model id of the right side")


CLIP_ID_LENGTH = 64  # clip ids are far shorter ("c-french_horn-011", "u-3q7ZkP0aXw")
MAX_PICKED = 3000  # clips picked by hand in one request: 3000 of the longest ids stay under the body limit


class SelectionComparisonRequest(BaseModel):
    a: str = Field(max_length=ID_LENGTH, description="model id (rows of the confusion table)")
    b: str = Field(max_length=ID_LENGTH, description="model id (columns)")
    clip_ids: list[Annotated[str, Field(max_length=CLIP_ID_LENGTH)]] = Field(
        min_length=1, max_length=MAX_PICKED, description="the clips to compare on (corpus clips and uploads)")
    offset: int = Field(0, ge=0, le=10_000_000, description="first disagreement listed")
    limit: int = Field(100, ge=1, le=1000, description="disagreements listed")


class Closeness(BaseModel):
    index: int
    label: str
    similarity: float = Field(description="exp(-distance), 1 is identical")


class Explanation(BaseModel):
    """Why a model decided as it did, in the terms of its kind."""
    how: str = Field(description="'re-creation' (a prototype transformed to re-create the clip) or "
                                 "'closeness' (the clip's nearness to prototypes in a learned space)")
    prototype: int = Field(description="the prototype that explains the clip best")
    label: str = Field(description="the class it stands for")
    sentence: str = Field(description="the explanation in words")
    error: float | None = Field(None, description="re-creation: the re-creation error (lower is closer)")
    similarity: float | None = Field(None, description="closeness: similarity to the prototype, 0..1")
    recreation_url: str | None = Field(None, description="re-creation: the clip as the prototype re-creates it, "
                                                         "as sound")
    prototype_url: str = Field(description="the prototype alone, as sound")
    renderings: list[Rendering] = Field(default_factory=list, description="closeness: the prototype decoded, "
                                                                          "and the training clip nearest to it")
    closest: list[Closeness] = Field(default_factory=list, description="closeness: the few closest prototypes")


class ModelSide(BaseModel):
    model: str
    title: str = Field(description="what the model's kind is, in words")
    analysis_id: str = Field(description="the stored analysis (a permalink, #/analyses/<id> in the page)")
    prediction: list[Score] = Field(description="the class ranking, best first (at most ten)")
    top: Score
    trust: Trust | None = None
    explanation: Explanation


class ClipComparison(BaseModel):
    clip_id: str
    name: str
    label: str | None = Field(None, description="what the clip is, when known (a corpus clip's class)")
    audio_url: str
    agree: bool = Field(description="both models name the same class first")
    sentence: str = Field(description="where they agree or not, in words")
    a: ModelSide
    b: ModelSide


class ClipVerdict(BaseModel):
    label: str
    score: float = Field(description="how sure, 0..1")
    prototype: int = Field(description="the prototype that explains it best")
    familiar: bool | None = Field(None, description="like what the model knows (none: not measured)")


class Disagreement(BaseModel):
    clip_id: str
    name: str
    label: str | None = Field(None, description="what the clip is, when known")
    a: ClipVerdict
    b: ClipVerdict


class Confusion(BaseModel):
    labels: list[str] = Field(description="the classes either model predicts on the source, in the bundle's order")
    matrix: list[list[int]] = Field(description="clips per pair: row = model A's class, column = model B's")


class SourceComparison(BaseModel):
    source: str
    a: str
    b: str
    n: int = Field(description="clips compared")
    n_agree: int
    agreement: float | None = Field(description="share of clips both models put in the same class, 0..1 "
                                                "(none for a source without clips)")
    unreadable: int = Field(0, description="clips whose audio could not be read, left out")
    sentence: str
    n_labelled: int = Field(description="clips whose class is known")
    accuracy: dict[str, float | None] = Field(description="per model, the share of labelled clips it names right")
    confusion: Confusion
    total_disagreements: int
    offset: int
    disagreements: list[Disagreement] = Field(description="the clips where they disagree, the ones both are surest "
                                                          "of first, from offset")
