"""``auralens audio info``: what audio files hold, or why they cannot be used."""
from __future__ import annotations

import math
from pathlib import Path

from ..config import Settings
from .options import group


def run_info(args) -> int:
    from auralens.models.audio import AudioError, load_audio

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


def add_commands(sub) -> None:
    audio = group(sub, "audio", "inspect audio files")
    parser = audio.add_parser("info", help="decode files and say what they hold, or why they cannot be used")
    parser.add_argument("files", nargs="+", type=Path)
    parser.add_argument("--max-seconds", type=float, default=Settings.max_seconds,
                        help=f"longest accepted clip (default {Settings.max_seconds:g})")
    parser.set_defaults(func=run_info)
