"""Collections, the table of clips and prototype usage through the HTTP API: one behaviour per
test, on recordings made on the fly (tests/sounds.py)."""
from __future__ import annotations

import contextlib
import io
import sqlite3
import zipfile

import pytest
from fastapi.testclient import TestClient

from auralens.models.collection import Analyser
from auralens.server.app import create_app
from auralens.server.config import Settings
from auralens.server.sources import clips_of

from .helpers import upload, wait_for_job, wait_until, wav_bytes
from .sounds import harmonic_tone, timbre_archive, timbre_tone


def zip_of(members: dict[str, bytes], compression=zipfile.ZIP_DEFLATED) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=compression) as z:
        for name, data in members.items():
            z.writestr(name, data)
    return buf.getvalue()


def note(f0: float, timbre: str = "bright") -> bytes:
    return wav_bytes(timbre_tone(f0, timbre))


def send(client, name: str, archive: bytes | None = None, files: list[tuple[str, bytes]] = (), **form):
    parts = [("files", (path, data, "audio/wav")) for path, data in files]
    if archive is not None:
        parts.append(("archive", ("set.zip", archive, "application/zip")))
    return client.post("/api/collections", data={"name": name, **form}, files=parts)


def analysed(client, collection_id: str) -> dict:
    def done():
        c = client.get(f"/api/collections/{collection_id}").json()
        return c if c["status"] == "done" else None

    return wait_until(done, 120, f"collection {collection_id} to be analysed", interval=0.1)


@pytest.fixture(scope="module")
def collection(client) -> dict:
    """Eight notes in four folders, made into a collection and analysed."""
    r = send(client, "Four folders", timbre_archive(per_folder=2))
    assert r.status_code == 201, r.text
    return analysed(client, r.json()["id"])


def table(client, **query) -> dict:
    r = client.get("/api/table", params=query)
    assert r.status_code == 200, r.text
    return r.json()


# -- making a collection ----------------------------------------------------------------------
def test_a_zip_in_folders_becomes_a_collection_analysed_by_a_job(client, collection):
    assert collection["n_clips"] == 8 and collection["n_analysed"] == 8 and collection["progress"] == 1
    job = wait_for_job(client, collection["job_id"])  # it ends just after storing the last figures
    assert job["status"] == "done" and job["kind"] == "collection" and job["result"]["analysed"] == 8


def test_clips_are_labelled_by_their_folders(client, collection):
    rows = table(client, source=collection["source"], limit=100)["rows"]
    assert {r["label"] for r in rows} == {"bright", "hollow", "dark", "pure"}
    assert all(r["path"] == f"{r['label']}/{r['name']}" for r in rows)


def test_every_clip_has_prediction_confidence_trust_best_prototype_error_and_duration(client, collection):
    for row in table(client, source=collection["source"], limit=100)["rows"]:
        assert row["prediction"] in client.get("/api/bundle").json()["classes"]
        assert 0 < row["confidence"] <= 1 and row["error"] > 0 and row["duration_s"] == pytest.approx(1.0)
        assert row["trust"] in ("familiar", "unlike", "unknown") and row["best_prototype"] >= 0


def test_many_files_sent_at_once_with_their_folders_become_one_collection(client):
    files = [(f"take/{t}/{t}_{i}.wav", note(150 + 40 * i, t)) for t in ("bright", "dark") for i in range(2)]
    made = send(client, "Dropped folder", files=files).json()
    assert made["n_clips"] == 4
    rows = table(client, source=made["source"], limit=10)["rows"]
    assert sorted(r["label"] for r in rows) == ["bright", "bright", "dark", "dark"]


