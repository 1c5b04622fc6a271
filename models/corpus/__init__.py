"""orchestra16: the built-in demo corpus, rendered note by note from a General MIDI SoundFont.

    >>> from auralens.models.corpus import build_corpus
    >>> report = build_corpus("/usr/share/sounds/sf2/FluidR3_GM.sf2", "/tmp/o16")  # doctest: +SKIP
    >>> print(report.summary())  # doctest: +SKIP
"""

from auralens.models.corpus.build import build_corpus
from auralens.models.corpus.classes import (
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
from auralens.models.corpus.draws import CONCEPTS, Note
from auralens.models.corpus.files import CONCEPT_COLUMNS, CORPUS_COLUMNS
from auralens.models.corpus.report import BuildReport, Redraw
from auralens.models.corpus.render import CLIP_SAMPLES, CLIP_SECONDS, SAMPLE_RATE, SILENCE_DBFS
from auralens.models.corpus.splits import SPLITS, assign_splits, split_counts

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
