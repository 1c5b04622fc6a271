"""``auralens corpus build``: the orchestra16 demo corpus, rendered from a SoundFont."""
from __future__ import annotations

from pathlib import Path

from .options import group


def run_build(args) -> int:
    from auralens.models.corpus import build_corpus

    report = build_corpus(
        args.soundfont, args.out, per_class=args.per_class, seed=args.seed,
        concept_size=args.concept_size, random_sets=args.random_sets,
        audio_format=args.format, workers=args.workers, progress=not args.quiet,
    )
    print(report.summary())
    return 0


def add_commands(sub) -> None:
    corpus = group(sub, "corpus", "build the orchestra16 demo corpus")
    parser = corpus.add_parser("build", help="render isolated notes of 16 instruments from a SoundFont")
    parser.add_argument("--soundfont", required=True, type=Path, help="a General MIDI .sf2 file")
    parser.add_argument("--out", required=True, type=Path, help="folder to write the corpus into")
    parser.add_argument("--per-class", type=int, default=400, help="clips per instrument (default 400)")
    parser.add_argument("--seed", type=int, default=0, help="same seed, same files (default 0)")
    parser.add_argument("--concept-size", type=int, default=30, help="clips per concept set (default 30)")
    parser.add_argument("--random-sets", type=int, default=20, help="random sets for TCAV (default 20)")
    parser.add_argument("--format", choices=["flac", "wav"], default="flac", help="audio file format")
    parser.add_argument("--workers", type=int, default=2, help="FluidSynth processes in parallel")
    parser.add_argument("--quiet", action="store_true", help="no progress bars")
    parser.set_defaults(func=run_build)
