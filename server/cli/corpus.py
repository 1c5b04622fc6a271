"""``auralens corpus build``: the orchestra16 demo corpus, rendered from General MIDI SoundFonts."""
from __future__ import annotations

from pathlib import Path

from .options import group

DEFAULT_MELODY_SHARE = 0.4  # the second edition: 40 % of each class's clips are phrases
DEFAULT_NEGATIVES = 60  # clips per kind of sound that is no class


def run_build(args) -> int:
    from auralens.models.augment import KINDS, AugmentConfig
    from auralens.models.corpus import build_corpus
    from auralens.models.corpus.sources import default_soundfonts

    augmentation = None
    if not args.no_augmentation:
        augmentation = AugmentConfig().only([k for k in KINDS if k not in (args.no or [])])
    report = build_corpus(
        args.soundfont or default_soundfonts(), args.out, per_class=args.per_class, seed=args.seed,
        concept_size=args.concept_size, random_sets=args.random_sets,
        audio_format=args.format, workers=args.workers, progress=not args.quiet,
        melody_share=args.melodies, negatives=args.negatives,
        augmentation=None if args.unheard_check else augmentation, check_corpus=args.unheard_check,
    )
    print(report.summary())
    return 0


def add_commands(sub) -> None:
    from auralens.models.augment import KINDS
    from auralens.models.corpus.sources import DEFAULT_SOUNDFONTS

    corpus = group(sub, "corpus", "build the orchestra16 demo corpus")
    parser = corpus.add_parser(
        "build", help="render notes and melodies of 16 instruments from SoundFonts, and sounds that are no instrument",
        epilog="The defaults build the second edition. The first (the default bundle's corpus): "
               "--soundfont /usr/share/sounds/sf2/FluidR3_GM.sf2 --melodies 0 --negatives 0 --no-augmentation. "
               "TimGM6mb is the unheard check: it is built only with --unheard-check.")
    parser.add_argument("--soundfont", nargs="+", type=Path, default=None, metavar="FILE",
                        help="General MIDI .sf2/.sf3 files, each renders every class (default: "
                             + ", ".join(Path(p).name for p in DEFAULT_SOUNDFONTS) + ")")
    parser.add_argument("--out", required=True, type=Path, help="folder to write the corpus into")
    parser.add_argument("--per-class", type=int, default=400, help="clips per instrument and SoundFont (default 400)")
    parser.add_argument("--seed", type=int, default=0, help="same seed, same files (default 0)")
    parser.add_argument("--melodies", type=float, default=DEFAULT_MELODY_SHARE,
                        help=f"share of the clips that are phrases of 3-8 notes (default {DEFAULT_MELODY_SHARE})")
    parser.add_argument("--negatives", type=int, default=DEFAULT_NEGATIVES,
                        help=f"clips per kind of sound that is no class: speech, noise, percussion, other "
                             f"programs (default {DEFAULT_NEGATIVES}; 0: none)")
    parser.add_argument("--no", nargs="+", choices=KINDS, metavar="KIND",
                        help=f"train-time augmentation kinds to switch off ({', '.join(KINDS)})")
    parser.add_argument("--no-augmentation", action="store_true",
                        help="ask for no train-time augmentation (no augmentation.json)")
    parser.add_argument("--unheard-check", action="store_true",
                        help="a check corpus: every clip in the test split, no concept sets, negatives or augmentation")
    parser.add_argument("--concept-size", type=int, default=30, help="clips per concept set (default 30)")
    parser.add_argument("--random-sets", type=int, default=20, help="random sets for TCAV (default 20)")
    parser.add_argument("--format", choices=["flac", "wav"], default="flac", help="audio file format")
    parser.add_argument("--workers", type=int, default=2, help="FluidSynth processes in parallel")
    parser.add_argument("--quiet", action="store_true", help="no progress bars")
    parser.set_defaults(func=run_build)