def test_labels_can_come_from_a_csv(client):
    files = [("a.wav", note(200)), ("b.wav", note(300, "dark"))]
    r = client.post("/api/collections", data={"name": "csv labels", "labels_from": "csv"},
                    files=[*[("files", (n, d, "audio/wav")) for n, d in files],
                           ("labels", ("labels.csv", b"filename,label\na.wav,violin\nb.wav,cello\n", "text/csv"))])
    rows = table(client, source=r.json()["source"], limit=10, sort="name")["rows"]
    assert [(x["name"], x["label"]) for x in rows] == [("a.wav", "violin"), ("b.wav", "cello")]


def test_files_that_are_not_audio_are_left_out_with_a_reason(client):
    made = send(client, "with notes", zip_of({"x/a.wav": note(220), "x/readme.txt": b"about these takes",
                                               "x/cover.jpg": b"\xff\xd8\xff\xe0 not really"})).json()
    assert made["n_clips"] == 1
    reasons = {s["name"]: s["reason"] for s in made["skipped"]}
    assert set(reasons) == {"readme.txt", "cover.jpg"} and all("audio" in r for r in reasons.values())


def test_members_whose_names_climb_out_of_the_archive_are_left_out(client):
    made = send(client, "climbing", zip_of({"ok.wav": note(230), "../../evil.wav": note(240),
                                             "/etc/passwd.wav": note(250)})).json()
    assert made["n_clips"] == 1
    assert all("outside the archive" in s["reason"] for s in made["skipped"]) and len(made["skipped"]) == 2


def test_a_file_that_is_not_a_zip_is_refused_with_a_reason(client):
    r = send(client, "bad", b"PK\x03\x04 this is no archive")
    assert r.status_code == 422 and "ZIP" in r.json()["detail"]


def test_a_zip_bomb_is_refused_before_it_is_unpacked(client):
    r = send(client, "bomb", zip_of({"a.wav": note(220), "silence.wav": b"\0" * 50_000_000}))
    assert r.status_code == 422 and "packed size" in r.json()["detail"]


def test_an_archive_unpacking_beyond_the_collection_limit_is_refused(tmp_path):
    settings = Settings(data_dir=tmp_path, max_collection_mb=0.5)
    with TestClient(create_app(device="cpu", settings=settings), base_url="http://localhost") as small:
        r = send(small, "too big", zip_of({f"{i}.wav": wav_bytes(harmonic_tone(200 + i, 4.0)) for i in range(3)},
                                          compression=zipfile.ZIP_STORED))
    assert r.status_code == 413 and "limit" in r.json()["detail"]


def test_an_archive_with_more_files_than_allowed_is_refused(tmp_path):
    settings = Settings(data_dir=tmp_path, max_collection_files=3)
    with TestClient(create_app(device="cpu", settings=settings), base_url="http://localhost") as small:
        r = send(small, "too many", zip_of({f"{i}.wav": note(200 + 10 * i) for i in range(4)}))
    assert r.status_code == 422 and "at most 3" in r.json()["detail"]


def test_a_collection_of_nothing_usable_is_refused_with_the_reasons(client):
    r = send(client, "nothing", zip_of({"a.txt": b"hello"}))
    assert r.status_code == 422 and "a.txt" in r.json()["detail"]


def test_a_file_already_uploaded_is_the_same_clip_in_a_collection(client):
    data = wav_bytes(harmonic_tone(333.0, 1.0))
    clip_id = upload(client, data, "mine.wav").json()["id"]
    made = send(client, "again", files=[("mine.wav", data)]).json()
    assert table(client, source=made["source"])["rows"][0]["id"] == clip_id


def test_another_users_collection_is_not_found(client, collection):
    state = client.app.state.auralens
    theirs = state.storage.add_collection("theirs", "prototypes", state.bundle.name, owner="someone-else")
    assert client.get(f"/api/collections/{theirs}").status_code == 404
    assert client.get("/api/table", params={"source": f"collection:{theirs}"}).status_code == 404
    assert client.get("/api/usage", params={"source": f"collection:{theirs}"}).status_code == 404
    assert theirs not in [c["id"] for c in client.get("/api/collections").json()]


