"""User state that must survive restarts: uploaded clips, analysis permalinks, concepts, jobs.

One SQLite database (WAL journal, full sync: a committed row survives a crash) and audio
files stored under their content hash beside it::

    <data dir>/auralens.sqlite3
    <data dir>/audio/<first 2 hex digits>/<sha256>.<ext>
    <data dir>/audio/<first 2 hex digits>/<sha256>.mono<rate>.wav   (decoded once, 32-bit float)

A file is written (atomically, fsynced) before the row that points at it is committed, so
no row ever names a missing or half-written file. Paths never come from clients.
"""
from __future__ import annotations

import hashlib
import io
import json
import secrets
import sqlite3
import threading
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import soundfile as sf

from auralens.models.atomic import atomic_path

from .names import name_key

SCHEMA = """
CREATE TABLE IF NOT EXISTS clips (
    id TEXT PRIMARY KEY,
    origin TEXT NOT NULL,            -- 'upload' (corpus clips live in the bundle)
    name TEXT NOT NULL,              -- the file name the user gave, for display only
    sha256 TEXT NOT NULL,
    ext TEXT NOT NULL,
    duration_s REAL NOT NULL,
    sample_rate INTEGER NOT NULL,    -- of the uploaded file
    channels INTEGER NOT NULL,
    created TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS analyses (
    id TEXT PRIMARY KEY,
    clip_id TEXT NOT NULL,           -- an upload's id, or a corpus clip's from the bundle
    model TEXT NOT NULL,
    bundle TEXT NOT NULL,
    created TEXT NOT NULL,
    body TEXT NOT NULL               -- the analysis as JSON
);
CREATE TABLE IF NOT EXISTS jobs (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,              -- 'export', 'tcav', 'discovery'...
    status TEXT NOT NULL,            -- queued, running, done, failed
    progress REAL NOT NULL,          -- 0..1
    params TEXT NOT NULL,            -- what was asked, as JSON
    result TEXT,                     -- JSON when done
    error TEXT,                      -- a sentence for a person when failed
    created TEXT NOT NULL,
    updated TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS concepts (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    description TEXT NOT NULL,
    clip_ids TEXT NOT NULL,          -- JSON list of clip ids (uploads or corpus clips)
    created TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS clips_created ON clips(created);
CREATE TABLE IF NOT EXISTS users (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,              -- as the user wrote it (cleaned)
    name_key TEXT NOT NULL UNIQUE,   -- what it looks like (names.name_key): one account per look
    password TEXT NOT NULL,          -- an argon2 hash
    created TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS sessions (
    id TEXT PRIMARY KEY,             -- a random token, carried signed in the session cookie
    user_id TEXT NOT NULL,
    created TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS collections (
    id TEXT PRIMARY KEY,
    owner TEXT NOT NULL,
    name TEXT NOT NULL,              -- as the user gave it, for display only
    model TEXT NOT NULL,             -- the bundle's model it is analysed with
    bundle TEXT NOT NULL,
    skipped TEXT NOT NULL,           -- JSON list of {name, reason}: files left out when it was made
    job_id TEXT,                     -- the latest job analysing it
    version INTEGER NOT NULL,        -- goes up with every change (clips added, results stored)
    created TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS collection_clips (
    collection_id TEXT NOT NULL,
    clip_id TEXT NOT NULL,           -- an upload (the same file twice is one clip)
    position INTEGER NOT NULL,       -- the order the files came in
    path TEXT NOT NULL,              -- the file's path as sent (folders included), for display only
    label TEXT,                      -- from its folder or the labels CSV; None when none was given
    tags TEXT NOT NULL,              -- JSON {name: value}
    PRIMARY KEY (collection_id, clip_id)
);
CREATE TABLE IF NOT EXISTS clip_results (
    clip_id TEXT NOT NULL,
    model TEXT NOT NULL,
    bundle TEXT NOT NULL,
    result TEXT NOT NULL,            -- JSON: prediction, confidence, trust, best prototype, error
    PRIMARY KEY (clip_id, model, bundle)
);
CREATE INDEX IF NOT EXISTS collections_owner ON collections(owner, created);
"""

