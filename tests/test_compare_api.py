"""Two models side by side through the API, on the default bundle: one clip under both (each
side the model's own analysis), and a source of clips (agreement, confusion table,
disagreements)."""
import numpy as np
import pytest
from fastapi.testclient import TestClient

from auralens.models.audio import log_mel
from auralens.models.bundle import load_bundle
from auralens.models.comparison import verdicts
from auralens.models.kinds import kind_of
from auralens.models.trust import TrustModel
from auralens.server.app import create_app

from .helpers import upload, wait_for_job, wav_bytes
from .sounds import harmonic_tone, timbre_tone


@pytest.fixture(scope="module")
def uploads(client):
    """Six uploads of made-up notes (three colours, several pitches); their ids."""
    sounds = [timbre_tone(f0, name, seconds=1.2) for name, f0 in
              [("bright", 196.0), ("dark", 98.0), ("hollow", 330.0), ("bright", 523.0), ("dark", 262.0)]]
    sounds.append(harmonic_tone(146.8, 1.5))
    return [upload(client, wav_bytes(s), f"note-{i}.wav").json()["id"] for i, s in enumerate(sounds)]


def compare_source(client, source, a, b, **params):
    """GET /api/compare, following the job when one is started; returns the comparison."""
    r = client.get("/api/compare", params={"source": source, "a": a, "b": b, **params})
    if r.status_code == 202:
        job = wait_for_job(client, r.json()["job_id"], timeout=120)
        assert job["status"] == "done", job
        r = client.get("/api/compare", params={"source": source, "a": a, "b": b, **params})
    assert r.status_code == 200, r.text
    return r.json()


def top(analysis):
    return analysis["prediction"][0]["label"]


def test_a_clip_compared_under_two_models_gives_each_models_own_analysis(client, uploads):
    both = client.post("/api/compare/clip", json={"clip_id": uploads[0], "a": "prototypes", "b": "latent"}).json()
    for side, model in ((both["a"], "prototypes"), (both["b"], "latent")):
        own = client.post("/api/analyses", json={"clip_id": uploads[0], "model": model}).json()
        assert side["model"] == model
        assert [p["label"] for p in side["prediction"]] == [p["label"] for p in own["prediction"][:10]]
        assert [p["score"] for p in side["prediction"]] == pytest.approx([p["score"] for p in own["prediction"][:10]], abs=1e-6)
        stored = client.get(f"/api/analyses/{side['analysis_id']}").json()
        assert stored["model"] == model and stored["clip_id"] == uploads[0]
        assert side["top"] == side["prediction"][0]


def test_each_side_explains_itself_in_the_terms_of_its_model(client, uploads):
    both = client.post("/api/compare/clip", json={"clip_id": uploads[1], "a": "prototypes", "b": "latent"}).json()
    spectral, latent = both["a"]["explanation"], both["b"]["explanation"]
    analysis = client.get(f"/api/analyses/{both['a']['analysis_id']}").json()
    assert spectral["how"] == "re-creation"
    assert spectral["prototype"] == min(analysis["prototypes"], key=lambda p: p["error"])["index"]
    assert "re-creates" in spectral["sentence"]
    sound = client.get(spectral["recreation_url"])
    assert sound.status_code == 200 and sound.headers["content-type"] == "audio/wav"
    assert latent["how"] == "closeness" and latent["closest"][0]["index"] == latent["prototype"]
    sims = [c["similarity"] for c in latent["closest"]]
    assert sims == sorted(sims, reverse=True)
    assert client.get(latent["renderings"][0]["audio_url"]).status_code == 200


def test_the_sentence_says_whether_the_two_agree(client, uploads):
    for clip_id in uploads[:3]:
        both = client.post("/api/compare/clip", json={"clip_id": clip_id, "a": "prototypes", "b": "clusters"}).json()
        agree = both["a"]["top"]["label"] == both["b"]["top"]["label"]
        assert both["agree"] is agree
        assert both["sentence"].startswith("Both models hear" if agree else "They disagree")
        assert both["a"]["top"]["label"].replace("_", " ") in both["sentence"]


def test_comparing_a_clip_again_reuses_its_stored_analyses(client, uploads):
    first = client.post("/api/compare/clip", json={"clip_id": uploads[2], "a": "clusters", "b": "latent"}).json()
    again = client.post("/api/compare/clip", json={"clip_id": uploads[2], "a": "clusters", "b": "latent"}).json()
    assert (first["a"]["analysis_id"], first["b"]["analysis_id"]) == (again["a"]["analysis_id"], again["b"]["analysis_id"])


def test_agreement_on_a_source_matches_the_per_clip_predictions(client, uploads):
    found = compare_source(client, "uploads", "prototypes", "clusters")
    ids = [c["id"] for c in client.get("/api/clips", params={"origin": "upload", "limit": 100}).json()["clips"]]
    tops = {cid: (top(client.post("/api/analyses", json={"clip_id": cid, "model": "prototypes"}).json()),
                  top(client.post("/api/analyses", json={"clip_id": cid, "model": "clusters"}).json())) for cid in ids}
    agree = [cid for cid, (a, b) in tops.items() if a == b]
    assert found["n"] == len(ids) and found["n_agree"] == len(agree)
    assert found["agreement"] == pytest.approx(len(agree) / len(ids))
    assert {d["clip_id"] for d in found["disagreements"]} == set(ids) - set(agree)
    for d in found["disagreements"]:
        assert (d["a"]["label"], d["b"]["label"]) == tops[d["clip_id"]]
    matrix, labels = np.array(found["confusion"]["matrix"]), found["confusion"]["labels"]
    assert matrix.sum() == len(ids) and np.trace(matrix) == len(agree)
    for a, b in tops.values():
        assert matrix[labels.index(a), labels.index(b)] >= 1


