"""Files an attacker (or bad luck) hands the server, made on the fly: headers that lie about
their size, rates no recording has, encodings that trip decoders - and a server to hand them to.

Each function returns the bytes of a whole file (or, for servers, a running process).
"""
from __future__ import annotations

import contextlib
import io
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Iterator, NamedTuple

import httpx
import numpy as np
import soundfile as sf

from .helpers import free_port, wait_until
from .sounds import SR, harmonic_tone


def flac_bytes(samples: np.ndarray, sr: int) -> bytes:
    """``samples`` ``(n,)`` or ``(n, channels)`` at ``sr`` Hz as a 16-bit FLAC file."""
    buf = io.BytesIO()
    sf.write(buf, samples, sr, format="FLAC", subtype="PCM_16")
    return buf.getvalue()


def _streaminfo(data: bytes, total_samples: int | None = None, rate: int | None = None) -> bytes:
    """``data`` (a FLAC file) with its STREAMINFO's total sample count and/or sample rate
    replaced (bytes 18-25 of the file hold rate:20, channels-1:3, bits-1:5, total:36)."""
    data = bytearray(data)
    assert data[:4] == b"fLaC" and data[4] & 0x7F == 0, "not a FLAC file starting with STREAMINFO"
    word = int.from_bytes(data[18:26], "big")
    if total_samples is not None:
        word = (word & ~((1 << 36) - 1)) | total_samples
    if rate is not None:
        word = (word & ((1 << 44) - 1)) | (rate << 44)
    data[18:26] = word.to_bytes(8, "big")
    return bytes(data)


def flac_declaring(channels: int, rate: int, seconds: float) -> bytes:
    """A small FLAC (0.1 s of noise) whose header declares ``channels`` x ``rate`` Hz x
    ``seconds``: what a decoder would have to make room for if it believed it."""
    noise = 0.1 * np.random.default_rng(0).standard_normal((max(1, rate // 10), channels))
    return _streaminfo(flac_bytes(noise.astype(np.float32), min(rate, 192_000)),
                       total_samples=int(seconds * rate), rate=rate)


def flac_without_length(seconds: float = 1.0) -> bytes:
    """A valid FLAC of a tone whose header does not say how long it is (as a recorder writing a
    stream leaves it)."""
    return _streaminfo(flac_bytes(harmonic_tone(220.0, seconds), SR), total_samples=0)


def wav_at(rate: int, n: int = 500, subtype: str = "PCM_16") -> bytes:
    """``n`` samples of a tone as a WAV whose sample rate is ``rate`` Hz (even 1)."""
    buf = io.BytesIO()
    sf.write(buf, 0.5 * np.sin(np.arange(n) * 0.3), rate, format="WAV", subtype=subtype)
    return buf.getvalue()


def gsm_wav(seconds: float = 1.0) -> bytes:
    """A tone as a GSM 6.10 WAV (a telephone codec libsndfile reads but cannot seek in)."""
    buf = io.BytesIO()
    sf.write(buf, harmonic_tone(220.0, seconds), SR, format="WAV", subtype="GSM610")
    return buf.getvalue()


def silent_ogg(seconds: float, channels: int = 8, rate: int = 48_000) -> bytes:
    """``seconds`` of silence in ``channels`` channels at ``rate`` Hz as Ogg/Vorbis (tiny on
    disk, large decoded), written a second at a time."""
    buf = io.BytesIO()
    with sf.SoundFile(buf, "w", rate, channels, format="OGG") as f:
        second = np.zeros((rate, channels), np.float32)
        for _ in range(int(seconds)):
            f.write(second)
    return buf.getvalue()


def long_wav(seconds: float, f0: float = 110.0) -> bytes:
    """A harmonic tone of ``seconds`` at the bundle's rate, as a 16-bit WAV."""
    buf = io.BytesIO()
    sf.write(buf, harmonic_tone(f0, seconds, n_harmonics=4), SR, format="WAV", subtype="PCM_16")
    return buf.getvalue()


# -- a real server ----------------------------------------------------------------------------
class Server(NamedTuple):
    process: subprocess.Popen
    url: str
    data: Path
    log: Path  # its stderr


def peak_memory_mb(pid: int) -> float:
    """The highest resident memory the process ``pid`` has had (VmHWM), MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise AssertionError(f"no VmHWM for process {pid}")


@contextlib.contextmanager
def serve(tmp: Path, *options: str, open_files: int | None = None) -> Iterator[Server]:
    """``auralens serve`` in a process of its own on a free port, with a data folder under
    ``tmp`` and ``options``; ``open_files`` caps its descriptors (soft and hard). Yields once it
    answers (at most 90 s); stops it (SIGTERM, then SIGKILL) on leaving."""
    port = free_port()
    data, log = tmp / "data", tmp / "server.log"

    def limit():
        if open_files:
            import resource
            resource.setrlimit(resource.RLIMIT_NOFILE, (open_files, open_files))

    with open(log, "wb") as err:
        process = subprocess.Popen([sys.executable, "-m", "auralens.server.cli", "serve", "--device", "cpu",
                                    "--port", str(port), "--data-dir", str(data), *options],
                                   stdout=subprocess.DEVNULL, stderr=err, preexec_fn=limit)
    url = f"http://127.0.0.1:{port}"

    def healthy() -> bool:
        if process.poll() is not None:
            raise AssertionError(f"the server exited: {log.read_text()[-2000:]}")
        try:
            return httpx.get(f"{url}/api/health", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    try:
        wait_until(healthy, 90, "the server to start", interval=0.2)
        yield Server(process, url, data, log)
    finally:
        if process.poll() is None:
            os.kill(process.pid, signal.SIGTERM)
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(10)