# Added to databases made before accounts (ALTER TABLE ... ADD COLUMN): whose each row is, a
# user's concept shared with the others or not, and its name's look for uniqueness. Rows made
# before accounts belong to the built-in local user.
LOCAL_OWNER = "local"
COLUMNS = {
    "clips": {"owner": f"TEXT NOT NULL DEFAULT '{LOCAL_OWNER}'", "label": "TEXT"},
    "analyses": {"owner": f"TEXT NOT NULL DEFAULT '{LOCAL_OWNER}'"},
    "jobs": {"owner": f"TEXT NOT NULL DEFAULT '{LOCAL_OWNER}'"},
    "concepts": {"owner": f"TEXT NOT NULL DEFAULT '{LOCAL_OWNER}'", "shared": "INTEGER NOT NULL DEFAULT 0",
                 "name_key": "TEXT"},
}
INDEXES = """
CREATE INDEX IF NOT EXISTS clips_owner_created ON clips(owner, created);
CREATE UNIQUE INDEX IF NOT EXISTS concepts_owner_name ON concepts(owner, name_key);
"""
CLIP_FIELDS = "id, origin, name, sha256, ext, duration_s, sample_rate, channels, created, label"


class NameTaken(Exception):
    """The owner already has a concept of that name (or one that looks the same)."""


@dataclass(frozen=True)
class StoredClip:
    id: str
    origin: str
    name: str
    sha256: str
    ext: str
    duration_s: float
    sample_rate: int
    channels: int
    created: str
    label: str | None = None  # what the user says it is (e.g. "cello"); None until they say


def new_id(prefix: str) -> str:
    """A short random id that is safe in a URL: ``u-3q7ZkP0aXw``."""
    return f"{prefix}-{secrets.token_urlsafe(8)}"


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


class StorageError(ValueError):
    """The data directory cannot be used (read-only, not a folder, not ours); says why, in a sentence."""


class StorageGone(StorageError):
    """The data folder was deleted or replaced while the server ran: nothing more can be stored."""


