"""Memory: what the server keeps resident after a spike, with and without glibc's allocator
told to keep freed memory (``keep_freed_memory``), and what that costs in speed.

Run: python bench/bench_memory.py

For each setting, starts `auralens serve` on a free port with a fresh data folder, uploads and
analyses a 10-minute clip and renders four windows of it (the spike), waits a second, then
makes 20 analyses of a 2 s clip. Prints the peak resident memory (VmHWM), the resident memory after the spike and
after the short work (VmRSS), and the median time of a short analysis.
"""
from __future__ import annotations

import io
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import numpy as np
import soundfile as sf

KEEP = "from auralens.models.runtime import keep_freed_memory; keep_freed_memory({}); "
SETTINGS = {
    "glibc's default": "",
    "keep_freed_memory(64 MiB)": KEEP.format(64 << 20),
    "keep_freed_memory(1 GiB)": KEEP.format(1 << 30),
}


def tone(seconds: float, f0: float) -> bytes:
    t = np.arange(int(seconds * 22_050)) / 22_050
    buf = io.BytesIO()
    sf.write(buf, 0.3 * np.sin(2 * np.pi * f0 * t) + 0.1 * np.sin(6 * np.pi * f0 * t), 22_050, format="WAV",
             subtype="PCM_16")
    return buf.getvalue()


def memory(pid: int) -> dict:
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmHWM", "VmRSS"):
            fields[key] = int(value.split()[0]) / 1024
    return fields


def measure(prelude: str) -> dict:
    with socket_port() as port, tempfile.TemporaryDirectory() as data:
        code = prelude + ("from auralens.server.cli import main; import sys; "
                          f"sys.exit(main(['serve', '--device', 'cpu', '--port', '{port}', '--data-dir', '{data}']))")
        server = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        base = f"http://127.0.0.1:{port}"
        try:
            for _ in range(300):
                try:
                    if httpx.get(f"{base}/api/health", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    time.sleep(0.2)
            with httpx.Client(base_url=base, timeout=300) as c:
                start = memory(server.pid)["VmRSS"]
                long_id = c.post("/api/clips", files={"file": ("long.wav", tone(600, 110))}).json()["id"]
                analysis = c.post("/api/analyses", json={"clip_id": long_id}).json()
                for k in range(4):
                    c.get(f"/api/analyses/{analysis['id']}/reconstructions/{k}/audio.wav", params={"start_s": 60 * k})
                time.sleep(1)  # the workers fall idle: the server hands freed memory back
                after_spike = memory(server.pid)
                short_id = c.post("/api/clips", files={"file": ("short.wav", tone(2, 330))}).json()["id"]
                times = []
                for _ in range(20):
                    t = time.monotonic()
                    c.post("/api/analyses", json={"clip_id": short_id})
                    times.append(time.monotonic() - t)
                after_short = memory(server.pid)
            return {"started MB": start, "peak MB": after_short["VmHWM"], "after spike MB": after_spike["VmRSS"],
                    "after short work MB": after_short["VmRSS"], "short analysis p50 ms": statistics.median(times) * 1000}
        finally:
            server.terminate()
            server.wait(60)


class socket_port:
    def __enter__(self) -> int:
        import socket
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            return s.getsockname()[1]

    def __exit__(self, *exc):
        return False


def main() -> None:
    rows = {name: measure(prelude) for name, prelude in SETTINGS.items()}
    columns = list(next(iter(rows.values())))
    print(f"{'setting':<38}" + "".join(f"{c:>22}" for c in columns))
    for name, row in rows.items():
        print(f"{name:<38}" + "".join(f"{row[c]:>22.0f}" for c in columns))


if __name__ == "__main__":
    main()
