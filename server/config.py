"""The server's settings, in one place: read by the app (:func:`auralens.server.app.create_app`)
and by the command line, whose option defaults come from here."""
from __future__ import annotations

import os
from dataclasses import dataclass, field
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
    workers: int = 2  # model work runs on these threads, one job at a time each, one core each
    queue_size: int = 64  # model work waiting or running; beyond: 503 with Retry-After
    pending_jobs: int = 16  # long jobs waiting or running; beyond: 503 with Retry-After
    # host names (no port; IPv6 in brackets) the server answers to; others get a 400, so that a
    # page on a name that resolves here (DNS rebinding) cannot reach it; "*" answers to all
    allowed_hosts: tuple[str, ...] = ("localhost", "127.0.0.1", "[::1]")
    # sign-in required (accounts made with `auralens users add`); off, everyone is one local
    # user - `auralens serve` turns it on when it listens beyond this machine
    accounts: bool = False

    @property
    def max_upload_bytes(self) -> int:
        return int(self.max_upload_mb * 2**20)


@dataclass(frozen=True)
class ServeDefaults:
    """Where ``auralens serve`` listens unless told otherwise."""

    host: str = "127.0.0.1"  # this machine only
    port: int = 8000
