"""Labelled audio collections for training and evaluation, and their cached features.

A collection is either a labelled folder (``<root>/<label>/<file>``) or a manifest CSV
(``path,label[,split][,tag columns...]``, paths relative to the CSV). A folder that holds a
``manifest.csv`` is read through it. Clips without a split get one from
:func:`auralens.models.corpus.splits.assign_splits` (70 % train, 10 % val, 20 % test per class).
A ``soundfont`` column names each clip's source. A ``notes.csv`` beside the manifest (or in
the labelled folder) annotates the clips' notes (``path,onset,offset,pitch,velocity``, times in
seconds): each record then carries its notes. Sources and notes are optional everywhere.

Features are computed once and kept in a cache file keyed by the audio settings and each
file's path, size and modification time, so that later epochs and later runs read no audio.
"""
from __future__ import annotations

import concurrent.futures as cf
import csv
import hashlib
import json
import os
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import torch
from safetensors import safe_open
from safetensors.torch import save_file
from tqdm import tqdm

from .atomic import atomic_path
from .audio import AudioConfig, AudioError, LogMel, load_audio
from .corpus.files import NOTES_COLUMNS, NOTES_FILE
from .corpus.splits import SPLITS, assign_splits

AUDIO_EXTENSIONS = {".wav", ".flac", ".ogg", ".oga", ".opus", ".mp3"}


class DatasetError(ValueError):
    """The collection cannot be used as given; the message says why and what to do."""


@dataclass(frozen=True)
class NoteEvent:
    """One annotated note of a clip: on at ``onset`` and off at ``offset`` seconds from the
    clip's start, MIDI ``pitch`` and ``velocity``."""

    onset: float
    offset: float
    pitch: int
    velocity: int


@dataclass(frozen=True)
class ClipRecord:
    """One clip of a collection: where it is, its class, its split, its tags and - when the
    collection has a notes sidecar - its notes in time order."""

    path: Path
    label: str
    split: str
    tags: dict = field(default_factory=dict, hash=False, compare=False)
    notes: tuple[NoteEvent, ...] = field(default=(), hash=False, compare=False)

    @property
    def source(self) -> str:
        """The sample set that played the clip (the ``soundfont`` column; "" when not given)."""
        return str(self.tags.get("soundfont") or "")


@dataclass
class ClipTable:
    """The clips of a collection. ``root`` is the folder paths are reported relative to."""

    root: Path
    records: list[ClipRecord]
    has_splits: bool = False  # the data itself gave the splits (a manifest with a split column)

    @property
    def labels(self) -> list[str]:
        """Class names present, sorted."""
        return sorted({r.label for r in self.records})

    def subset(self, split: str | None) -> "ClipTable":
        """The clips of one split (``None``: all of them)."""
        if split is None:
            return self
        if split not in SPLITS:
            raise DatasetError(f"Unknown split '{split}'; use one of {', '.join(SPLITS)}.")
        return ClipTable(self.root, [r for r in self.records if r.split == split], self.has_splits)

    def __len__(self) -> int:
        return len(self.records)


def read_collection(source: str | Path, seed: int = 0) -> ClipTable:
    """Read a labelled folder or a manifest CSV.

    Parameters
    ----------
    source : a folder (``<label>/<file>`` sub-folders, or holding ``manifest.csv``) or a CSV file.
    seed : seeds the split drawing for clips the manifest gives no split.

    Returns
    -------
    ClipTable with one record per audio file.

    Examples
    --------
    >>> table = read_collection("corpus/")            # doctest: +SKIP
    >>> len(table.subset("test")), table.labels[:2]    # doctest: +SKIP
    (1280, ['accordion', 'alto_sax'])
    """
    source = Path(source)
    if not source.exists():
        raise DatasetError(f"There is no folder or file at {source}.")
    if source.is_file():
        table = _read_manifest(source, seed)
    elif (source / "manifest.csv").is_file():
        table = _read_manifest(source / "manifest.csv", seed)
    else:
        table = _read_folder(source, seed)
    sidecar = table.root / NOTES_FILE
    if not sidecar.is_file():
        return table
    notes = read_notes(sidecar)
    return ClipTable(table.root, [replace(r, notes=notes.get(r.path.resolve(), ())) for r in table.records],
                     table.has_splits)


