"""Sounds that are no instrument of orchestra16, in their own folder of the corpus, never labelled.

`<out>/negatives/<kind>/<kind>_<index>.<ext>` with `<out>/negatives/manifest.csv`
(`NEGATIVE_COLUMNS`: path, kind, source, description, seconds - no `label` column, so no
collection reader can take them for a class). The kinds:

- `speech`: sentences in eight languages spoken by `espeak-ng` (Debian package espeak-ng)
  with drawn voices, speeds and pitches;
- `noise`: white, pink, brown or blue noise, some of it band-limited, at a drawn level;
- `percussion`: General MIDI drum-kit loops (channel 10) at a drawn tempo, from each SoundFont;
- `programs`: melodies and single notes of General MIDI programs that are none of the 16
  classes (pianos, organs, synth pads, mallets, plucked and reed instruments of other
  traditions), from each SoundFont.

They are for the trust check (a model should not be sure of any class on them) and for tests.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile
from tqdm import tqdm

from auralens.models.corpus.classes import REVERB_VALUES, VELOCITY_DYNAMICS, VIBRATO_VALUES, Instrument
from auralens.models.corpus.draws import HELD_MS_RANGE, NOTE_CLIP_MS, Phrase, draw_phrase, stream_rng
from auralens.models.corpus.files import write_clip, write_csv_atomic
from auralens.models.corpus.midi import MidiNote
from auralens.models.corpus.render import SAMPLE_RATE, SILENCE_DBFS, peak_dbfs, render_notes
from auralens.models.corpus.sources import source_name

NEGATIVES_DIR = "negatives"
NEGATIVE_KINDS = ("speech", "noise", "percussion", "programs")
NEGATIVE_COLUMNS = ("path", "kind", "source", "description", "seconds")
NEGATIVE_STREAM = 7  # first element of the draw stream keys (see draws.stream_rng)
CLIP_MS = (2000, 6000)
BATCH = 120  # clips per fluidsynth run
MAX_ATTEMPTS = 20

# General MIDI programs (0-based) that are none of the classes, with a playable range.
OTHER_PROGRAMS: tuple[Instrument, ...] = (
    Instrument("acoustic_grand_piano", 0, 36, 96, "other"),
    Instrument("electric_piano", 4, 36, 96, "other"),
    Instrument("harpsichord", 6, 41, 89, "other"),
    Instrument("celesta", 8, 60, 96, "other"),
    Instrument("vibraphone", 11, 53, 89, "other"),
    Instrument("marimba", 12, 45, 96, "other"),
    Instrument("drawbar_organ", 16, 36, 96, "other"),
    Instrument("church_organ", 19, 36, 96, "other"),
    Instrument("harmonica", 22, 60, 84, "other"),
    Instrument("choir_aahs", 52, 48, 79, "other"),
    Instrument("lead_square", 80, 48, 84, "other"),
    Instrument("lead_sawtooth", 81, 48, 84, "other"),
    Instrument("pad_new_age", 88, 48, 84, "other"),
    Instrument("pad_warm", 89, 48, 84, "other"),
    Instrument("pad_polysynth", 90, 48, 84, "other"),
    Instrument("pad_choir", 91, 48, 84, "other"),
    Instrument("sitar", 104, 48, 77, "other"),
    Instrument("banjo", 105, 48, 84, "other"),
    Instrument("koto", 107, 55, 84, "other"),
    Instrument("kalimba", 108, 60, 84, "other"),
    Instrument("bagpipe", 109, 55, 79, "other"),
    Instrument("steel_drums", 114, 52, 84, "other"),
)

SPEECH: dict[str, tuple[str, ...]] = {
    "en": ("The concert starts at eight, so please be on time.",
           "She read the letter twice and then put it back in the drawer."),
    "de": ("Das Konzert beginnt um acht Uhr am Abend.",
           "Wir gehen morgen früh in den Wald spazieren."),
    "fr": ("Le concert commence à huit heures ce soir.",
           "Il pleut depuis ce matin sur toute la ville."),
    "es": ("El concierto empieza a las ocho de la tarde.",
           "Mañana vamos a visitar a nuestros abuelos."),
    "it": ("Il concerto comincia alle otto di sera.",
           "Domani andiamo al mare con gli amici."),
    "nl": ("Het concert begint om acht uur vanavond.",
           "De trein naar de stad vertrekt over tien minuten."),
    "pt": ("O concerto começa às oito horas da noite.",
           "Amanhã vamos passear no parque com o cão."),
    "sv": ("Konserten börjar klockan åtta i kväll.",
           "Vi åker till landet över helgen."),
}
VOICE_VARIANTS = ("", "+m1", "+m3", "+m5", "+f1", "+f2", "+f4", "+croak", "+whisper")
NOISE_COLOURS = {"white": 0.0, "pink": 1.0, "brown": 2.0, "blue": -1.0}  # power ~ 1 / f^a

# Drum-kit keys (General MIDI percussion map).
KICK, SNARE, CLOSED_HAT, OPEN_HAT, CRASH, RIDE = 36, 38, 42, 46, 49, 51
TOMS = (45, 47, 50)


@dataclass(frozen=True)
class DrumLoop:
    """A drum-kit loop on General MIDI channel 10 (`channel` 9, drum `bank` 128)."""

    notes: tuple[MidiNote, ...]
    clip_ms: int
    tempo: int
    reverb: int
    program: int = 0  # the standard kit
    vibrato: int = 0
    channel: int = 9
    bank: int = 128
    label: str = "percussion"


@dataclass(frozen=True)
class NegativesReport:
    """What `build_negatives` wrote: clips per kind and its fluidsynth runs."""

    per_kind: dict[str, int]
    fluidsynth_runs: int


def draw_drum_loop(rng: np.random.Generator) -> DrumLoop:
    """A loop of 2-6 s on a sixteenth-note grid at 70-160 bpm: kick, snare, hi-hat, toms and
    cymbals placed with drawn densities, velocities 50-120.

    Example:
        >>> loop = draw_drum_loop(stream_rng(0, (1,)))
        >>> loop.channel, 2000 <= loop.clip_ms <= 6000
        (9, True)
    """
    tempo = int(rng.integers(70, 161))
    clip_ms = int(rng.integers(CLIP_MS[0], CLIP_MS[1] + 1))
    sixteenth = 60_000 / tempo / 4
    density = rng.uniform(0.3, 0.9)
    notes = []
    for step in range(int((clip_ms - 300) / sixteenth)):
        at = int(round(step * sixteenth))
        hits = []
        if step % 4 == 0 and (step % 8 == 0 or rng.random() < density):
            hits.append(KICK)
        if step % 8 == 4 or rng.random() < density * 0.1:
            hits.append(SNARE)
        if step % 2 == 0 and rng.random() < 0.4 + density / 2:
            hits.append(OPEN_HAT if rng.random() < 0.1 else CLOSED_HAT)
        if rng.random() < density * 0.08:
            hits.append(int(rng.choice(TOMS)))
        if step % 16 == 0 and rng.random() < 0.3:
            hits.append(int(rng.choice((CRASH, RIDE))))
        notes.extend(MidiNote(at, key, int(rng.integers(50, 121)), 80) for key in hits)
    notes = notes or [MidiNote(0, KICK, 100, 80)]
    return DrumLoop(tuple(notes), clip_ms, tempo, int(rng.choice(REVERB_VALUES)))


def draw_other_program(rng: np.random.Generator, single: bool) -> Phrase:
    """A phrase (or, with `single`, one note in a 2 s clip) of one of `OTHER_PROGRAMS`.

    Example:
        >>> draw_other_program(stream_rng(0, (2,)), single=True).clip_ms
        2000
    """
    instrument = OTHER_PROGRAMS[int(rng.integers(len(OTHER_PROGRAMS)))]
    if not single:
        return draw_phrase(instrument, rng)
    pitch = int(rng.integers(instrument.low, instrument.high + 1))
    held = int(rng.integers(HELD_MS_RANGE[0], HELD_MS_RANGE[1] + 1))
    velocity = int(rng.choice(tuple(VELOCITY_DYNAMICS)))
    return Phrase(
        instrument.name, instrument.program, (MidiNote(0, pitch, velocity, held),),
        int(rng.choice(VIBRATO_VALUES)), int(rng.choice(REVERB_VALUES)), NOTE_CLIP_MS, "", False, "steady",
    )


def noise_clip(rng: np.random.Generator) -> tuple[np.ndarray, str]:
    """2-6 s of coloured noise (`NOISE_COLOURS`), band-limited half of the time, RMS level
    -35 to -15 dBFS; returns the samples (float32, 22 050 Hz) and a description."""
    n = int(rng.integers(CLIP_MS[0], CLIP_MS[1] + 1)) * SAMPLE_RATE // 1000
    colour = str(rng.choice(tuple(NOISE_COLOURS)))
    spectrum = np.fft.rfft(rng.standard_normal(n))
    freqs = np.fft.rfftfreq(n, 1 / SAMPLE_RATE)
    shape = np.ones_like(freqs)
    shape[1:] = freqs[1:] ** (-NOISE_COLOURS[colour] / 2)
    shape[0] = 0.0
    description = f"{colour} noise"
    if rng.random() < 0.5:
        low = float(rng.uniform(50, 2000))
        high = float(min(low * rng.uniform(2, 16), SAMPLE_RATE / 2))
        shape[(freqs < low) | (freqs > high)] = 0.0
        description += f", {low:.0f}-{high:.0f} Hz"
    samples = np.fft.irfft(spectrum * shape, n)
    level_db = float(rng.uniform(-35, -15))
    samples *= 10 ** (level_db / 20) / max(np.sqrt(np.mean(samples**2)), 1e-12)
    return np.clip(samples, -1, 1).astype(np.float32), f"{description}, RMS {level_db:.0f} dBFS"


def find_espeak() -> str:
    """Path of the `espeak-ng` program; FileNotFoundError with installation advice."""
    program = shutil.which("espeak-ng")
    if program is None:
        raise FileNotFoundError(
            "the espeak-ng program is not on PATH (speech negatives): install the Debian "
            "package espeak-ng (apt-get install espeak-ng)"
        )
    return program


def speech_clip(rng: np.random.Generator, espeak: str, workdir: Path) -> tuple[np.ndarray, str]:
    """A sentence spoken by espeak-ng with a drawn language, voice variant, speed (120-200
    words per minute) and pitch (20-80), cut to at most 6 s; samples at 22 050 Hz and a
    description."""
    language = str(rng.choice(tuple(SPEECH)))
    sentence = str(rng.choice(SPEECH[language]))
    voice = language + str(rng.choice(VOICE_VARIANTS))
    speed, pitch = int(rng.integers(120, 201)), int(rng.integers(20, 81))
    with tempfile.TemporaryDirectory(dir=workdir) as run_dir:
        wav = Path(run_dir) / "speech.wav"
        result = subprocess.run(
            [espeak, "-v", voice, "-s", str(speed), "-p", str(pitch), "-w", str(wav), sentence],
            stdin=subprocess.DEVNULL, capture_output=True, text=True, check=False,
        )
        if result.returncode != 0 or not wav.exists():
            raise RuntimeError(f"espeak-ng failed (exit status {result.returncode}): {result.stderr.strip()}")
        samples, rate = soundfile.read(wav, dtype="float32", always_2d=True)
    samples = samples.mean(axis=1)
    if rate != SAMPLE_RATE:
        import librosa

        samples = librosa.resample(samples, orig_sr=rate, target_sr=SAMPLE_RATE)
    samples = samples[: CLIP_MS[1] * SAMPLE_RATE // 1000]
    return samples.astype(np.float32), f"espeak-ng voice {voice}, {speed} wpm, pitch {pitch}: {sentence}"


def _render_with_redraws(draw, count: int, soundfont: Path, workdir: Path, workers: int) -> tuple[list, list, int]:
    """`count` draws (`draw(index, attempt)`) rendered with `soundfont`, silent ones drawn
    again; returns the clips' objects, their samples and the fluidsynth runs."""
    attempts = [0] * count
    chosen: list = [None] * count
    samples: list = [None] * count
    runs = 0
    pending = list(range(count))
    while pending:
        batches = [pending[k : k + BATCH] for k in range(0, len(pending), BATCH)]

        def render(batch):
            with tempfile.TemporaryDirectory(dir=workdir) as run_dir:
                clips = [draw(index, attempts[index]) for index in batch]
                return batch, clips, render_notes(clips, soundfont, run_dir)

        with ThreadPoolExecutor(max_workers=workers) as pool:
            results = list(pool.map(render, batches))
        runs += len(batches)
        pending = []
        for batch, clips, rendered in results:
            for index, clip, audio in zip(batch, clips, rendered):
                if peak_dbfs(audio) >= SILENCE_DBFS:
                    chosen[index], samples[index] = clip, audio
                    continue
                attempts[index] += 1
                if attempts[index] >= MAX_ATTEMPTS:
                    raise RuntimeError(f"{soundfont.name} gave only silent renders for {clip.label}")
                pending.append(index)
    return chosen, samples, runs


