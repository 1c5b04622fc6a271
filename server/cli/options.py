"""Options and command groups that several commands share."""
from __future__ import annotations

import argparse
from pathlib import Path


def group(sub, name: str, help: str, metavar: str = "ACTION"):
    """A command with sub-commands of its own (``auralens corpus build``...)."""
    return sub.add_parser(name, help=help).add_subparsers(dest=f"{name}_command", metavar=metavar, required=True)


def add_device_option(parser: argparse.ArgumentParser, what: str) -> None:
    parser.add_argument("--device", choices=["auto", "cpu", "cuda"], default="auto",
                        help=f"where {what} (auto: a GPU when there is one)")


def add_collection_options(parser: argparse.ArgumentParser) -> None:
    """The options every command that reads a labelled collection shares."""
    parser.add_argument("--data", required=True, type=Path, help="labelled folder or manifest CSV")
    parser.add_argument("--cache-dir", type=Path, default=None, help="feature cache folder")
    parser.add_argument("--on-error", choices=["skip", "fail"], default="skip",
                        help="unreadable files: leave out and count them, or stop (default skip)")
    parser.add_argument("--quiet", action="store_true", help="no progress bars")


def set_torch_threads(threads: int | None) -> None:
    """``--threads``: CPU threads for torch (None: torch's default)."""
    if threads:
        import torch
        torch.set_num_threads(threads)
