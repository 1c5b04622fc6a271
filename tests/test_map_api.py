"""The map API: every clip of a source in 2-D, fitted once and kept, new clips placed with the
fitted transform, UMAP fitted as a job; bad requests answered with a sentence."""
import numpy as np
import pytest
from fastapi.testclient import TestClient

from auralens.models.embeddings.projection import Projection, umap_available
from auralens.models.trust import TrustModel
from auralens.server.accounts import add_user
from auralens.server.app import create_app

from .helpers import upload, wait_for_job, wav_bytes
from .sounds import timbre_tone

MAP = "/api/map"


@pytest.fixture
def fresh(tmp_path):
    """An app on the default bundle with an empty data folder of its own; yields (client, data folder)."""
    app = create_app(device="cpu", data_dir=tmp_path / "data")
    with TestClient(app, base_url="http://localhost") as c:
        yield c, tmp_path / "data"


def upload_tones(client, timbre: str, n: int, seed: int) -> list[str]:
    """Upload ``n`` one-second notes of ``timbre`` at random pitches in an octave (110-220 Hz)
    and random levels (0 to -9 dB); their clip ids."""
    rng = np.random.default_rng(seed)
    ids = []
    for i in range(n):
        f0 = 110.0 * 2 ** rng.uniform(0, 1)
        level = 0.3 * 10 ** (rng.uniform(-9, 0) / 20)
        r = upload(client, wav_bytes(timbre_tone(f0, timbre, 1.0, level=level)), f"{timbre}-{seed}-{i}.wav")
        assert r.status_code == 201, r.text
        ids.append(r.json()["id"])
    return ids


def uploads_map(client, **params):
    r = client.get(MAP, params={"source": "uploads", "space": "timbre", "method": "pca", **params})
    assert r.status_code == 200, r.text
    return r.json()


def test_the_corpus_map_places_every_corpus_clip_with_its_class_prediction_and_tags(client):
    r = client.get(MAP, params={"source": "corpus", "space": "timbre", "method": "pca"})
    assert r.status_code == 200, r.text
    m = r.json()
    corpus = client.get("/api/clips", params={"origin": "corpus", "limit": 500}).json()
    assert m["n"] == corpus["total"] == len(m["ids"]) == len(m["x"]) == len(m["y"]) == len(m["prediction"])
    assert set(m["ids"]) == {c["id"] for c in corpus["clips"]}
    assert np.isfinite(m["x"]).all() and np.isfinite(m["y"]).all()
    first = next(c for c in corpus["clips"] if c["id"] == m["ids"][0])
    assert m["classes"][m["label"][0]] == first["label"]
    assert m["model"] and all(0 <= p < len(m["classes"]) for p in m["prediction"])
    agree = np.mean([p == t for p, t in zip(m["prediction"], m["label"])])
    assert agree > 0.9  # the model knows its own corpus
    assert m["tags"]["family"]["values"] and len(m["tags"]["family"]["codes"]) == m["n"]


def test_the_maps_prediction_and_trust_of_a_clip_are_those_of_its_analysis(fresh):
    client, _ = fresh
    model = client.app.state.auralens.models["prototypes"]
    # a trust score as `auralens bundle add-trust` fits one: a low best error and a clear runner-up are "known"
    model.cfg.trust = TrustModel(mean=[-5.0, 1.0], std=[1.0, 1.0], weights=[-1.0, 1.0], bias=0.0, threshold=0.5,
                                 features=["log best error", "log runner-up / best"]).to_dict()
    m = client.get(MAP, params={"space": "timbre"}).json()
    assert m["trust_threshold"] == 0.5 and all(0 <= t <= 1 for t in m["trust"])
    for i in (0, 100):
        analysis = client.post("/api/analyses", json={"clip_id": m["ids"][i], "model": "prototypes"}).json()
        assert m["classes"][m["prediction"][i]] == analysis["prediction"][0]["label"]
        assert m["confidence"][i] == pytest.approx(analysis["prediction"][0]["score"], abs=1e-3)
        assert m["trust"][i] == pytest.approx(analysis["trust"]["score"], abs=1e-3)


def test_pca_coordinates_are_stored_and_the_same_after_a_restart(fresh, tmp_path):
    client, data = fresh
    first = client.get(MAP, params={"space": "pitch"}).json()
    assert list((data / "maps").rglob("*.safetensors")) and list((data / "maps").rglob("*.json"))
    again = client.get(MAP, params={"space": "pitch"}).json()
    assert again == first
    with TestClient(create_app(device="cpu", data_dir=data), base_url="http://localhost") as restarted:
        later = restarted.get(MAP, params={"space": "pitch"}).json()
    assert later["fit"] == first["fit"]  # read back, not fitted again
    assert later["x"] == first["x"] and later["y"] == first["y"]


def test_an_upload_is_placed_with_the_fitted_transform_and_the_map_refits_only_when_the_clips_change_much(fresh):
    client, data = fresh
    upload_tones(client, "bright", 8, seed=1)
    fitted = uploads_map(client)
    assert fitted["fit"]["fitted"] == 8 and fitted["fit"]["placed"] == 0
    assert uploads_map(client)["fit"] == fitted["fit"]  # same clips: same fit

    [new] = upload_tones(client, "dark", 1, seed=2)
    placed = uploads_map(client)
    assert placed["fit"]["fingerprint"] == fitted["fit"]["fingerprint"] and placed["fit"]["placed"] == 1
    where = {cid: (x, y) for cid, x, y in zip(placed["ids"], placed["x"], placed["y"])}
    assert all(where[cid] == (x, y) for cid, x, y in zip(fitted["ids"], fitted["x"], fitted["y"]))  # nobody moved
    assert placed["placed"] == [placed["ids"].index(new)]
    # its place is the fitted linear map of its vector
    state = client.app.state.auralens
    vector = state.spaces.embed("timbre", state.clip_audio(state.find_clip(new)).samples)
    [stored] = [p for p in (data / "maps").rglob("uploads-timbre-pca-*.safetensors")]
    expected = Projection.load(stored).transform(vector[None])[0]
    assert where[new] == pytest.approx(tuple(expected), abs=1e-4)

    upload_tones(client, "dark", 3, seed=3)  # 4 of 12 clips not fitted: more than a quarter
    refitted = uploads_map(client)
    assert refitted["fit"]["fitted"] == 12 and refitted["fit"]["placed"] == 0
    assert refitted["fit"]["fingerprint"] != fitted["fit"]["fingerprint"]


