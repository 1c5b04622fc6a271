"""Seeded random draws of the notes that make up the corpus and its concept sets.

Every draw comes from its own `numpy.random.Generator`, seeded by the build seed and a
stream key that names the clip (which set, which clip, which attempt). A clip's draw
therefore does not depend on how many other clips are drawn or in which order.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from auralens.models.corpus.classes import (
    CLASSES,
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
from auralens.models.corpus.midi import MidiNote

HELD_MS_RANGE = (300, 1800)
STACCATO_HELD_MS_RANGE = (150, 300)
NOTE_CLIP_MS = 2000

PHRASE_NOTES = (3, 8)  # notes per phrase, inclusive
PHRASE_CLIP_MS = (2000, 6000)  # clip length of a phrase
PHRASE_MS_PER_NOTE = 300  # a phrase of n notes lasts at least n * 300 ms + its tail
PHRASE_TAIL_MS = (150, 400)  # from the last note-off to the end of the clip
LEGATO_OVERLAP_MS = 40  # a legato note is released this long after the next one starts
DETACHED_FRACTION = (0.35, 0.7)  # a detached note is held this share of its time
STEPS = (-2, -1, 1, 2)  # stepwise motion, semitones
LEAPS = (-12, -9, -7, -5, -4, -3, 3, 4, 5, 7, 9, 12)  # leaping motion, semitones
SHAPES = ("steady", "crescendo", "diminuendo")

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
    channel = 0  # MIDI channel and bank of the renders (not fields)
    bank = 0

    @property
    def instrument(self) -> Instrument:
        """The class this note is played by."""
        return instrument_named(self.label)

    @property
    def duration(self) -> float:
        """Held duration in seconds (millisecond resolution)."""
        return self.held_ms / 1000

    @property
    def program(self) -> int:
        """The 0-based General MIDI program that plays the note."""
        return self.instrument.program

    @property
    def notes(self) -> tuple[MidiNote, ...]:
        """The clip's one note, on at 0 ms."""
        return (MidiNote(0, self.pitch, self.velocity, self.held_ms),)

    @property
    def clip_ms(self) -> int:
        """Length of the clip: 2 000 ms."""
        return NOTE_CLIP_MS

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
            "clip": "note",
            "n_notes": 1,
            "motion": "",
            "shape": "steady",
        }


