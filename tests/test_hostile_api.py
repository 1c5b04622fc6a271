"""The smaller defects a hostile or unlucky user found, through the API: files that decoded but
broke on use, look-alike and racing concept names, exports that never went away, a data folder
deleted under the server, a full disk, nonsense limits - each a clear 4xx (or 507), never a 500."""
import hashlib
import shutil
import subprocess
import sys
import threading
import time

import numpy as np
import pytest
from fastapi.testclient import TestClient

from auralens.server.app import create_app
from auralens.server.concept_jobs import concept_clips
from auralens.server.config import Settings
from auralens.server.errors import Busy
from auralens.server.fair import FairQueue

from .helpers import upload, wait_for_job, wav_bytes
from .hostile_files import gsm_wav, long_wav, wav_at
from .sounds import SR, harmonic_tone


def corpus_ids(client, n: int) -> list[str]:
    return [c["id"] for c in client.get("/api/clips", params={"origin": "corpus", "limit": n}).json()["clips"]]


# -- files that used to break on use ----------------------------------------------------------
def test_a_gsm_wav_is_analysed_and_played_after_upload(client):
    clip = upload(client, gsm_wav(1.0), "phone.wav")
    assert clip.status_code == 201
    assert client.post("/api/analyses", json={"clip_id": clip.json()["id"]}).status_code == 201
    assert client.get(clip.json()["audio_url"]).status_code == 200


def test_a_clip_of_512_samples_is_analysed_and_its_reconstruction_heard(client):
    clip = upload(client, wav_at(SR, n=512)).json()
    analysis = client.post("/api/analyses", json={"clip_id": clip["id"]}).json()
    assert client.get(f"/api/analyses/{analysis['id']}/reconstructions/0/audio.wav").status_code == 200


def test_a_clip_under_512_samples_is_refused_at_upload(client):
    r = upload(client, wav_at(SR, n=400))
    assert r.status_code == 422 and "at least 23 ms is needed" in r.json()["detail"]


def test_samples_near_the_largest_float_are_refused_at_upload(client):
    samples = harmonic_tone(220.0, 1.0)
    samples[10] = 3.3e38
    r = upload(client, wav_bytes(samples, subtype="FLOAT"))
    assert r.status_code == 422 and "full scale" in r.json()["detail"]


def test_a_prototype_sound_of_1e_300_seconds_is_refused(client):
    r = client.get("/api/models/prototypes/prototypes/0/audio.wav", params={"seconds": 1e-300})
    assert r.status_code == 422 and "seconds" in r.json()["detail"]


def test_a_tcav_concept_of_long_uploads_keeps_only_what_tcav_uses(client):
    ids = [upload(client, long_wav(30, f0=100.0 + 10 * i)).json()["id"] for i in range(20)]
    state = client.app.state.auralens
    n_frames = state.concept_index["n_frames"]
    clips = concept_clips(state, {"builtin": False, "name": "long", "clip_ids": ids}, n_frames)
    assert [c.shape[-1] for c in clips] == [n_frames] * 20  # not 1293 frames each


# -- the fair queue ---------------------------------------------------------------------------
def test_a_newcomers_work_runs_before_the_queue_another_asker_filled():
    queue = FairQueue(workers=1, capacity=64, share=32, name="t")
    gate, order = threading.Event(), []
    try:
        queue.submit("flooder", "c1", gate.wait)
        flood = [queue.submit("flooder", "c1", order.append, f"flood {i}") for i in range(5)]
        newcomer = queue.submit("newcomer", "c2", order.append, "newcomer")
        gate.set()
        for f in flood + [newcomer]:
            f.result(10)
    finally:
        queue.close()
    assert order[0] == "newcomer"


def test_long_work_never_takes_the_last_free_worker():
    queue = FairQueue(workers=2, capacity=64, share=32, name="t")
    gate = threading.Event()
    try:
        long = [queue.submit("a", "c", gate.wait, long=True) for _ in range(3)]
        short = queue.submit("a", "c", lambda: "answered")
        assert short.result(5) == "answered"  # while the first long work holds one worker
        gate.set()
        [f.result(10) for f in long]
    finally:
        queue.close()


def test_one_asker_beyond_their_share_is_busy_while_another_is_taken():
    queue = FairQueue(workers=1, capacity=64, share=2, name="t")
    gate = threading.Event()
    try:
        queue.submit("a", "c", gate.wait)
        queue.submit("a", "c", gate.wait)
        with pytest.raises(Busy, match="You already have 2"):
            queue.submit("a", "c", gate.wait)
        queue.submit("b", "d", gate.wait)
        gate.set()
    finally:
        queue.close()


