"""The API's contract: what each endpoint takes and returns (api.md)."""
from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, Field

from auralens.models.kinds import Shows


class Health(BaseModel):
    status: str = Field(description="'ok', or 'unhealthy' (answered with 503)")
    version: str
    device: str
    bundle: str | None
    problem: str | None = Field(None, description="what is wrong, in words, when unhealthy")


class Spectrogram(BaseModel):
    times_s: list[float]
    freqs_hz: list[float] = Field(description="mel band centres")
    values_db: list[list[float]] = Field(description="one row per band, 10 log10 of the mel power")


class Clip(BaseModel):
    id: str
    name: str
    origin: str = Field(description="'corpus' (shipped with the bundle) or 'upload'")
    duration_s: float
    sample_rate: int = Field(description="sample rate of the file, Hz")
    audio_url: str
    label: str | None = Field(None, description="the class of a corpus clip, or the label given to an upload")
    split: str | None = None
    tags: dict[str, str] = Field(default_factory=dict, description="pitch, dynamics, register... of a corpus clip")
    n_analyses: int | None = Field(None, description="an upload's stored analyses (deleted with it)")


class ClipUpdate(BaseModel):
    """A new name and/or label for an upload; a label of null removes it."""
    name: str | None = Field(None, min_length=1, max_length=200)
    label: str | None = Field(None, max_length=200)


class ClipDeleted(BaseModel):
    id: str
    analyses_deleted: int


class ClipDetail(Clip):
    spectrogram: Spectrogram


class ClipList(BaseModel):
    total: int
    clips: list[Clip]


ID_LENGTH = 200  # longest id, name or label a request may name (ids are far shorter; nothing longer is echoed)


class AnalysisRequest(BaseModel):
    clip_id: str = Field(max_length=ID_LENGTH)
    model: str | None = Field(None, max_length=ID_LENGTH, description="model id in the bundle (default: its first)")


class Score(BaseModel):
    label: str
    score: float = Field(description="probability the model gives this class, 0..1")


class StageErrors(BaseModel):
    raw: float
    gain: float | None = None
    pitch: float | None = None
    filters: float | None = None


class PrototypeResult(BaseModel):
    index: int
    label: str
    error: float = Field(description="spectral prototypes: how badly this prototype re-creates the clip; "
                                     "latent prototypes: the clip's distance to it (lower is closer)")
    stage_errors: StageErrors | None = Field(None, description="the error after each transformation "
                                                               "(spectral prototypes)")
    similarity: float | None = Field(None, description="latent prototypes: exp(-distance), 1 is identical")
    reference_hz: float | None = Field(None, description="the pitch the prototype stands at before its pitch "
                                                         "shift (Hz), for models whose prototypes have one")
    reference_midi: float | None = Field(None, description="the same pitch as a MIDI number (A4 = 69)")
    reference_note: str | None = Field(None, description="the same pitch as a note name, e.g. A3")


class Segment(BaseModel):
    start_s: float
    end_s: float
    prototype: int
    label: str


class Trust(BaseModel):
    """Whether a clip is like what the model knows, for models that measure it."""
    familiar: bool = Field(description="false: the clip is unlike anything the model knows")
    sentence: str = Field(description="the verdict in words, as the page shows it")
    score: float | None = Field(None, description="how much the clip is like the training sounds, 0..1")
    threshold: float | None = Field(None, description="below this score a clip is flagged")


class Analysis(BaseModel):
    id: str
    clip_id: str
    model: str
    bundle: str
    created: str
    prediction: list[Score]
    prototypes: list[PrototypeResult]
    timeline: list[Segment]
    trust: Trust | None = Field(None, description="is the clip like what the model knows (absent when the model "
                                                  "does not measure it)")


class TransformCurves(BaseModel):
    times_s: list[float]
    gain_db: list[float] | None = None
    shift_semitones: list[float] | None = None
    lowcut_hz: list[float] | None = None
    highcut_hz: list[float] | None = None
    low_edge_db: list[float] | None = None
    high_edge_db: list[float] | None = None


class Reconstruction(BaseModel):
    analysis_id: str
    prototype: int
    label: str
    stage: str
    error: float
    spectrogram: Spectrogram
    transforms: TransformCurves
    audio_url: str


class ModelInfo(BaseModel):
    id: str
    kind: str
    supervised: bool
    n_prototypes: int
    stages: list[str]
    metrics: dict = Field(description="figures recorded at training, per stage too")
    title: str = Field(description="what the model's kind is, in words for a person")
    shows: Shows = Field(description="what the app may show for the model: reconstructions, what_if, "
                                     "concept_tests, decoded_prototypes, embedding_spaces (each true or false)")


class BundleInfo(BaseModel):
    name: str
    version: str
    audio: dict
    classes: list[str]
    models: list[ModelInfo]
    evaluations: dict = Field(description="figures on other data sets, per model")
    embedding_spaces: list["EmbeddingSpace"] = Field(description="spaces to find neighbours in")
    embedding_probe: dict | None = Field(None, description="a linear probe on all the spaces together "
                                                           "(accuracy, macro F1 on the test split)")
    corpus_size: int


class Rendering(BaseModel):
    name: str = Field(description="'decoded' (the prototype through the decoder) or 'nearest' "
                                  "(the training clip nearest to it)")
    description: str
    audio_url: str