@dataclass(frozen=True)
class Phrase:
    """The drawn parameters of a melody clip: `notes` played by General MIDI `program`.

    `label` is the class (or, for a sound that is no class, the name of the program); `notes`
    in time order, onsets and held times in milliseconds from the clip's start; `vibrato` the
    CC1 value and `reverb` the CC91 value for the whole phrase; `clip_ms` the clip's length;
    `motion` "stepwise" or "leaping", `legato` whether each note is held into the next,
    `shape` the dynamics over the phrase (one of `SHAPES`).
    """

    label: str
    program: int
    notes: tuple[MidiNote, ...]
    vibrato: int
    reverb: int
    clip_ms: int
    motion: str
    legato: bool
    shape: str
    channel = 0  # MIDI channel and bank of the renders (not fields)
    bank = 0

    @property
    def pitches(self) -> tuple[int, ...]:
        """MIDI pitch of each note."""
        return tuple(note.pitch for note in self.notes)

    def tags(self) -> dict[str, object]:
        """Manifest tags of a class phrase, keyed as `Note.tags`: `pitch` its median note,
        `velocity` its loudest, `duration` the time to its last note-off in seconds,
        `articulation` "legato" or "detached", `n_notes`, `motion` and `shape`.

        Example:
            >>> phrase = draw_phrase(CLASSES[4], stream_rng(0, (5,)))
            >>> phrase.tags()["clip"], 3 <= phrase.tags()["n_notes"] <= 8
            ('melody', True)
        """
        instrument = instrument_named(self.label)
        median = sorted(self.pitches)[len(self.notes) // 2]
        loudest = max(note.velocity for note in self.notes)
        end_ms = max(note.onset_ms + note.held_ms for note in self.notes)
        return {
            "pitch": median,
            "velocity": loudest,
            "duration": round(end_ms / 1000, 3),
            "vibrato": self.vibrato,
            "reverb": self.reverb,
            "family": instrument.family,
            "register": register_of(instrument, median),
            "dynamics": dynamics_of(loudest),
            "articulation": "legato" if self.legato else "detached",
            "clip": "melody",
            "n_notes": len(self.notes),
            "motion": self.motion,
            "shape": self.shape,
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


def draw_phrase(instrument: Instrument, rng: np.random.Generator) -> Phrase:
    """Draw a melody of 3-8 notes in the range of `instrument`, played by its program.

    Draws, each uniform: the number of notes; the clip length, 2-6 s (at least 300 ms per
    note plus the tail); the motion, stepwise (1-2 semitones) or leaping (3-12), each
    interval up or down and turned back at the ends of the range; the rhythm, each note one
    or two units long; legato (held 40 ms into the next note) or detached (held 35-70 % of its
    time); the dynamics, steady at one of the four velocities, or a crescendo or diminuendo
    between a soft (40, 64) and a loud (90, 120) one; vibrato and reverb as for notes.

    Example:
        >>> phrase = draw_phrase(CLASSES[14], stream_rng(0, (1,)))
        >>> 2000 <= phrase.clip_ms <= 6000 and all(48 <= p <= 84 for p in phrase.pitches)
        True
    """
    low, high = instrument.low, instrument.high
    n = int(rng.integers(PHRASE_NOTES[0], PHRASE_NOTES[1] + 1))
    shortest = max(PHRASE_CLIP_MS[0], n * PHRASE_MS_PER_NOTE + PHRASE_TAIL_MS[1])
    clip_ms = int(round(rng.uniform(shortest, PHRASE_CLIP_MS[1])))
    span_ms = clip_ms - int(rng.integers(PHRASE_TAIL_MS[0], PHRASE_TAIL_MS[1] + 1))
    motion = str(rng.choice(("stepwise", "leaping")))
    intervals = STEPS if motion == "stepwise" else LEAPS
    pitches = [int(rng.integers(low, high + 1))]
    for _ in range(n - 1):
        step = int(rng.choice(intervals))
        if not low <= pitches[-1] + step <= high:
            step = -step
        if not low <= pitches[-1] + step <= high:  # a leap wider than the range either way
            step = 1 if pitches[-1] < high else -1
        pitches.append(pitches[-1] + step)
    units = rng.integers(1, 3, size=n)
    bounds = np.rint(np.concatenate([[0], np.cumsum(units)]) * span_ms / units.sum()).astype(int)
    legato = bool(rng.integers(2))
    shape = str(rng.choice(SHAPES))
    levels = tuple(VELOCITY_DYNAMICS)
    soft, loud = int(rng.choice(levels[:2])), int(rng.choice(levels[2:]))
    if shape == "steady":
        velocities = np.full(n, int(rng.choice(levels)))
    else:
        velocities = np.rint(np.linspace(soft, loud, n) if shape == "crescendo" else np.linspace(loud, soft, n))
    vibrato = int(rng.choice(VIBRATO_VALUES))
    reverb = int(rng.choice(REVERB_VALUES))
    fractions = rng.uniform(*DETACHED_FRACTION, size=n)
    notes = []
    for k in range(n):
        length = int(bounds[k + 1] - bounds[k])
        if legato:
            held = length + (LEGATO_OVERLAP_MS if k < n - 1 else 0)
        else:
            held = max(1, int(round(length * fractions[k])))
        notes.append(MidiNote(int(bounds[k]), pitches[k], int(velocities[k]), held))
    return Phrase(
        instrument.name, instrument.program, tuple(notes), vibrato, reverb, clip_ms, motion,
        legato, shape,
    )


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
