"""Render many clips - single notes, phrases, drum loops - in one run of the `fluidsynth` program.

The clips are laid out one per time slot in a Standard MIDI File, rendered once (so the
SoundFont loads once) to a float WAV file, and each slot's first `clip_ms` is cut out.

A clip to render is any object with `program`, `notes` (a tuple of `midi.MidiNote`),
`vibrato` (CC1), `reverb` (CC91), `clip_ms`, `channel` and `bank`: `draws.Note`,
`draws.Phrase`, `negatives.DrumLoop`.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile

from auralens.models.corpus.draws import HELD_MS_RANGE, Note, Phrase
from auralens.models.corpus.midi import MidiNote, NoteSlot, write_midi

SAMPLE_RATE = 22_050
CLIP_SECONDS = 2.0
CLIP_SAMPLES = int(SAMPLE_RATE * CLIP_SECONDS)
SILENCE_DBFS = -50.0

# One fixed master gain for every clip, so that velocity stays audible as loudness.
# Measured on FluidR3_GM at this gain over every playable key of all 16 classes:
# velocity 120 peaks lie between -19 and -5.5 dBFS, velocity 40 peaks between -38 and
# -26 dBFS, so full-scale clipping never happens and pp notes stay far above -50 dBFS.
RENDER_GAIN = 1.0

# FluidSynth processes MIDI events at the start of 64-sample blocks and a note-on sounds
# from the block after its event time. With slots starting at multiples of 1.28 s
# (28 224 samples: a whole number of blocks and of milliseconds) every note starts exactly
# BLOCK_SAMPLES after its slot's start, measured over renders of 1 500 s.
BLOCK_SAMPLES = 64
SLOT_GRID_MS = 1280

# Slot lengths leave the release and reverb tail room to die away before the next slot.
# Measured with FluidR3_GM at RENDER_GAIN on the worst case (velocity 120, CC91 reverb 100,
# CC1 90, held 1.8 s) at the lowest, middle and top pitch of every class: all classes but
# harp fall below -100 dBFS by 3.56 s after note-on (guitar at pitch 40 is the slowest);
# the harp rings on after note-off and falls below -100 dBFS only by 8.53 s (pitch 28).
# Each slot also begins with All Sound Off and a full controller reset. Rendering each of
# those worst-case notes followed by a key with no sample (contrabass 67), the following
# slot's whole 2.0 s clip peaks at -118.8 dBFS at most (after harp 28), far under the
# 16-bit step (-90.3 dBFS): nothing bleeds into the next clip.
SLOT_MS = 3 * SLOT_GRID_MS
SLOT_MS_BY_PROGRAM = {46: 7 * SLOT_GRID_MS}  # harp
# A phrase's slot leaves its last note the same room after note-off as a single note has
# after the longest held note, and grows by whole grid steps.


def find_fluidsynth() -> str:
    """Path of the `fluidsynth` program.

    Raises FileNotFoundError with installation advice when it is not on PATH.

    Example:
        >>> find_fluidsynth()
        '/usr/bin/fluidsynth'
    """
    program = shutil.which("fluidsynth")
    if program is None:
        raise FileNotFoundError(
            "the fluidsynth program is not on PATH: install the Debian package fluidsynth "
            "(apt-get install fluidsynth)"
        )
    return program


def check_soundfont(path: str | Path) -> Path:
    """Check that `path` is a readable SoundFont 2 file and return it as an absolute Path.

    Raises FileNotFoundError for a missing file and ValueError for a file that is not a
    SoundFont (no RIFF/sfbk header).

    Example:
        >>> check_soundfont("/usr/share/sounds/sf2/FluidR3_GM.sf2").name
        'FluidR3_GM.sf2'
    """
    path = Path(path).expanduser().resolve()
    if not path.is_file():
        raise FileNotFoundError(
            f"SoundFont file not found: {path} (on Debian, FluidR3_GM comes with the package "
            "fluid-soundfont-gm)"
        )
    with path.open("rb") as file:
        header = file.read(12)
    if header[:4] != b"RIFF" or header[8:12] != b"sfbk":
        raise ValueError(f"{path} is not a SoundFont (.sf2 or .sf3) file")
    return path


def slot_ms(clip: Note | Phrase) -> int:
    """Length in milliseconds of the time slot that renders `clip` (see SLOT_MS): a note's
    program's slot, longer by whole grid steps for a clip whose last note-off comes later."""
    base = SLOT_MS_BY_PROGRAM.get(clip.program, SLOT_MS) if clip.channel != 9 else SLOT_MS
    last_off = max(note.onset_ms + note.held_ms for note in clip.notes)
    needed = last_off + base - HELD_MS_RANGE[1]
    return max(base, -(-needed // SLOT_GRID_MS) * SLOT_GRID_MS)


def peak_dbfs(clip: np.ndarray) -> float:
    """Peak level of a float clip in dB relative to full scale (1.0); -inf for all zeros.

    Example:
        >>> round(peak_dbfs(np.array([0.0, -0.5, 0.25])), 2)
        -6.02
    """
    peak = float(np.max(np.abs(clip))) if clip.size else 0.0
    return float(20 * np.log10(peak)) if peak > 0 else float("-inf")


def clip_samples(clip: Note | Phrase) -> int:
    """Length of a clip in samples at 22 050 Hz (a note: 44 100)."""
    return clip.clip_ms * SAMPLE_RATE // 1000


def render_notes(
    notes: Sequence[Note | Phrase], soundfont: str | Path, workdir: str | Path,
    fluidsynth: str | None = None, slot: int | None = None,
) -> list[np.ndarray]:
    """Render each clip (a note, a phrase, a drum loop) as a mono clip with one `fluidsynth` run.

    Inputs: `notes` the clips to render, `soundfont` a .sf2 or .sf3 file, `workdir` an existing
    directory for the MIDI and WAV files of the run (removed afterwards), `fluidsynth` the
    program (found on PATH when None), `slot` a slot length in ms for every clip, a multiple of
    `SLOT_GRID_MS` (None: `slot_ms` of each; shorter slots only for dry clips, whose sound the
    next slot's All Sound Off cuts). Output: one float32 array per clip, of shape
    (`clip_samples(clip)`,) - 44 100 for a note - at 22 050 Hz, the clip's time 0 at sample 0,
    full scale 1.0, stereo render averaged to mono. Later notes of a phrase start within one
    64-sample block (2.9 ms) of their written onset.

    Example:
        >>> sf2 = "/usr/share/sounds/sf2/FluidR3_GM.sf2"
        >>> clips = render_notes([Note("flute", 69, 90, 1000, 0, 40)], sf2, "/tmp")
        >>> clips[0].shape
        (44100,)
    """
    program = fluidsynth or find_fluidsynth()
    workdir = Path(workdir)
    starts_ms, slots, now_ms = [], [], 0
    for note in notes:
        starts_ms.append(now_ms)
        slots.append(
            NoteSlot(
                now_ms, note.program, note.notes, note.vibrato, note.reverb, note.channel, note.bank
            )
        )
        now_ms += slot or slot_ms(note)
    midi_path = workdir / "notes.mid"
    wav_path = workdir / "notes.wav"
    write_midi(slots, now_ms, midi_path)
    command = [
        program, "-n", "-i", "-q",
        "-r", str(SAMPLE_RATE), "-g", str(RENDER_GAIN),
        "-O", "float", "-T", "wav", "-F", str(wav_path),
        "-o", f"audio.period-size={BLOCK_SAMPLES}",
        "-o", "synth.cpu-cores=1",
        "-o", "synth.dynamic-sample-loading=1",  # load only the samples played: 3x faster with .sf3
        "-o", "synth.chorus.active=0",
        "-o", "synth.reverb.active=1",
        "-o", "synth.reverb.room-size=0.2",
        "-o", "synth.reverb.damp=0.0",
        "-o", "synth.reverb.width=0.5",
        "-o", "synth.reverb.level=0.9",
        str(soundfont), str(midi_path),
    ]
    try:
        result = subprocess.run(
            command, stdin=subprocess.DEVNULL, capture_output=True, text=True, check=False
        )
        if result.returncode != 0 or "error" in result.stderr.lower() or not wav_path.exists():
            raise RuntimeError(
                f"fluidsynth failed (exit status {result.returncode}): {result.stderr.strip()}"
            )
        clips = []
        with soundfile.SoundFile(wav_path) as rendered:
            for note, start_ms in zip(notes, starts_ms):
                rendered.seek(start_ms * SAMPLE_RATE // 1000 + BLOCK_SAMPLES)
                frames = rendered.read(clip_samples(note), dtype="float32", always_2d=True)
                clips.append(frames.mean(axis=1))
    finally:
        midi_path.unlink(missing_ok=True)
        wav_path.unlink(missing_ok=True)
    return clips


PROBE_VELOCITY, PROBE_HELD_MS, PROBE_CLIP_MS = 64, 300, 1000


@dataclass(frozen=True)
class _Probe:
    """One key of one instrument, played dry for a short clip (see `playable_keys`)."""

    label: str
    program: int
    notes: tuple[MidiNote, ...]
    vibrato: int = 0
    reverb: int = 0
    clip_ms: int = PROBE_CLIP_MS
    channel: int = 0
    bank: int = 0


def playable_keys(
    instruments: Sequence, soundfont: str | Path, workdir: str | Path, fluidsynth: str | None = None
) -> dict[str, frozenset[int]]:
    """The keys of each instrument's range that `soundfont` has a sample for.

    Renders every key once (velocity 64, held 0.3 s, dry, 1.28 s slots) in one `fluidsynth` run and keeps
    those whose clip peaks at or above `SILENCE_DBFS`. Output: class name -> MIDI pitches.
    Phrases are drawn again when one of their keys is missing, so that every annotated note
    sounds.

    Example:
        >>> from auralens.models.corpus.classes import instrument_named
        >>> keys = playable_keys([instrument_named("contrabass")], "/usr/share/sounds/sf2/FluidR3_GM.sf2", "/tmp")
        >>> max(keys["contrabass"])
        57
    """
    probes = [
        _Probe(instrument.name, instrument.program, (MidiNote(0, pitch, PROBE_VELOCITY, PROBE_HELD_MS),))
        for instrument in instruments
        for pitch in range(instrument.low, instrument.high + 1)
    ]
    clips = render_notes(probes, soundfont, workdir, fluidsynth, slot=SLOT_GRID_MS)
    keys: dict[str, set[int]] = {instrument.name: set() for instrument in instruments}
    for probe, clip in zip(probes, clips):
        if peak_dbfs(clip) >= SILENCE_DBFS:
            keys[probe.label].add(probe.notes[0].pitch)
    return {name: frozenset(pitches) for name, pitches in keys.items()}