def test_uploads_can_be_laid_on_the_corpus_map_with_its_fitted_transform_leaving_it_as_it_was(fresh):
    client, data = fresh
    corpus = client.get(MAP, params={"space": "timbre"}).json()
    ids = upload_tones(client, "hollow", 2, seed=6)
    on = uploads_map(client, on="corpus")
    assert on["on"] == "corpus" and on["fit"]["fingerprint"] == corpus["fit"]["fingerprint"]
    assert sorted(on["ids"]) == sorted(ids) and sorted(on["placed"]) == [0, 1]
    state = client.app.state.auralens
    [stored] = [p for p in (data / "maps").rglob("corpus-timbre-pca-*.safetensors")]
    for cid, x, y in zip(on["ids"], on["x"], on["y"]):
        vector = state.spaces.embed("timbre", state.clip_audio(state.find_clip(cid)).samples)
        assert (x, y) == pytest.approx(tuple(Projection.load(stored).transform(vector[None])[0]), abs=1e-4)
    assert client.get(MAP, params={"space": "timbre"}).json() == corpus  # the corpus's own map is unchanged


def test_a_pca_map_of_the_timbre_space_keeps_two_clearly_different_timbres_apart(fresh):
    client, _ = fresh
    bright = set(upload_tones(client, "bright", 8, seed=4))  # all harmonics, slowly falling
    upload_tones(client, "dark", 8, seed=5)  # the energy in the fundamental
    m = uploads_map(client)
    xy = np.array([m["x"], m["y"]]).T
    is_bright = np.array([cid in bright for cid in m["ids"]])
    centres = np.stack([xy[~is_bright].mean(0), xy[is_bright].mean(0)])
    nearest_centre = np.linalg.norm(xy[:, None] - centres[None], axis=2).argmin(1)
    assert (nearest_centre == is_bright).all()  # every note is nearer the centre of its own timbre
    d = np.linalg.norm(xy[:, None] - xy[None], axis=2)
    np.fill_diagonal(d, np.inf)
    assert (is_bright[d.argmin(1)] == is_bright).all()  # and its nearest note on the map is of its timbre


@pytest.mark.parametrize("params, status, words", [
    ({"source": "elsewhere"}, 422, "no clip source"),
    ({"source": "collection:nope"}, None, ""),
    ({"space": "smell"}, 404, "no space"),
    ({"method": "tsne"}, 422, "method"),
    ({"source": "uploads"}, 422, "no clips"),
    ({"on": "elsewhere"}, 422, "no clip source"),
    ({"on": "uploads"}, 422, "no clips"),
])
def test_a_bad_source_space_or_method_is_a_client_error_with_a_sentence(fresh, params, status, words):
    client, _ = fresh
    r = client.get(MAP, params={"source": "corpus", "space": "timbre", "method": "pca", **params})
    assert 400 <= r.status_code < 500 and (status is None or r.status_code == status), r.text
    assert words.lower() in r.json()["detail"].lower() and r.json()["detail"].endswith(".")


def test_on_a_server_with_accounts_each_users_map_of_uploads_holds_their_own_clips_only(tmp_path):
    app = create_app(device="cpu", data_dir=tmp_path / "data", accounts=True)
    passwords = {"alice": "correct horse battery", "bob": "staple of the bassoon"}
    with TestClient(app, base_url="http://localhost"):
        for name, password in passwords.items():
            add_user(app.state.auralens.storage, name, password)
        users = {}
        for name, password in passwords.items():
            users[name] = TestClient(app, base_url="http://localhost")
            assert users[name].post("/api/session", json={"name": name, "password": password}).status_code == 200
        alices = upload_tones(users["alice"], "bright", 2, seed=7)
        bobs = upload_tones(users["bob"], "dark", 3, seed=8)
        assert sorted(uploads_map(users["alice"])["ids"]) == sorted(alices)
        assert sorted(uploads_map(users["bob"], on="corpus")["ids"]) == sorted(bobs)
        assert TestClient(app, base_url="http://localhost").get(MAP).status_code == 401  # signed in only


@pytest.mark.skipif(not umap_available(), reason="needs umap-learn")
def test_a_umap_map_is_fitted_as_a_job_once_and_then_answered_at_once(fresh):
    client, _ = fresh
    params = {"source": "corpus", "space": "timbre", "method": "umap"}
    started = client.get(MAP, params=params)
    assert started.status_code == 202, started.text
    assert client.get(MAP, params=params).json()["job_id"] == started.json()["job_id"]  # the same job, not another
    job = wait_for_job(client, started.json()["job_id"], timeout=120)
    assert job["status"] == "done", job
    m = client.get(MAP, params=params)
    assert m.status_code == 200 and m.json()["method"] == "umap" and m.json()["n"] == 192
    assert m.json()["axes"] == ["UMAP 1", "UMAP 2"]
