"""Build the orchestra16 corpus, its TCAV concept sets and its negatives from General MIDI SoundFonts."""

from __future__ import annotations

import json
import re
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Sequence
from concurrent.futures import Executor, ThreadPoolExecutor, as_completed
from dataclasses import dataclass, replace
from pathlib import Path, PurePosixPath

from tqdm import tqdm

from auralens.models.augment.config import AugmentConfig
from auralens.models.corpus.classes import CLASS_NAMES, CLASSES, Instrument, instrument_named
from auralens.models.corpus.draws import CONCEPTS, Note, Phrase
from auralens.models.corpus.files import (
    AUDIO_FORMATS,
    AUGMENTATION_FILE,
    CONCEPT_COLUMNS,
    CORPUS_COLUMNS,
    NOTES_COLUMNS,
    NOTES_FILE,
    write_clip,
    write_csv_atomic,
)
from auralens.models.corpus.negatives import build_negatives
from auralens.models.corpus.plan import CONCEPTS_DIR, ClipJob, concept_set_jobs, corpus_jobs
from auralens.models.corpus.render import (
    SAMPLE_RATE,
    SILENCE_DBFS,
    find_fluidsynth,
    peak_dbfs,
    playable_keys,
    render_notes,
)
from auralens.models.corpus.report import BuildReport, Redraw, SourceCounts
from auralens.models.corpus.sources import check_sources, source_name
from auralens.models.corpus.splits import assign_splits

CORPUS_MANIFEST = "manifest.csv"
CONCEPT_MANIFEST = f"{CONCEPTS_DIR}/manifest.csv"

BATCH_NOTES = 160  # notes per fluidsynth run
REDRAW_CANDIDATES = 8  # fresh draws rendered at once for a slot whose render was silent
MAX_ATTEMPTS = 200  # draws per slot before the SoundFont is declared unusable for a class


@dataclass(frozen=True)
class _Request:
    """Render the draws `attempts` of `job` (the build's job number `order`) in one run."""

    order: int
    job: ClipJob
    attempts: range


@dataclass(frozen=True)
class _Outcome:
    """A request's first non-silent draw (`note` None when all were silent), its peak in
    dBFS, and the silent draws before it."""

    request: _Request
    note: Note | Phrase | None
    peak_dbfs: float
    dropped: tuple[Redraw, ...]


@dataclass(frozen=True)
class _Renderer:
    """Everything a batch render needs besides the batch."""

    seed: int
    soundfont: Path
    fluidsynth: str
    out: Path
    audio_format: str
    workdir: Path
    keys: dict[str, frozenset[int]]  # playable keys by class (phrases are drawn within them)

    def _missing_key(self, clip: Note | Phrase) -> int | None:
        """The first key of a phrase that the SoundFont has no sample for (None: all sound)."""
        if not isinstance(clip, Phrase):
            return None
        return next((p for p in clip.pitches if p not in self.keys.get(clip.label, ())), None)

    def render_batch(self, batch: list[_Request]) -> list[_Outcome]:
        """Render a batch in one fluidsynth run; write each request's first non-silent draw.

        Phrases with a key the SoundFont lacks are dropped before rendering."""
        draws = [
            (request, request.job.note(self.seed, attempt))
            for request in batch
            for attempt in request.attempts
        ]
        missing = [self._missing_key(note) for _, note in draws]
        notes = [note for (_, note), key in zip(draws, missing) if key is None]
        with tempfile.TemporaryDirectory(dir=self.workdir) as run_dir:
            clips = iter(render_notes(notes, self.soundfont, run_dir, self.fluidsynth) if notes else ())
        by_request: dict[int, list] = defaultdict(list)
        for (request, note), key in zip(draws, missing):
            by_request[request.order].append((note, key, None if key is not None else next(clips)))
        source = source_name(self.soundfont)
        outcomes = []
        for request in batch:
            dropped: list[Redraw] = []
            outcome = None
            for note, key, clip in by_request[request.order]:
                if key is not None:
                    dropped.append(Redraw(note.label, key, f"no sample for pitch {key}", source))
                    continue
                peak = peak_dbfs(clip)
                if peak >= SILENCE_DBFS:
                    write_clip(self.out / request.job.path, clip, SAMPLE_RATE, self.audio_format)
                    outcome = _Outcome(request, note, peak, tuple(dropped))
                    break
                pitch = note.pitch if isinstance(note, Note) else note.pitches[0]
                dropped.append(Redraw(note.label, pitch, f"silent: peak {peak:.1f} dBFS", source))
            outcomes.append(outcome or _Outcome(request, None, float("-inf"), tuple(dropped)))
        return outcomes


