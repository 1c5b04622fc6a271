"""Render many single-note clips in one run of the `fluidsynth` program.

The notes are laid out one per time slot in a Standard MIDI File, rendered once (so the
SoundFont loads once) to a float WAV file, and each slot's first 2.0 s is cut out.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import soundfile

from auralens.models.corpus.draws import Note
from auralens.models.corpus.midi import NoteSlot, write_midi

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
        raise ValueError(f"{path} is not a SoundFont 2 (.sf2) file")
    return path


def slot_ms(note: Note) -> int:
    """Length in milliseconds of the time slot that renders `note` (see SLOT_MS)."""
    return SLOT_MS_BY_PROGRAM.get(note.instrument.program, SLOT_MS)


def peak_dbfs(clip: np.ndarray) -> float:
    """Peak level of a float clip in dB relative to full scale (1.0); -inf for all zeros.

    Example:
        >>> round(peak_dbfs(np.array([0.0, -0.5, 0.25])), 2)
        -6.02
    """
    peak = float(np.max(np.abs(clip))) if clip.size else 0.0
    return float(20 * np.log10(peak)) if peak > 0 else float("-inf")


def render_notes(
    notes: Sequence[Note], soundfont: str | Path, workdir: str | Path, fluidsynth: str | None = None
) -> np.ndarray:
    """Render each note as a 2.0 s mono clip with one `fluidsynth` run.

    Inputs: `notes` to render, `soundfont` a .sf2 file, `workdir` an existing directory for
    the MIDI and WAV files of the run (removed afterwards), `fluidsynth` the program (found
    on PATH when None). Output: float32 array of shape (len(notes), 44100), 22 050 Hz,
    note onset at sample 0, full scale 1.0, stereo render averaged to mono.

    Example:
        >>> sf2 = "/usr/share/sounds/sf2/FluidR3_GM.sf2"
        >>> clips = render_notes([Note("flute", 69, 90, 1000, 0, 40)], sf2, "/tmp")
        >>> clips.shape
        (1, 44100)
    """
    program = fluidsynth or find_fluidsynth()
    workdir = Path(workdir)
    starts_ms, slots, now_ms = [], [], 0
    for note in notes:
        starts_ms.append(now_ms)
        slots.append(
            NoteSlot(
                now_ms, note.instrument.program, note.pitch, note.velocity,
                note.held_ms, note.vibrato, note.reverb,
            )
        )
        now_ms += slot_ms(note)
    midi_path = workdir / "notes.mid"
    wav_path = workdir / "notes.wav"
    write_midi(slots, now_ms, midi_path)
    command = [
        program, "-n", "-i", "-q",
        "-r", str(SAMPLE_RATE), "-g", str(RENDER_GAIN),
        "-O", "float", "-T", "wav", "-F", str(wav_path),
        "-o", f"audio.period-size={BLOCK_SAMPLES}",
        "-o", "synth.cpu-cores=1",
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
        clips = np.empty((len(notes), CLIP_SAMPLES), dtype=np.float32)
        with soundfile.SoundFile(wav_path) as rendered:
            for row, start_ms in enumerate(starts_ms):
                rendered.seek(start_ms * SAMPLE_RATE // 1000 + BLOCK_SAMPLES)
                frames = rendered.read(CLIP_SAMPLES, dtype="float32", always_2d=True)
                clips[row] = frames.mean(axis=1)
    finally:
        midi_path.unlink(missing_ok=True)
        wav_path.unlink(missing_ok=True)
    return clips