# -- exports, storage -------------------------------------------------------------------------
def test_an_export_expires_after_its_time(tmp_path):
    settings = Settings(data_dir=tmp_path, export_ttl_hours=1 / 3600)  # one second
    with TestClient(create_app(device="cpu", settings=settings), base_url="http://localhost") as c:
        clip = upload(c, wav_bytes(harmonic_tone(220.0, 1.0))).json()
        analysis = c.post("/api/analyses", json={"clip_id": clip["id"]}).json()
        job = wait_for_job(c, c.post(f"/api/analyses/{analysis['id']}/export").json()["job_id"])
        assert job["status"] == "done"
        time.sleep(1.2)
        r = c.get(job["result"]["download_url"])
    assert r.status_code == 404 and "kept for" in r.json()["detail"]
    assert not list((tmp_path / "exports").glob("*.zip"))


def test_a_data_folder_deleted_under_the_server_makes_it_unhealthy_and_refuse_uploads(tmp_path):
    with TestClient(create_app(device="cpu", data_dir=tmp_path / "data"), base_url="http://localhost") as c:
        assert c.get("/api/health").json()["status"] == "ok"
        shutil.rmtree(tmp_path / "data")
        health = c.get("/api/health")
        r = upload(c, wav_bytes(harmonic_tone(220.0, 1.0)))
    assert health.status_code == 503 and health.json()["status"] == "unhealthy" and "deleted" in health.json()["problem"]
    assert r.status_code == 503 and "restart" in r.json()["detail"]


@pytest.fixture
def small_disk(tmp_path):
    """A 4 MB filesystem (tmpfs) at ``tmp_path/disk``; skipped where it cannot be mounted."""
    disk = tmp_path / "disk"
    disk.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(disk)], capture_output=True).returncode:
        pytest.skip("needs to mount a small tmpfs (root)")
    yield disk
    subprocess.run(["umount", "-l", str(disk)], capture_output=True)


def test_a_full_disk_is_a_507_that_says_nothing_is_lost(small_disk):
    with TestClient(create_app(device="cpu", data_dir=small_disk / "data"), raise_server_exceptions=False,
                    base_url="http://localhost") as c:
        small = upload(c, wav_bytes(harmonic_tone(220.0, 1.0)))
        full = upload(c, wav_bytes(harmonic_tone(110.0, 40.0)))  # 1.8 MB, and twice that decoded
        listed = c.get("/api/clips", params={"origin": "upload"}).json()
    assert small.status_code == 201
    assert full.status_code == 507 and "disk is full" in full.json()["detail"] and "lost" in full.json()["detail"]
    assert [x["id"] for x in listed["clips"]] == [small.json()["id"]]


def test_a_read_only_data_folder_is_one_line_and_exit_2(small_disk):
    (small_disk / "data").mkdir()
    subprocess.run(["mount", "-o", "remount,ro", str(small_disk)], check=True)
    result = subprocess.run([sys.executable, "-m", "auralens.server.cli", "serve", "--device", "cpu", "--data-dir",
                             str(small_disk / "data")], capture_output=True, text=True, timeout=120)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines()[-1].startswith("auralens: error: The data folder")


@pytest.mark.parametrize("option,value", [("--max-upload-mb", "nan"), ("--max-seconds", "-5"),
                                          ("--client-timeout-s", "inf")])
def test_nonsense_limits_are_one_line_and_exit_2(option, value):
    result = subprocess.run([sys.executable, "-m", "auralens.server.cli", "serve", option, value],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 2
    assert result.stderr.strip() == f"auralens: error: {option} must be a positive number, not {float(value)!r}."


def test_an_upload_is_decoded_once_its_mono_audio_kept_beside_it(client):
    from auralens.models.audio import load_audio

    from .hostile_files import flac_bytes

    stereo = np.stack([harmonic_tone(220.0, 1.0), harmonic_tone(330.0, 1.0)], axis=1)
    data = flac_bytes(stereo, 44_100)
    clip = upload(client, data, "stereo.flac").json()
    storage = client.app.state.auralens.storage
    kept = storage.canonical_path(hashlib.sha256(data).hexdigest(), SR)
    np.testing.assert_array_equal(load_audio(kept, max_seconds=None).samples, load_audio(data).samples)
    assert client.get(clip["audio_url"]).status_code == 200
