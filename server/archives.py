"""Reading a ZIP archive a user sends, safely: what it holds is checked from its directory
before a byte is unpacked, and again as each member is read.

Refused as a whole (:class:`~auralens.server.errors.Invalid` or
:class:`~auralens.server.errors.TooLarge`, with a sentence): a file that is not a ZIP, one
with more members than allowed, members that together unpack to more than allowed, a member
that unpacks to far more than it occupies (a "zip bomb"), or one that unpacks to more than it
declared. Left out with a reason (the rest is used): folders, links, hidden files and
system leftovers (``__MACOSX``, ``.DS_Store``), members whose names climb out of the archive
(``../x``, ``/etc/x``, ``C:\\x``), encrypted members, and members larger than one upload.
Names are never used as paths on this machine: the archive is read in memory, one member at a
time, when the member is used (:meth:`Member.read`).
"""
from __future__ import annotations

import io
import stat
import zipfile
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Callable

from .errors import Invalid, TooLarge

MAX_RATIO = 200  # a member may unpack to at most this many times its packed size (audio packs ~1-3x)
SYSTEM_NAMES = {"__MACOSX", ".DS_Store", "Thumbs.db", "desktop.ini"}


class Unreadable(Exception):
    """One member of an archive could not be unpacked (the others can); says why."""


@dataclass(frozen=True)
class Member:
    """A file sent: its path as sent (``viola/take 1.wav``), its size in bytes, and ``read()``
    giving its bytes (raising :class:`Unreadable` for one that cannot be unpacked)."""

    path: str
    size: int
    read: Callable[[], bytes]


def safe_member_path(name: str) -> str | None:
    """The member's path with forward slashes when it stays inside the archive, else None.

    >>> safe_member_path("viola/a.wav"), safe_member_path("../a.wav"), safe_member_path("/etc/x")
    ('viola/a.wav', None, None)
    """
    name = name.replace("\\", "/")
    if name.startswith("/") or (len(name) > 1 and name[1] == ":") or "\x00" in name:
        return None
    parts = [p for p in PurePosixPath(name).parts if p not in ("", ".")]
    if not parts or ".." in parts:
        return None
    return "/".join(parts)


def read_archive(data: bytes, max_members: int, max_total_bytes: int, max_member_bytes: int
                 ) -> tuple[list[Member], list[dict]]:
    """The files of the ZIP archive ``data``: ``(members, skipped)``, ``skipped`` a list of
    ``{"name", "reason"}`` for what was left out (see the module's notes). Everything is checked
    from the directory here; each member is unpacked when it is read.

    Example
    -------
    >>> buf = io.BytesIO(); z = zipfile.ZipFile(buf, "w"); z.writestr("a/b.wav", b"RIFF"); z.close()
    >>> [(m.path, m.read()) for m in read_archive(buf.getvalue(), 10, 2**20, 2**20)[0]]
    [('a/b.wav', b'RIFF')]
    """
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError, OSError):
        raise Invalid("This file is not a ZIP archive that can be read; send a .zip of audio files, "
                      "or the audio files themselves.") from None
    files = [i for i in infos if not i.is_dir()]
    if len(files) > max_members:
        raise Invalid(f"The archive holds {len(files)} files; at most {max_members} can be sent at once.")
    declared = sum(i.file_size for i in files)
    if declared > max_total_bytes:
        raise TooLarge(f"The archive unpacks to {declared / 2**20:.0f} MB, more than the limit of "
                       f"{max_total_bytes / 2**20:.0f} MB for a collection.")
    members, skipped = [], []
    for info in files:
        path = safe_member_path(info.filename)
        reason = _left_out(info, path, max_member_bytes)
        if reason is None and info.compress_size and info.file_size / info.compress_size > MAX_RATIO:
            raise Invalid(f"The archive member '{path}' unpacks to {info.file_size / info.compress_size:.0f} times "
                          "its packed size, which no audio file does; the archive is refused.")
        if reason is not None:
            skipped.append({"name": info.filename[:300], "reason": reason})
            continue
        members.append(Member(path, info.file_size, lambda info=info: _unpack(archive, info)))
    return members, skipped


def _unpack(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> bytes:
    """A member's bytes, never more than its directory declared."""
    try:
        with archive.open(info) as f:
            content = f.read(info.file_size + 1)
    except (zipfile.BadZipFile, RuntimeError, NotImplementedError, ValueError, EOFError, OSError) as err:
        raise Unreadable(f"it could not be unpacked ({err}).") from None
    if len(content) != info.file_size:
        raise Unreadable("it unpacks to another size than the archive's directory says.")
    return content


def _left_out(info: zipfile.ZipInfo, path: str | None, max_member_bytes: int) -> str | None:
    """Why a member is left out, or None to read it."""
    if path is None:
        return "its name points outside the archive."
    parts = path.split("/")
    if any(p in SYSTEM_NAMES or p.startswith(".") or p.startswith("._") for p in parts):
        return "it is a hidden or system file."
    mode = info.external_attr >> 16
    if mode and stat.S_ISLNK(mode):
        return "it is a link, not a file."
    if info.flag_bits & 0x1:
        return "it is encrypted."
    if info.file_size > max_member_bytes:
        return f"it is larger than the upload limit of {max_member_bytes / 2**20:g} MB."
    if info.file_size == 0:
        return "it is empty."
    return None
