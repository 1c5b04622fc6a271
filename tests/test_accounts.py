"""Accounts of a shared server through the API: signing in and out, sessions, each user's
uploads, analyses, concepts and jobs private (404 to the others, as if absent) unless a concept
is shared; concept names cleaned and unique per owner by look; the `users` and `serve` commands."""
import io
import re
import sqlite3
import sys
from concurrent.futures import ThreadPoolExecutor

import pytest
from fastapi.testclient import TestClient

from auralens.server.accounts import SESSION_COOKIE, add_user
from auralens.server.app import create_app
from auralens.server.cli import main
from auralens.server.storage import Storage

from .helpers import upload, wav_bytes
from .sounds import harmonic_tone

PASSWORDS = {"alice": "correct horse battery", "bob": "staple of the bassoon"}


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    """A server with accounts and two users; it runs (its lifespan) for the whole module, and
    every client below is one more browser talking to it."""
    app = create_app(device="cpu", data_dir=tmp_path_factory.mktemp("data"), accounts=True)
    with TestClient(app, base_url="http://localhost"):
        for name, password in PASSWORDS.items():
            add_user(app.state.auralens.storage, name, password)
        yield app


def signed_in(app, name: str) -> TestClient:
    client = TestClient(app, base_url="http://localhost")
    r = client.post("/api/session", json={"name": name, "password": PASSWORDS[name]})
    assert r.status_code == 200, r.text
    return client


@pytest.fixture(scope="module")
def alice(app):
    return signed_in(app, "alice")


@pytest.fixture(scope="module")
def bob(app):
    return signed_in(app, "bob")


@pytest.fixture
def nobody(app):
    return TestClient(app, base_url="http://localhost")


def corpus_ids(client, n: int) -> list[str]:
    return [c["id"] for c in client.get("/api/clips", params={"origin": "corpus", "limit": n}).json()["clips"]]


@pytest.fixture(scope="module")
def alices_things(alice):
    """An upload, its analysis, a private and a shared concept, and a job, all alice's."""
    clip = upload(alice, wav_bytes(harmonic_tone(196.0, 1.0)), "alice.wav").json()
    analysis = alice.post("/api/analyses", json={"clip_id": clip["id"]}).json()
    private = alice.post("/api/concepts", json={"name": "my secret", "clip_ids": [clip["id"]] + corpus_ids(alice, 19)})
    shared = alice.post("/api/concepts", json={"name": "bright brass", "shared": True,
                                               "clip_ids": corpus_ids(alice, 20)})
    owner = alice.get("/api/session").json()["user"]["id"]
    job = alice.app.state.auralens.storage.add_job("export", {"analysis_id": analysis["id"]}, owner=owner)
    return {"clip_id": clip["id"], "analysis_id": analysis["id"], "concept_id": private.json()["id"],
            "shared_id": shared.json()["id"], "job_id": job}


def test_without_a_session_the_api_answers_401(nobody):
    r = nobody.get("/api/clips")
    assert r.status_code == 401 and "Sign in" in r.json()["detail"]