def _shares(total: int, parts: int) -> list[int]:
    """`total` split into `parts` counts differing by at most one (the first ones larger)."""
    return [total // parts + (k < total % parts) for k in range(parts)]


def build_negatives(
    out: Path, sources: tuple[Path, ...], per_kind: int, seed: int, audio_format: str,
    workers: int = 2, progress: bool = True,
) -> NegativesReport:
    """Write `per_kind` clips of each of `NEGATIVE_KINDS` under `<out>/negatives/` and its
    manifest (see the module's docstring); percussion and programs are shared evenly among
    the SoundFonts `sources`. With `per_kind` 0 an earlier build's negatives are removed and
    nothing is written. Seeded: the same arguments give the same files."""
    folder = out / NEGATIVES_DIR
    if folder.is_dir():
        shutil.rmtree(folder)
    if per_kind == 0:
        return NegativesReport({}, 0)
    espeak = find_espeak()
    ext = audio_format
    width = max(4, len(str(per_kind - 1)))
    rows, runs = [], 0
    bar = tqdm(total=per_kind * len(NEGATIVE_KINDS), desc="negatives", unit="clip", file=sys.stderr,
               disable=not progress)

    def keep(kind: str, index: int, samples: np.ndarray, source: str, description: str) -> None:
        path = f"{kind}/{kind}_{index:0{width}d}.{ext}"
        write_clip(folder / path, samples, SAMPLE_RATE, audio_format)
        rows.append({"path": path, "kind": kind, "source": source, "description": description,
                     "seconds": round(len(samples) / SAMPLE_RATE, 3)})
        bar.update(1)

    with bar, tempfile.TemporaryDirectory(prefix="orchestra16-negatives-") as workdir:
        kind_number = {kind: number for number, kind in enumerate(NEGATIVE_KINDS)}
        for index in range(per_kind):
            rng = stream_rng(seed, (NEGATIVE_STREAM, kind_number["speech"], index))
            samples, description = speech_clip(rng, espeak, Path(workdir))
            keep("speech", index, samples, "espeak-ng", description)
        for index in range(per_kind):
            samples, description = noise_clip(stream_rng(seed, (NEGATIVE_STREAM, kind_number["noise"], index)))
            keep("noise", index, samples, "numpy", description)
        for kind in ("percussion", "programs"):
            first = 0
            for soundfont, count in zip(sources, _shares(per_kind, len(sources))):
                def draw(k, attempt, first=first, kind=kind):
                    rng = stream_rng(seed, (NEGATIVE_STREAM, kind_number[kind], first + k, attempt))
                    return draw_drum_loop(rng) if kind == "percussion" else draw_other_program(rng, k % 2 == 1)

                clips, audio, source_runs = _render_with_redraws(draw, count, soundfont, Path(workdir), workers)
                runs += source_runs
                for k, (clip, samples) in enumerate(zip(clips, audio)):
                    if kind == "percussion":
                        description = f"drum loop, {clip.tempo} bpm, reverb {clip.reverb}"
                    else:
                        description = (f"{clip.label} (program {clip.program}), "
                                       + (f"{len(clip.notes)} notes" if len(clip.notes) > 1 else "one note"))
                    keep(kind, first + k, samples, source_name(soundfont), description)
                first += count
    write_csv_atomic(folder / "manifest.csv", NEGATIVE_COLUMNS, rows)
    return NegativesReport({kind: per_kind for kind in NEGATIVE_KINDS}, runs)
