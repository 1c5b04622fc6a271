"""A real ``auralens serve`` against greedy and hostile clients: huge and endless bodies, slow
headers and bodies, too many connections, decode bombs, a client flooding long renders - each
refused early with a clear 4xx while the server stays small and answers everyone else."""
import os
import signal
import socket
import sqlite3
import threading
import time

import httpx
import pytest

from .helpers import upload, wait_until, wav_bytes
from .hostile_files import (flac_declaring, long_wav, peak_memory_mb, serve, silent_ogg, wav_at)
from .sounds import harmonic_tone

MB = 2**20


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """One server for the module: 2 s for slow clients, 8 connections per address, 512 file
    descriptors in all."""
    with serve(tmp_path_factory.mktemp("hostile"), "--client-timeout-s", "2", "--max-connections-per-client", "8",
               open_files=512) as s:
        yield s


@pytest.fixture(scope="module")
def api(server):
    with httpx.Client(base_url=server.url, timeout=60) as c:
        yield c


def zeros(total: int, sent: list):
    """``total`` bytes in 1 MiB pieces of one buffer (never held whole), counting in ``sent``."""
    piece = bytes(MB)
    while sent[0] < total:
        sent[0] += MB
        yield piece


def multipart_head(boundary: str) -> bytes:
    return (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"big.wav\"\r\n"
            "Content-Type: application/octet-stream\r\n\r\n").encode()


def test_a_200_mb_upload_is_refused_by_its_content_length_before_it_is_read(api):
    sent = [0]
    r = api.post("/api/clips", content=zeros(200 * MB, sent),
                 headers={"Content-Type": "multipart/form-data; boundary=b", "Content-Length": str(200 * MB)})
    assert r.status_code == 413 and "upload limit of 50 MB" in r.json()["detail"]
    assert sent[0] < 40 * MB  # what the socket took before the answer came


def test_a_200_mb_upload_without_a_length_is_refused_once_past_the_limit(api):
    sent = [0]

    def body():
        yield multipart_head("b")
        yield from zeros(200 * MB, sent)

    r = api.post("/api/clips", content=body(), headers={"Content-Type": "multipart/form-data; boundary=b"})
    assert r.status_code == 413 and "larger than the upload limit" in r.json()["detail"]
    assert sent[0] < 100 * MB


def test_a_json_body_of_2_mb_is_refused_and_a_long_id_is_not_echoed(api):
    huge = api.post("/api/analyses", content=b'{"clip_id": "' + b"x" * (2 * MB) + b'"}',
                    headers={"Content-Type": "application/json"})
    assert huge.status_code == 413 and "request body" in huge.json()["detail"]
    long_id = api.post("/api/analyses", json={"clip_id": "u-" + "x" * 100_000})
    assert long_id.status_code == 422 and len(long_id.content) < 2000


def test_an_upload_with_a_thousand_parts_is_refused(api):
    files = [("file", ("a.wav", wav_bytes(harmonic_tone(220, 0.5))))] + [("extra", (f"{i}", b"x")) for i in range(999)]
    r = api.post("/api/clips", files=files)
    assert r.status_code == 400 and "files" in r.json()["detail"]


def test_a_body_trickling_in_at_one_byte_a_second_is_cut_off_with_408(server):
    port = int(server.url.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=20) as s:
        s.sendall(b"POST /api/analyses HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
                  b"Content-Length: 1000\r\n\r\n")
        start, answer = time.monotonic(), b""
        for ch in b'{"clip_id": "' + b"x" * 60:
            try:
                s.sendall(bytes([ch]))
                answer += s.recv(4096) if _readable(s, 1.0) else b""
            except OSError:
                break
            if answer:
                break
        try:
            while _readable(s, 2.0) and (more := s.recv(4096)):  # the rest, up to the close
                answer += more
        except ConnectionResetError:  # closed with the unread body still queued: the answer came first
            pass
    assert answer.startswith(b"HTTP/1.1 408") and b"too slowly" in answer
    assert time.monotonic() - start < 10


def _readable(s: socket.socket, timeout: float) -> bool:
    import select
    return bool(select.select([s], [], [], timeout)[0])


def test_headers_that_never_finish_are_cut_off(server):
    port = int(server.url.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=20) as s:
        s.sendall(b"GET /api/health HTTP/1.1\r\nHost: localhost\r\n")  # and never the blank line
        start = time.monotonic()
        assert s.recv(100) == b""  # closed by the server
    assert time.monotonic() - start < 8


def test_connections_beyond_the_cap_of_one_address_are_refused_while_others_are_answered(server, api):
    port = int(server.url.rsplit(":", 1)[1])
    sockets = []
    try:
        for _ in range(12):
            s = socket.socket()
            s.bind(("127.0.0.3", 0))
            s.connect(("127.0.0.1", port))
            sockets.append(s)
        refused = [s for s in sockets if _readable(s, 0.5) and s.recv(200).startswith(b"HTTP/1.1 503")]
        assert len(refused) == 4
        assert api.get("/api/health").status_code == 200
    finally:
        for s in sockets:
            s.close()


