"""The account of a corpus build that `build_corpus` returns."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

from auralens.models.corpus.render import RENDER_GAIN, SILENCE_DBFS
from auralens.models.corpus.splits import SPLITS


def _pitch_ranges(pitches: set[int]) -> str:
    """Sorted pitches with runs written as ranges: {58, 59, 60, 94} -> '58-60, 94'."""
    runs: list[list[int]] = []
    for pitch in sorted(pitches):
        if runs and pitch == runs[-1][-1] + 1:
            runs[-1].append(pitch)
        else:
            runs.append([pitch])
    return ", ".join(f"{run[0]}-{run[-1]}" if len(run) > 1 else f"{run[0]}" for run in runs)


class Redraw(NamedTuple):
    """A silent render that was dropped and redrawn: its class, pitch, why, and its SoundFont."""

    label: str
    pitch: int
    reason: str
    source: str = ""


@dataclass(frozen=True)
class SourceCounts:
    """What one SoundFont gave a build: `clips` (of which `melodies`), by split, and how many
    draws were dropped and redrawn (`redrawn`, concept-set clips included)."""

    clips: int
    melodies: int
    splits: dict[str, int]
    redrawn: int


@dataclass
class BuildReport:
    """What `build_corpus` wrote, and how it went.

    `n_clips` corpus clips (`clips_per_class` by class, `split_counts` by split);
    `n_concept_clips` clips in `concept_sets` and `random_sets`, `concept_size` each;
    `redrawn` the silent renders that were dropped and redrawn; `peak_dbfs_min` and
    `peak_dbfs_max` the quietest and loudest clip peaks (dBFS) at render gain `gain`,
    `n_clipped` the clips that reached full scale; `fluidsynth_runs`; `seconds` wall time;
    `sources` what each SoundFont gave (by source name, in build order); `negatives` clips per
    kind of sound that is no class; `augmentation` the train-time augmentation recorded for
    the corpus (None: none); `check_corpus` whether every clip is in the test split.
    """

    out: Path
    soundfont: Path
    seed: int
    audio_format: str
    clips_per_class: dict[str, int]
    split_counts: dict[str, int]
    n_clips: int
    concept_sets: tuple[str, ...]
    random_sets: tuple[str, ...]
    concept_size: int
    n_concept_clips: int
    redrawn: list[Redraw]
    peak_dbfs_min: float
    peak_dbfs_max: float
    n_clipped: int
    fluidsynth_runs: int
    seconds: float
    gain: float = RENDER_GAIN
    sources: dict[str, SourceCounts] = field(default_factory=dict)
    negatives: dict[str, int] = field(default_factory=dict)
    augmentation: dict | None = None
    check_corpus: bool = False

    def redrawn_per_class(self) -> dict[str, int]:
        """Silent renders dropped and redrawn, by class (classes with none left out).

        Example:
            >>> report.redrawn_per_class()  # doctest: +SKIP
            {'contrabass': 157, 'violin': 13}
        """
        return dict(sorted(Counter(redraw.label for redraw in self.redrawn).items()))

    def summary(self) -> str:
        """A short multi-line account of the build for people.

        Example:
            >>> print(report.summary())  # doctest: +SKIP
            orchestra16: 6400 clips, 400 per class, 16 classes, flac, seed 0 -> /data/o16
            ...
        """
        counts = set(self.clips_per_class.values())
        if len(counts) == 1:
            per_class = f"{counts.pop()} per class"
        else:
            per_class = ", ".join(f"{name} {n}" for name, n in self.clips_per_class.items())
        lines = [
            f"orchestra16: {self.n_clips} clips, {per_class}, {len(self.clips_per_class)} "
            f"classes, {self.audio_format}, seed {self.seed} -> {self.out}",
            "  splits: " + ", ".join(f"{s} {self.split_counts.get(s, 0)}" for s in SPLITS)
            + (" (a check corpus: never to be trained on)" if self.check_corpus else ""),
        ]
        for name, counts in self.sources.items():
            lines.append(
                f"  {name}: {counts.clips} clips ({counts.clips - counts.melodies} notes, "
                f"{counts.melodies} melodies; "
                + ", ".join(f"{s} {counts.splits.get(s, 0)}" for s in SPLITS)
                + f"), {counts.redrawn} draws dropped and redrawn"
            )
        if self.redrawn:
            by_class = []
            for label, count in self.redrawn_per_class().items():
                pitches = {r.pitch for r in self.redrawn if r.label == label}
                noun = "pitch" if len(pitches) == 1 else "pitches"
                by_class.append(f"{label} {count} at {noun} {_pitch_ranges(pitches)}")
            lines.append(
                f"  silent renders (peak < {SILENCE_DBFS:.0f} dBFS) and phrases on keys without "
                f"a sample dropped and redrawn: "
                f"{len(self.redrawn)} ({'; '.join(by_class)})"
            )
        else:
            lines.append("  silent renders dropped and redrawn: none")
        if self.concept_sets:
            lines.append(
                f"  concept sets ({self.concept_size} clips each): {', '.join(self.concept_sets)}"
            )
            random_names = (
                f" ({self.random_sets[0]} .. {self.random_sets[-1]})" if self.random_sets else ""
            )
            lines.append(
                f"  random sets ({self.concept_size} clips each): "
                f"{len(self.random_sets)}{random_names}"
            )
        else:
            lines.append("  concept sets: none")
        if self.negatives:
            lines.append(
                f"  negatives (no class): {sum(self.negatives.values())} ("
                + ", ".join(f"{kind} {n}" for kind, n in self.negatives.items()) + ")"
            )
        if self.augmentation is not None:
            used = [kind for kind, on in self.augmentation["kinds"].items() if on]
            lines.append(f"  train-time augmentation: {', '.join(used) or 'none'} (augmentation.json)")
        lines.append(
            f"  clip peaks {self.peak_dbfs_min:.1f} to {self.peak_dbfs_max:.1f} dBFS at render "
            f"gain {self.gain}; {self.n_clipped} clipped at full scale"
        )
        lines.append(
            f"  {self.fluidsynth_runs} fluidsynth runs "
            f"({', '.join(self.sources) if self.sources else self.soundfont.name}), "
            f"{self.seconds:.1f} s"
        )
        return "\n".join(lines)
