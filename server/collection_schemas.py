"""The API's contract for collections, the table of clips and prototype usage."""
from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool

SortColumn = Literal["position", "name", "label", "prediction", "confidence", "trust_score", "best_prototype",
                     "error", "duration_s"]


class SkippedFile(BaseModel):
    name: str = Field(description="the file's name as sent (with its folders)")
    reason: str = Field(description="why it was left out, in words")


class Collection(BaseModel):
    id: str
    name: str
    model: str = Field(description="the bundle's model it is analysed with")
    created: str
    n_clips: int
    n_analysed: int = Field(description="clips the model has analysed so far")
    progress: float = Field(description="n_analysed / n_clips, 0..1")
    status: str = Field(description="analysing, done, or waiting (its job is not running: opening it starts one)")
    job_id: str | None = Field(None, description="the job analysing it; poll /api/jobs/{id} for progress")
    skipped: list[SkippedFile] = Field(default_factory=list, description="files left out when it was made")
    source: str = Field(description="its name as a clip source: collection:<id>")


class CollectionDeleted(BaseModel):
    id: str


class TableRow(BaseModel):
    id: str = Field(description="the clip's id (GET /api/clips/{id}, POST /api/analyses)")
    name: str
    path: str = Field(description="the file's path as sent, folders included")
    label: str | None = Field(None, description="what the clip is said to be (folder, CSV, corpus label)")
    prediction: str | None = Field(None, description="the class the model hears; none until analysed")
    confidence: float | None = Field(None, description="how sure the model is of it, 0..1")
    trust: Literal["familiar", "unlike", "unknown"] | None = Field(
        None, description="familiar: like what the model knows; unlike: unlike it; unknown: the model has no trust score")
    trust_score: float | None = None
    best_prototype: int | None = Field(None, description="the prototype that re-creates the clip best")
    best_prototype_label: str | None = None
    error: float | None = Field(None, description="how far the best prototype's re-creation is from the clip")
    duration_s: float | None = None
    tags: dict = Field(default_factory=dict)
    audio_url: str


class TablePage(BaseModel):
    source: str
    model: str
    total: int = Field(description="rows that pass the filters")
    n_clips: int = Field(description="rows of the source before filtering")
    offset: int
    limit: int
    sort: str
    order: str
    rows: list[TableRow]
    matching_ids: list[str] | None = Field(None, description="with with_ids: every row that passes the filters")
    labels: list[str] = Field(description="the labels the source's clips carry (for a filter)")
    predictions: list[str] = Field(description="the classes predicted for them (for a filter)")
    tags: list[str] = Field(description="every name=value tag the clips carry (for a filter)")


class TableQuery(BaseModel):
    """A page of a table asked for in a body (``POST /api/table``): what ``GET /api/table`` takes,
    and a list of clip ids to keep (a selection too long for an address)."""

    model_config = ConfigDict(strict=True)  # a JSON body's values as they are: false is no number

    source: str = "corpus"
    model: str | None = None
    sort: SortColumn = "position"
    order: Literal["asc", "desc"] = "asc"
    offset: int = Field(0, ge=0, le=10_000_000)
    limit: int = Field(50, ge=1, le=1000)
    label: str | None = None
    prediction: str | None = None
    trust: Literal["familiar", "unlike", "unknown"] | None = None
    tag: str | None = None
    prototype: int | None = Field(None, ge=0, le=100_000)
    min_error: float | None = None
    max_error: float | None = None
    min_duration: float | None = None
    max_duration: float | None = None
    min_confidence: float | None = None
    max_confidence: float | None = None
    confused: StrictBool = False
    ids: list[str] | None = Field(None, max_length=100_000, description="only these clips")
    with_ids: StrictBool = Field(False, description="also list the ids of every row that passes the filters")


class PrototypeUse(BaseModel):
    index: int
    label: str = Field(description="the class the prototype stands for")
    n_clips: int = Field(description="clips it explains best")
    share: float = Field(description="of the analysed clips, 0..1")
    mean_error: float = Field(description="how well, on average, it re-creates them (smaller is better)")
    by_label: dict[str, int] = Field(description="those clips by their label")
    by_prediction: dict[str, int] = Field(description="those clips by the class predicted")
    tags: dict[str, int] = Field(description="their most common tags")


class UnusedPrototype(BaseModel):
    index: int
    label: str


class Confusion(BaseModel):
    label: str = Field(description="what the clips are said to be")
    prediction: str = Field(description="what the model heard")
    prototype: int = Field(description="the prototype that won")
    prototype_label: str
    n_clips: int


class Usage(BaseModel):
    source: str
    model: str
    n_clips: int
    n_analysed: int
    prototypes: list[PrototypeUse] = Field(description="prototypes that explain at least one clip, most used first")
    unused: list[UnusedPrototype] = Field(description="prototypes that explain no clip best")
    confusions: list[Confusion] = Field(description="label != prediction, by the prototype that won, most first")