def test_six_hundred_idle_sockets_neither_stop_health_for_long_nor_flood_the_log(server, api):
    port = int(server.url.rsplit(":", 1)[1])
    before = server.log.stat().st_size
    sockets = []
    try:
        for i in range(600):  # 75 addresses x 8: past the server's 512 descriptors
            s = socket.socket()
            s.setblocking(False)
            s.bind((f"127.0.1.{1 + i // 8}", 0))
            s.connect_ex(("127.0.0.1", port))
            sockets.append(s)
        time.sleep(3)

        def health():
            try:
                return httpx.get(f"{server.url}/api/health", timeout=2).status_code == 200
            except httpx.HTTPError:
                return False
        wait_until(health, 20, "health to answer beside 600 idle sockets", interval=0.5)
    finally:
        for s in sockets:
            s.close()
    assert server.log.stat().st_size - before < 50_000


def test_decode_bombs_are_refused_with_4xx_and_the_server_stays_under_2_gb(server, api):
    bombs = {"8 x 192 kHz x 599 s FLAC": (flac_declaring(8, 192_000, 599), 422),
             "655 kHz FLAC": (flac_declaring(1, 655_350, 5), 415), "1 Hz WAV": (wav_at(1), 415),
             "silent 8-channel Ogg": (silent_ogg(120), 422)}
    for name, (data, status) in bombs.items():
        r = upload(api, data, "bomb.flac")
        assert r.status_code == status, name
        assert r.json()["detail"].endswith("."), name
    assert peak_memory_mb(server.process.pid) < 2048


@pytest.fixture(scope="module")
def long_analysis(api):
    """A 10-minute upload (26 MB) and its analysis."""
    clip = upload(api, long_wav(600), "long.wav")
    assert clip.status_code == 201, clip.text
    analysis = api.post("/api/analyses", json={"clip_id": clip.json()["id"]})
    assert analysis.status_code == 201, analysis.text
    return analysis.json()


def test_a_long_clip_is_rendered_by_window(api, long_analysis):
    r = api.get(f"/api/analyses/{long_analysis['id']}/reconstructions/0/audio.wav", params={"start_s": 60})
    assert r.status_code == 200
    assert float(r.headers["X-Start-S"]) == pytest.approx(60, abs=0.05)
    assert float(r.headers["X-End-S"]) - float(r.headers["X-Start-S"]) == pytest.approx(30, abs=0.1)


def test_another_users_2_s_analysis_answers_within_2_s_while_one_client_floods_long_renders(server, api,
                                                                                              long_analysis):
    stop, rendered = threading.Event(), []

    def flood(worker: int):
        transport = httpx.HTTPTransport(local_address="127.0.0.2")
        with httpx.Client(base_url=server.url, timeout=120, transport=transport) as c:
            for i in range(1000):
                if stop.is_set():
                    return
                r = c.get(f"/api/analyses/{long_analysis['id']}/reconstructions/{(worker * 7 + i) % 16}/audio.wav",
                          params={"start_s": 30 * (i % 19)})
                rendered.append(r.status_code)

    floods = [threading.Thread(target=flood, args=(w,)) for w in range(4)]
    for t in floods:
        t.start()
    try:
        time.sleep(3)  # the renders are under way
        start = time.monotonic()
        clip = upload(api, wav_bytes(harmonic_tone(330.0, 2.0)))
        uploaded = time.monotonic()
        analysis = api.post("/api/analyses", json={"clip_id": clip.json()["id"]})
        done = time.monotonic()
    finally:
        stop.set()
        for t in floods:
            t.join(120)
    assert analysis.status_code == 201
    assert done - uploaded < 2.0, f"the analysis took {done - uploaded:.2f} s (upload {uploaded - start:.2f} s)"
    assert uploaded - start < 2.0
    assert rendered and set(rendered) <= {200, 503}


def test_sigterm_during_an_export_stops_the_server_promptly_and_marks_the_job_interrupted(tmp_path):
    with serve(tmp_path) as s:
        with httpx.Client(base_url=s.url, timeout=60) as c:
            clip = upload(c, long_wav(90), "long.wav").json()
            analysis = c.post("/api/analyses", json={"clip_id": clip["id"]}).json()
            job = c.post(f"/api/analyses/{analysis['id']}/export").json()
            wait_until(lambda: c.get(job["status_url"]).json()["status"] == "running", 30, "the export to run")
        start = time.monotonic()
        os.kill(s.process.pid, signal.SIGTERM)
        s.process.wait(60)
        stopped = time.monotonic() - start
    assert stopped < 20, f"the server took {stopped:.0f} s to stop"
    with sqlite3.connect(s.data / "auralens.sqlite3") as db:
        status, error = db.execute("SELECT status, error FROM jobs WHERE id = ?", (job["job_id"],)).fetchone()
    assert status == "interrupted" and "stopped" in error