def test_a_deleted_collection_keeps_its_clips_among_the_uploads(client):
    made = send(client, "to delete", files=[("gone.wav", note(410))]).json()
    clip_id = table(client, source=made["source"])["rows"][0]["id"]
    assert client.delete(f"/api/collections/{made['id']}").status_code == 200
    assert client.get(f"/api/collections/{made['id']}").status_code == 404
    assert client.get(f"/api/clips/{clip_id}").status_code == 200


def test_a_collection_is_a_clip_source_with_its_labels(client, collection):
    state = client.app.state.auralens
    refs = clips_of(state, "local", collection["source"])
    assert len(refs) == 8 and {r.label for r in refs} == {"bright", "hollow", "dark", "pure"}


# -- resuming after a restart -----------------------------------------------------------------
def test_nothing_is_analysed_twice_after_a_restart(tmp_path, monkeypatch):
    with TestClient(create_app(device="cpu", data_dir=tmp_path), base_url="http://localhost") as first:
        made = analysed(first, send(first, "resumed", timbre_archive(per_folder=2)).json()["id"])
    # as if the server had stopped half way: three clips' figures were never stored
    with contextlib.closing(sqlite3.connect(tmp_path / "auralens.sqlite3")) as db, db:
        lost = [r[0] for r in db.execute("SELECT clip_id FROM clip_results ORDER BY clip_id LIMIT 3")]
        db.execute(f"DELETE FROM clip_results WHERE clip_id IN ({','.join('?' * 3)})", lost)
    seen = []
    original = Analyser.__call__
    monkeypatch.setattr(Analyser, "__call__", lambda self, paths: seen.extend(paths) or original(self, paths))
    with TestClient(create_app(device="cpu", data_dir=tmp_path), base_url="http://localhost") as second:
        again = analysed(second, made["id"])
        assert again["n_analysed"] == 8 and again["job_id"] != made["job_id"]
    assert len(seen) == 3
    with TestClient(create_app(device="cpu", data_dir=tmp_path), base_url="http://localhost") as third:
        assert third.get(f"/api/collections/{made['id']}").json()["status"] == "done"
    assert len(seen) == 3


# -- the table ----------------------------------------------------------------------------------
def test_the_table_sorts_by_confidence_on_the_server(client, collection):
    rows = table(client, source=collection["source"], sort="confidence", order="desc")["rows"]
    assert [r["confidence"] for r in rows] == sorted((r["confidence"] for r in rows), reverse=True)


def test_the_table_filters_by_predicted_class_and_counts_what_passes(client):
    everything = table(client, source="corpus", limit=1)
    assert everything["total"] == everything["n_clips"] == 192
    page = table(client, source="corpus", prediction="cello", limit=5)
    assert {r["prediction"] for r in page["rows"]} == {"cello"} and page["total"] < 192
    assert page["total"] == len(table(client, source="corpus", prediction="cello", limit=1000)["rows"])


def test_the_table_pages_on_the_server(client):
    first, second = (table(client, source="corpus", sort="error", limit=10, offset=o)["rows"] for o in (0, 10))
    assert not {r["id"] for r in first} & {r["id"] for r in second}
    assert first[-1]["error"] <= second[0]["error"]


def test_the_table_filters_by_label_tag_error_and_duration(client):
    rows = table(client, source="corpus", label="flute", tag="split=test", max_error=1.0, min_duration=0.5,
                 limit=1000)["rows"]
    assert rows and all(r["label"] == "flute" and r["tags"]["split"] == "test" and r["error"] <= 1.0 for r in rows)
    assert table(client, source="corpus", min_error=1e9)["total"] == 0


def test_the_table_keeps_only_the_clips_asked_for_by_id(client):
    ids = [r["id"] for r in table(client, source="corpus", limit=3)["rows"]]
    r = client.post("/api/table", json={"source": "corpus", "ids": ids[:2]})
    assert sorted(x["id"] for x in r.json()["rows"]) == sorted(ids[:2])


