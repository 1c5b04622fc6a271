"""Which clips a build makes: their file paths, classes and seeded draw streams."""

from __future__ import annotations

from dataclasses import dataclass

from auralens.models.corpus.classes import CLASSES, Instrument
from auralens.models.corpus.draws import CONCEPTS, Note, balanced_classes, draw_note, stream_rng

CONCEPTS_DIR = "concepts"

# First elements of the draw stream keys (see draws.stream_rng).
CORPUS_STREAM, CONCEPT_STREAM, RANDOM_SET_STREAM = 0, 1, 2
CONCEPT_CLASSES_STREAM, RANDOM_SET_CLASSES_STREAM = 3, 4


@dataclass(frozen=True)
class ClipJob:
    """One clip to produce: where it goes, who plays it, and how its notes are drawn.

    `path` is relative to the output folder (POSIX separators); `set_name` is the class
    name for corpus clips, else the concept or random set name; `concept` constrains the
    draws (None for corpus clips and random sets); `stream` keys the seeded draws.
    """

    path: str
    instrument: Instrument
    set_name: str
    concept: str | None
    stream: tuple[int, int, int]

    def note(self, seed: int, attempt: int) -> Note:
        """The note drawn for this clip at `attempt` (0 first, then one per redraw).

        Example:
            >>> job = corpus_jobs(CLASSES[:1], 1, "flac")[0]
            >>> job.note(0, 0) == job.note(0, 0) != job.note(0, 1)
            True
        """
        rng = stream_rng(seed, (*self.stream, attempt))
        return draw_note(self.instrument, rng, self.concept)


def _index_width(count: int, minimum: int) -> int:
    return max(minimum, len(str(count - 1)))


def corpus_jobs(instruments: tuple[Instrument, ...], per_class: int, ext: str) -> list[ClipJob]:
    """Jobs for `per_class` clips of each instrument, class by class.

    Paths are `<class>/<class>_<index>.<ext>` with the index zero-padded to 4 digits (more
    when `per_class` needs them).

    Example:
        >>> corpus_jobs(CLASSES[:1], 2, "flac")[1].path
        'accordion/accordion_0001.flac'
    """
    width = _index_width(per_class, 4)
    return [
        ClipJob(
            f"{instrument.name}/{instrument.name}_{index:0{width}d}.{ext}",
            instrument,
            instrument.name,
            None,
            (CORPUS_STREAM, CLASSES.index(instrument), index),
        )
        for instrument in instruments
        for index in range(per_class)
    ]


def concept_set_jobs(
    instruments: tuple[Instrument, ...], set_size: int, random_sets: int, seed: int, ext: str
) -> list[ClipJob]:
    """Jobs for one set per concept of `CONCEPTS`, then `random_sets` unconstrained sets.

    Each set has `set_size` clips whose classes are spread evenly over `instruments`
    (seeded). Paths are `concepts/<set>/<set>_<index>.<ext>`; random sets are named
    `random_00`, `random_01`, ...

    Example:
        >>> jobs = concept_set_jobs(CLASSES, 30, 20, seed=0, ext="flac")
        >>> len(jobs), jobs[0].path, jobs[-1].path
        (750, 'concepts/vibrato/vibrato_0000.flac', 'concepts/random_19/random_19_0029.flac')
    """
    if set_size == 0:
        return []
    width = _index_width(set_size, 4)
    set_width = _index_width(random_sets, 2)
    sets = [
        (name, name, CONCEPT_STREAM, CONCEPT_CLASSES_STREAM, number)
        for number, name in enumerate(CONCEPTS)
    ]
    sets += [
        (f"random_{n:0{set_width}d}", None, RANDOM_SET_STREAM, RANDOM_SET_CLASSES_STREAM, n)
        for n in range(random_sets)
    ]
    jobs = []
    for set_name, concept, stream, classes_stream, number in sets:
        classes_rng = stream_rng(seed, (classes_stream, number))
        players = balanced_classes(instruments, set_size, classes_rng)
        jobs.extend(
            ClipJob(
                f"{CONCEPTS_DIR}/{set_name}/{set_name}_{index:0{width}d}.{ext}",
                instrument,
                set_name,
                concept,
                (stream, number, index),
            )
            for index, instrument in enumerate(players)
        )
    return jobs
