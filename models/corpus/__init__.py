"""orchestra16: the built-in demo corpus, rendered note by note from a General MIDI SoundFont.

    >>> from models.corpus import build_corpus
    >>> report = build_corpus("/usr/share/sounds/sf2/FluidR3_GM.sf2", "/tmp/o16")  # doctest: +SKIP
    >>> print(report.summary())  # doctest: +SKIP
"""

from models.corpus.build import build_corpus
from models.corpus.classes import (
    CLASS_NAMES,
    CLASSES,
    FAMILIES,
    Instrument,
    articulation_of,
    dynamics_of,
    instrument_named,
    register_of,
    register_pitches,
)
from models.corpus.draws import CONCEPTS, Note
from models.corpus.files import CONCEPT_COLUMNS, CORPUS_COLUMNS
from models.corpus.report import BuildReport, Redraw
from models.corpus.render import CLIP_SAMPLES, CLIP_SECONDS, SAMPLE_RATE, SILENCE_DBFS
from models.corpus.splits import SPLITS, assign_splits, split_counts

__all__ = [
    "BuildReport",
    "CLASSES",
    "CLASS_NAMES",
    "CLIP_SAMPLES",
    "CLIP_SECONDS",
    "CONCEPTS",
    "CONCEPT_COLUMNS",
    "CORPUS_COLUMNS",
    "FAMILIES",
    "Instrument",
    "Note",
    "Redraw",
    "SAMPLE_RATE",
    "SILENCE_DBFS",
    "SPLITS",
    "articulation_of",
    "assign_splits",
    "build_corpus",
    "dynamics_of",
    "instrument_named",
    "register_of",
    "register_pitches",
    "split_counts",
]
