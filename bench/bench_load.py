"""Load: many users at once against a real server on loopback, mixing what people do.

Run: python bench/bench_load.py [--users 20] [--seconds 60]

Starts `auralens serve` on a free local port with a temporary data directory, then runs
``--users`` simulated users for ``--seconds``. Each user loops: upload a clip (10 %), analyse
a clip (25 %), fetch a reconstruction's audio (25 %) or its spectrogram (10 %), play a
prototype (10 %), list corpus clips (10 %), neighbours of a clip (10 %, when the bundle has
embedding spaces; otherwise another analysis). Prints throughput, latency percentiles per kind
and overall, every status code seen, and the server's peak resident memory. 503s are back-pressure (the server asking to retry),
not errors; anything else outside 2xx is an error.
"""
from __future__ import annotations

import argparse
import asyncio
import collections
import io
import random
import socket
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


def clip_bytes(rng: random.Random) -> bytes:
    f0, seconds = rng.uniform(80, 800), rng.uniform(0.5, 3.0)
    t = np.arange(int(seconds * 22_050)) / 22_050
    y = sum(np.sin(2 * np.pi * f0 * h * t) / h for h in range(1, 8)) * np.minimum(1, t * 20) * 0.2
    buf = io.BytesIO()
    sf.write(buf, y, 22_050, format="WAV", subtype="PCM_16")
    return buf.getvalue()


def peak_memory_mb(pid: int) -> float:
    """The highest resident memory process ``pid`` has had (VmHWM), MiB; NaN where unknown."""
    try:
        for line in open(f"/proc/{pid}/status"):
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


def percentile(values, q):
    return float(np.percentile(values, q)) * 1000 if values else float("nan")


async def user(client: httpx.AsyncClient, seed: int, until: float, shared: dict, log: list) -> None:
    rng = random.Random(seed)
    while time.monotonic() < until:
        kind = rng.choices(["upload", "analyse", "audio", "reconstruction", "prototype", "list", "neighbours"],
                           [10, 25, 25, 10, 10, 10, 10])[0]
        if kind == "neighbours" and not shared["spaces"]:
            kind = "analyse"
        start = time.monotonic()
        try:
            if kind == "upload":
                r = await client.post("/api/clips", files={"file": ("load.wav", clip_bytes(rng))})
                if r.status_code == 201:
                    shared["clips"].append(r.json()["id"])
            elif kind == "analyse":
                r = await client.post("/api/analyses", json={"clip_id": rng.choice(shared["clips"])})
                if r.status_code == 201:
                    shared["analyses"].append(r.json()["id"])
            elif kind in ("audio", "reconstruction"):
                a, k = rng.choice(shared["analyses"]), rng.randrange(shared["n_prototypes"])
                stage = rng.choice(["raw", "gain", "pitch", "filters"])
                suffix = "/audio.wav" if kind == "audio" else ""
                r = await client.get(f"/api/analyses/{a}/reconstructions/{k}{suffix}", params={"stage": stage})
            elif kind == "prototype":
                r = await client.get(f"/api/models/{shared['model']}/prototypes/{rng.randrange(shared['n_prototypes'])}"
                                     f"/audio.wav", params={"shift_semitones": rng.choice([0, -12, 7])})
            elif kind == "list":
                r = await client.get("/api/clips", params={"origin": "corpus", "limit": 50,
                                                          "offset": rng.randrange(0, 150)})
            else:
                space = rng.choice(shared["spaces"])
                r = await client.get(f"/api/clips/{rng.choice(shared['clips'])}/neighbours",
                                     params={"space": space, "k": 10})
            status = r.status_code
        except httpx.HTTPError as err:
            status = type(err).__name__
        log.append((kind, status, time.monotonic() - start))
        if status == 503:
            await asyncio.sleep(float(r.headers.get("Retry-After", 1)) * rng.uniform(0.5, 1.0))


async def run(base: str, users: int, seconds: float) -> list:
    limits = httpx.Limits(max_connections=users + 4)
    async with httpx.AsyncClient(base_url=base, timeout=60, limits=limits) as client:
        bundle = (await client.get("/api/bundle")).json()
        model = bundle["models"][0]
        corpus = (await client.get("/api/clips", params={"origin": "corpus", "limit": 50})).json()["clips"]
        shared = {"model": model["id"], "n_prototypes": model["n_prototypes"], "clips": [c["id"] for c in corpus],
                  "spaces": [s["id"] if isinstance(s, dict) else s for s in bundle.get("embedding_spaces", [])],
                  "analyses": []}
        first = await client.post("/api/analyses", json={"clip_id": shared["clips"][0]})
        shared["analyses"].append(first.json()["id"])
        log: list = []
        until = time.monotonic() + seconds
        await asyncio.gather(*(user(client, seed, until, shared, log) for seed in range(users)))
        return log


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=60)
    args = parser.parse_args()
    port = free_port()
    with tempfile.TemporaryDirectory() as data:
        server = subprocess.Popen([sys.executable, "-m", "auralens.server.cli", "serve", "--port", str(port), "--data-dir", data],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            base = f"http://127.0.0.1:{port}"
            for _ in range(300):
                try:
                    if httpx.get(f"{base}/api/health", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    time.sleep(0.2)
            started = time.monotonic()
            log = asyncio.run(run(base, args.users, args.seconds))
            wall = time.monotonic() - started
            memory = peak_memory_mb(server.pid)
        finally:
            server.terminate()
            server.wait(30)
    statuses = collections.Counter(str(s) for _, s, _ in log)
    ok = [t for _, s, t in log if isinstance(s, int) and s < 300]
    errors = sum(n for s, n in statuses.items() if not (s.isdigit() and (int(s) < 300 or int(s) == 503)))
    print(f"{args.users} users for {wall:.0f} s: {len(log)} requests, {len(ok) / wall:.1f} answered/s")
    print(f"{'kind':<16}{'n':>6}{'p50 ms':>10}{'p95 ms':>10}{'p99 ms':>10}")
    for kind in sorted({k for k, _, _ in log}):
        times = [t for k, s, t in log if k == kind and isinstance(s, int) and s < 300]
        print(f"{kind:<16}{len(times):>6}{percentile(times, 50):>10.0f}{percentile(times, 95):>10.0f}"
              f"{percentile(times, 99):>10.0f}")
    print(f"{'all':<16}{len(ok):>6}{percentile(ok, 50):>10.0f}{percentile(ok, 95):>10.0f}{percentile(ok, 99):>10.0f}")
    print("status codes:", dict(sorted(statuses.items())))
    print(f"unexpected errors (not 2xx, not 503 back-pressure): {errors}")
    print(f"server peak resident memory (VmHWM): {memory:.0f} MB")


if __name__ == "__main__":
    main()