def test_without_a_session_the_page_leads_to_the_sign_in_page(nobody):
    r = nobody.get("/", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/login"
    assert nobody.get("/login").status_code == 200 and nobody.get("/js/login.js").status_code == 200


def test_a_wrong_password_and_an_unknown_name_get_the_same_answer(nobody):
    wrong = nobody.post("/api/session", json={"name": "alice", "password": "not her password"})
    unknown = nobody.post("/api/session", json={"name": "mallory", "password": "not her password"})
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json() and SESSION_COOKIE not in wrong.cookies


def test_signing_in_sets_an_http_only_same_site_cookie(nobody):
    r = nobody.post("/api/session", json={"name": "alice", "password": PASSWORDS["alice"]})
    cookie = r.headers["set-cookie"]
    assert r.json()["user"]["name"] == "alice" and r.json()["accounts"]
    assert f"{SESSION_COOKIE}=" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie
    assert "Secure" not in cookie  # plain http here; secure when served over https


def test_a_cookie_served_over_https_is_secure(app):
    over_https = TestClient(app, base_url="https://localhost")
    r = over_https.post("/api/session", json={"name": "bob", "password": PASSWORDS["bob"]})
    assert "Secure" in r.headers["set-cookie"]


def test_an_altered_cookie_is_no_session(app, nobody):
    good = nobody.post("/api/session", json={"name": "bob", "password": PASSWORDS["bob"]}).cookies[SESSION_COOKIE]
    nobody.cookies.clear()
    token, signature = good.rsplit(".", 1)
    forged = f"{token[:-1]}{'A' if token[-1] != 'A' else 'B'}.{signature}"
    nobody.cookies.set(SESSION_COOKIE, forged)
    assert nobody.get("/api/clips").status_code == 401


def test_signing_out_ends_the_session_for_good(nobody):
    cookie = nobody.post("/api/session", json={"name": "bob", "password": PASSWORDS["bob"]}).cookies[SESSION_COOKIE]
    assert nobody.delete("/api/session").status_code == 204
    nobody.cookies.set(SESSION_COOKIE, cookie)  # the old cookie, kept by someone
    assert nobody.get("/api/clips").status_code == 401


def test_removing_a_user_ends_their_sessions(app, nobody):
    storage = app.state.auralens.storage
    add_user(storage, "carol", "a long enough password")
    nobody.post("/api/session", json={"name": "carol", "password": "a long enough password"})
    assert nobody.get("/api/clips").status_code == 200
    storage.remove_user(storage.user_named("carol")["id"])
    assert nobody.get("/api/clips").status_code == 401


def test_each_users_uploads_are_their_own(alice, bob, alices_things):
    mine = [c["id"] for c in alice.get("/api/clips", params={"origin": "upload"}).json()["clips"]]
    theirs = bob.get("/api/clips", params={"origin": "upload"}).json()
    assert alices_things["clip_id"] in mine
    assert theirs["total"] == 0 and theirs["clips"] == []


def test_every_address_of_another_users_thing_answers_404(app, alice, bob, alices_things):
    values = {**alices_things, "model_id": "prototypes", "k": "0"}
    tried = 0
    for path, operations in app.openapi()["paths"].items():
        names = set(re.findall(r"{(\w+)}", path))
        if not names & {"clip_id", "analysis_id", "concept_id", "job_id"} or not names <= set(values):
            continue
        address = path.format(**values)
        for method in {"get", "delete"} & set(operations):
            r = bob.request(method, address)
            assert r.status_code == 404, f"{method} {address}: {r.status_code}"
            tried += 1
    assert tried >= 9
    assert alice.get(f"/api/analyses/{alices_things['analysis_id']}").status_code == 200


def test_another_users_upload_cannot_be_renamed_or_labelled(alice, bob, alices_things):
    r = bob.patch(f"/api/clips/{alices_things['clip_id']}", json={"name": "mine now", "label": "cello"})
    assert r.status_code == 404
    assert alice.get(f"/api/clips/{alices_things['clip_id']}").json()["name"] == "alice.wav"


def test_the_same_file_uploaded_by_two_users_is_a_clip_of_each(alice, bob):
    data = wav_bytes(harmonic_tone(311.0, 1.0))
    alices, bobs = upload(alice, data, "both.wav"), upload(bob, data, "both.wav")
    assert alices.status_code == 201 and bobs.status_code == 201
    assert alices.json()["id"] != bobs.json()["id"]
    assert bob.get(f"/api/clips/{alices.json()['id']}").status_code == 404


def test_another_users_analysis_cannot_be_analysed_again_or_exported(bob, alices_things):
    assert bob.post("/api/analyses", json={"clip_id": alices_things["clip_id"]}).status_code == 404
    assert bob.post(f"/api/analyses/{alices_things['analysis_id']}/export").status_code == 404


def test_a_concept_cannot_be_made_of_another_users_uploads(bob, alices_things):
    r = bob.post("/api/concepts", json={"name": "stolen", "clip_ids": [alices_things["clip_id"]] + corpus_ids(bob, 19)})
    assert r.status_code == 422 and alices_things["clip_id"] in r.json()["detail"]


def test_a_shared_concept_is_seen_by_others_without_its_clips(bob, alices_things):
    seen = {c["id"]: c for c in bob.get("/api/concepts").json()}
    assert alices_things["concept_id"] not in seen
    shared = seen[alices_things["shared_id"]]
    assert shared["owner"] == "alice" and shared["shared"] and not shared["mine"]
    assert shared["n_clips"] == 20 and shared["clip_ids"] == []


def test_a_shared_concepts_examples_are_not_listed_to_another_user(alice, bob, alices_things):
    shared = alices_things["shared_id"]
    assert bob.get(f"/api/concepts/{shared}/examples").json() == []
    assert len(alice.get(f"/api/concepts/{shared}/examples").json()) == 20


def test_a_shared_concept_cannot_be_deleted_or_unshared_by_another_user(alice, bob, alices_things):
    r = bob.delete(f"/api/concepts/{alices_things['shared_id']}")
    assert r.status_code == 403 and "alice" in r.json()["detail"]
    assert bob.patch(f"/api/concepts/{alices_things['shared_id']}", json={"shared": False}).status_code == 403
    assert alice.get(f"/api/concepts/{alices_things['shared_id']}").json()["shared"]


def test_a_shared_concept_can_be_tested_by_another_user(bob, alices_things):
    r = bob.post("/api/tcav", json={"concepts": [alices_things["shared_id"]], "classes": ["flute"], "runs": 2})
    assert r.status_code == 202


def test_sharing_a_concept_shows_it_to_the_others(alice, bob):
    made = alice.post("/api/concepts", json={"name": "soon shared", "clip_ids": corpus_ids(alice, 20)}).json()
    assert bob.get(f"/api/concepts/{made['id']}").status_code == 404
    assert alice.patch(f"/api/concepts/{made['id']}", json={"shared": True}).json()["shared"]
    assert bob.get(f"/api/concepts/{made['id']}").json()["name"] == "soon shared"


def test_two_users_may_give_concepts_the_same_name(alice, bob):
    for client in (alice, bob):
        made = client.post("/api/concepts", json={"name": "warm strings", "clip_ids": corpus_ids(client, 20)})
        assert made.status_code == 201


# -- the local user ---------------------------------------------------------------------------
def test_on_loopback_without_accounts_everyone_is_the_local_user(client):
    session = client.get("/api/session").json()
    assert session == {"accounts": False, "user": {"id": "local", "name": "local"}}
    assert client.get("/api/clips").status_code == 200


def test_signing_in_without_accounts_says_there_are_none(client):
    r = client.post("/api/session", json={"name": "alice", "password": "whatever it is"})
    assert r.status_code == 409 and "no accounts" in r.json()["detail"]


def test_signing_out_without_accounts_changes_nothing(client):
    assert client.delete("/api/session").status_code == 204
    assert client.get("/api/session").json()["user"]["name"] == "local"


# -- concept names ----------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["vibr\u0430to", "\uff56\uff49\uff42\uff52\uff41\uff54\uff4f", "Stac\u200bcato",
                                  "high_register", "HIGH  REGISTER", "\u0455taccato"])