def _batches(requests: list[_Request]) -> list[list[_Request]]:
    """Consecutive requests packed into batches of at most BATCH_NOTES notes."""
    batches: list[list[_Request]] = []
    notes_in_batch = BATCH_NOTES
    for request in requests:
        if notes_in_batch + len(request.attempts) > BATCH_NOTES:
            batches.append([])
            notes_in_batch = 0
        batches[-1].append(request)
        notes_in_batch += len(request.attempts)
    return batches


def _render_round(
    requests: list[_Request], renderer: _Renderer, pool: Executor, bar: tqdm
) -> tuple[list[_Outcome], int]:
    """Render requests in parallel batches; outcomes in request order and the number of runs."""
    batches = _batches(requests)
    futures = [pool.submit(renderer.render_batch, batch) for batch in batches]
    outcomes: list[_Outcome] = []
    try:
        for future in as_completed(futures):
            batch_outcomes = future.result()
            outcomes.extend(batch_outcomes)
            bar.update(sum(outcome.note is not None for outcome in batch_outcomes))
    except BaseException:
        for future in futures:
            future.cancel()
        raise
    return sorted(outcomes, key=lambda outcome: outcome.request.order), len(batches)


def _render_all(
    jobs: list[ClipJob], renderer: _Renderer, workers: int, progress: bool
) -> tuple[list[_Outcome], int]:
    """Render every job, redrawing silent slots in follow-up runs.

    Returns one outcome per job, in job order, whose `dropped` lists the silent draws of
    every round, and the number of fluidsynth runs.
    """
    pending = [_Request(order, job, range(1)) for order, job in enumerate(jobs)]
    chosen: dict[int, _Outcome] = {}
    dropped: dict[int, list[Redraw]] = defaultdict(list)
    runs = 0
    bar = tqdm(
        total=len(jobs), desc=source_name(renderer.soundfont), unit="clip", file=sys.stderr,
        disable=not progress,
    )
    with bar, ThreadPoolExecutor(max_workers=workers) as pool:
        while pending:
            outcomes, round_runs = _render_round(pending, renderer, pool, bar)
            runs += round_runs
            pending = []
            for outcome in outcomes:
                request = outcome.request
                dropped[request.order].extend(outcome.dropped)
                if outcome.note is not None:
                    chosen[request.order] = outcome
                    continue
                if request.attempts.stop >= MAX_ATTEMPTS:
                    instrument = request.job.instrument
                    raise RuntimeError(
                        f"{renderer.soundfont.name} gave only silent renders for "
                        f"{instrument.name} after {MAX_ATTEMPTS} draws: does it have General "
                        f"MIDI program {instrument.program} (0-based)?"
                    )
                redraws = range(request.attempts.stop, request.attempts.stop + REDRAW_CANDIDATES)
                pending.append(replace(request, attempts=redraws))
    return [replace(chosen[o], dropped=tuple(dropped[o])) for o in range(len(jobs))], runs


def _remove_stale_clips(out: Path, keep: set[str]) -> None:
    """Delete clip files an earlier build left in this build's class and concept folders,
    and emptied folders."""
    set_dirs = [out / name for name in CLASS_NAMES]
    concepts_dir = out / CONCEPTS_DIR
    if concepts_dir.is_dir():
        set_dirs += [
            path
            for path in concepts_dir.iterdir()
            if path.is_dir() and (path.name in CONCEPTS or re.fullmatch(r"random_\d+", path.name))
        ]
    for set_dir in set_dirs:
        if not set_dir.is_dir():
            continue
        for ext in AUDIO_FORMATS:
            for path in set_dir.glob(f"{set_dir.name}_*.{ext}"):
                if path.relative_to(out).as_posix() not in keep:
                    path.unlink()
        if not any(set_dir.iterdir()):
            set_dir.rmdir()
    if concepts_dir.is_dir() and not any(concepts_dir.iterdir()):
        concepts_dir.rmdir()


def _check_arguments(
    per_class: int, seed: int, concept_size: int, random_sets: int, workers: int,
    audio_format: str, classes: Sequence[str] | None, melody_share: float, negatives: int,
) -> tuple[Instrument, ...]:
    """Raise ValueError for a bad argument; return the instruments to build, in class order."""
    for name, value, minimum in (
        ("per_class", per_class, 1),
        ("seed", seed, 0),
        ("concept_size", concept_size, 0),
        ("random_sets", random_sets, 0),
        ("workers", workers, 1),
        ("negatives", negatives, 0),
    ):
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    if isinstance(melody_share, bool) or not isinstance(melody_share, (int, float)) or not 0 <= melody_share <= 1:
        raise ValueError(f"melody_share must be a number from 0 to 1, got {melody_share!r}")
    if audio_format not in AUDIO_FORMATS:
        raise ValueError(
            f"audio_format must be one of {', '.join(AUDIO_FORMATS)}, got {audio_format!r}"
        )
    if classes is None:
        return CLASSES
    if isinstance(classes, str) or not classes:
        raise ValueError(f"classes must be a list of class names, got {classes!r}")
    chosen = {instrument_named(name) for name in classes}
    return tuple(instrument for instrument in CLASSES if instrument in chosen)


