"""Fairness: how long another user's 2 s upload and analysis take while one client floods the
server with renders of a 10-minute clip.

Run: python bench/bench_fairness.py [--flooders 4] [--rounds 5]

Starts `auralens serve` on a free port with a fresh data folder, uploads and analyses a
10-minute clip, then runs ``--flooders`` connections from 127.0.0.2 that ask for uncached
30 s windows of its reconstructions without pause. Meanwhile a second user (127.0.0.1) uploads
a 2 s clip and analyses it, ``--rounds`` times. Prints each round's upload and analysis times,
how many renders the flood got through, and the server's peak resident memory.
"""
from __future__ import annotations

import argparse
import io
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
import numpy as np
import soundfile as sf


def tone(seconds: float, f0: float) -> bytes:
    t = np.arange(int(seconds * 22_050)) / 22_050
    buf = io.BytesIO()
    sf.write(buf, 0.3 * np.sin(2 * np.pi * f0 * t) + 0.1 * np.sin(6 * np.pi * f0 * t), 22_050, format="WAV",
             subtype="PCM_16")
    return buf.getvalue()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def peak_memory_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--flooders", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory() as data:
        server = subprocess.Popen([sys.executable, "-m", "auralens.server.cli", "serve", "--device", "cpu",
                                   "--port", str(port), "--data-dir", data],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            for _ in range(300):
                try:
                    if httpx.get(f"{base}/api/health", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    time.sleep(0.2)
            with httpx.Client(base_url=base, timeout=300) as c:
                long_id = c.post("/api/clips", files={"file": ("long.wav", tone(600, 110))}).json()["id"]
                analysis = c.post("/api/analyses", json={"clip_id": long_id}).json()["id"]
                stop, statuses = threading.Event(), []

                def flood(worker: int) -> None:
                    transport = httpx.HTTPTransport(local_address="127.0.0.2")
                    with httpx.Client(base_url=base, timeout=300, transport=transport) as f:
                        i = 0
                        while not stop.is_set():
                            r = f.get(f"/api/analyses/{analysis}/reconstructions/{(worker * 5 + i) % 16}/audio.wav",
                                      params={"start_s": 30 * (i % 19)})
                            statuses.append(r.status_code)
                            i += 1

                floods = [threading.Thread(target=flood, args=(w,)) for w in range(args.flooders)]
                for t in floods:
                    t.start()
                time.sleep(3)
                started = time.monotonic()
                print(f"{'round':<8}{'upload ms':>12}{'analysis ms':>14}")
                for n in range(args.rounds):
                    t0 = time.monotonic()
                    clip = c.post("/api/clips", files={"file": ("short.wav", tone(2, 200 + 40 * n))}).json()["id"]
                    t1 = time.monotonic()
                    c.post("/api/analyses", json={"clip_id": clip})
                    t2 = time.monotonic()
                    print(f"{n:<8}{(t1 - t0) * 1000:>12.0f}{(t2 - t1) * 1000:>14.0f}")
                    time.sleep(1)
                flood_s = time.monotonic() - started
                stop.set()
                for t in floods:
                    t.join(300)
            print(f"flood: {len(statuses)} renders of 30 s windows in {flood_s:.0f} s, statuses "
                  f"{sorted(set(statuses))}")
            print(f"server peak resident memory (VmHWM): {peak_memory_mb(server.pid):.0f} MB")
        finally:
            server.terminate()
            server.wait(60)


if __name__ == "__main__":
    main()