def test_the_batched_verdicts_are_each_models_own_analysis_trust_included():
    bundle = load_bundle()
    sounds = [timbre_tone(f0, name, seconds=1.0) for name in ("bright", "dark", "hollow") for f0 in (110.0, 247.0, 392.0)]
    sounds += [harmonic_tone(196.0, 1.0), harmonic_tone(82.4, 1.5)]  # two lengths: two batches
    clips = [log_mel(s, bundle.audio) for s in sounds]
    for model_id in bundle.models:
        model = bundle.load_model(model_id)
        if model_id == "prototypes":  # a trust score by hand: about half the clips flagged
            model.cfg.trust = TrustModel(mean=[-4.0, 0.8], std=[1.0, 1.0], weights=[-1.0, 1.0], bias=0.0,
                                         threshold=0.5).to_dict()
        found = verdicts(model, clips, batch_size=4)
        if model_id == "prototypes":
            assert {v.familiar for v in found} == {True, False}
        for v, x in zip(found, clips):
            own = kind_of(model).analyse(model, x, bundle.classes, bundle.audio)
            assert bundle.classes[v.predicted] == top(own) and v.confidence == pytest.approx(own["prediction"][0]["score"], abs=1e-5)
            assert v.prototype == min(own["prototypes"], key=lambda p: p["error"])["index"]
            assert v.familiar == (own["trust"]["familiar"] if "trust" in own else None)


def test_a_source_is_worked_out_once_by_a_job_and_kept(tmp_path):
    with TestClient(create_app(device="cpu", data_dir=tmp_path), base_url="http://localhost") as fresh:
        params = {"source": "corpus", "a": "prototypes", "b": "latent", "limit": 5}
        first = fresh.get("/api/compare", params=params)
        assert first.status_code == 202
        job = wait_for_job(fresh, first.json()["job_id"], timeout=120)
        assert job["status"] == "done" and job["result"]["clips_worked_on"] == 192
        kept = fresh.get("/api/compare", params=params)
        assert kept.status_code == 200
        found = kept.json()
        assert found["n"] == 192 and sum(map(sum, found["confusion"]["matrix"])) == 192
        assert found["total_disagreements"] == 192 - found["n_agree"] and len(found["disagreements"]) <= 5
        assert found["n_labelled"] == 192 and 0 <= found["accuracy"]["latent"] <= 1
        # another pair of models needs only the new model's verdicts
        other = fresh.get("/api/compare", params={**params, "b": "clusters"})
        assert other.status_code == 202


def test_clips_picked_by_hand_are_compared_on_their_own(client, uploads):
    chosen = {"a": "prototypes", "b": "clusters", "clip_ids": [uploads[0], uploads[3], "c-harp-004", uploads[0]]}
    r = client.post("/api/compare/selection", json=chosen)
    if r.status_code == 202:
        assert wait_for_job(client, r.json()["job_id"], timeout=120)["status"] == "done"
        r = client.post("/api/compare/selection", json=chosen)
    found = r.json()
    assert r.status_code == 200 and found["source"] == "selection" and found["n"] == 3  # each clip once
    tops = [(top(client.post("/api/analyses", json={"clip_id": cid, "model": "prototypes"}).json()),
             top(client.post("/api/analyses", json={"clip_id": cid, "model": "clusters"}).json()))
            for cid in (uploads[0], uploads[3], "c-harp-004")]
    assert found["n_agree"] == sum(a == b for a, b in tops) and found["n_labelled"] == 1
    missing = client.post("/api/compare/selection", json={**chosen, "clip_ids": ["c-harp-004", "u-nothing"]})
    assert missing.status_code == 404 and "u-nothing" in missing.json()["detail"]


def test_an_unknown_model_or_the_same_model_twice_is_refused_with_a_sentence(client, uploads):
    r = client.post("/api/compare/clip", json={"clip_id": uploads[0], "a": "prototypes", "b": "wavenet"})
    assert r.status_code == 404 and "wavenet" in r.json()["detail"] and "latent" in r.json()["detail"]
    r = client.get("/api/compare", params={"source": "corpus", "a": "wavenet", "b": "latent"})
    assert r.status_code == 404
    r = client.post("/api/compare/clip", json={"clip_id": uploads[0], "a": "latent", "b": "latent"})
    assert r.status_code == 422 and "two different models" in r.json()["detail"]


def test_an_unknown_source_or_clip_is_refused(client):
    r = client.get("/api/compare", params={"source": "my-archive", "a": "prototypes", "b": "latent"})
    assert r.status_code == 422 and "corpus" in r.json()["detail"]
    r = client.post("/api/compare/clip", json={"clip_id": "u-nothing", "a": "prototypes", "b": "latent"})
    assert r.status_code == 404
