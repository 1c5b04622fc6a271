"""Uploads as a person keeps them: one entry per file, renamed, labelled, deleted with their analyses."""
import sqlite3

import pytest

from auralens.server.storage import Storage

from .helpers import upload, wav_bytes
from .sounds import harmonic_tone


def uploads(client) -> list[dict]:
    return client.get("/api/clips", params={"origin": "upload", "limit": 500}).json()["clips"]


def test_the_same_file_uploaded_twice_is_one_clip(client):
    data = wav_bytes(harmonic_tone(247.0, 1.0))
    first, again = upload(client, data, "take.wav"), upload(client, data, "take (copy).wav")
    assert first.status_code == 201 and again.status_code == 200
    assert again.json()["id"] == first.json()["id"] and again.json()["name"] == "take.wav"
    assert [c["id"] for c in uploads(client)].count(first.json()["id"]) == 1


def test_an_upload_can_be_renamed_and_labelled_and_the_label_removed(client):
    clip = upload(client, wav_bytes(harmonic_tone(262.0, 1.0)), "take 3.wav").json()
    changed = client.patch(f"/api/clips/{clip['id']}", json={"name": "  Bach, cello suite  ", "label": "cello"})
    assert changed.status_code == 200
    assert (changed.json()["name"], changed.json()["label"]) == ("Bach, cello suite", "cello")
    listed = next(c for c in uploads(client) if c["id"] == clip["id"])
    assert (listed["name"], listed["label"]) == ("Bach, cello suite", "cello")
    cleared = client.patch(f"/api/clips/{clip['id']}", json={"label": None}).json()
    assert cleared["label"] is None and cleared["name"] == "Bach, cello suite"


def test_renaming_to_nothing_or_a_corpus_clip_is_refused_with_a_reason(client):
    clip = upload(client, wav_bytes(harmonic_tone(277.0, 1.0))).json()
    empty = client.patch(f"/api/clips/{clip['id']}", json={"name": "   "})
    assert empty.status_code == 422 and "empty" in empty.json()["detail"]
    corpus = client.get("/api/clips", params={"origin": "corpus", "limit": 1}).json()["clips"][0]
    refused = client.patch(f"/api/clips/{corpus['id']}", json={"name": "mine"})
    assert refused.status_code == 422 and "uploads" in refused.json()["detail"]
    assert client.delete(f"/api/clips/{corpus['id']}").status_code == 422
    assert client.patch("/api/clips/u-nothing", json={"name": "x"}).status_code == 404


def test_deleting_an_upload_deletes_its_analyses_and_its_file(client):
    clip = upload(client, wav_bytes(harmonic_tone(294.0, 1.0))).json()
    made = [client.post("/api/analyses", json={"clip_id": clip["id"], "model": m}).json()["id"] for m in ("prototypes", "latent")]
    assert client.get(f"/api/clips/{clip['id']}").json()["n_analyses"] == 2
    stored = client.app.state.auralens.storage
    path = stored.audio_path(stored.clip(clip["id"]).sha256, "wav")
    deleted = client.delete(f"/api/clips/{clip['id']}")
    assert deleted.status_code == 200 and deleted.json() == {"id": clip["id"], "analyses_deleted": 2}
    assert client.get(f"/api/clips/{clip['id']}").status_code == 404
    assert all(client.get(f"/api/analyses/{a}").status_code == 404 for a in made)
    assert not path.exists() and clip["id"] not in [c["id"] for c in uploads(client)]
    assert client.delete(f"/api/clips/{clip['id']}").status_code == 404


def test_an_upload_a_concept_uses_is_kept_until_the_concept_goes(client):
    clip = upload(client, wav_bytes(harmonic_tone(311.0, 1.0))).json()
    corpus = [c["id"] for c in client.get("/api/clips", params={"origin": "corpus", "limit": 19}).json()["clips"]]
    concept = client.post("/api/concepts", json={"name": "with my take", "clip_ids": [clip["id"], *corpus]}).json()
    refused = client.delete(f"/api/clips/{clip['id']}")
    assert refused.status_code == 409 and "with my take" in refused.json()["detail"]
    client.delete(f"/api/concepts/{concept['id']}")
    assert client.delete(f"/api/clips/{clip['id']}").status_code == 200


def test_a_database_made_before_labels_opens_and_takes_labels(tmp_path):
    root = tmp_path / "data"
    root.mkdir()
    with sqlite3.connect(root / "auralens.sqlite3") as db:
        db.execute("CREATE TABLE clips (id TEXT PRIMARY KEY, origin TEXT NOT NULL, name TEXT NOT NULL, sha256 TEXT NOT NULL, "
                   "ext TEXT NOT NULL, duration_s REAL NOT NULL, sample_rate INTEGER NOT NULL, channels INTEGER NOT NULL, "
                   "created TEXT NOT NULL)")
        db.execute("INSERT INTO clips VALUES ('u-old', 'upload', 'old.wav', 'ab', 'wav', 1.0, 44100, 1, '2026-01-01T00:00:00+00:00')")
    store = Storage(root)
    try:
        assert store.clip("u-old").label is None
        assert store.update_clip("u-old", label="flute").label == "flute"
        assert store.add_upload(b"new bytes", "new.wav", "wav", 1.0, 44_100, 1).label is None
    finally:
        store.close()


@pytest.mark.parametrize("body", [{"name": "x" * 201}, {"label": 3}, {"name": None, "label": ["a"]}])
def test_a_malformed_change_is_422(client, body):
    clip = upload(client, wav_bytes(harmonic_tone(330.0, 1.0))).json()
    assert client.patch(f"/api/clips/{clip['id']}", json=body).status_code == 422
