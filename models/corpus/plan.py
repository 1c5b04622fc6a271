"""Which clips a build makes: their file paths, classes and seeded draw streams."""

from __future__ import annotations

import math
from dataclasses import dataclass

from auralens.models.corpus.classes import CLASSES, Instrument
from auralens.models.corpus.draws import (
    CONCEPTS, Note, Phrase, balanced_classes, draw_note, draw_phrase, stream_rng,
)

CONCEPTS_DIR = "concepts"

# First elements of the draw stream keys (see draws.stream_rng).
CORPUS_STREAM, CONCEPT_STREAM, RANDOM_SET_STREAM = 0, 1, 2
CONCEPT_CLASSES_STREAM, RANDOM_SET_CLASSES_STREAM = 3, 4
MELODY_STREAM, MELODY_CHOICE_STREAM = 5, 6


@dataclass(frozen=True)
class ClipJob:
    """One clip to produce: where it goes, who plays it, and how its notes are drawn.

    `path` is relative to the output folder (POSIX separators); `set_name` is the class
    name for corpus clips, else the concept or random set name; `concept` constrains the
    draws (None for corpus clips and random sets); `stream` keys the seeded draws; `melody`
    makes the clip a phrase rather than one note; `source` is the position of the SoundFont
    that plays it among the build's.
    """

    path: str
    instrument: Instrument
    set_name: str
    concept: str | None
    stream: tuple[int, int, int]
    melody: bool = False
    source: int = 0

    def note(self, seed: int, attempt: int) -> Note | Phrase:
        """The note (or phrase) drawn for this clip at `attempt` (0 first, then one per redraw).

        Example:
            >>> job = corpus_jobs(CLASSES[:1], 1, "flac")[0]
            >>> job.note(0, 0) == job.note(0, 0) != job.note(0, 1)
            True
        """
        if self.melody:
            return draw_phrase(self.instrument, stream_rng(seed, (MELODY_STREAM, *self.stream[1:], attempt)))
        rng = stream_rng(seed, (*self.stream, attempt))
        return draw_note(self.instrument, rng, self.concept)


def _index_width(count: int, minimum: int) -> int:
    return max(minimum, len(str(count - 1)))


def melody_positions(per_class: int, share: float, seed: int, instrument: Instrument) -> set[int]:
    """Which of a class's `per_class` clip positions are phrases: `share` of them (rounded half
    up), chosen by a seeded shuffle; the same positions for every SoundFont.

    Example:
        >>> len(melody_positions(400, 0.4, 0, CLASSES[0]))
        160
    """
    count = math.floor(per_class * share + 0.5)
    rng = stream_rng(seed, (MELODY_CHOICE_STREAM, CLASSES.index(instrument)))
    return {int(position) for position in rng.permutation(per_class)[:count]}


def corpus_jobs(
    instruments: tuple[Instrument, ...], per_class: int, ext: str, n_sources: int = 1,
    melody_share: float = 0.0, seed: int = 0,
) -> list[ClipJob]:
    """Jobs for `per_class` clips of each instrument from each of `n_sources` SoundFonts,
    class by class, then source by source.

    Every source plays the same drawn clips (position `i` of a class is the same draw for each
    source, redraws of silent renders aside), so that no drawn note is heard in one split
    from one source and in another from another. Paths are `<class>/<class>_<index>.<ext>`,
    the index `source * per_class + i` zero-padded to 4 digits (more when needed);
    `melody_share` of the positions are phrases (`melody_positions`).

    Example:
        >>> corpus_jobs(CLASSES[:1], 2, "flac", n_sources=2)[3].path
        'accordion/accordion_0003.flac'
    """
    width = _index_width(per_class * n_sources, 4)
    jobs = []
    for instrument in instruments:
        melodies = melody_positions(per_class, melody_share, seed, instrument)
        jobs.extend(
            ClipJob(
                f"{instrument.name}/{instrument.name}_{source * per_class + index:0{width}d}.{ext}",
                instrument,
                instrument.name,
                None,
                (CORPUS_STREAM, CLASSES.index(instrument), index),
                index in melodies,
                source,
            )
            for source in range(n_sources)
            for index in range(per_class)
        )
    return jobs


def concept_set_jobs(
    instruments: tuple[Instrument, ...], set_size: int, random_sets: int, seed: int, ext: str,
    n_sources: int = 1,
) -> list[ClipJob]:
    """Jobs for one set per concept of `CONCEPTS`, then `random_sets` unconstrained sets.

    Each set has `set_size` single-note clips whose classes are spread evenly over
    `instruments` (seeded), and whose SoundFonts take turns (clip `i` from source
    `i % n_sources`). Paths are `concepts/<set>/<set>_<index>.<ext>`; random sets are named
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
                source=index % n_sources,
            )
            for index, instrument in enumerate(players)
        )
    return jobs