def read_notes(path: str | Path) -> dict[Path, tuple[NoteEvent, ...]]:
    """The notes sidecar at ``path``: resolved clip path -> its notes sorted by onset.

    Paths in the file are relative to its folder. Raises :class:`DatasetError` for a file
    that lacks a column or holds a value that is no number.

    Examples
    --------
    >>> notes = read_notes("corpus/notes.csv")                 # doctest: +SKIP
    >>> notes[Path("corpus/flute/flute_0000.flac").resolve()]  # doctest: +SKIP
    (NoteEvent(onset=0.0, offset=0.871, pitch=81, velocity=64),)
    """
    path = Path(path)
    out: dict[Path, list[NoteEvent]] = {}
    with open(path, newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        missing = set(NOTES_COLUMNS) - set(reader.fieldnames or [])
        if missing:
            raise DatasetError(f"The notes file {path} lacks the column(s) {', '.join(sorted(missing))}.")
        for line, row in enumerate(reader, start=2):
            try:
                event = NoteEvent(float(row["onset"]), float(row["offset"]), int(row["pitch"]), int(row["velocity"]))
            except (TypeError, ValueError):
                raise DatasetError(f"The notes file {path}, line {line}, holds a value that is no number.") from None
            out.setdefault((path.parent / row["path"]).resolve(), []).append(event)
    return {clip: tuple(sorted(events, key=lambda e: (e.onset, e.pitch))) for clip, events in out.items()}


def _read_folder(root: Path, seed: int) -> ClipTable:
    pairs = []
    for label_dir in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")):
        for f in sorted(label_dir.iterdir()):
            if f.is_file() and f.suffix.lower() in AUDIO_EXTENSIONS:
                pairs.append((f, label_dir.name))
    if not pairs:
        raise DatasetError(
            f"No audio files found in {root}. Expected one sub-folder per class holding "
            f"{', '.join(sorted(AUDIO_EXTENSIONS))} files, or a manifest.csv."
        )
    splits = assign_splits([label for _, label in pairs], seed)
    return ClipTable(root, [ClipRecord(p, label, s) for (p, label), s in zip(pairs, splits)])


def _read_manifest(path: Path, seed: int) -> ClipTable:
    with open(path, newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        columns = reader.fieldnames or []
        missing = {"path", "label"} - set(columns)
        if missing:
            raise DatasetError(
                f"The manifest {path} lacks the column(s) {', '.join(sorted(missing))}; "
                "it needs at least 'path' and 'label'."
            )
        rows = list(reader)
    if not rows:
        raise DatasetError(f"The manifest {path} lists no clips.")
    root = path.parent
    has_split = "split" in columns
    drawn = assign_splits([r["label"] for r in rows], seed)
    records = []
    for row, split in zip(rows, drawn):
        given = (row.get("split") or "").strip() if has_split else ""
        if given and given not in SPLITS:
            raise DatasetError(f"The manifest {path} uses the split '{given}'; use {', '.join(SPLITS)}.")
        tags = {k: v for k, v in row.items() if k not in ("path", "label", "split")}
        records.append(ClipRecord(root / row["path"], row["label"], given or split, tags))
    return ClipTable(root, records, has_split)


@dataclass
class FeatureSet:
    """Log-mel features of a collection, ready for training.

    features: list of ``(n_mels, n_frames_i)`` float32 tensors, one per kept clip.
    targets: ``(n_clips,)`` int64 class indices into ``class_names``.
    records: the kept clips, aligned with ``features``.
    skipped: ``(path, reason)`` of clips that could not be read.
    n_decoded: how many files were decoded this time (0 when everything came from the cache).
    """

    features: list[torch.Tensor]
    targets: torch.Tensor
    class_names: list[str]
    records: list[ClipRecord]
    skipped: list[tuple[Path, str]]
    n_decoded: int

    def __len__(self) -> int:
        return len(self.features)


def default_cache_dir() -> Path:
    """``$AURALENS_CACHE`` or ``$XDG_CACHE_HOME/auralens`` (``~/.cache/auralens``)."""
    if os.environ.get("AURALENS_CACHE"):
        return Path(os.environ["AURALENS_CACHE"])
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "auralens"


def _clip_key(path: Path) -> str:
    st = path.stat()
    return f"{path.resolve()}|{st.st_size}|{st.st_mtime_ns}"


def load_features(
    table: ClipTable,
    config: AudioConfig = AudioConfig(),
    class_names: list[str] | None = None,
    cache_dir: str | Path | None = None,
    on_error: str = "skip",
    max_seconds: float = 600.0,
    workers: int = 2,
    progress: bool = True,
) -> FeatureSet:
    """Log-mel features of every clip of ``table``, from the cache where it is up to date.

    Parameters
    ----------
    table : the clips (e.g. ``read_collection(dir).subset("train")``).
    config : the bundle's audio settings.
    class_names : the label order for ``targets``; default ``table.labels``. A clip whose label
        is not in it raises :class:`DatasetError` naming the unknown labels.
    cache_dir : where the cache file lives; default :func:`default_cache_dir`.
    on_error : ``"skip"`` leaves unreadable files out (listed in ``skipped``) or ``"fail"``
        raises :class:`DatasetError` at the first one.
    workers : decoding threads.

    Returns
    -------
    FeatureSet

    Examples
    --------
    >>> fs = load_features(read_collection("corpus/").subset("train"))   # doctest: +SKIP
    >>> fs.features[0].shape                                               # doctest: +SKIP
    torch.Size([128, 87])
    """
    if on_error not in ("skip", "fail"):
        raise ValueError("on_error must be 'skip' or 'fail'")
    names = list(class_names) if class_names is not None else table.labels
    unknown = sorted({r.label for r in table.records} - set(names))
    if unknown:
        raise DatasetError(
            f"The data has label(s) the model does not know: {', '.join(unknown)}. "
            f"Known classes: {', '.join(names)}."
        )
    cache_path = _cache_path(Path(cache_dir) if cache_dir else default_cache_dir(), table, config)
    cached = _read_cache(cache_path)

    keys, todo, skipped = [], [], []
    for i, rec in enumerate(table.records):
        try:
            key = _clip_key(rec.path)
        except OSError as err:
            key = None
            _fail_or_skip(on_error, skipped, rec.path, f"cannot be opened ({err.strerror or err})")
        keys.append(key)
        if key is not None and key not in cached:
            todo.append(i)

    computed = _compute(table, todo, config, max_seconds, workers, progress, on_error, skipped)
    cached.update({keys[i]: feats for i, feats in computed.items()})
    if computed:  # keep other clips' entries (other splits share the file); drop older versions of these
        current = {k.rsplit("|", 2)[0]: k for k in keys if k is not None}
        _write_cache(cache_path, {k: v for k, v in cached.items() if current.get(k.rsplit("|", 2)[0], k) == k})

    features, targets, kept = [], [], []
    index = {n: i for i, n in enumerate(names)}
    for rec, key in zip(table.records, keys):
        if key in cached:
            features.append(cached[key].float())
            targets.append(index[rec.label])
            kept.append(rec)
    return FeatureSet(features, torch.tensor(targets, dtype=torch.long), names, kept, skipped, len(computed))


def _fail_or_skip(on_error: str, skipped: list, path: Path, reason: str) -> None:
    if on_error == "fail":
        raise DatasetError(f"{path}: {reason}. (Use on_error='skip' to leave such files out.)")
    skipped.append((path, reason))


def _compute(table, todo, config, max_seconds, workers, progress, on_error, skipped) -> dict[int, torch.Tensor]:
    """Decode the clips at positions ``todo`` and compute their features (float16, CPU)."""
    if not todo:
        return {}
    logmel = LogMel(config)

    def decode(i):
        try:
            return i, load_audio(table.records[i].path, config.sample_rate, max_seconds).samples, None
        except AudioError as err:
            return i, None, str(err)
        except OSError as err:
            return i, None, f"cannot be read ({err.strerror or err})"

    out: dict[int, torch.Tensor] = {}
    pending: dict[int, list[tuple[int, np.ndarray]]] = {}

    def flush(length):
        batch = pending.pop(length)
        with torch.inference_mode():
            feats = logmel(torch.from_numpy(np.stack([a for _, a in batch]))).half()
        for (i, _), f in zip(batch, feats):
            out[i] = f.clone()

    with cf.ThreadPoolExecutor(max(1, workers)) as pool:
        bar = tqdm(pool.map(decode, todo), total=len(todo), desc="features", unit="clip",
                   disable=not progress, leave=False)
        for i, samples, error in bar:
            if error is not None:
                _fail_or_skip(on_error, skipped, table.records[i].path, error)
                continue
            pending.setdefault(len(samples), []).append((i, samples))
            if len(pending[len(samples)]) >= 64:
                flush(len(samples))
        for length in list(pending):
            flush(length)
    return out


def _cache_path(cache_dir: Path, table: ClipTable, config: AudioConfig) -> Path:
    where = hashlib.sha1(str(table.root.resolve()).encode()).hexdigest()[:12]
    return cache_dir / f"features-{config.key()}-{where}.safetensors"


def _read_cache(path: Path) -> dict[str, torch.Tensor]:
    """``{clip key: (n_mels, n_frames) float16}``; an unreadable cache counts as empty."""
    if not path.is_file():
        return {}
    try:
        with safe_open(str(path), framework="pt") as f:
            keys = json.loads(f.metadata()["keys"])
            frames, offsets = f.get_tensor("frames"), f.get_tensor("offsets").tolist()
    except Exception:  # a damaged cache is rebuilt, never trusted
        return {}
    return {k: frames[:, a:b] for k, a, b in zip(keys, offsets[:-1], offsets[1:])}


def _write_cache(path: Path, entries: dict[str, torch.Tensor]) -> None:
    """Write all entries as one file: ``frames`` (n_mels, total frames) and ``offsets``; atomic."""
    if not entries:
        return
    keys = list(entries)
    lengths = [entries[k].shape[-1] for k in keys]
    offsets = torch.tensor(np.concatenate([[0], np.cumsum(lengths)]), dtype=torch.long)
    frames = torch.cat([entries[k] for k in keys], dim=-1).contiguous()
    with atomic_path(path) as tmp:
        save_file({"frames": frames, "offsets": offsets}, str(tmp), metadata={"keys": json.dumps(keys)})