def test_look_alikes_of_built_in_concept_names_are_refused(client, name):
    r = client.post("/api/concepts", json={"name": name, "clip_ids": corpus_ids(client, 20)})
    assert r.status_code == 409 and "built-in" in r.json()["detail"]


def test_a_concept_name_is_stored_cleaned(client):
    r = client.post("/api/concepts", json={"name": "  \ufeffmuted\u200d \u00a0 \uff42rass ",
                                           "clip_ids": corpus_ids(client, 20)})
    assert r.status_code == 201 and r.json()["name"] == "muted brass"


def test_a_name_of_invisible_characters_only_is_refused(client):
    r = client.post("/api/concepts", json={"name": "\u200b\u200d\u3164", "clip_ids": corpus_ids(client, 20)})
    assert r.status_code == 422 and "visible" in r.json()["detail"]


def test_thirty_parallel_creations_of_one_name_make_one_concept(client):
    ids = corpus_ids(client, 20)
    with ThreadPoolExecutor(30) as pool:
        statuses = list(pool.map(lambda i: client.post("/api/concepts", json={
            "name": "Raced" if i % 2 else "rac\u0435d", "clip_ids": ids}).status_code, range(30)))
    assert sorted(statuses) == [201] + [409] * 29
    assert sum(c["name"].casefold() in ("raced", "rac\u0435d") for c in client.get("/api/concepts").json()) == 1