class Prototype(BaseModel):
    index: int
    label: str
    spectrogram: Spectrogram
    audio_url: str
    best_clips: list[str] = Field(description="corpus clips this prototype explains best "
                                              "(when the bundle ships its corpus)")
    renderings: list[Rendering] = Field(default_factory=list, description="latent prototypes: the two ways "
                                                                          "to hear them")
    reference_hz: float | None = Field(None, description="the pitch the prototype stands at (Hz), for models "
                                                         "whose prototypes have one")
    reference_midi: float | None = Field(None, description="the same pitch as a MIDI number (A4 = 69)")
    reference_note: str | None = Field(None, description="the same pitch as a note name, e.g. A3")


class JobStarted(BaseModel):
    job_id: str
    status_url: str = Field(description="poll this for progress and, when done, the result")


class Job(BaseModel):
    id: str
    kind: str = Field(description="what the job does: 'export', 'tcav', 'discovery'")
    status: str = Field(description="queued, running, done, failed, or interrupted (the server stopped)")
    progress: float = Field(description="how far it got, 0..1")
    params: dict = Field(description="what was asked")
    result: dict | None = Field(None, description="the outcome, when done")
    error: str | None = Field(None, description="why it failed, in words")
    created: str
    updated: str


class WhatIf(BaseModel):
    prototype: int
    label: str = Field(description="the class the prototype stands for")
    prediction: list[Score] = Field(description="how the model classifies the transformed prototype, best first")
    freqs_hz: list[float] = Field(description="mel band centres")
    original_db: list[float] = Field(description="the prototype's spectrum, dB per band")
    transformed_db: list[float] = Field(description="the spectrum after the transformation, dB per band")


class ConceptIn(BaseModel):
    name: str = Field(min_length=1, max_length=80, description="e.g. 'muted brass'")
    description: str = Field("", max_length=500, description="what the examples have in common")
    clip_ids: list[Annotated[str, Field(max_length=ID_LENGTH)]] = Field(
        description="at least 20 example clips (uploads or corpus clips)", max_length=500)
    shared: bool = Field(False, description="other users of the server can see and test it (not change it)")


class ConceptSharing(BaseModel):
    shared: bool = Field(description="other users of the server can see and test it (not change it)")


class ConceptClip(BaseModel):
    label: str | None = None
    tags: dict[str, str] = Field(default_factory=dict)


class Concept(BaseModel):
    id: str
    name: str
    description: str
    builtin: bool = Field(description="shipped with the bundle (its clips are stored as features, not audio)")
    n_clips: int
    clip_ids: list[str] = Field(description="the example clips of a user's concept (for its owner only)")
    created: str | None = None
    owner: str | None = Field(None, description="the name of the user who made it (none: built in, or the local user)")
    shared: bool = Field(False, description="other users can see and test it")
    mine: bool = Field(False, description="made by the user asking (who alone may change or delete it)")


class ConceptExample(BaseModel):
    index: int = Field(description="the example's place in the concept, from 0")
    name: str
    label: str | None = Field(None, description="the instrument of the example, when known")
    tags: dict[str, str] = Field(default_factory=dict)
    audio_url: str
    resynthesised: bool = Field(description="heard re-synthesised from the stored features (a built-in concept, "
                                            "whose audio is not in the bundle), not as recorded")


class LayerSeparability(BaseModel):
    layer: str
    accuracy: dict[str, float] = Field(description="CAV accuracy over the runs on held-out clips: mean and std "
                                                   "(0.5 is chance: the layer cannot tell the concept apart)")
    runs: int
    n_concept: int = Field(description="the concept's clips")
    n_random: int = Field(description="the clips of each random set")


class ConceptSeparability(BaseModel):
    concept: str = Field(description="the concept's id")
    model: str
    seed: int
    layers: list[LayerSeparability]


class TCAVRequest(BaseModel):
    concepts: list[Annotated[str, Field(max_length=ID_LENGTH)]] = Field(min_length=1, max_length=10,
                                                                        description="concept ids")
    classes: list[Annotated[str, Field(max_length=ID_LENGTH)]] | None = Field(
        None, max_length=256, description="class names to test (default: all)")
    layers: list[Annotated[str, Field(max_length=ID_LENGTH)]] | None = Field(
        None, max_length=4, description="layer names (default: one middle layer)")
    runs: int = Field(20, ge=2, le=100, description="CAVs per concept; >= 20 for an exact test")
    seed: int = Field(0, ge=0, le=2**31 - 1)
    model: str | None = Field(None, max_length=ID_LENGTH, description="model id (default: the bundle's first)")


class DiscoveryRequest(BaseModel):
    classes: list[Annotated[str, Field(max_length=ID_LENGTH)]] = Field(min_length=2, max_length=16,
                                                                       description="two or more class names")
    layer: str | None = Field(None, max_length=ID_LENGTH,
                              description="a layer with non-negative activations (default: one)")
    rank: int = Field(5, ge=3, le=10, description="number of concepts to find")
    seed: int = Field(0, ge=0, le=2**31 - 1)
    model: str | None = Field(None, max_length=ID_LENGTH)


class Layer(BaseModel):
    name: str
    shape: list[int] = Field(description="output shape for one 1 s clip, without the batch axis")
    non_negative: bool = Field(description="usable for concept discovery")


class EmbeddingSpace(BaseModel):
    id: str = Field(description="'timbre', 'pitch', 'learned', 'prototype-profile', 'tags', 'aisfx'")
    description: str = Field(description="what being near in this space means, in words")
    dim: int
    quality: dict = Field(default_factory=dict, description="nearest-neighbour macro F1, Davies-Bouldin index, "
                                                             "linear-probe accuracy on the test split")
    credit: str | None = None


class NeighbourClip(BaseModel):
    clip_id: str
    label: str | None
    tags: dict[str, str]
    distance: float = Field(description="cosine distance, 0 (same direction) to 2")
    audio_url: str


BundleInfo.model_rebuild()
