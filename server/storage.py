"""User state that must survive restarts: uploaded clips, analysis permalinks, concepts, jobs.

One SQLite database (WAL journal, full sync: a committed row survives a crash) and audio
files stored under their content hash beside it::

    <data dir>/auralens.sqlite3
    <data dir>/audio/<first 2 hex digits>/<sha256>.<ext>

A file is written (atomically, fsynced) before the row that points at it is committed, so
no row ever names a missing or half-written file. Paths never come from clients.
"""
from __future__ import annotations

import hashlib
import json
import secrets
import sqlite3
import threading
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from auralens.models.atomic import atomic_path

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
"""


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


class Storage:
    """The data directory. Safe to share between threads; one writer at a time."""

    def __init__(self, data_dir: str | Path):
        self.root = Path(data_dir)
        (self.root / "audio").mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(self.root / "auralens.sqlite3", check_same_thread=False,
                                   isolation_level=None)
        self._db.row_factory = sqlite3.Row
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.executescript(SCHEMA)
        self._add_missing_columns()
        self.removed_leftovers = self._remove_leftovers()

    def _add_missing_columns(self) -> None:
        """Columns added after the first release, added to a database made before them."""
        have = {row["name"] for row in self._db.execute("PRAGMA table_info(clips)")}
        if "label" not in have:
            self._db.execute("ALTER TABLE clips ADD COLUMN label TEXT")

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

    def add_upload(self, data: bytes, name: str, ext: str, duration_s: float, sample_rate: int,
                   channels: int) -> StoredClip:
        """Keep an uploaded file (already validated as audio) and return its new clip record.

        ``ext`` is the audio format's usual extension (``wav``, ``flac``, ``ogg``, ``mp3``),
        chosen by the caller from the decoded format, never from the client's file name.
        """
        sha = hashlib.sha256(data).hexdigest()
        path = self.audio_path(sha, ext)
        if not path.is_file():  # the same bytes uploaded twice share one file
            with atomic_path(path) as tmp:
                tmp.write_bytes(data)
        clip = StoredClip(new_id("u"), "upload", name[:200], sha, ext, float(duration_s), int(sample_rate),
                          int(channels), _now())
        with self._transaction() as db:
            db.execute("INSERT INTO clips (id, origin, name, sha256, ext, duration_s, sample_rate, channels, created) "
                       "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                       (clip.id, clip.origin, clip.name, clip.sha256, clip.ext, clip.duration_s,
                        clip.sample_rate, clip.channels, clip.created))
        return clip

    def clip(self, clip_id: str) -> StoredClip | None:
        rows = self._query("SELECT * FROM clips WHERE id = ?", (clip_id,))
        return StoredClip(**dict(rows[0])) if rows else None

    def clips(self, limit: int = 50, offset: int = 0) -> list[StoredClip]:
        """Uploaded clips, newest first."""
        rows = self._query("SELECT * FROM clips ORDER BY created DESC, id LIMIT ? OFFSET ?", (limit, offset))
        return [StoredClip(**dict(r)) for r in rows]

    def count_clips(self) -> int:
        return self._query("SELECT COUNT(*) FROM clips")[0][0]

    def upload_with_hash(self, sha256: str) -> StoredClip | None:
        """The earliest upload of the file whose SHA-256 is ``sha256`` (hex), if any."""
        rows = self._query("SELECT * FROM clips WHERE sha256 = ? ORDER BY created, id LIMIT 1", (sha256,))
        return StoredClip(**dict(rows[0])) if rows else None

    def update_clip(self, clip_id: str, name: str | None = None, label: str | None = None,
                    clear_label: bool = False) -> StoredClip | None:
        """Rename an upload (``name``) and/or give it a ``label`` (``clear_label`` removes it);
        returns the clip as it is now, ``None`` when there is no such clip."""
        with self._transaction() as db:
            if name is not None:
                db.execute("UPDATE clips SET name = ? WHERE id = ?", (name[:200], clip_id))
            if label is not None or clear_label:
                db.execute("UPDATE clips SET label = ? WHERE id = ?", (None if clear_label else label[:200], clip_id))
        return self.clip(clip_id)

    def count_analyses_of(self, clip_id: str) -> int:
        """How many analyses were made of clip ``clip_id``."""
        return self._query("SELECT COUNT(*) FROM analyses WHERE clip_id = ?", (clip_id,))[0][0]

    def delete_upload(self, clip_id: str) -> list[str] | None:
        """Delete an upload with every analysis of it; its audio file goes too unless another
        clip row shares it. Returns the ids of the analyses deleted (``None``: no such clip)."""
        with self._transaction() as db:
            rows = db.execute("SELECT sha256, ext FROM clips WHERE id = ?", (clip_id,)).fetchall()
            if not rows:
                return None
            analyses = [r[0] for r in db.execute("SELECT id FROM analyses WHERE clip_id = ?", (clip_id,))]
            db.execute("DELETE FROM analyses WHERE clip_id = ?", (clip_id,))
            db.execute("DELETE FROM clips WHERE id = ?", (clip_id,))
            sha, ext = rows[0]
            shared = db.execute("SELECT COUNT(*) FROM clips WHERE sha256 = ?", (sha,)).fetchone()[0]
        if not shared:  # after the commit: a crash in between leaves a file no row names, never the reverse
            self.audio_path(sha, ext).unlink(missing_ok=True)
        return analyses

    # -- analyses ----------------------------------------------------------------------------
    def add_analysis(self, clip_id: str, model: str, bundle: str, body: dict) -> str:
        """Store an analysis (a JSON-able dict) and return its permanent id."""
        analysis_id = new_id("a")
        with self._transaction() as db:
            db.execute("INSERT INTO analyses VALUES (?, ?, ?, ?, ?, ?)",
                       (analysis_id, clip_id, model, bundle, _now(), json.dumps(body)))
        return analysis_id

    def analysis(self, analysis_id: str) -> dict | None:
        rows = self._query("SELECT * FROM analyses WHERE id = ?", (analysis_id,))
        if not rows:
            return None
        row = rows[0]
        return {"id": row["id"], "clip_id": row["clip_id"], "model": row["model"], "bundle": row["bundle"],
                "created": row["created"], **json.loads(row["body"])}

    # -- jobs --------------------------------------------------------------------------------
    def add_job(self, kind: str, params: dict) -> str:
        job_id = new_id("j")
        now = _now()
        with self._transaction() as db:
            db.execute("INSERT INTO jobs VALUES (?, ?, 'queued', 0, ?, NULL, NULL, ?, ?)",
                       (job_id, kind, json.dumps(params), now, now))
        return job_id

    def update_job(self, job_id: str, status: str, progress: float, result: dict | None = None,
                   error: str | None = None) -> None:
        with self._transaction() as db:
            db.execute("UPDATE jobs SET status = ?, progress = ?, result = ?, error = ?, updated = ? WHERE id = ?",
                       (status, progress, None if result is None else json.dumps(result), error, _now(), job_id))

    def job(self, job_id: str) -> dict | None:
        rows = self._query("SELECT * FROM jobs WHERE id = ?", (job_id,))
        if not rows:
            return None
        row = dict(rows[0])
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
    def add_concept(self, name: str, description: str, clip_ids: list[str]) -> dict:
        concept = {"id": new_id("k"), "name": name, "description": description, "clip_ids": list(clip_ids),
                   "created": _now()}
        with self._transaction() as db:
            db.execute("INSERT INTO concepts VALUES (?, ?, ?, ?, ?)",
                       (concept["id"], name, description, json.dumps(concept["clip_ids"]), concept["created"]))
        return concept

    def _concept(self, row) -> dict:
        return {**dict(row), "clip_ids": json.loads(row["clip_ids"])}

    def concepts(self) -> list[dict]:
        """The user's concepts, oldest first."""
        return [self._concept(r) for r in self._query("SELECT * FROM concepts ORDER BY created, id")]

    def concept(self, concept_id: str) -> dict | None:
        rows = self._query("SELECT * FROM concepts WHERE id = ?", (concept_id,))
        return self._concept(rows[0]) if rows else None

    def delete_concept(self, concept_id: str) -> bool:
        with self._transaction() as db:
            return db.execute("DELETE FROM concepts WHERE id = ?", (concept_id,)).rowcount > 0
