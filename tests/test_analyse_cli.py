"""``auralens analyse DIR --out results.csv|parquet``: a folder of recordings through the model,
the same analysis a collection gets in the app - and, with ``--ray``, the same results from
a local Ray of two workers."""
from __future__ import annotations

import csv
import io
import zipfile

import pytest
from fastapi.testclient import TestClient

from auralens.models.collection import Analyser, analyse_clips
from auralens.server.app import create_app
from auralens.server.cli import main

from .helpers import wait_for_job
from .sounds import timbre_archive


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    """Eight notes in four labelled folders (``bright/bright_00.wav``...)."""
    root = tmp_path_factory.mktemp("recordings")
    zipfile.ZipFile(io.BytesIO(timbre_archive(per_folder=2, top="notes"))).extractall(root)
    return root / "notes"


def read_csv(path) -> list[dict]:
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def test_every_recording_of_the_folder_gets_a_row_with_its_folder_as_label(folder, tmp_path):
    assert main(["analyse", str(folder), "--out", str(tmp_path / "r.csv"), "--quiet"]) == 0
    rows = read_csv(tmp_path / "r.csv")
    assert len(rows) == 8 and {r["label"] for r in rows} == {"bright", "hollow", "dark", "pure"}
    assert all(r["prediction"] and 0 < float(r["confidence"]) <= 1 and int(r["best_prototype"]) >= 0 for r in rows)


def test_parquet_holds_the_same_rows_as_csv(folder, tmp_path):
    pq = pytest.importorskip("pyarrow.parquet")
    main(["analyse", str(folder), "--out", str(tmp_path / "r.csv"), "--quiet"])
    main(["analyse", str(folder), "--out", str(tmp_path / "r.parquet"), "--quiet"])
    table = pq.read_table(tmp_path / "r.parquet").to_pylist()
    rows = read_csv(tmp_path / "r.csv")
    assert [t["path"] for t in table] == [r["path"] for r in rows]
    assert [t["prediction"] for t in table] == [r["prediction"] for r in rows]
    assert [t["error"] for t in table] == pytest.approx([float(r["error"]) for r in rows])


def test_a_file_that_is_not_audio_is_listed_as_skipped_and_the_rest_analysed(folder, tmp_path, capsys):
    data = tmp_path / "data"
    (data / "odd").mkdir(parents=True)
    (data / "odd" / "broken.wav").write_bytes(b"RIFF but nothing of a wave")
    (data / "odd" / "fine.wav").write_bytes((folder / "dark" / "dark_00.wav").read_bytes())
    assert main(["analyse", str(data), "--out", str(tmp_path / "r.csv")]) == 0
    rows = {r["path"]: r for r in read_csv(tmp_path / "r.csv")}
    assert rows["odd/broken.wav"]["skipped"] and not rows["odd/broken.wav"]["prediction"]
    assert rows["odd/fine.wav"]["prediction"] and not rows["odd/fine.wav"]["skipped"]
    assert "skipped odd/broken.wav" in capsys.readouterr().err


def test_a_folder_without_audio_is_an_error_that_says_so(tmp_path, capsys):
    (tmp_path / "notes.txt").write_text("no sound here")
    assert main(["analyse", str(tmp_path), "--out", str(tmp_path / "r.csv")]) == 2
    assert "no audio files" in capsys.readouterr().err


def test_an_output_that_is_neither_csv_nor_parquet_is_an_error(folder, tmp_path, capsys):
    assert main(["analyse", str(folder), "--out", str(tmp_path / "r.xlsx")]) == 2
    assert ".csv or a .parquet" in capsys.readouterr().err


def test_the_command_line_and_the_apps_collection_give_the_same_figures(folder, tmp_path):
    main(["analyse", str(folder), "--out", str(tmp_path / "r.csv"), "--quiet"])
    by_name = {r["path"].rsplit("/", 1)[1]: r for r in read_csv(tmp_path / "r.csv")}
    files = [("files", (p.relative_to(folder).as_posix(), p.read_bytes(), "audio/wav")) for p in sorted(folder.rglob("*.wav"))]
    with TestClient(create_app(device="cpu", data_dir=tmp_path / "app"), base_url="http://localhost") as client:
        made = client.post("/api/collections", data={"name": "same"}, files=files).json()
        assert wait_for_job(client, made["job_id"])["status"] == "done"
        rows = client.get("/api/table", params={"source": made["source"]}).json()["rows"]
    assert len(rows) == 8
    for r in rows:
        cli = by_name[r["name"]]
        assert (r["prediction"], r["best_prototype"]) == (cli["prediction"], int(cli["best_prototype"]))
        assert r["error"] == pytest.approx(float(cli["error"]), rel=1e-5)


@pytest.fixture(scope="module")
def local_ray():
    """A Ray instance on this machine with two workers (two CPUs)."""
    ray = pytest.importorskip("ray")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield ray
    ray.shutdown()


def test_two_ray_workers_give_the_same_results_as_one_process(folder, local_ray):
    paths = sorted(folder.rglob("*.wav"))
    here = analyse_clips(Analyser(), paths, batch_clips=2)
    on_ray = analyse_clips(Analyser(), paths, batch_clips=2, ray_address="local")
    assert [r["prediction"] for r in on_ray] == [r["prediction"] for r in here]
    assert [r["best_prototype"] for r in on_ray] == [r["best_prototype"] for r in here]
    assert [r["error"] for r in on_ray] == pytest.approx([r["error"] for r in here], rel=1e-5)


def test_the_command_line_runs_on_ray_when_given_an_address(folder, tmp_path, local_ray, monkeypatch):
    from auralens.models import collection

    tasks = []
    on_ray = collection.ray_batches
    monkeypatch.setattr(collection, "ray_batches", lambda *a: tasks.append(a[2]) or on_ray(*a))
    main(["analyse", str(folder), "--out", str(tmp_path / "here.csv"), "--quiet", "--batch", "2"])
    assert tasks == []
    main(["analyse", str(folder), "--out", str(tmp_path / "ray.csv"), "--quiet", "--batch", "2", "--ray", "local"])
    assert tasks == ["local"]
    here, on_ray = read_csv(tmp_path / "here.csv"), read_csv(tmp_path / "ray.csv")
    assert [(r["path"], r["prediction"], r["best_prototype"]) for r in on_ray] == \
        [(r["path"], r["prediction"], r["best_prototype"]) for r in here]
