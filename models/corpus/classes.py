"""The sixteen orchestra16 instrument classes and the tags derived from a note's parameters."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Instrument:
    """One corpus class: a General MIDI instrument and the MIDI pitches it plays.

    `program` is the 0-based General MIDI program number; `low` and `high` are the lowest
    and highest playable MIDI pitches (inclusive); `family` is one of `FAMILIES`.
    """

    name: str
    program: int
    low: int
    high: int
    family: str

    @property
    def n_pitches(self) -> int:
        """Number of playable MIDI pitches, `high - low + 1`."""
        return self.high - self.low + 1


FAMILIES = ("strings", "woodwinds", "brass", "plucked", "keyboard")

CLASSES: tuple[Instrument, ...] = (
    Instrument("accordion", 21, 53, 89, "keyboard"),
    Instrument("alto_sax", 65, 49, 80, "woodwinds"),
    Instrument("bass_tuba", 58, 28, 65, "brass"),
    Instrument("bassoon", 70, 34, 75, "woodwinds"),
    Instrument("cello", 42, 36, 76, "strings"),
    Instrument("clarinet", 71, 50, 91, "woodwinds"),
    Instrument("contrabass", 43, 28, 67, "strings"),
    Instrument("flute", 73, 60, 96, "woodwinds"),
    Instrument("french_horn", 60, 34, 77, "brass"),
    Instrument("guitar", 24, 40, 84, "plucked"),
    Instrument("harp", 46, 28, 96, "plucked"),
    Instrument("oboe", 68, 58, 91, "woodwinds"),
    Instrument("trombone", 57, 40, 72, "brass"),
    Instrument("trumpet", 56, 54, 86, "brass"),
    Instrument("viola", 41, 48, 84, "strings"),
    Instrument("violin", 40, 55, 100, "strings"),
)

CLASS_NAMES: tuple[str, ...] = tuple(instrument.name for instrument in CLASSES)

VELOCITY_DYNAMICS: dict[int, str] = {40: "pp", 64: "mp", 90: "f", 120: "ff"}
VIBRATO_VALUES: tuple[int, ...] = (0, 90)  # CC1 modulation
REVERB_VALUES: tuple[int, ...] = (0, 40, 100)  # CC91 reverb send
REGISTERS = ("low", "mid", "high")
SHORT_NOTE_SECONDS = 0.6


def instrument_named(name: str) -> Instrument:
    """The class called `name`.

    Raises ValueError naming the known classes when there is none.

    Example:
        >>> instrument_named("flute").program
        73
    """
    for instrument in CLASSES:
        if instrument.name == name:
            return instrument
    raise ValueError(f"unknown class {name!r}; the classes are: {', '.join(CLASS_NAMES)}")


def register_of(instrument: Instrument, pitch: int) -> str:
    """Register tag of a MIDI `pitch` within the instrument's own range.

    The range `low..high` is cut into thirds by key count: the key at offset
    `k = pitch - low` of `n` keys is "low" when `3k < n`, "mid" when `3k < 2n`, else
    "high".

    Example:
        >>> violin = instrument_named("violin")
        >>> register_of(violin, 55), register_of(violin, 80), register_of(violin, 100)
        ('low', 'mid', 'high')
    """
    if not instrument.low <= pitch <= instrument.high:
        raise ValueError(
            f"pitch {pitch} is outside the {instrument.name} range "
            f"{instrument.low}-{instrument.high}"
        )
    offset, n = pitch - instrument.low, instrument.n_pitches
    if 3 * offset < n:
        return "low"
    if 3 * offset < 2 * n:
        return "mid"
    return "high"


def register_pitches(instrument: Instrument, register: str) -> range:
    """The MIDI pitches of `instrument` whose `register_of` is `register`.

    Example:
        >>> register_pitches(instrument_named("violin"), "high")
        range(86, 101)
    """
    if register not in REGISTERS:
        raise ValueError(f"unknown register {register!r}; use one of {REGISTERS}")
    all_pitches = range(instrument.low, instrument.high + 1)
    pitches = [p for p in all_pitches if register_of(instrument, p) == register]
    return range(pitches[0], pitches[-1] + 1)


def dynamics_of(velocity: int) -> str:
    """Dynamics tag (pp, mp, f, ff) of a corpus note velocity (40, 64, 90, 120).

    Example:
        >>> dynamics_of(120)
        'ff'
    """
    try:
        return VELOCITY_DYNAMICS[velocity]
    except KeyError:
        raise ValueError(
            f"velocity {velocity} is not a corpus velocity {tuple(VELOCITY_DYNAMICS)}"
        ) from None


def articulation_of(duration: float) -> str:
    """Articulation tag of a held duration in seconds: "short" below 0.6 s, else "long".

    Example:
        >>> articulation_of(0.25), articulation_of(1.2)
        ('short', 'long')
    """
    return "short" if duration < SHORT_NOTE_SECONDS else "long"
