"""HTTP figures of the explorer API on this machine (loopback only).

Run: python bench/bench_api.py [--n 30]

Starts `auralens serve` on a free local port with a temporary data directory, uploads a 2 s
clip, and prints the round trip of `POST /api/analyses` (p50, p95), the time to get the winning
prototype's audio right after an analysis (rendered ahead while the server is idle), the time
to render any other reconstruction's audio (first request and cached), and the server's
resident memory.
"""
from __future__ import annotations

import argparse
import io
import socket
import statistics
import subprocess
import sys
import tempfile
import time

import httpx
import numpy as np
import soundfile as sf


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def resident_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def two_second_clip() -> bytes:
    t = np.arange(2 * 22_050) / 22_050
    y = sum(0.2 / k * np.sin(2 * np.pi * 330 * k * t) for k in range(1, 8)) * np.exp(-t)
    buf = io.BytesIO()
    sf.write(buf, y, 22_050, format="WAV")
    return buf.getvalue()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=30, help="analyses to time")
    args = parser.parse_args()
    port = free_port()
    with tempfile.TemporaryDirectory() as data:
        server = subprocess.Popen([sys.executable, "-m", "auralens.server.cli", "serve", "--port", str(port),
                                   "--data-dir", data], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        base = f"http://127.0.0.1:{port}"
        try:
            with httpx.Client(base_url=base, timeout=60) as client:
                for _ in range(120):
                    try:
                        client.get("/api/health")
                        break
                    except httpx.TransportError:
                        time.sleep(0.5)
                clip = client.post("/api/clips", files={"file": ("clip.wav", two_second_clip())}).json()
                times = []
                for _ in range(args.n + 2):
                    start = time.perf_counter()
                    analysis = client.post("/api/analyses", json={"clip_id": clip["id"]}).json()
                    times.append(time.perf_counter() - start)
                times = sorted(times[2:])  # the first two warm up
                audio = f"/api/analyses/{analysis['id']}/reconstructions/{{k}}/audio.wav"
                ranked = [p["index"] for p in sorted(analysis["prototypes"], key=lambda p: p["error"])]
                time.sleep(2.0)  # the user looks at the page; the idle server renders the winner ahead
                ahead = []
                for stage in ("raw", "gain", "pitch", "filters"):
                    start = time.perf_counter()
                    client.get(audio.format(k=ranked[0]), params={"stage": stage})
                    ahead.append(time.perf_counter() - start)
                first, cached = [], []
                for k in ranked[-8:]:  # prototypes far down the list: never rendered ahead
                    for bucket in (first, cached):
                        start = time.perf_counter()
                        client.get(audio.format(k=k), params={"stage": "filters"})
                        bucket.append(time.perf_counter() - start)
                first, cached, ahead = statistics.median(first), statistics.median(cached), statistics.median(ahead)
            print(f"POST /api/analyses, 2 s clip, {args.n} requests: p50 {1000 * statistics.median(times):.1f} ms, "
                  f"p95 {1000 * times[int(0.95 * (len(times) - 1))]:.1f} ms (target p50 < 300 ms)")
            print(f"the winner's audio at each stage, 2 s after its analysis (rendered ahead): {1000 * ahead:.1f} ms")
            print(f"any other reconstruction's audio (median of 8): first request {1000 * first:.1f} ms, "
                  f"again {1000 * cached:.1f} ms (target < 150 ms)")
            print(f"server resident memory: {resident_mb(server.pid):.0f} MB (target < 1500 MB)")
        finally:
            server.terminate()
            server.wait(timeout=30)


if __name__ == "__main__":
    main()
