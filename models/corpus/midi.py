"""A minimal Standard MIDI File writer: one track of single-note slots.

Only what the corpus renderer needs: format 0, one track, channel 0, a fixed tempo and a
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
class NoteSlot:
    """One note played from a clean channel state at `start_ms`.

    `program` is the 0-based General MIDI program, `pitch` and `velocity` MIDI values
    (0-127), `held_ms` the time between note-on and note-off, `modulation` the CC1 value
    (vibrato depth) and `reverb_send` the CC91 value.
    """

    start_ms: int
    program: int
    pitch: int
    velocity: int
    held_ms: int
    modulation: int
    reverb_send: int

    def __post_init__(self) -> None:
        for name in ("program", "pitch", "modulation", "reverb_send"):
            if not 0 <= getattr(self, name) <= 127:
                raise ValueError(f"{name} must be a MIDI value 0-127, got {getattr(self, name)}")
        if not 1 <= self.velocity <= 127:
            raise ValueError(f"velocity must be 1-127, got {self.velocity}")
        if self.start_ms < 0 or self.held_ms <= 0:
            raise ValueError(f"start_ms must be >= 0 and held_ms > 0, got {self}")


def _variable_length(value: int) -> bytes:
    """Encode a non-negative integer as a MIDI variable-length quantity."""
    groups = [value & 0x7F]
    value >>= 7
    while value:
        groups.append((value & 0x7F) | 0x80)
        value >>= 7
    return bytes(reversed(groups))


def _control_change(controller: int, value: int) -> bytes:
    return bytes((0xB0, controller, value))


def _slot_setup_messages(slot: NoteSlot) -> list[bytes]:
    """Messages that put channel 0 in a known state before the slot's note-on.

    Every controller the renders depend on is set explicitly, so a slot sounds the same
    whichever slot came before it.
    """
    return [
        _control_change(CC_ALL_SOUND_OFF, 0),
        _control_change(CC_RESET_ALL_CONTROLLERS, 0),
        _control_change(CC_BANK_SELECT_MSB, 0),
        _control_change(CC_BANK_SELECT_LSB, 0),
        bytes((0xC0, slot.program)),
        _control_change(CC_VOLUME, CHANNEL_VOLUME),
        _control_change(CC_EXPRESSION, CHANNEL_EXPRESSION),
        _control_change(CC_PAN, PAN_CENTRE),
        _control_change(CC_SUSTAIN_PEDAL, 0),
        _control_change(CC_MODULATION, slot.modulation),
        _control_change(CC_REVERB_SEND, slot.reverb_send),
        _control_change(CC_CHORUS_SEND, 0),
        bytes((0xE0, PITCH_BEND_CENTRE & 0x7F, PITCH_BEND_CENTRE >> 7)),
    ]


def note_slots_to_midi(slots: list[NoteSlot], end_ms: int) -> bytes:
    """Encode note slots as a format-0 Standard MIDI File.

    Inputs: `slots` in any order (they are sorted by `start_ms`; slots must not overlap in
    time), `end_ms` the time of the end-of-track event, at or after the last note-off.
    Output: the file's bytes. One tick is one millisecond.

    Example:
        >>> data = note_slots_to_midi([NoteSlot(0, 73, 69, 90, 1000, 0, 40)], end_ms=2000)
        >>> data[:4]
        b'MThd'
    """
    timed_messages: list[tuple[int, int, bytes]] = []
    for slot in sorted(slots, key=lambda s: s.start_ms):
        for message in _slot_setup_messages(slot):
            timed_messages.append((slot.start_ms, 0, message))
        timed_messages.append((slot.start_ms, 1, bytes((0x90, slot.pitch, slot.velocity))))
        timed_messages.append((slot.start_ms + slot.held_ms, -1, bytes((0x80, slot.pitch, 0))))
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
        >>> write_midi([NoteSlot(0, 40, 76, 64, 500, 90, 0)], 2000, "/tmp/one_note.mid")
        PosixPath('/tmp/one_note.mid')
    """
    path = Path(path)
    path.write_bytes(note_slots_to_midi(slots, end_ms))
    return path