def _note_rows(path: str, note: Note | Phrase) -> list[dict[str, object]]:
    """The sidecar rows of one clip: each note's onset and note-off (s), pitch and velocity."""
    return [
        {"path": path, "onset": n.onset_ms / 1000, "offset": (n.onset_ms + n.held_ms) / 1000,
         "pitch": n.pitch, "velocity": n.velocity}
        for n in note.notes
    ]


def _clip_tags(outcome: _Outcome, sources: tuple[Path, ...]) -> dict[str, object]:
    return {**outcome.note.tags(), "soundfont": source_name(sources[outcome.request.job.source])}


def _render_sources(
    jobs: list[ClipJob], sources: tuple[Path, ...], seed: int, out: Path, audio_format: str,
    workers: int, progress: bool,
) -> tuple[list[_Outcome], int]:
    """Render every job with its SoundFont, one SoundFont after the other; outcomes in job
    order and the number of fluidsynth runs."""
    fluidsynth = find_fluidsynth()
    outcomes: dict[int, _Outcome] = {}
    runs = 0
    with tempfile.TemporaryDirectory(prefix="orchestra16-render-") as workdir:
        for number, soundfont in enumerate(sources):
            positions = [k for k, job in enumerate(jobs) if job.source == number]
            phrase_classes = tuple(dict.fromkeys(jobs[k].instrument for k in positions if jobs[k].melody))
            keys = playable_keys(phrase_classes, soundfont, workdir, fluidsynth) if phrase_classes else {}
            runs += bool(phrase_classes)
            renderer = _Renderer(seed, soundfont, fluidsynth, out, audio_format, Path(workdir), keys)
            rendered, source_runs = _render_all([jobs[k] for k in positions], renderer, workers, progress)
            runs += source_runs
            outcomes.update(zip(positions, rendered))
    return [outcomes[k] for k in range(len(jobs))], runs


