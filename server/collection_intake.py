"""Files sent as a collection become clips: each checked as an upload is (decodable, not
empty, not silent, not too long), kept once by content (the same file twice is one clip), and
labelled from its folder or from a labels CSV.

Nothing here raises for one bad file: a file that is not usable audio is left out with its
reason, and the collection is made from the others.
"""
from __future__ import annotations

import csv
import hashlib
import io
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Literal

from auralens.models.audio import AudioError, load_audio

from .archives import Member, Unreadable, safe_member_path
from .errors import Invalid
from .state import AppState

LabelsFrom = Literal["folders", "csv", "none"]
EXTENSIONS = {"WAV": "wav", "WAVEX": "wav", "FLAC": "flac", "OGG": "ogg", "MP3": "mp3"}


@dataclass(frozen=True)
class IntakeClip:
    """A file of the collection as kept: its clip id, its path as sent, label and tags."""

    clip_id: str
    path: str
    label: str | None
    tags: dict


def read_labels_csv(data: bytes) -> dict[str, str]:
    """A labels file ``filename,label`` (a header row is optional) -> ``{filename: label}``;
    a file name may be given with its folders (``viola/a.wav``) or alone (``a.wav``).

    >>> read_labels_csv(b"filename,label\\na.wav,viola\\n")
    {'a.wav': 'viola'}
    """
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise Invalid("The labels file is not UTF-8 text; send a CSV with lines 'filename,label'.") from None
    labels = {}
    for n, row in enumerate(csv.reader(io.StringIO(text))):
        if not row or not "".join(row).strip():
            continue
        if len(row) < 2:
            raise Invalid(f"Line {n + 1} of the labels file has no label; each line is 'filename,label'.")
        name, label = row[0].strip().replace("\\", "/"), row[1].strip()
        if n == 0 and name.lower() in ("filename", "file", "path", "name") and label.lower() in ("label", "class"):
            continue  # the header
        if name and label:
            labels[name] = label[:200]
    return labels


def label_of(path: str, labels_from: LabelsFrom, labels: dict[str, str]) -> str | None:
    """The label of the file at ``path`` (as sent): its folder's name, or its line of the CSV.

    >>> label_of("archive/viola/a.wav", "folders", {}), label_of("a.wav", "folders", {})
    ('viola', None)
    """
    parts = path.split("/")
    if labels_from == "folders":
        return parts[-2] if len(parts) > 1 else None
    if labels_from == "csv":
        return labels.get(path) or labels.get(parts[-1])
    return None


def without_common_folder(paths: list[str]) -> list[str]:
    """The paths without the one folder that holds them all (a dropped folder's own name).

    >>> without_common_folder(["take/viola/a.wav", "take/cello/b.wav"])
    ['viola/a.wav', 'cello/b.wav']
    """
    tops = {p.split("/", 1)[0] for p in paths}
    if len(tops) == 1 and all("/" in p for p in paths):
        return [p.split("/", 1)[1] for p in paths]
    return paths


def keep_files(state: AppState, owner: str, members: list[Member], labels_from: LabelsFrom,
               labels: dict[str, str]) -> tuple[list[IntakeClip], list[dict]]:
    """Keep the files as clips of user ``owner`` (runs on a worker: it decodes). Returns the
    clips in the order sent and the files left out, ``[{"name", "reason"}]``."""
    kept, skipped, seen = [], [], set()
    limit = state.settings.max_upload_bytes
    paths = without_common_folder([safe_member_path(m.path) or PurePosixPath(m.path.replace("\\", "/")).name
                                   or "clip" for m in members])
    for m, path in zip(members, paths):
        if m.size > limit:
            skipped.append({"name": path, "reason": f"it is larger than the upload limit of "
                                                    f"{state.settings.max_upload_mb:g} MB."})
            continue
        try:
            data = m.read()  # one file in memory at a time
        except Unreadable as err:
            skipped.append({"name": path, "reason": str(err)})
            continue
        sha = hashlib.sha256(data).hexdigest()
        clip = state.storage.upload_with_hash(sha, owner)
        if clip is None:
            try:
                audio = load_audio(data, state.bundle.audio.sample_rate, state.settings.max_seconds)
            except AudioError as err:
                skipped.append({"name": path, "reason": str(err)})
                continue
            ext = EXTENSIONS.get(audio.source_format, audio.source_format.lower())
            clip = state.storage.add_upload(data, path.rsplit("/", 1)[-1], ext, audio.duration_s,
                                            audio.source_sample_rate, audio.source_channels,
                                            canonical=(audio.samples, audio.sample_rate), owner=owner)
        if clip.id in seen:
            skipped.append({"name": path, "reason": "the same file is in the collection already."})
            continue
        seen.add(clip.id)
        folder = path.rsplit("/", 1)[0] if "/" in path else ""
        kept.append(IntakeClip(clip.id, path, label_of(path, labels_from, labels), {"folder": folder} if folder else {}))
    return kept, skipped
