"""The server's settings, in one place: read by the app (:func:`auralens.server.app.create_app`)
and by the command line, whose option defaults come from here."""
from __future__ import annotations

import math
import os
from dataclasses import dataclass, field, fields
from pathlib import Path


def default_data_dir() -> Path:
    """``$AURALENS_DATA``, else ``$XDG_DATA_HOME/auralens`` (``~/.local/share/auralens``)."""
    if os.environ.get("AURALENS_DATA"):
        return Path(os.environ["AURALENS_DATA"])
    base = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(base) / "auralens"


@dataclass
class Settings:
    """How the app runs: where it keeps its data, what it accepts, how much it holds at once."""

    data_dir: Path = field(default_factory=default_data_dir)  # uploads, analyses, jobs, exports
    max_upload_mb: float = 50.0  # largest accepted upload, MiB
    max_seconds: float = 600.0  # longest accepted clip, seconds
    max_collection_mb: float = 512.0  # largest collection sent at once (its files, or its ZIP unpacked), MiB
    max_collection_files: int = 5000  # most files in a collection sent at once
    workers: int = 2  # model work runs on these threads, one job at a time each, one core each
    queue_size: int = 64  # model work waiting or running; beyond: 503 with Retry-After
    pending_jobs: int = 16  # long jobs waiting or running; beyond: 503 with Retry-After
    # host names (no port; IPv6 in brackets) the server answers to; others get a 400, so that a
    # page on a name that resolves here (DNS rebinding) cannot reach it; "*" answers to all
    allowed_hosts: tuple[str, ...] = ("localhost", "127.0.0.1", "[::1]")
    # sign-in required (accounts made with `auralens users add`); off, everyone is one local
    # user - `auralens serve` turns it on when it listens beyond this machine
    accounts: bool = False
    # what one asker (a user, or a client address) may hold of the above, so that none starves the others
    asker_queue: int = 32  # model work waiting or running for one asker
    asker_jobs: int = 4  # long jobs waiting or running for one asker
    # bounded cost per request
    max_json_kb: float = 256.0  # largest JSON request body, KiB
    max_url_bytes: int = 8192  # longest path and query string
    render_window_s: float = 30.0  # longest stretch of a clip rendered as sound at once, seconds
    export_ttl_hours: float = 24.0  # an export is deleted this long after it was built
    # slow and greedy clients
    client_timeout_s: float = 10.0  # to send a request's headers; grace before the body's pace counts
    min_body_kb_per_s: float = 16.0  # slowest accepted pace of a body after the grace, KiB/s
    max_connections_per_client: int = 32  # open connections from one address; beyond: refused
    max_connections: int = 1024  # open connections in all; beyond: 503
    shutdown_grace_s: float = 5.0  # on SIGTERM, how long running requests get to finish, seconds

    def __post_init__(self):
        """Refuse nonsense at once, naming the option: every limit a finite positive number."""
        for f in fields(self):
            value = getattr(self, f.name)
            if f.type not in ("int", "float"):  # the data folder, host names, accounts
                continue
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value <= 0:
                raise ValueError(f"--{f.name.replace('_', '-')} must be a positive number, not {value!r}.")
            if f.type == "int" and value != int(value):
                raise ValueError(f"--{f.name.replace('_', '-')} must be a whole number, not {value!r}.")

    @property
    def max_upload_bytes(self) -> int:
        return int(self.max_upload_mb * 2**20)

    @property
    def max_collection_bytes(self) -> int:
        return int(self.max_collection_mb * 2**20)


@dataclass(frozen=True)
class ServeDefaults:
    """Where ``auralens serve`` listens unless told otherwise."""

    host: str = "127.0.0.1"  # this machine only
    port: int = 8000