def test_the_table_of_uploads_analyses_each_upload_once(client):
    clip_id = upload(client, wav_bytes(harmonic_tone(277.0, 1.0)), "single.wav").json()["id"]
    rows = {r["id"]: r for r in table(client, source="uploads", limit=1000)["rows"]}
    assert rows[clip_id]["prediction"] is not None
    stored = client.app.state.auralens.storage.results("prototypes", "orchestra16", "local")
    assert clip_id in stored


def test_an_unknown_source_is_refused_with_a_reason(client):
    r = client.get("/api/table", params={"source": "elsewhere"})
    assert r.status_code == 422 and "corpus" in r.json()["detail"]


def test_the_rows_that_pass_the_filters_export_as_csv(client, collection):
    r = client.post("/api/table.csv", json={"source": collection["source"], "label": "dark"})
    lines = r.text.strip().splitlines()
    assert r.headers["content-type"].startswith("text/csv") and lines[0].startswith("id,name,path,label,prediction")
    assert len(lines) == 3 and all(",dark," in line for line in lines[1:])


# -- prototype usage --------------------------------------------------------------------------
def test_prototype_usage_counts_every_clip_once(client, collection):
    usage = client.get("/api/usage", params={"source": collection["source"]}).json()
    assert sum(p["n_clips"] for p in usage["prototypes"]) == usage["n_analysed"] == 8
    used = {p["index"] for p in usage["prototypes"]} | {p["index"] for p in usage["unused"]}
    assert used == set(range(16)) and all(p["mean_error"] > 0 for p in usage["prototypes"])


def test_a_prototypes_clips_are_the_tables_rows_filtered_by_it(client, collection):
    top = client.get("/api/usage", params={"source": collection["source"]}).json()["prototypes"][0]
    page = table(client, source=collection["source"], prototype=top["index"], limit=100)
    assert page["total"] == top["n_clips"] and {r["best_prototype"] for r in page["rows"]} == {top["index"]}
    assert sum(top["by_label"].values()) == top["n_clips"]


def test_confusions_are_traced_to_the_prototype_that_won(client):
    usage = client.get("/api/usage", params={"source": "corpus"}).json()
    confused = table(client, source="corpus", confused=True, limit=1000)["rows"]
    assert sum(c["n_clips"] for c in usage["confusions"]) == len(confused)
    for c in usage["confusions"]:
        rows = [r for r in confused if (r["label"], r["prediction"], r["best_prototype"]) ==
                (c["label"], c["prediction"], c["prototype"])]
        assert len(rows) == c["n_clips"]


def test_only_labels_that_name_a_class_of_the_model_count_as_confusions(client):
    # bright notes are heard as a clarinet (see the collection above); folders named after a class
    # in any spelling are compared with the prediction, a folder named otherwise never is
    members = {f"{folder}/{i}.wav": note(f0 * (1 + 0.05 * j), "bright")
               for j, folder in enumerate(("Clarinet", "French horn", "live takes"))
               for i, f0 in enumerate((150.0, 220.0, 330.0))}
    made = analysed(client, send(client, "Named folders", zip_of(members)).json()["id"])
    rows = table(client, source=made["source"], limit=100)["rows"]
    confused = table(client, source=made["source"], confused=True, limit=100)["rows"]
    horn = [r for r in rows if r["label"] == "French horn"]
    assert {r["id"] for r in confused} == {r["id"] for r in rows if r["label"] in ("Clarinet", "French horn")
                                           and r["prediction"] != r["label"].lower().replace(" ", "_")}
    assert horn and all(r["id"] in {c["id"] for c in confused} for r in horn if r["prediction"] != "french_horn")
    assert not any(r["label"] == "live takes" for r in confused)
    usage = client.get("/api/usage", params={"source": made["source"]}).json()
    assert sum(c["n_clips"] for c in usage["confusions"]) == len(confused)
    assert {c["label"] for c in usage["confusions"]} <= {"Clarinet", "French horn"}