class Storage:
    """The data directory. Safe to share between threads; one writer at a time."""

    def __init__(self, data_dir: str | Path):
        self.root = Path(data_dir)
        self._lock = threading.Lock()
        try:
            (self.root / "audio").mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(self.root / "auralens.sqlite3", check_same_thread=False,
                                       isolation_level=None)
            self._db.row_factory = sqlite3.Row
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")
            self._db.executescript(SCHEMA)
            self._add_columns()
            self._identity = self._where_the_database_is()
            self.removed_leftovers = self._remove_leftovers()
        except (OSError, sqlite3.Error) as err:
            raise StorageError(f"The data folder {self.root} cannot be used: {err}.") from None

    def _where_the_database_is(self) -> tuple[int, int] | None:
        try:
            st = (self.root / "auralens.sqlite3").stat()
        except OSError:
            return None
        return st.st_dev, st.st_ino

    def intact(self) -> bool:
        """Whether the database file this storage writes to is still the one in the data folder
        (not deleted or replaced while the server runs: writes would then go nowhere)."""
        return self._where_the_database_is() == self._identity

    def _check_intact(self) -> None:
        if not self.intact():
            raise StorageGone(f"The data folder {self.root} was deleted or replaced while the server was "
                              "running, so nothing more can be stored; whoever runs the server must restore "
                              "it and restart the server.")

    def _add_columns(self) -> None:
        """Bring a database made by an earlier version up to :data:`COLUMNS` (additive only)."""
        for table, columns in COLUMNS.items():
            have = {r["name"] for r in self._db.execute(f"PRAGMA table_info({table})")}
            for column, decl in columns.items():
                if column not in have:
                    self._db.execute(f"ALTER TABLE {table} ADD COLUMN {column} {decl}")
        rows = self._db.execute("SELECT id, owner, name FROM concepts WHERE name_key IS NULL ORDER BY created, id")
        taken = {(r[0], r[1]) for r in
                 self._db.execute("SELECT owner, name_key FROM concepts WHERE name_key IS NOT NULL")}
        for row in rows.fetchall():  # concepts named before names were unique keep their names
            key = name_key(row["name"])
            key = key if (row["owner"], key) not in taken else f"{key}\x00{row['id']}"
            taken.add((row["owner"], key))
            self._db.execute("UPDATE concepts SET name_key = ? WHERE id = ?", (key, row["id"]))
        self._db.executescript(INDEXES)

    def _remove_leftovers(self) -> int:
        """Delete temporary files a crash left behind mid-write (no row ever points at them)."""
        n = 0
        for tmp in self.root.rglob(".*.tmp"):
            tmp.unlink(missing_ok=True)
            n += 1
        return n

    def close(self) -> None:
        self._db.close()

    def _query(self, sql: str, params=()) -> list[sqlite3.Row]:
        with self._lock:  # one connection: reads wait for a write in progress to commit
            return self._db.execute(sql, params).fetchall()

    @contextmanager
    def _transaction(self):
        self._check_intact()
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    # -- clips -------------------------------------------------------------------------------
    def audio_path(self, sha256: str, ext: str) -> Path:
        return self.root / "audio" / sha256[:2] / f"{sha256}.{ext}"

    def canonical_path(self, sha256: str, sample_rate: int) -> Path:
        """Where an upload's decoded mono audio at ``sample_rate`` Hz is kept (32-bit float WAV)."""
        return self.root / "audio" / sha256[:2] / f"{sha256}.mono{int(sample_rate)}.wav"

    @staticmethod
    def keep_canonical(path: Path, samples: np.ndarray, sample_rate: int) -> None:
        """Keep an upload's decoded mono audio ``samples`` ``(n,)`` at ``sample_rate`` Hz at
        ``path`` (its :meth:`canonical_path`), so that it is decoded once."""
        if not path.is_file():
            buf = io.BytesIO()  # encoded first: written by Python, a full disk is a plain OSError
            sf.write(buf, samples, int(sample_rate), format="WAV", subtype="FLOAT")
            with atomic_path(path) as tmp:
                tmp.write_bytes(buf.getbuffer())

    def add_upload(self, data: bytes, name: str, ext: str, duration_s: float, sample_rate: int,
                   channels: int, canonical: tuple[np.ndarray, int] | None = None,
                   owner: str = LOCAL_OWNER) -> StoredClip:
        """Keep an uploaded file (already validated as audio) of user ``owner`` and return its
        new clip record.

        ``ext`` is the audio format's usual extension (``wav``, ``flac``, ``ogg``, ``mp3``),
        chosen by the caller from the decoded format, never from the client's file name.
        ``canonical``: the decoded mono samples ``(n,)`` and their rate in Hz, kept beside it
        (:meth:`keep_canonical`).
        """
        self._check_intact()
        sha = hashlib.sha256(data).hexdigest()
        path = self.audio_path(sha, ext)
        written = []
        try:
            if not path.is_file():  # the same bytes uploaded twice share one file
                with atomic_path(path) as tmp:
                    tmp.write_bytes(data)
                written.append(path)
            if canonical is not None and not self.canonical_path(sha, canonical[1]).is_file():
                self.keep_canonical(self.canonical_path(sha, canonical[1]), *canonical)
                written.append(self.canonical_path(sha, canonical[1]))
        except OSError:  # e.g. a full disk: leave nothing behind that no row names
            for p in written:
                p.unlink(missing_ok=True)
            raise
        clip = StoredClip(new_id("u"), "upload", name[:200], sha, ext, float(duration_s), int(sample_rate),
                          int(channels), _now())
        with self._transaction() as db:
            db.execute(f"INSERT INTO clips ({CLIP_FIELDS}, owner) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                       (clip.id, clip.origin, clip.name, clip.sha256, clip.ext, clip.duration_s,
                        clip.sample_rate, clip.channels, clip.created, clip.label, owner))
        return clip

    def clip(self, clip_id: str, owner: str | None = None) -> StoredClip | None:
        """An upload by id; with ``owner``, only that user's (another's is None, as if absent)."""
        rows = self._query(f"SELECT {CLIP_FIELDS} FROM clips WHERE id = ? AND (? IS NULL OR owner = ?)",
                           (clip_id, owner, owner))
        return StoredClip(**dict(rows[0])) if rows else None

    def clips(self, limit: int = 50, offset: int = 0, owner: str | None = None) -> list[StoredClip]:
        """Uploaded clips (with ``owner``: that user's), newest first."""
        rows = self._query(f"SELECT {CLIP_FIELDS} FROM clips WHERE (? IS NULL OR owner = ?) "
                           "ORDER BY created DESC, id LIMIT ? OFFSET ?", (owner, owner, limit, offset))
        return [StoredClip(**dict(r)) for r in rows]

    def count_clips(self, owner: str | None = None) -> int:
        return self._query("SELECT COUNT(*) FROM clips WHERE (? IS NULL OR owner = ?)", (owner, owner))[0][0]

    def upload_with_hash(self, sha256: str, owner: str | None = None) -> StoredClip | None:
        """The earliest upload of the file whose SHA-256 is ``sha256`` (hex), if any (with
        ``owner``: that user's)."""
        rows = self._query(f"SELECT {CLIP_FIELDS} FROM clips WHERE sha256 = ? AND (? IS NULL OR owner = ?) "
                           "ORDER BY created, id LIMIT 1", (sha256, owner, owner))
        return StoredClip(**dict(rows[0])) if rows else None

    def update_clip(self, clip_id: str, name: str | None = None, label: str | None = None,
                    clear_label: bool = False, owner: str | None = None) -> StoredClip | None:
        """Rename an upload (``name``) and/or give it a ``label`` (``clear_label`` removes it);
        returns the clip as it is now, ``None`` when there is no such clip (with ``owner``: of
        that user)."""
        if self.clip(clip_id, owner) is None:
            return None
        with self._transaction() as db:
            if name is not None:
                db.execute("UPDATE clips SET name = ? WHERE id = ?", (name[:200], clip_id))
            if label is not None or clear_label:
                db.execute("UPDATE clips SET label = ? WHERE id = ?", (None if clear_label else label[:200], clip_id))
        return self.clip(clip_id)

    def count_analyses_of(self, clip_id: str) -> int:
        """How many analyses were made of clip ``clip_id``."""
        return self._query("SELECT COUNT(*) FROM analyses WHERE clip_id = ?", (clip_id,))[0][0]

    def delete_upload(self, clip_id: str, owner: str | None = None) -> list[str] | None:
        """Delete an upload with every analysis of it; its audio file (and its kept mono audio)
        goes too unless another clip row shares it. Returns the ids of the analyses deleted
        (``None``: no such clip, with ``owner``: of that user)."""
        with self._transaction() as db:
            rows = db.execute("SELECT sha256, ext FROM clips WHERE id = ? AND (? IS NULL OR owner = ?)",
                              (clip_id, owner, owner)).fetchall()
            if not rows:
                return None
            analyses = [r[0] for r in db.execute("SELECT id FROM analyses WHERE clip_id = ?", (clip_id,))]
            db.execute("DELETE FROM analyses WHERE clip_id = ?", (clip_id,))
            db.execute("DELETE FROM clips WHERE id = ?", (clip_id,))
            db.execute("UPDATE collections SET version = version + 1 WHERE id IN "
                       "(SELECT collection_id FROM collection_clips WHERE clip_id = ?)", (clip_id,))
            db.execute("DELETE FROM collection_clips WHERE clip_id = ?", (clip_id,))
            db.execute("DELETE FROM clip_results WHERE clip_id = ?", (clip_id,))
            sha, ext = rows[0]
            shared = db.execute("SELECT COUNT(*) FROM clips WHERE sha256 = ?", (sha,)).fetchone()[0]
        if not shared:  # after the commit: a crash in between leaves a file no row names, never the reverse
            self.audio_path(sha, ext).unlink(missing_ok=True)
            for kept in self.audio_path(sha, ext).parent.glob(f"{sha}.mono*.wav"):
                kept.unlink(missing_ok=True)
        return analyses

    # -- analyses ----------------------------------------------------------------------------
    def add_analysis(self, clip_id: str, model: str, bundle: str, body: dict, owner: str = LOCAL_OWNER) -> str:
        """Store an analysis (a JSON-able dict) of user ``owner`` and return its permanent id."""
        analysis_id = new_id("a")
        with self._transaction() as db:
            db.execute("INSERT INTO analyses (id, clip_id, model, bundle, created, body, owner) "
                       "VALUES (?, ?, ?, ?, ?, ?, ?)",
                       (analysis_id, clip_id, model, bundle, _now(), json.dumps(body), owner))
        return analysis_id

    def latest_analysis(self, clip_id: str, model: str, bundle: str, owner: str) -> dict | None:
        """User ``owner``'s newest analysis of a clip by a model of a bundle, or None."""
        rows = self._query("SELECT id FROM analyses WHERE clip_id = ? AND model = ? AND bundle = ? AND owner = ? "
                           "ORDER BY created DESC, rowid DESC LIMIT 1", (clip_id, model, bundle, owner))
        return self.analysis(rows[0]["id"], owner) if rows else None

    def analysis(self, analysis_id: str, owner: str | None = None) -> dict | None:
        """An analysis by id; with ``owner``, only that user's."""
        rows = self._query("SELECT * FROM analyses WHERE id = ? AND (? IS NULL OR owner = ?)",
                           (analysis_id, owner, owner))
        if not rows:
            return None
        row = rows[0]
        return {"id": row["id"], "clip_id": row["clip_id"], "model": row["model"], "bundle": row["bundle"],
                "created": row["created"], **json.loads(row["body"])}

    # -- collections -------------------------------------------------------------------------
    def add_collection(self, name: str, model: str, bundle: str, owner: str = LOCAL_OWNER,
                       skipped: list[dict] | None = None) -> str:
        """A new, empty collection of user ``owner`` analysed with ``model``; returns its id."""
        collection_id = new_id("c")
        with self._transaction() as db:
            db.execute("INSERT INTO collections (id, owner, name, model, bundle, skipped, job_id, version, created) "
                       "VALUES (?, ?, ?, ?, ?, ?, NULL, 0, ?)",
                       (collection_id, owner, name[:200], model, bundle, json.dumps(skipped or []), _now()))
        return collection_id

    def add_collection_clips(self, collection_id: str, clips: list[tuple[str, str, str | None, dict]]) -> int:
        """Put clips ``[(clip id, path as sent, label, tags)]`` in a collection, after those it
        has (a clip already in it keeps its place); returns how many were added."""
        with self._transaction() as db:
            start = db.execute("SELECT COALESCE(MAX(position) + 1, 0) FROM collection_clips WHERE collection_id = ?",
                               (collection_id,)).fetchone()[0]
            before = db.total_changes
            db.executemany("INSERT OR IGNORE INTO collection_clips VALUES (?, ?, ?, ?, ?, ?)",
                           [(collection_id, cid, start + i, path[:500], None if label is None else label[:200],
                             json.dumps(tags)) for i, (cid, path, label, tags) in enumerate(clips)])
            added = db.total_changes - before
            db.execute("UPDATE collections SET version = version + 1 WHERE id = ?", (collection_id,))
        return added

    _COLLECTIONS = ("SELECT c.id, c.owner, c.name, c.model, c.bundle, c.skipped, c.job_id, c.version, c.created, "
                    "(SELECT COUNT(*) FROM collection_clips cc JOIN clips ON clips.id = cc.clip_id "
                    " WHERE cc.collection_id = c.id) AS n_clips, "
                    "(SELECT COUNT(*) FROM collection_clips cc JOIN clips ON clips.id = cc.clip_id "
                    " JOIN clip_results r ON r.clip_id = cc.clip_id AND r.model = c.model AND r.bundle = c.bundle "
                    " WHERE cc.collection_id = c.id) AS n_analysed FROM collections c ")

    def _collection(self, row) -> dict:
        return {**dict(row), "skipped": json.loads(row["skipped"])}

    def collections(self, owner: str) -> list[dict]:
        """User ``owner``'s collections, oldest first, each with ``n_clips`` and ``n_analysed``."""
        return [self._collection(r) for r in
                self._query(self._COLLECTIONS + "WHERE c.owner = ? ORDER BY c.created, c.id", (owner,))]

    def collection(self, collection_id: str, owner: str | None = None) -> dict | None:
        """A collection by id; with ``owner``, only that user's (another's is None, as if absent)."""
        rows = self._query(self._COLLECTIONS + "WHERE c.id = ? AND (? IS NULL OR c.owner = ?)",
                           (collection_id, owner, owner))
        return self._collection(rows[0]) if rows else None

    def collection_head(self, collection_id: str, owner: str | None = None) -> dict | None:
        """A collection's own row (no counts: cheap at any size); with ``owner``, only theirs."""
        rows = self._query("SELECT * FROM collections WHERE id = ? AND (? IS NULL OR owner = ?)",
                           (collection_id, owner, owner))
        return self._collection(rows[0]) if rows else None

    def set_collection_job(self, collection_id: str, job_id: str) -> None:
        with self._transaction() as db:
            db.execute("UPDATE collections SET job_id = ? WHERE id = ?", (job_id, collection_id))

    def collection_rows(self, collection_id: str, model: str, bundle: str) -> list[sqlite3.Row]:
        """Every clip of a collection in order: ``clip_id, name, path, label, tags (JSON),
        duration_s, sample_rate, sha256, ext, result (JSON or None)``."""
        return self._query("SELECT cc.clip_id, clips.name, cc.path, cc.label, cc.tags, clips.duration_s, "
                           "clips.sample_rate, "
                           "clips.sha256, clips.ext, r.result FROM collection_clips cc "
                           "JOIN clips ON clips.id = cc.clip_id "
                           "LEFT JOIN clip_results r ON r.clip_id = cc.clip_id AND r.model = ? AND r.bundle = ? "
                           "WHERE cc.collection_id = ? ORDER BY cc.position", (model, bundle, collection_id))

    def unanalysed_clips(self, collection_id: str, model: str, bundle: str) -> list[StoredClip]:
        """The clips of a collection that have no result of ``model`` yet, in order."""
        fields = ", ".join(f"clips.{f.strip()}" for f in CLIP_FIELDS.split(","))
        rows = self._query(f"SELECT {fields} FROM collection_clips cc JOIN clips ON clips.id = cc.clip_id "
                           "LEFT JOIN clip_results r ON r.clip_id = cc.clip_id AND r.model = ? AND r.bundle = ? "
                           "WHERE cc.collection_id = ? AND r.clip_id IS NULL ORDER BY cc.position",
                           (model, bundle, collection_id))
        return [StoredClip(**dict(r)) for r in rows]

    def add_results(self, model: str, bundle: str, results: list[tuple[str, dict]],
                    collection_id: str | None = None) -> None:
        """Keep each clip's figures ``[(clip id, result)]`` by ``model`` (a clip is analysed once
        per model); ``collection_id``: the collection they were made for, whose version goes up."""
        with self._transaction() as db:
            db.executemany("INSERT OR REPLACE INTO clip_results VALUES (?, ?, ?, ?)",
                           [(cid, model, bundle, json.dumps(r)) for cid, r in results])
            db.execute("UPDATE collections SET version = version + 1 WHERE id IN "
                       "(SELECT collection_id FROM collection_clips WHERE clip_id IN (%s)) OR id = ?"
                       % ",".join("?" * len(results)), [cid for cid, _ in results] + [collection_id])

    def results(self, model: str, bundle: str, owner: str) -> dict[str, dict]:
        """The figures by ``model`` of every upload of user ``owner`` analysed so far, by clip id."""
        rows = self._query("SELECT r.clip_id, r.result FROM clip_results r JOIN clips ON clips.id = r.clip_id "
                           "WHERE clips.owner = ? AND r.model = ? AND r.bundle = ?", (owner, model, bundle))
        return {r[0]: json.loads(r[1]) for r in rows}

    def uploads_version(self, owner: str) -> tuple:
        """What changes when user ``owner``'s uploads (their names, labels) or their figures change."""
        clips = self._query("SELECT COUNT(*), MAX(created), TOTAL(LENGTH(name) + LENGTH(COALESCE(label, ''))) "
                            "FROM clips WHERE owner = ?", (owner,))[0]
        results = self._query("SELECT COUNT(*) FROM clip_results r JOIN clips ON clips.id = r.clip_id "
                              "WHERE clips.owner = ?", (owner,))[0][0]
        return (*tuple(clips), results)

    def unfinished_collections(self) -> list[dict]:
        """Every collection (of any user) with clips its model has not analysed yet."""
        return [self._collection(r) for r in self._query(self._COLLECTIONS + "ORDER BY c.created, c.id")
                if r["n_analysed"] < r["n_clips"]]

    def delete_collection(self, collection_id: str, owner: str) -> bool:
        """Delete user ``owner``'s collection (its clips stay among their uploads)."""
        with self._transaction() as db:
            if db.execute("DELETE FROM collections WHERE id = ? AND owner = ?", (collection_id, owner)).rowcount == 0:
                return False
            db.execute("DELETE FROM collection_clips WHERE collection_id = ?", (collection_id,))
            return True

    # -- jobs --------------------------------------------------------------------------------
    def add_job(self, kind: str, params: dict, owner: str = LOCAL_OWNER) -> str:
        job_id = new_id("j")
        now = _now()
        with self._transaction() as db:
            db.execute("INSERT INTO jobs (id, kind, status, progress, params, result, error, created, updated, owner) "
                       "VALUES (?, ?, 'queued', 0, ?, NULL, NULL, ?, ?, ?)",
                       (job_id, kind, json.dumps(params), now, now, owner))
        return job_id

    def update_job(self, job_id: str, status: str, progress: float, result: dict | None = None,
                   error: str | None = None) -> None:
        with self._transaction() as db:
            db.execute("UPDATE jobs SET status = ?, progress = ?, result = ?, error = ?, updated = ? WHERE id = ?",
                       (status, progress, None if result is None else json.dumps(result), error, _now(), job_id))

    def job(self, job_id: str, owner: str | None = None) -> dict | None:
        """A job by id; with ``owner``, only that user's."""
        rows = self._query("SELECT * FROM jobs WHERE id = ? AND (? IS NULL OR owner = ?)", (job_id, owner, owner))
        if not rows:
            return None
        row = dict(rows[0])
        row.pop("owner")
        row["params"] = json.loads(row["params"])
        row["result"] = None if row["result"] is None else json.loads(row["result"])
        return row

    def abandon_unfinished_jobs(self, reason: str) -> int:
        """Mark jobs a previous run left queued or running as failed (their worker is gone)."""
        with self._transaction() as db:
            cur = db.execute("UPDATE jobs SET status = 'failed', error = ?, updated = ? "
                             "WHERE status IN ('queued', 'running')", (reason, _now()))
            return cur.rowcount

    # -- concepts ----------------------------------------------------------------------------
    def add_concept(self, name: str, description: str, clip_ids: list[str], owner: str = LOCAL_OWNER,
                    shared: bool = False) -> dict:
        """Store user ``owner``'s concept; :class:`NameTaken` when they have one whose name looks
        the same (:func:`~auralens.server.names.name_key`), even when asked at the same moment."""
        concept = {"id": new_id("k"), "name": name, "description": description, "clip_ids": list(clip_ids),
                   "created": _now()}
        try:
            with self._transaction() as db:
                db.execute("INSERT INTO concepts (id, name, description, clip_ids, created, owner, shared, name_key) "
                           "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                           (concept["id"], name, description, json.dumps(concept["clip_ids"]), concept["created"],
                            owner, int(shared), name_key(name)))
        except sqlite3.IntegrityError:
            raise NameTaken(name) from None
        return self.concept(concept["id"])

    _CONCEPTS = ("SELECT concepts.id, concepts.name, description, clip_ids, concepts.created, owner, shared, "
                 "users.name AS owner_name FROM concepts LEFT JOIN users ON users.id = concepts.owner ")

    def _concept(self, row) -> dict:
        return {**dict(row), "clip_ids": json.loads(row["clip_ids"]), "shared": bool(row["shared"])}

    def concepts(self, owner: str | None = None) -> list[dict]:
        """Users' concepts (with ``owner``: theirs and those others share), oldest first; each
        with its ``owner`` id, ``owner_name`` (None for the local user) and ``shared``."""
        rows = self._query(self._CONCEPTS + "WHERE ? IS NULL OR owner = ? OR shared "
                           "ORDER BY concepts.created, concepts.id", (owner, owner))
        return [self._concept(r) for r in rows]

    def concept(self, concept_id: str, owner: str | None = None) -> dict | None:
        """A concept by id; with ``owner``, only one that user owns or that is shared."""
        rows = self._query(self._CONCEPTS + "WHERE concepts.id = ? AND (? IS NULL OR owner = ? OR shared)",
                           (concept_id, owner, owner))
        return self._concept(rows[0]) if rows else None

    def share_concept(self, concept_id: str, owner: str, shared: bool) -> bool:
        """Share user ``owner``'s concept with the others, or stop; False when it is not theirs."""
        with self._transaction() as db:
            return db.execute("UPDATE concepts SET shared = ? WHERE id = ? AND owner = ?",
                              (int(shared), concept_id, owner)).rowcount > 0

    def delete_concept(self, concept_id: str, owner: str | None = None) -> bool:
        """Delete a concept (with ``owner``: only theirs)."""
        with self._transaction() as db:
            return db.execute("DELETE FROM concepts WHERE id = ? AND (? IS NULL OR owner = ?)",
                              (concept_id, owner, owner)).rowcount > 0

    # -- users and their sessions ------------------------------------------------------------
    def add_user(self, name: str, key: str, password_hash: str) -> str | None:
        """A new account; its id, or None when an account's name already looks like ``key``."""
        user_id = new_id("user")
        try:
            with self._transaction() as db:
                db.execute("INSERT INTO users VALUES (?, ?, ?, ?, ?)", (user_id, name, key, password_hash, _now()))
        except sqlite3.IntegrityError:
            return None
        return user_id

    def users(self) -> list[dict]:
        """Every account (id, name, password hash, created), oldest first."""
        return [dict(r) for r in self._query("SELECT id, name, password, created FROM users ORDER BY created, id")]

    def user_named(self, key: str) -> dict | None:
        """The account whose name looks like ``key`` (a :func:`~auralens.server.names.name_key`)."""
        rows = self._query("SELECT id, name, password, created FROM users WHERE name_key = ?", (key,))
        return dict(rows[0]) if rows else None

    def set_password(self, user_id: str, password_hash: str) -> None:
        with self._transaction() as db:
            db.execute("UPDATE users SET password = ? WHERE id = ?", (password_hash, user_id))

    def remove_user(self, user_id: str) -> None:
        """Delete an account and end its sessions; what it made stays, reachable by nobody."""
        with self._transaction() as db:
            db.execute("DELETE FROM sessions WHERE user_id = ?", (user_id,))
            db.execute("DELETE FROM users WHERE id = ?", (user_id,))

    def add_session(self, session_id: str, user_id: str) -> None:
        with self._transaction() as db:
            db.execute("INSERT INTO sessions VALUES (?, ?, ?)", (session_id, user_id, _now()))

    def session_user(self, session_id: str) -> dict | None:
        """The account (id, name) a session belongs to, None when the session has ended."""
        rows = self._query("SELECT users.id, users.name FROM sessions JOIN users ON users.id = sessions.user_id "
                           "WHERE sessions.id = ?", (session_id,))
        return dict(rows[0]) if rows else None

    def end_session(self, session_id: str) -> None:
        with self._transaction() as db:
            db.execute("DELETE FROM sessions WHERE id = ?", (session_id,))
