"""The `auralens` command line: serve the app, build corpora, inspect audio, prepare data.

Errors a person can fix (a missing file, audio that cannot be used, a malformed collection)
are printed as one line on stderr with exit status 2, never as a traceback.
"""
from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

from . import __version__


def _cmd_serve(args) -> int:
    import uvicorn

    from .app import create_app

    app = create_app(device=args.device)
    print(f"auralens {__version__}: open http://{args.host}:{args.port}/ in a browser", file=sys.stderr)
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning")
    return 0


def _cmd_corpus_build(args) -> int:
    from models.corpus import build_corpus

    report = build_corpus(
        args.soundfont, args.out, per_class=args.per_class, seed=args.seed,
        concept_size=args.concept_size, random_sets=args.random_sets,
        audio_format=args.format, workers=args.workers, progress=not args.quiet,
    )
    print(report.summary())
    return 0


def _cmd_audio_info(args) -> int:
    from models.audio import AudioError, load_audio

    status = 0
    for path in args.files:
        try:
            audio = load_audio(path, sample_rate=None, max_seconds=args.max_seconds)
        except (AudioError, FileNotFoundError) as err:
            print(f"{path}: {err}")
            status = 2
            continue
        peak = float(abs(audio.samples).max())
        print(f"{path}: {audio.source_format}, {audio.source_channels} channel(s), "
              f"{audio.sample_rate} Hz, {audio.duration_s:.2f} s, peak {20 * math.log10(peak):.1f} dBFS")
    return status


def _cmd_data_prepare(args) -> int:
    from models.audio import AudioConfig
    from models.data import load_features, read_collection

    start = time.perf_counter()
    table = read_collection(args.data, seed=args.seed)
    features = load_features(table, AudioConfig(), cache_dir=args.cache_dir, on_error=args.on_error,
                             workers=args.workers, progress=not args.quiet)
    counts: dict[str, dict[str, int]] = {}
    for rec in features.records:
        counts.setdefault(rec.label, {"train": 0, "val": 0, "test": 0})[rec.split] += 1
    print(f"{len(features)} clips in {len(counts)} classes "
          f"({features.n_decoded} decoded now, {len(features) - features.n_decoded} from the cache) "
          f"in {time.perf_counter() - start:.1f} s")
    width = max(map(len, counts), default=5)
    print(f"{'class':<{width}}  train  val  test")
    for label, c in sorted(counts.items()):
        print(f"{label:<{width}}  {c['train']:>5}  {c['val']:>3}  {c['test']:>4}")
    if features.skipped:
        print(f"{len(features.skipped)} file(s) could not be read and were left out:")
        for path, reason in features.skipped:
            print(f"  {path}: {reason}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="auralens",
        description="Explore audio classifiers that explain themselves in sound.",
    )
    parser.add_argument("--version", action="version", version=f"auralens {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    serve = sub.add_parser("serve", help="run the web app")
    serve.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1: this machine only)")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--device", choices=["auto", "cpu", "cuda"], default="auto",
                       help="where models run (auto: a GPU when there is one)")
    serve.set_defaults(func=_cmd_serve)

    corpus = sub.add_parser("corpus", help="build the orchestra16 demo corpus").add_subparsers(
        dest="corpus_command", metavar="ACTION", required=True)
    build = corpus.add_parser("build", help="render isolated notes of 16 instruments from a SoundFont")
    build.add_argument("--soundfont", required=True, type=Path, help="a General MIDI .sf2 file")
    build.add_argument("--out", required=True, type=Path, help="folder to write the corpus into")
    build.add_argument("--per-class", type=int, default=400, help="clips per instrument (default 400)")
    build.add_argument("--seed", type=int, default=0, help="same seed, same files (default 0)")
    build.add_argument("--concept-size", type=int, default=30, help="clips per concept set (default 30)")
    build.add_argument("--random-sets", type=int, default=20, help="random sets for TCAV (default 20)")
    build.add_argument("--format", choices=["flac", "wav"], default="flac", help="audio file format")
    build.add_argument("--workers", type=int, default=2, help="FluidSynth processes in parallel")
    build.add_argument("--quiet", action="store_true", help="no progress bars")
    build.set_defaults(func=_cmd_corpus_build)

    audio = sub.add_parser("audio", help="inspect audio files").add_subparsers(
        dest="audio_command", metavar="ACTION", required=True)
    info = audio.add_parser("info", help="decode files and say what they hold, or why they cannot be used")
    info.add_argument("files", nargs="+", type=Path)
    info.add_argument("--max-seconds", type=float, default=600.0, help="longest accepted clip (default 600)")
    info.set_defaults(func=_cmd_audio_info)

    data = sub.add_parser("data", help="labelled collections for training").add_subparsers(
        dest="data_command", metavar="ACTION", required=True)
    prepare = data.add_parser("prepare", help="read a labelled folder or manifest and cache its features")
    prepare.add_argument("--data", required=True, type=Path, help="labelled folder or manifest CSV")
    prepare.add_argument("--on-error", choices=["skip", "fail"], default="skip",
                         help="unreadable files: leave out and count them, or stop (default skip)")
    prepare.add_argument("--cache-dir", type=Path, default=None, help="feature cache folder")
    prepare.add_argument("--seed", type=int, default=0, help="seed for splits the data does not give")
    prepare.add_argument("--workers", type=int, default=2, help="decoding threads")
    prepare.add_argument("--quiet", action="store_true", help="no progress bars")
    prepare.set_defaults(func=_cmd_data_prepare)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 0
    try:
        return args.func(args)
    except (FileNotFoundError, ValueError) as err:  # AudioError and DatasetError are ValueErrors
        print(f"auralens: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("auralens: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