def test_a_database_from_before_accounts_opens_with_its_rows_the_local_users(tmp_path):
    db = sqlite3.connect(tmp_path / "auralens.sqlite3")
    db.executescript("""
        CREATE TABLE clips (id TEXT PRIMARY KEY, origin TEXT NOT NULL, name TEXT NOT NULL, sha256 TEXT NOT NULL,
            ext TEXT NOT NULL, duration_s REAL NOT NULL, sample_rate INTEGER NOT NULL, channels INTEGER NOT NULL,
            created TEXT NOT NULL);
        CREATE TABLE concepts (id TEXT PRIMARY KEY, name TEXT NOT NULL, description TEXT NOT NULL,
            clip_ids TEXT NOT NULL, created TEXT NOT NULL);
        INSERT INTO clips VALUES ('u-old', 'upload', 'old.wav', 'ab', 'wav', 1.0, 22050, 1,
                                  '2026-01-01T00:00:00+00:00');
        INSERT INTO concepts VALUES ('k-1', 'twice', '', '[]', '2026-01-01T00:00:00+00:00');
        INSERT INTO concepts VALUES ('k-2', 'Twice', '', '[]', '2026-01-02T00:00:00+00:00');
    """)
    db.commit()
    db.close()
    storage = Storage(tmp_path)
    assert [c.id for c in storage.clips(owner="local")] == ["u-old"]
    assert [c["id"] for c in storage.concepts("local")] == ["k-1", "k-2"]  # both kept, names as they were


# -- the command line -------------------------------------------------------------------------
def users(monkeypatch, data_dir, *args, stdin: str = "") -> int:
    monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    return main(["users", *args, "--data-dir", str(data_dir)])


def test_users_are_added_from_stdin_listed_and_removed(monkeypatch, tmp_path, capsys):
    assert users(monkeypatch, tmp_path, "add", "dana", stdin="a fine long password\n") == 0
    assert users(monkeypatch, tmp_path, "list") == 0
    assert capsys.readouterr().out.startswith("dana\t")
    assert users(monkeypatch, tmp_path, "remove", "dana") == 0
    assert users(monkeypatch, tmp_path, "list") == 0 and capsys.readouterr().out == ""


@pytest.mark.parametrize("name, password, says", [
    ("dana", "short", "8 to 1024"), ("has space", "long enough pw", "1 to 40"),
    ("d\u0430na", "long enough pw", "already"), ("LOCAL", "long enough pw", "local user")])
def test_a_bad_user_is_refused_in_one_line_with_exit_2(monkeypatch, tmp_path, capsys, name, password, says):
    add_user(Storage(tmp_path), "dana", "the first one's password")
    assert users(monkeypatch, tmp_path, "add", name, stdin=password + "\n") == 2
    err = capsys.readouterr().err
    assert says in err and err.count("\n") == 1


def test_serving_beyond_loopback_without_accounts_is_refused_saying_how_to_make_one(tmp_path, capsys):
    assert main(["serve", "--host", "0.0.0.0", "--data-dir", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "auralens users add NAME" in err and err.count("\n") == 1