def test_links_and_encrypted_members_of_an_archive_are_left_out(client):
    import stat

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("ok.wav", note(260))
        link = zipfile.ZipInfo("link.wav")
        link.external_attr = (stat.S_IFLNK | 0o777) << 16
        z.writestr(link, "/etc/passwd")
        z.writestr("locked.wav", note(270))
    data = bytearray(buf.getvalue())
    for signature, flags_at in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):  # mark locked.wav encrypted
        at = max(i for i in range(len(data)) if data.startswith(signature, i))
        data[at + flags_at] |= 0x1
    made = send(client, "odd members", bytes(data)).json()
    assert made["n_clips"] == 1
    assert {s["name"]: s["reason"] for s in made["skipped"]} == {
        "link.wav": "it is a link, not a file.", "locked.wav": "it is encrypted."}


def test_a_collection_the_job_queue_cannot_take_now_waits_and_starts_when_looked_at(client, monkeypatch):
    from auralens.server.errors import Busy

    jobs = client.app.state.auralens.jobs
    submit = jobs.submit

    def busy(*args, **kwargs):
        raise Busy("The server already has as many long jobs waiting as it takes.", 30)

    monkeypatch.setattr(jobs, "submit", busy)
    made = send(client, "waiting", files=[("w.wav", note(280))])
    assert made.status_code == 201 and made.json()["status"] == "waiting"
    monkeypatch.setattr(jobs, "submit", submit)
    assert analysed(client, made.json()["id"])["n_analysed"] == 1


def test_every_model_of_the_bundle_fills_the_table_and_its_usage(client):
    for model in [m["id"] for m in client.get("/api/bundle").json()["models"]]:
        page = table(client, source="corpus", model=model, limit=1000)
        assert page["model"] == model and all(r["prediction"] and r["best_prototype"] is not None for r in page["rows"])
        usage = client.get("/api/usage", params={"source": "corpus", "model": model}).json()
        assert sum(p["n_clips"] for p in usage["prototypes"]) == 192


def test_a_selection_of_fifty_thousand_ids_can_be_asked_for_in_one_request(client):
    ids = [r["id"] for r in table(client, source="corpus", limit=5)["rows"]]
    many = ids + [f"c-nothing-{i:06d}" for i in range(50_000)]
    r = client.post("/api/table", json={"source": "corpus", "ids": many})
    assert r.status_code == 200 and r.json()["total"] == 5


def test_a_table_given_new_figures_while_analysed_equals_one_built_with_them(client, collection):
    from auralens.server.clip_table import ClipTable
    from auralens.server.source_tables import source_table

    state = client.app.state.auralens
    built = source_table(state, "local", collection["source"])
    rows = [{"id": i, "name": n, "path": p, "label": built.labels[c] if c >= 0 else None, "tags": t,
             "duration_s": d} for i, n, p, c, t, d in zip(built.ids, built.names, built.paths, built.label,
                                                         built.tags, built.duration_s)]
    results = {r["id"]: r for r in table(client, source=collection["source"], limit=100)["rows"]}
    figures = {i: {"prediction": r["prediction"], "confidence": r["confidence"], "trusted": None,
                   "trust_score": None, "best_prototype": r["best_prototype"],
                   "best_prototype_label": r["best_prototype_label"], "error": r["error"]} for i, r in results.items()}
    patched = ClipTable.from_rows(rows)
    patched.update_results(dict(list(figures.items())[:3]))
    patched.update_results(dict(list(figures.items())[3:]))
    whole = ClipTable.from_rows([{**r, "result": figures[r["id"]]} for r in rows])
    for sort in ("prediction", "confidence", "error", "best_prototype"):
        assert patched.page(patched.order(sort, True)) == whole.page(whole.order(sort, True))
    name = whole.predictions[0]
    assert (patched.mask(prediction=name) == whole.mask(prediction=name)).all()
