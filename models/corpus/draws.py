"""Seeded random draws of the notes that make up the corpus and its concept sets.

Every draw comes from its own `numpy.random.Generator`, seeded by the build seed and a
stream key that names the clip (which set, which clip, which attempt). A clip's draw
therefore does not depend on how many other clips are drawn or in which order.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from auralens.models.corpus.classes import (
    REVERB_VALUES,
    VELOCITY_DYNAMICS,
    VIBRATO_VALUES,
    Instrument,
    articulation_of,
    dynamics_of,
    instrument_named,
    register_of,
    register_pitches,
)

HELD_MS_RANGE = (300, 1800)
STACCATO_HELD_MS_RANGE = (150, 300)

CONCEPTS: dict[str, str] = {
    "vibrato": "vibrato on (CC1 modulation 90)",
    "reverberant": "strong reverb send (CC91 100)",
    "staccato": "very short notes (held 0.15-0.3 s)",
    "fortissimo": "loudest dynamics (velocity 120, ff)",
    "high_register": "pitch in the top third of the instrument's range",
}


@dataclass(frozen=True)
class Note:
    """The drawn parameters of one clip: a single note of class `label`.

    `pitch` and `velocity` are MIDI values, `held_ms` the time from note-on to note-off in
    milliseconds, `vibrato` the CC1 modulation value, `reverb` the CC91 reverb send value.
    """

    label: str
    pitch: int
    velocity: int
    held_ms: int
    vibrato: int
    reverb: int

    @property
    def instrument(self) -> Instrument:
        """The class this note is played by."""
        return instrument_named(self.label)

    @property
    def duration(self) -> float:
        """Held duration in seconds (millisecond resolution)."""
        return self.held_ms / 1000

    def tags(self) -> dict[str, object]:
        """Drawn and derived tags, keyed by their manifest column names.

        Example:
            >>> Note("flute", 84, 120, 450, 90, 0).tags()["articulation"]
            'short'
        """
        instrument = self.instrument
        return {
            "pitch": self.pitch,
            "velocity": self.velocity,
            "duration": round(self.duration, 3),
            "vibrato": self.vibrato,
            "reverb": self.reverb,
            "family": instrument.family,
            "register": register_of(instrument, self.pitch),
            "dynamics": dynamics_of(self.velocity),
            "articulation": articulation_of(self.duration),
        }


def stream_rng(seed: int, stream: tuple[int, ...]) -> np.random.Generator:
    """An independent generator for one named stream of draws under a build seed.

    Inputs: `seed` a non-negative integer, `stream` a tuple of non-negative integers naming
    the stream. The same (seed, stream) always gives the same generator state.

    Example:
        >>> int(stream_rng(0, (1, 2)).integers(100)) == int(stream_rng(0, (1, 2)).integers(100))
        True
    """
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=stream))


def draw_note(instrument: Instrument, rng: np.random.Generator, concept: str | None = None) -> Note:
    """Draw one note for `instrument`, optionally constrained to a concept of `CONCEPTS`.

    Unconstrained draws: pitch uniform over `low..high`, velocity uniform over
    {40, 64, 90, 120}, held duration uniform over 0.3-1.8 s (whole milliseconds), vibrato
    CC1 uniform over {0, 90}, reverb CC91 uniform over {0, 40, 100}. A concept fixes one
    of them (see `CONCEPTS`); the others are drawn as usual.

    Example:
        >>> note = draw_note(CLASSES[0], stream_rng(0, (0,)), concept="fortissimo")
        >>> note.velocity
        120
    """
    if concept is not None and concept not in CONCEPTS:
        raise ValueError(f"unknown concept {concept!r}; the concepts are: {', '.join(CONCEPTS)}")
    if concept == "high_register":
        pitches = register_pitches(instrument, "high")
    else:
        pitches = range(instrument.low, instrument.high + 1)
    pitch = int(rng.integers(pitches.start, pitches.stop))
    velocity = int(rng.choice(tuple(VELOCITY_DYNAMICS)))
    held_low, held_high = STACCATO_HELD_MS_RANGE if concept == "staccato" else HELD_MS_RANGE
    held_ms = int(round(rng.uniform(held_low, held_high)))
    vibrato = int(rng.choice(VIBRATO_VALUES))
    reverb = int(rng.choice(REVERB_VALUES))
    if concept == "fortissimo":
        velocity = 120
    elif concept == "vibrato":
        vibrato = 90
    elif concept == "reverberant":
        reverb = 100
    return Note(instrument.name, pitch, velocity, held_ms, vibrato, reverb)


def balanced_classes(
    instruments: tuple[Instrument, ...], size: int, rng: np.random.Generator
) -> list[Instrument]:
    """`size` classes for a concept or random set, spread as evenly as possible.

    Concatenates shuffled copies of `instruments` and keeps the first `size`, so class
    counts differ by at most one.

    Example:
        >>> len(balanced_classes(CLASSES, 30, stream_rng(0, (3,))))
        30
    """
    order: list[Instrument] = []
    while len(order) < size:
        order.extend(instruments[i] for i in rng.permutation(len(instruments)))
    return order[:size]
