"""The SoundFonts a corpus is rendered from: the default recipe, names, and the unheard check.

A clip's *source* is the name of the SoundFont that played it (its file name without the
extension, e.g. ``FluidR3_GM``); the manifest's ``soundfont`` column holds it.

TimGM6mb (Debian package ``timgm6mb-soundfont``) is the unheard check: a training corpus never
holds it. It can only be built as a check corpus (every clip in the test split), so that every
model is measured on sample sets it has never heard.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from auralens.models.corpus.render import check_soundfont

# The default recipe: General MIDI SoundFonts Debian ships, with their packages.
# csound's sf_GMbank is left out on purpose: for bass_tuba, bassoon, cello, contrabass and
# trombone it plays the very samples of TimGM6mb (renders of the same notes correlate at 1.00),
# so training on it would let the unheard check be heard. OPL-3 is a simulated FM chip: no
# recorded samples at all, which teaches the model what stays of an instrument without them.
DEFAULT_SOUNDFONTS: dict[str, str] = {
    "/usr/share/sounds/sf2/FluidR3_GM.sf2": "fluid-soundfont-gm",
    "/usr/share/sounds/sf3/MuseScore_General.sf3": "musescore-general-soundfont",
    "/usr/share/sounds/sf2/OPL-3_FM_128M.sf2": "opl3-soundfont",
}
UNHEARD_CHECK = "TimGM6mb"
UNHEARD_CHECK_PATH = "/usr/share/sounds/sf2/TimGM6mb.sf2"  # Debian package timgm6mb-soundfont


def source_name(path: str | Path) -> str:
    """The source name of a SoundFont: its file name without the extension.

    Example:
        >>> source_name("/usr/share/sounds/sf3/MuseScore_General_Full.sf3")
        'MuseScore_General_Full'
    """
    return Path(path).stem


def is_unheard_check(path: str | Path) -> bool:
    """Whether `path` (after following links) is the TimGM6mb SoundFont.

    Example:
        >>> is_unheard_check("/usr/share/sounds/sf2/TimGM6mb.sf2")
        True
    """
    return source_name(Path(path).expanduser().resolve()).lower() == UNHEARD_CHECK.lower()


def check_sources(soundfonts: str | Path | Sequence[str | Path], check_corpus: bool) -> tuple[Path, ...]:
    """The SoundFonts of a build as absolute paths, in the order given.

    Inputs: `soundfonts` one path or several; `check_corpus` True when the build is a check
    corpus (every clip in the test split). Raises FileNotFoundError or ValueError with a
    one-line message: a missing file, a file that is no SoundFont, two SoundFonts of the same
    source name, TimGM6mb in a training corpus.

    Example:
        >>> check_sources("/usr/share/sounds/sf2/FluidR3_GM.sf2", False)[0].name
        'FluidR3_GM.sf2'
    """
    given = [soundfonts] if isinstance(soundfonts, (str, Path)) else list(soundfonts)
    if not given:
        raise ValueError("give at least one SoundFont")
    paths = tuple(check_soundfont(path) for path in given)
    names = [source_name(path) for path in paths]
    twice = sorted({name for name in names if names.count(name) > 1})
    if twice:
        raise ValueError(f"the SoundFont {', '.join(twice)} is given more than once")
    if not check_corpus:
        for path in paths:
            if is_unheard_check(path):
                raise ValueError(
                    f"{path} is TimGM6mb, the unheard check, and never in a training corpus: "
                    "build it on its own as a check corpus (--unheard-check)"
                )
    return paths


def default_soundfonts() -> list[Path]:
    """The default recipe's SoundFonts; FileNotFoundError naming the Debian packages to
    install when one is missing.

    Example:
        >>> [p.name for p in default_soundfonts()]  # doctest: +SKIP
        ['FluidR3_GM.sf2', 'MuseScore_General.sf3', 'OPL-3_FM_128M.sf2']
    """
    missing = [package for path, package in DEFAULT_SOUNDFONTS.items() if not Path(path).is_file()]
    if missing:
        raise FileNotFoundError(
            "the default SoundFonts are not all installed: apt-get install " + " ".join(missing)
        )
    return [Path(path) for path in DEFAULT_SOUNDFONTS]


def refuse_unheard_check(sources: set[str] | list[str]) -> None:
    """ValueError when the source names of a run's training clips include TimGM6mb.

    Example:
        >>> refuse_unheard_check({"FluidR3_GM", ""})
    """
    if any(name.lower() == UNHEARD_CHECK.lower() for name in sources):
        raise ValueError("the training clips include TimGM6mb, the unheard check: it is never trained on")
