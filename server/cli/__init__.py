"""The `auralens` command line: serve the app, build corpora, inspect audio, prepare data, train
and evaluate models, look after bundles. One module per command group; each adds its commands
to the parser with ``add_commands(sub)``.

Errors a person can fix (a missing file, audio that cannot be used, a malformed collection)
are printed as one line on stderr with exit status 2, never as a traceback.
"""
from __future__ import annotations

import argparse
import os
import sys

from .. import __version__
from . import analyse, audio, bundle, corpus, data, evaluate, serve, train, users


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="auralens",
        description="Explore audio classifiers that explain themselves in sound.",
    )
    parser.add_argument("--version", action="version", version=f"auralens {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for group in (serve, users, corpus, audio, data, train, bundle, evaluate, analyse):  # the order `--help` lists them in
        group.add_commands(sub)
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
    except BrokenPipeError:  # the reader went away (e.g. `| head`): nothing more to say
        sys.stdout = open(os.devnull, "w")
        return 0
    except KeyboardInterrupt:
        print("auralens: interrupted", file=sys.stderr)
        return 130