def build_corpus(
    soundfont: str | Path | Sequence[str | Path],
    out: str | Path,
    per_class: int = 400,
    seed: int = 0,
    concept_size: int = 30,
    random_sets: int = 20,
    audio_format: str = "flac",
    workers: int = 2,
    progress: bool = True,
    classes: Sequence[str] | None = None,
    melody_share: float = 0.0,
    negatives: int = 0,
    augmentation: AugmentConfig | None = None,
    check_corpus: bool = False,
) -> BuildReport:
    """Render the orchestra16 corpus, its concept sets, random sets and negatives into `out`.

    Inputs: `soundfont` one General MIDI .sf2/.sf3 file or several (each renders every class;
    TimGM6mb only with `check_corpus`); `out` the output folder (created; clips of an earlier
    build there are replaced); `per_class` clips per class and SoundFont (>= 1); `seed` a
    non-negative integer - the same seed and arguments give byte-identical files;
    `concept_size` clips per concept set and per random set (0: no concept sets);
    `random_sets` how many random sets; `audio_format` "flac" or "wav"; `workers` parallel
    fluidsynth runs; `progress` a tqdm bar on stderr; `classes` a subset of `CLASS_NAMES`
    (default all 16); `melody_share` the share of each class's clips that are phrases of 3-8
    notes, 2-6 s long (0 to 1); `negatives` clips per kind of sound that is no class
    (`negatives.NEGATIVE_KINDS`; 0: none); `augmentation` the train-time augmentation the
    corpus is meant to be trained with, written to `<out>/augmentation.json` (None: none);
    `check_corpus` every clip in the test split, no concept sets and no negatives - a corpus
    to measure on, never to train on.

    These defaults build the first edition (one SoundFont, single notes), the corpus of the
    default bundle; `auralens corpus build` defaults to the second (three SoundFonts, 40 %
    melodies, negatives, augmentation).

    Outputs, mono 22 050 Hz 16-bit clips, time 0 at the first note-on (single notes 2.0 s):
    `<out>/<class>/<class>_<index>.<ext>` with `<out>/manifest.csv` (`CORPUS_COLUMNS`), the
    index running over the SoundFonts in the order given (`per_class` each);
    `<out>/notes.csv` (`NOTES_COLUMNS`: every note of every clip); concept and random sets of
    single notes under `<out>/concepts/<set>/` with `<out>/concepts/manifest.csv`
    (`CONCEPT_COLUMNS`) and `notes.csv`; negatives under `<out>/negatives/` with their own
    manifest, which has no label column. Splits are drawn per class and SoundFont. Every
    manifest's paths are relative to its own folder. Manifests are written last. Returns a
    `BuildReport`.

    Example:
        >>> sf2 = "/usr/share/sounds/sf2/FluidR3_GM.sf2"
        >>> report = build_corpus(sf2, "/tmp/o16", per_class=5)  # doctest: +SKIP
        >>> print(report.summary())  # doctest: +SKIP
    """
    started = time.perf_counter()
    instruments = _check_arguments(
        per_class, seed, concept_size, random_sets, workers, audio_format, classes,
        melody_share, negatives,
    )
    sources = check_sources(soundfont, check_corpus)
    find_fluidsynth()
    if check_corpus:
        concept_size, negatives = 0, 0
    out = Path(out).expanduser().resolve()
    out.mkdir(parents=True, exist_ok=True)
    for manifest in (out / CORPUS_MANIFEST, out / CONCEPT_MANIFEST, out / AUGMENTATION_FILE):
        manifest.unlink(missing_ok=True)

    n = len(sources)
    clip_jobs = corpus_jobs(instruments, per_class, audio_format, n, melody_share, seed)
    set_jobs = concept_set_jobs(instruments, concept_size, random_sets, seed, audio_format, n)
    outcomes, runs = _render_sources(clip_jobs + set_jobs, sources, seed, out, audio_format, workers, progress)
    _remove_stale_clips(out, {job.path for job in clip_jobs + set_jobs})

    clip_outcomes, set_outcomes = outcomes[: len(clip_jobs)], outcomes[len(clip_jobs) :]
    splits = [""] * len(clip_jobs)
    for number in range(n):
        positions = [k for k, job in enumerate(clip_jobs) if job.source == number]
        drawn = assign_splits([clip_jobs[k].instrument.name for k in positions], seed)
        for k, split in zip(positions, drawn):
            splits[k] = "test" if check_corpus else split
    if set_jobs:
        set_paths = [PurePosixPath(o.request.job.path).relative_to(CONCEPTS_DIR).as_posix() for o in set_outcomes]
        write_csv_atomic(
            out / CONCEPTS_DIR / NOTES_FILE, NOTES_COLUMNS,
            (row for path, o in zip(set_paths, set_outcomes) for row in _note_rows(path, o.note)),
        )
        write_csv_atomic(
            out / CONCEPT_MANIFEST,
            CONCEPT_COLUMNS,
            (
                {"path": path, "concept": o.request.job.set_name, "label": o.note.label,
                 **_clip_tags(o, sources)}
                for path, o in zip(set_paths, set_outcomes)
            ),
        )
    negatives_report = build_negatives(out, sources, negatives, seed, audio_format, workers, progress)
    if augmentation is not None:
        (out / AUGMENTATION_FILE).write_text(json.dumps(augmentation.to_dict(), indent=2) + "\n")
    write_csv_atomic(
        out / NOTES_FILE, NOTES_COLUMNS,
        (row for o in clip_outcomes for row in _note_rows(o.request.job.path, o.note)),
    )
    write_csv_atomic(
        out / CORPUS_MANIFEST,
        CORPUS_COLUMNS,
        (
            {"path": o.request.job.path, "label": o.note.label, "split": split, **_clip_tags(o, sources)}
            for o, split in zip(clip_outcomes, splits)
        ),
    )

    per_source = {}
    for number, path in enumerate(sources):
        mine = [o for o in clip_outcomes if o.request.job.source == number]
        per_source[source_name(path)] = SourceCounts(
            clips=len(mine),
            melodies=sum(o.request.job.melody for o in mine),
            splits=dict(Counter(s for o, s in zip(clip_outcomes, splits) if o.request.job.source == number)),
            redrawn=sum(len(o.dropped) for o in outcomes if o.request.job.source == number),
        )
    peaks = [outcome.peak_dbfs for outcome in outcomes]
    set_names = tuple(dict.fromkeys(job.set_name for job in set_jobs))
    return BuildReport(
        out=out,
        soundfont=sources[0],
        seed=seed,
        audio_format=audio_format,
        clips_per_class={instrument.name: per_class * n for instrument in instruments},
        split_counts=dict(Counter(splits)),
        n_clips=len(clip_jobs),
        concept_sets=tuple(name for name in set_names if name in CONCEPTS),
        random_sets=tuple(name for name in set_names if name not in CONCEPTS),
        concept_size=concept_size,
        n_concept_clips=len(set_jobs),
        redrawn=[redraw for outcome in outcomes for redraw in outcome.dropped],
        peak_dbfs_min=min(peaks),
        peak_dbfs_max=max(peaks),
        n_clipped=sum(peak >= 0.0 for peak in peaks),
        fluidsynth_runs=runs + negatives_report.fluidsynth_runs,
        seconds=time.perf_counter() - started,
        sources=per_source,
        negatives=negatives_report.per_kind,
        augmentation=augmentation.to_dict() if augmentation is not None else None,
        check_corpus=check_corpus,
    )
