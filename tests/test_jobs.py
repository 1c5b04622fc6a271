"""Long work as jobs: started with 202, followed to the end, kept across restarts; the export."""
import asyncio
import csv
import io
import json
import threading
import zipfile
from typing import Callable, NamedTuple
from xml.etree import ElementTree

import pytest
import soundfile as sf
from fastapi.testclient import TestClient

from auralens.server.app import create_app
from auralens.server.errors import Busy, domain_error
from auralens.server.jobs import JobFailed, Jobs
from auralens.server.storage import Storage

from .helpers import upload, wait_for_job, wait_until, wav_bytes
from .sounds import harmonic_tone


def analysed_clip(client, seconds=1.0) -> dict:
    clip = upload(client, wav_bytes(harmonic_tone(196.0, seconds))).json()
    return client.post("/api/analyses", json={"clip_id": clip["id"]}).json()


def test_an_export_job_runs_to_done_and_its_zip_holds_the_analysis_clip_and_reconstructions(client):
    a = analysed_clip(client)
    started = client.post(f"/api/analyses/{a['id']}/export")
    assert started.status_code == 202
    job = wait_for_job(client, started.json()["job_id"])
    assert job["status"] == "done" and job["progress"] == 1.0 and job["kind"] == "export"
    download = client.get(job["result"]["download_url"])
    assert download.status_code == 200 and download.headers["content-type"] == "application/zip"
    z = zipfile.ZipFile(io.BytesIO(download.content))
    names = z.namelist()
    document = json.loads(z.read("analysis.json"))
    assert document["analysis"]["id"] == a["id"] and document["model"]["id"] == a["model"]
    assert document["bundle"]["audio"]["sample_rate"] == 22050
    waves = [n for n in names if n.startswith("reconstructions/")]
    n_prototypes, n_stages = len(a["prototypes"]), 4
    assert len(waves) == n_prototypes + n_stages - 1  # every prototype at the end, the winner at each stage
    assert "clip.wav" in names and "README.txt" in names
    best = min(a["prototypes"], key=lambda p: p["error"])
    assert f"reconstructions/01-{best['label']}-p{best['index']}-raw.wav" in names
    samples, sr = sf.read(io.BytesIO(z.read(waves[0])))
    assert sr == 22050 and abs(len(samples) / sr - 1.0) < 0.05


def test_an_export_not_yet_made_is_a_404_that_says_how_to_make_it(client):
    a = analysed_clip(client, 0.5)
    r = client.get(f"/api/analyses/{a['id']}/export.zip")
    assert r.status_code == 404 and "export" in r.json()["detail"]


def test_exporting_an_unknown_analysis_is_a_404(client):
    assert client.post("/api/analyses/a-nothing/export").status_code == 404


def test_an_unknown_job_is_a_404(client):
    r = client.get("/api/jobs/j-unknown")
    assert r.status_code == 404 and "no job" in r.json()["detail"]


def test_a_failing_job_reports_its_reason_in_words(tmp_path):
    jobs = Jobs(Storage(tmp_path), max_pending=16)

    def work(progress):
        progress(0.5)
        raise JobFailed("The concept needs at least 20 clips; it has 3.")

    job_id = jobs.submit("tcav", {}, work)
    job = wait_until(lambda: jobs.get(job_id)["status"] == "failed" and jobs.get(job_id), 10, "the job to fail")
    jobs.close()
    assert job["status"] == "failed" and job["error"] == "The concept needs at least 20 clips; it has 3."
    assert job["progress"] == 0.5


def test_an_unexpected_error_in_a_job_is_reported_without_its_internals(tmp_path):
    jobs = Jobs(Storage(tmp_path), max_pending=16)
    job_id = jobs.submit("tcav", {}, lambda progress: {}["missing"])
    job = wait_until(lambda: jobs.get(job_id)["status"] == "failed" and jobs.get(job_id), 10, "the job to fail")
    jobs.close()
    assert job["status"] == "failed" and "missing" not in job["error"] and "went wrong" in job["error"]


class RunningJob(NamedTuple):
    jobs: Jobs  # a queue of one place
    job_id: str  # the job in it, which has reported 0.25 and waits
    work: Callable  # what the job does
    release: threading.Event  # set it to let the job finish with {"ok": True}


