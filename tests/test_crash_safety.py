"""A server killed (SIGKILL) in the middle of writes loses nothing it acknowledged and shows
nothing half-written after a restart."""
import io
import os
import signal
import subprocess
import sys
import threading

import httpx
import numpy as np
import soundfile as sf

from .helpers import free_port, wait_until
from .sounds import harmonic_tone


def start_server(data_dir, port) -> subprocess.Popen:
    """``auralens serve`` on ``port`` in a process of its own, once it answers (at most 60 s)."""
    server = subprocess.Popen([sys.executable, "-m", "auralens.server.cli", "serve", "--device", "cpu", "--port", str(port),
                               "--data-dir", str(data_dir)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def healthy() -> bool:
        try:
            return httpx.get(f"http://127.0.0.1:{port}/api/health", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    try:
        wait_until(healthy, 60, "the server to start", interval=0.2)
    except AssertionError:
        server.kill()
        raise
    return server


def wav(seed: int) -> bytes:
    buf = io.BytesIO()
    sf.write(buf, harmonic_tone(110.0 * (1 + seed % 24 / 12), 0.5 + (seed % 5) / 10), 22050, format="WAV",
             subtype="PCM_16")
    return buf.getvalue()


def kill_while_writing(server, port: int, write, workers: int, enough: int) -> dict:
    """Run ``write(client, worker, i) -> (id, what was sent) | None`` from ``workers`` threads
    until ``enough`` writes are acknowledged, SIGKILL the server in the middle of the next ones,
    and return the acknowledged writes ``{id: what was sent}``."""
    acknowledged, lock, stop = {}, threading.Lock(), threading.Event()

    def writer(worker: int):
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as client:
            for i in range(1000):
                if stop.is_set():
                    return
                try:
                    done = write(client, worker, i)
                except httpx.HTTPError:
                    return  # the server died under us: this write was never acknowledged
                if done:
                    with lock:
                        acknowledged[done[0]] = done[1]

    threads = [threading.Thread(target=writer, args=(w,)) for w in range(workers)]
    for t in threads:
        t.start()
    try:
        wait_until(lambda: len(acknowledged) >= enough, 120, f"{enough} acknowledged writes", interval=0.02)
    finally:
        os.kill(server.pid, signal.SIGKILL)
        server.wait(30)
        stop.set()
        for t in threads:
            t.join(30)
    assert not any(t.is_alive() for t in threads), "a writer did not stop after the kill"
    return dict(acknowledged)


def test_acknowledged_uploads_survive_a_kill_during_concurrent_uploads(tmp_path):
    port = free_port()

    def upload(client, worker, i):
        data = wav(worker * 1000 + i)
        r = client.post("/api/clips", files={"file": (f"w{worker}-{i}.wav", data)})
        return (r.json()["id"], data) if r.status_code == 201 else None

    acknowledged = kill_while_writing(start_server(tmp_path, port), port, upload, workers=4, enough=12)
    server = start_server(tmp_path, port)
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as client:
            listed = client.get("/api/clips", params={"origin": "upload", "limit": 500}).json()
            for clip_id, data in acknowledged.items():
                assert client.get(f"/api/clips/{clip_id}").status_code == 200
                got, _ = sf.read(io.BytesIO(client.get(f"/api/clips/{clip_id}/audio.wav").content))
                sent, _ = sf.read(io.BytesIO(data))
                assert np.allclose(got, sent, atol=1e-4)
            for clip in listed["clips"]:  # whatever is listed (acknowledged or not) is whole
                assert client.get(clip["audio_url"]).status_code == 200
    finally:
        server.kill()
        server.wait(30)
    assert not list(tmp_path.rglob(".*.tmp"))  # a write cut off by the kill leaves nothing behind
    assert len(acknowledged) >= 12


def test_acknowledged_concepts_survive_a_kill_during_concurrent_writes(tmp_path):
    port = free_port()
    server = start_server(tmp_path, port)
    base = f"http://127.0.0.1:{port}"
    ids = [c["id"] for c in httpx.get(f"{base}/api/clips", params={"origin": "corpus", "limit": 100}).json()["clips"]]

    def create(client, worker, i):
        body = {"name": f"concept {worker}-{i}", "clip_ids": ids[i % 50:i % 50 + 20]}
        r = client.post("/api/concepts", json=body)
        return (r.json()["id"], body) if r.status_code == 201 else None

    acknowledged = kill_while_writing(server, port, create, workers=3, enough=10)
    server = start_server(tmp_path, port)
    try:
        listed = {c["id"]: c for c in httpx.get(f"{base}/api/concepts").json() if not c["builtin"]}
        for concept_id, body in acknowledged.items():
            assert listed[concept_id]["name"] == body["name"] and listed[concept_id]["clip_ids"] == body["clip_ids"]
        assert all(c["n_clips"] == 20 for c in listed.values())  # nothing half-written
    finally:
        server.kill()
        server.wait(30)
