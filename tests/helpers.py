"""Plain helpers the test modules share: waiting with a bound, the API's upload and job calls,
servers on a free port, the SoundFont the corpus tests render with, one torch thread.

Fixtures live in ``conftest.py``; synthetic sounds in ``sounds.py``; small models and training
settings in ``small_models.py``; the concept tests' spectrograms and models in
``concept_models.py``.
"""
from __future__ import annotations

import contextlib
import io
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Callable, Iterator, TypeVar

import numpy as np
import pytest
import soundfile as sf
import torch
import uvicorn

from .sounds import SR

T = TypeVar("T")


# -- waiting ----------------------------------------------------------------------------------
def wait_until(condition: Callable[[], T], timeout: float, what: str, interval: float = 0.05) -> T:
    """Call ``condition()`` every ``interval`` seconds until it returns a true value, and return
    that value. After ``timeout`` seconds fail with an ``AssertionError`` that says it waited for
    ``what`` (e.g. ``"the server to start"``) and for how long."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(f"waited {timeout:g} s for {what}, in vain")
        time.sleep(interval)


# -- the API ----------------------------------------------------------------------------------
def wav_bytes(samples: np.ndarray, sr: int = SR, subtype: str = "PCM_16") -> bytes:
    """``samples`` ``(n,)`` or ``(n, channels)`` at ``sr`` Hz as the bytes of a WAV file."""
    buf = io.BytesIO()
    sf.write(buf, samples, sr, format="WAV", subtype=subtype)
    return buf.getvalue()


def upload(client, data: bytes, name: str = "clip.wav"):
    """POST ``data`` as a file called ``name`` to ``/api/clips``; returns the response."""
    return client.post("/api/clips", files={"file": (name, data, "application/octet-stream")})


def wait_for_job(client, job_id: str, timeout: float = 300.0) -> dict:
    """Follow ``/api/jobs/{job_id}`` until the job is done or failed (at most ``timeout``
    seconds); returns the job's last state."""

    def finished():
        job = client.get(f"/api/jobs/{job_id}").json()
        return job if job["status"] in ("done", "failed") else None

    return wait_until(finished, timeout, f"job {job_id} to finish", interval=0.1)


# -- servers ----------------------------------------------------------------------------------
def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on at the moment."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def served(app, port: int | None = None, timeout: float = 30.0) -> Iterator[str]:
    """Serve ``app`` with uvicorn in a thread on 127.0.0.1:``port`` (a free one when ``None``);
    yields the base URL once the server listens (fails after ``timeout`` seconds) and stops the
    server on leaving."""
    port = free_port() if port is None else port
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        wait_until(lambda: server.started, timeout, f"the server on port {port} to start")
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)


@contextlib.contextmanager
def serve_process(data_dir: Path, *options: str, timeout: float = 120.0) -> Iterator[str]:
    """Run ``auralens serve`` with ``options`` on a free port of 127.0.0.1 in a process of its
    own (one torch thread), keeping its data in ``data_dir`` and its messages in
    ``data_dir/../serve.log``; yields the base URL once it answers ``/api/health`` and stops the
    process on leaving."""
    import httpx

    port = free_port()
    log = Path(data_dir).parent / "serve.log"
    with open(log, "w") as stderr:
        process = subprocess.Popen([sys.executable, "-m", "auralens.server.cli", "serve", "--port", str(port),
                                    "--device", "cpu", "--data-dir", str(data_dir), *options],
                                   env={**os.environ, "OMP_NUM_THREADS": "1"}, stderr=stderr)
    url = f"http://127.0.0.1:{port}"

    def answers():
        if process.poll() is not None:
            raise AssertionError(f"auralens serve ended: {log.read_text()}")
        try:
            return httpx.get(f"{url}/api/health", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    try:
        wait_until(answers, timeout, "auralens serve to answer", interval=0.2)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


# -- the browser ------------------------------------------------------------------------------
CHROMIUM = Path("/usr/bin/chromium")  # Debian's, which tests/run.sh installs


@contextlib.contextmanager
def chromium() -> Iterator:
    """Debian's headless Chromium driven by Playwright; yields the browser."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        try:
            yield browser
        finally:
            browser.close()


def drag_on_map(page, points, steps=6):
    """Press the mouse at the first of ``points`` (fractions of the Map tab's plot, ``(x, y)``
    from its top left), move through the rest, release: a lasso, a box or a pan."""
    page.locator("#map-plot").scroll_into_view_if_needed()
    box = page.locator("#map-plot").bounding_box()
    at = [(box["x"] + x * box["width"], box["y"] + y * box["height"]) for x, y in points]
    page.mouse.move(*at[0])
    page.mouse.down()
    for p in at[1:]:
        page.mouse.move(*p, steps=steps)
    page.mouse.up()


SELECTION = "async () => (await import('/js/selection.js')).getSelection()"  # the page's shared selection


# -- the SoundFont ----------------------------------------------------------------------------
SOUNDFONT = Path("/usr/share/sounds/sf2/FluidR3_GM.sf2")
FLUIDSYNTH_READY = shutil.which("fluidsynth") is not None and SOUNDFONT.is_file()


def needs_fluidsynth(test):
    """Mark a test as rendering with fluidsynth and FluidR3_GM; skip it when they are missing."""
    test = pytest.mark.fluidsynth(test)
    return pytest.mark.skipif(
        not FLUIDSYNTH_READY, reason="needs the fluidsynth program and FluidR3_GM.sf2"
    )(test)


# a second, small SoundFont (Debian opl3-soundfont) for builds from several sample sets, and
# espeak-ng for the speech of the negatives
OPL3_SOUNDFONT = Path("/usr/share/sounds/sf2/OPL-3_FM_128M.sf2")
SECOND_EDITION_READY = FLUIDSYNTH_READY and OPL3_SOUNDFONT.is_file() and shutil.which("espeak-ng") is not None


def needs_second_edition(test):
    """Skip a test when the OPL-3 SoundFont or espeak-ng is missing (tests/run.sh installs them)."""
    test = needs_fluidsynth(test)
    return pytest.mark.skipif(not SECOND_EDITION_READY, reason="needs opl3-soundfont and espeak-ng")(test)


# -- torch ------------------------------------------------------------------------------------
@contextlib.contextmanager
def one_torch_thread() -> Iterator[None]:
    """Run torch on one thread inside the block: on a busy 2-core machine, two threads
    contending for small convolutions are several times slower than one."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)