@pytest.fixture
def running_job(tmp_path):
    """A job queue of one place, taken by a job (params ``{"x": 1}``) that has reported a quarter
    of its progress and waits to be released; the queue is closed afterwards."""
    jobs = Jobs(Storage(tmp_path), max_pending=1)
    release, halfway = threading.Event(), threading.Event()

    def work(progress):
        progress(0.25)
        halfway.set()
        release.wait(10)
        return {"ok": True}

    job_id = jobs.submit("tcav", {"x": 1}, work)
    assert halfway.wait(10)
    yield RunningJob(jobs, job_id, work, release)
    release.set()
    jobs.close()


def test_a_running_job_reports_its_progress(running_job):
    jobs, job_id = running_job.jobs, running_job.job_id
    assert jobs.get(job_id)["status"] == "running" and jobs.get(job_id)["progress"] == 0.25


def test_a_job_submitted_to_a_full_queue_is_refused_with_503_and_retry_after(running_job):
    with pytest.raises(Busy) as refused:
        running_job.jobs.submit("tcav", {}, running_job.work)
    answer = asyncio.run(domain_error(None, refused.value))
    assert answer.status_code == 503 and answer.headers["Retry-After"]


def test_a_finished_job_keeps_its_result_and_parameters(running_job):
    jobs, job_id = running_job.jobs, running_job.job_id
    running_job.release.set()
    jobs.close()
    assert jobs.get(job_id)["result"] == {"ok": True} and jobs.get(job_id)["params"] == {"x": 1}


def test_a_job_cut_off_by_a_restart_is_reported_as_failed_after_it(tmp_path):
    storage = Storage(tmp_path)
    job_id = storage.add_job("export", {"analysis_id": "a-x"})
    storage.update_job(job_id, "running", 0.4)
    storage.close()
    with TestClient(create_app(device="cpu", data_dir=tmp_path), base_url="http://localhost") as client:
        job = client.get(f"/api/jobs/{job_id}").json()
    assert job["status"] == "failed" and "restarted" in job["error"]


def exported(client, a: dict) -> zipfile.ZipFile:
    job = wait_for_job(client, client.post(f"/api/analyses/{a['id']}/export").json()["job_id"])
    assert job["status"] == "done", job["error"]
    return zipfile.ZipFile(io.BytesIO(client.get(job["result"]["download_url"]).content))


def test_an_export_holds_the_curves_and_spectrograms_as_numbers(client):
    a = analysed_clip(client)
    z = exported(client, a)
    best = min(a["prototypes"], key=lambda p: p["error"])
    name = f"01-{best['label']}-p{best['index']}"
    rows = list(csv.DictReader(io.StringIO(z.read(f"data/curves/{name}.csv").decode())))
    assert {"time_s", "gain_db", "shift_semitones", "lowcut_hz", "highcut_hz"} <= set(rows[0])
    assert len(rows) == 44 and float(rows[1]["time_s"]) > 0  # a frame per row, as on the page
    spec = json.loads(z.read(f"data/spectrograms/{name}-filters.json"))
    assert len(spec["freqs_hz"]) == 128 and len(spec["values_db"]) == 128 and len(spec["values_db"][0]) == len(spec["times_s"])
    assert len([n for n in z.namelist() if n.startswith("data/curves/")]) == len(a["prototypes"])
    prediction = list(csv.reader(io.StringIO(z.read("data/prediction.csv").decode())))
    assert prediction[0] == ["class", "score"] and prediction[1][0] == a["prediction"][0]["label"]
    assert "data/spectrograms/clip.json" in z.namelist() and "data/timeline.csv" in z.namelist()


def test_an_export_holds_the_pages_figures_as_svg(client):
    a = analysed_clip(client)
    z = exported(client, a)
    best = min(a["prototypes"], key=lambda p: p["error"])
    name = f"01-{best['label']}-p{best['index']}"
    figures = {n for n in z.namelist() if n.startswith("figures/")}
    assert {"figures/ranking.svg", "figures/clip-spectrogram.svg", f"figures/{name}-curves.svg"} <= figures
    assert {f"figures/{name}-{stage}.svg" for stage in ("raw", "gain", "pitch", "filters")} <= figures
    for figure in figures:
        svg = ElementTree.fromstring(z.read(figure))  # well-formed
        assert svg.tag.endswith("svg")
    spectrogram = z.read("figures/clip-spectrogram.svg").decode()
    assert "data:image/png;base64," in spectrogram and "C4" in spectrogram and " dB" in spectrogram
    assert "figures/ranking.svg" in json.loads(z.read("analysis.json"))["tables"]
