"""Build the orchestra16 corpus and its TCAV concept sets from a General MIDI SoundFont."""

from __future__ import annotations

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

from auralens.models.corpus.classes import CLASS_NAMES, CLASSES, Instrument, instrument_named
from auralens.models.corpus.draws import CONCEPTS, Note
from auralens.models.corpus.files import (
    AUDIO_FORMATS,
    CONCEPT_COLUMNS,
    CORPUS_COLUMNS,
    write_clip,
    write_csv_atomic,
)
from auralens.models.corpus.plan import CONCEPTS_DIR, ClipJob, concept_set_jobs, corpus_jobs
from auralens.models.corpus.render import (
    SAMPLE_RATE,
    SILENCE_DBFS,
    check_soundfont,
    find_fluidsynth,
    peak_dbfs,
    render_notes,
)
from auralens.models.corpus.report import BuildReport, Redraw
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
    note: Note | None
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

    def render_batch(self, batch: list[_Request]) -> list[_Outcome]:
        """Render a batch in one fluidsynth run; write each request's first non-silent draw."""
        notes = [
            request.job.note(self.seed, attempt)
            for request in batch
            for attempt in request.attempts
        ]
        with tempfile.TemporaryDirectory(dir=self.workdir) as run_dir:
            clips = render_notes(notes, self.soundfont, run_dir, self.fluidsynth)
        rendered = iter(zip(notes, clips))
        outcomes = []
        for request in batch:
            candidates = [next(rendered) for _ in request.attempts]
            dropped: list[Redraw] = []
            outcome = None
            for note, clip in candidates:
                peak = peak_dbfs(clip)
                if peak >= SILENCE_DBFS:
                    write_clip(self.out / request.job.path, clip, SAMPLE_RATE, self.audio_format)
                    outcome = _Outcome(request, note, peak, tuple(dropped))
                    break
                dropped.append(Redraw(note.label, note.pitch, f"silent: peak {peak:.1f} dBFS"))
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
        total=len(jobs), desc="orchestra16", unit="clip", file=sys.stderr, disable=not progress
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
    """Delete clip files an earlier build left in this build's folders, and emptied folders."""
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
    audio_format: str, classes: Sequence[str] | None,
) -> tuple[Instrument, ...]:
    """Raise ValueError for a bad argument; return the instruments to build, in class order."""
    for name, value, minimum in (
        ("per_class", per_class, 1),
        ("seed", seed, 0),
        ("concept_size", concept_size, 0),
        ("random_sets", random_sets, 0),
        ("workers", workers, 1),
    ):
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
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


def build_corpus(
    soundfont: str | Path,
    out: str | Path,
    per_class: int = 400,
    seed: int = 0,
    concept_size: int = 30,
    random_sets: int = 20,
    audio_format: str = "flac",
    workers: int = 2,
    progress: bool = True,
    classes: Sequence[str] | None = None,
) -> BuildReport:
    """Render the orchestra16 corpus, its concept sets and random sets into `out`.

    Inputs: `soundfont` a General MIDI .sf2 file (FluidR3_GM for the default bundle);
    `out` the output folder (created; clips of an earlier build there are replaced);
    `per_class` clips per class (>= 1); `seed` a non-negative integer - the same seed and
    arguments give byte-identical files; `concept_size` clips per concept set and per random
    set (0: no concept sets); `random_sets` how many random sets; `audio_format` "flac" or
    "wav"; `workers` parallel fluidsynth runs; `progress` a tqdm bar on stderr; `classes` a
    subset of `CLASS_NAMES` (default all 16).

    Outputs, 2.0 s mono 22 050 Hz 16-bit clips, one note each with its onset at 0 s:
    `<out>/<class>/<class>_<index>.<ext>` with `<out>/manifest.csv` (`CORPUS_COLUMNS`),
    and `<out>/concepts/<set>/<set>_<index>.<ext>` for each concept of `CONCEPTS` and
    `random_00`, `random_01`, ... with `<out>/concepts/manifest.csv` (`CONCEPT_COLUMNS`;
    paths relative to `<out>/concepts`). Every manifest's paths are relative to its own
    folder. Manifests are written last. Returns a `BuildReport`.

    Example:
        >>> sf2 = "/usr/share/sounds/sf2/FluidR3_GM.sf2"
        >>> report = build_corpus(sf2, "/tmp/o16", per_class=5)  # doctest: +SKIP
        >>> print(report.summary())  # doctest: +SKIP
    """
    started = time.perf_counter()
    instruments = _check_arguments(
        per_class, seed, concept_size, random_sets, workers, audio_format, classes
    )
    soundfont = check_soundfont(soundfont)
    fluidsynth = find_fluidsynth()
    out = Path(out).expanduser().resolve()
    out.mkdir(parents=True, exist_ok=True)
    for manifest in (out / CORPUS_MANIFEST, out / CONCEPT_MANIFEST):
        manifest.unlink(missing_ok=True)

    clip_jobs = corpus_jobs(instruments, per_class, audio_format)
    set_jobs = concept_set_jobs(instruments, concept_size, random_sets, seed, audio_format)
    with tempfile.TemporaryDirectory(prefix="orchestra16-render-") as workdir:
        renderer = _Renderer(seed, soundfont, fluidsynth, out, audio_format, Path(workdir))
        outcomes, runs = _render_all(clip_jobs + set_jobs, renderer, workers, progress)
    _remove_stale_clips(out, {job.path for job in clip_jobs + set_jobs})

    clip_outcomes, set_outcomes = outcomes[: len(clip_jobs)], outcomes[len(clip_jobs) :]
    splits = assign_splits([job.instrument.name for job in clip_jobs], seed)
    if set_jobs:
        write_csv_atomic(
            out / CONCEPT_MANIFEST,
            CONCEPT_COLUMNS,
            (
                {"path": PurePosixPath(o.request.job.path).relative_to(CONCEPTS_DIR).as_posix(),
                 "concept": o.request.job.set_name,
                 "label": o.note.label, **o.note.tags()}
                for o in set_outcomes
            ),
        )
    write_csv_atomic(
        out / CORPUS_MANIFEST,
        CORPUS_COLUMNS,
        (
            {"path": o.request.job.path, "label": o.note.label, "split": split, **o.note.tags()}
            for o, split in zip(clip_outcomes, splits)
        ),
    )

    peaks = [outcome.peak_dbfs for outcome in outcomes]
    set_names = tuple(dict.fromkeys(job.set_name for job in set_jobs))
    return BuildReport(
        out=out,
        soundfont=soundfont,
        seed=seed,
        audio_format=audio_format,
        clips_per_class={instrument.name: per_class for instrument in instruments},
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
        fluidsynth_runs=runs,
        seconds=time.perf_counter() - started,
    )
