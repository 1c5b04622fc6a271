"""A minimal Standard MIDI File writer: one track of slots of notes.

Only what the corpus renderer needs: format 0, one track, a fixed tempo and a
time base of one tick per millisecond, so that event times are written in integer
milliseconds.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path

TICKS_PER_QUARTER = 500
MICROSECONDS_PER_QUARTER = 500_000  # 120 bpm: with 500 ticks per quarter, 1 tick = 1 ms

CC_BANK_SELECT_MSB = 0
CC_MODULATION = 1
CC_VOLUME = 7
CC_PAN = 10
CC_EXPRESSION = 11
CC_BANK_SELECT_LSB = 32
CC_SUSTAIN_PEDAL = 64
CC_REVERB_SEND = 91
CC_CHORUS_SEND = 93
CC_ALL_SOUND_OFF = 120
CC_RESET_ALL_CONTROLLERS = 121

CHANNEL_VOLUME = 100
CHANNEL_EXPRESSION = 127
PAN_CENTRE = 64
PITCH_BEND_CENTRE = 8192


@dataclass(frozen=True)
class MidiNote:
    """One note of a slot: on at `onset_ms` after the slot's start, off `held_ms` later.

    `pitch` and `velocity` are MIDI values (velocity 1-127).
    """

    onset_ms: int
    pitch: int
    velocity: int
    held_ms: int


@dataclass(frozen=True)
class NoteSlot:
    """Notes played from a clean channel state from `start_ms` on.

    `program` is the 0-based General MIDI program (with `bank`, 128 for drum kits), `notes`
    the slot's notes (one for a single-note clip, several for a phrase or a drum loop; they may
    overlap), `modulation` the CC1 value (vibrato depth), `reverb_send` the CC91 value and
    `channel` the MIDI channel (0-based; 9 is General MIDI percussion).
    """

    start_ms: int
    program: int
    notes: tuple[MidiNote, ...]
    modulation: int
    reverb_send: int
    channel: int = 0
    bank: int = 0

    def __post_init__(self) -> None:
        for name in ("program", "modulation", "reverb_send"):
            if not 0 <= getattr(self, name) <= 127:
                raise ValueError(f"{name} must be a MIDI value 0-127, got {getattr(self, name)}")
        if not 0 <= self.channel <= 15 or self.bank not in (0, 128):
            raise ValueError(f"channel must be 0-15 and bank 0 or 128, got {self}")
        if self.start_ms < 0 or not self.notes:
            raise ValueError(f"start_ms must be >= 0 and a slot needs notes, got {self}")
        for note in self.notes:
            if not 0 <= note.pitch <= 127 or not 1 <= note.velocity <= 127:
                raise ValueError(f"pitch must be 0-127 and velocity 1-127, got {note}")
            if note.onset_ms < 0 or note.held_ms <= 0:
                raise ValueError(f"onset_ms must be >= 0 and held_ms > 0, got {note}")

    @property
    def end_ms(self) -> int:
        """Time of the slot's last note-off."""
        return self.start_ms + max(n.onset_ms + n.held_ms for n in self.notes)


def _variable_length(value: int) -> bytes:
    """Encode a non-negative integer as a MIDI variable-length quantity."""
    groups = [value & 0x7F]
    value >>= 7
    while value:
        groups.append((value & 0x7F) | 0x80)
        value >>= 7
    return bytes(reversed(groups))


def _control_change(controller: int, value: int, channel: int = 0) -> bytes:
    return bytes((0xB0 | channel, controller, value))


def _slot_setup_messages(slot: NoteSlot) -> list[bytes]:
    """Messages that put the slot's channel in a known state before its first note-on.

    Every controller the renders depend on is set explicitly, so a slot sounds the same
    whichever slot came before it.
    """
    c = slot.channel
    return [
        _control_change(CC_ALL_SOUND_OFF, 0, c),
        _control_change(CC_RESET_ALL_CONTROLLERS, 0, c),
        _control_change(CC_BANK_SELECT_MSB, slot.bank // 128, c),
        _control_change(CC_BANK_SELECT_LSB, 0, c),
        bytes((0xC0 | c, slot.program)),
        _control_change(CC_VOLUME, CHANNEL_VOLUME, c),
        _control_change(CC_EXPRESSION, CHANNEL_EXPRESSION, c),
        _control_change(CC_PAN, PAN_CENTRE, c),
        _control_change(CC_SUSTAIN_PEDAL, 0, c),
        _control_change(CC_MODULATION, slot.modulation, c),
        _control_change(CC_REVERB_SEND, slot.reverb_send, c),
        _control_change(CC_CHORUS_SEND, 0, c),
        bytes((0xE0 | c, PITCH_BEND_CENTRE & 0x7F, PITCH_BEND_CENTRE >> 7)),
    ]


def note_slots_to_midi(slots: list[NoteSlot], end_ms: int) -> bytes:
    """Encode note slots as a format-0 Standard MIDI File.

    Inputs: `slots` in any order (they are sorted by `start_ms`; slots must not overlap in
    time), `end_ms` the time of the end-of-track event, at or after the last note-off.
    Output: the file's bytes. One tick is one millisecond.

    Example:
        >>> data = note_slots_to_midi([NoteSlot(0, 73, (MidiNote(0, 69, 90, 1000),), 0, 40)], 2000)
        >>> data[:4]
        b'MThd'
    """
    timed_messages: list[tuple[int, int, bytes]] = []
    for slot in sorted(slots, key=lambda s: s.start_ms):
        for message in _slot_setup_messages(slot):
            timed_messages.append((slot.start_ms, 0, message))
        for note in slot.notes:
            on_ms = slot.start_ms + note.onset_ms
            timed_messages.append((on_ms, 1, bytes((0x90 | slot.channel, note.pitch, note.velocity))))
            timed_messages.append((on_ms + note.held_ms, -1, bytes((0x80 | slot.channel, note.pitch, 0))))
    if timed_messages and end_ms < max(t for t, _, _ in timed_messages):
        raise ValueError(f"end_ms={end_ms} is before the last event")
    # At equal times: note-offs first (-1), then the setup in its order (0), then note-ons (1).
    timed_messages.sort(key=lambda item: (item[0], item[1]))

    track = bytearray()
    track += b"\x00\xff\x51\x03" + MICROSECONDS_PER_QUARTER.to_bytes(3, "big")
    now = 0
    for time_ms, _, message in timed_messages:
        track += _variable_length(time_ms - now) + message
        now = time_ms
    track += _variable_length(end_ms - now) + b"\xff\x2f\x00"

    header = b"MThd" + struct.pack(">IHHH", 6, 0, 1, TICKS_PER_QUARTER)
    return header + b"MTrk" + struct.pack(">I", len(track)) + bytes(track)


def write_midi(slots: list[NoteSlot], end_ms: int, path: str | Path) -> Path:
    """Write note slots to a Standard MIDI File at `path` (see `note_slots_to_midi`).

    Example:
        >>> write_midi([NoteSlot(0, 40, (MidiNote(0, 76, 64, 500),), 90, 0)], 2000, "/tmp/one.mid")
        PosixPath('/tmp/one.mid')
    """
    path = Path(path)
    path.write_bytes(note_slots_to_midi(slots, end_ms))
    return path
