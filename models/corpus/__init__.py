"""orchestra16: the built-in demo corpus, rendered from General MIDI SoundFonts.

The first edition: single notes from one SoundFont. The second: every class from several
SoundFonts (`sources`), melodies of 3-8 notes (`draws.Phrase`) with every note in a sidecar,
and sounds that are no class (`negatives`).

    >>> from auralens.models.corpus import build_corpus, default_soundfonts
    >>> report = build_corpus(default_soundfonts(), "/tmp/o16", melody_share=0.4, negatives=60)  # doctest: +SKIP
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
from auralens.models.corpus.draws import CONCEPTS, Note, Phrase
from auralens.models.corpus.files import CONCEPT_COLUMNS, CORPUS_COLUMNS, NOTES_COLUMNS, NOTES_FILE
from auralens.models.corpus.negatives import NEGATIVE_COLUMNS, NEGATIVE_KINDS, NEGATIVES_DIR
from auralens.models.corpus.report import BuildReport, Redraw, SourceCounts
from auralens.models.corpus.render import CLIP_SAMPLES, CLIP_SECONDS, SAMPLE_RATE, SILENCE_DBFS
from auralens.models.corpus.sources import DEFAULT_SOUNDFONTS, UNHEARD_CHECK, default_soundfonts, source_name
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
    "DEFAULT_SOUNDFONTS",
    "FAMILIES",
    "Instrument",
    "NEGATIVES_DIR",
    "NEGATIVE_COLUMNS",
    "NEGATIVE_KINDS",
    "NOTES_COLUMNS",
    "NOTES_FILE",
    "Note",
    "Phrase",
    "Redraw",
    "SAMPLE_RATE",
    "SILENCE_DBFS",
    "SPLITS",
    "SourceCounts",
    "UNHEARD_CHECK",
    "articulation_of",
    "assign_splits",
    "build_corpus",
    "default_soundfonts",
    "dynamics_of",
    "instrument_named",
    "register_of",
    "register_pitches",
    "source_name",
    "split_counts",
]
