"""The concept library, TCAV and concept discovery through the API, on the default bundle."""
import pytest
from fastapi.testclient import TestClient

from auralens.models.concepts import DEFAULT_DISCOVERY_LAYERS, DEFAULT_TCAV_LAYERS
from auralens.server.app import create_app

from .helpers import wait_for_job


def corpus_ids(client, n: int, label: str | None = None) -> list[str]:
    clips = client.get("/api/clips", params={"origin": "corpus", "limit": 500, **({"label": label} if label else {})})
    return [c["id"] for c in clips.json()["clips"]][:n]


def test_the_library_holds_the_bundles_five_built_in_concepts(client):
    concepts = {c["id"]: c for c in client.get("/api/concepts").json()}
    assert {"builtin-vibrato", "builtin-reverberant", "builtin-staccato", "builtin-fortissimo",
            "builtin-high_register"} <= set(concepts)
    assert all(c["builtin"] and c["n_clips"] == 30 for c in concepts.values() if c["id"].startswith("builtin-"))


def test_a_built_in_concept_cannot_be_deleted(client):
    r = client.delete("/api/concepts/builtin-vibrato")
    assert r.status_code == 409 and "built-in" in r.json()["detail"].lower()


def test_a_concept_of_fewer_than_twenty_clips_is_refused(client):
    few = client.post("/api/concepts", json={"name": "few", "clip_ids": corpus_ids(client, 3)})
    assert few.status_code == 422 and "at least 20" in few.json()["detail"]


def test_a_concept_with_a_clip_that_does_not_exist_is_refused_naming_it(client):
    ghost = client.post("/api/concepts", json={"name": "ghost", "clip_ids": corpus_ids(client, 19) + ["u-nothing"]})
    assert ghost.status_code == 422 and "u-nothing" in ghost.json()["detail"]


def test_a_concept_named_like_another_in_any_case_is_a_conflict(client):
    taken = client.post("/api/concepts", json={"name": "Vibrato", "clip_ids": corpus_ids(client, 20)})
    assert taken.status_code == 409


def test_a_users_concept_is_kept_listed_and_deletable(client):
    made = client.post("/api/concepts", json={"name": "brass", "description": "trumpets and horns",
                                              "clip_ids": corpus_ids(client, 10, "trumpet") + corpus_ids(client, 10, "french_horn")})
    assert made.status_code == 201
    concept = made.json()
    assert concept["n_clips"] == 20 and not concept["builtin"] and concept["id"].startswith("k-")
    assert client.get(f"/api/concepts/{concept['id']}").json() == concept
    assert client.delete(f"/api/concepts/{concept['id']}").status_code == 204
    assert client.get(f"/api/concepts/{concept['id']}").status_code == 404


def test_concepts_survive_a_restart(tmp_path):
    with TestClient(create_app(device="cpu", data_dir=tmp_path), base_url="http://localhost") as first:
        concept = first.post("/api/concepts", json={"name": "low", "clip_ids": corpus_ids(first, 20)}).json()
    with TestClient(create_app(device="cpu", data_dir=tmp_path), base_url="http://localhost") as second:
        assert second.get(f"/api/concepts/{concept['id']}").json() == concept


def test_the_model_lists_the_layers_concepts_can_be_tested_at(client):
    layers = {layer["name"]: layer for layer in client.get("/api/models/prototypes/layers").json()}
    assert set(DEFAULT_TCAV_LAYERS) <= set(layers)
    assert all(layers[name]["non_negative"] for name in DEFAULT_DISCOVERY_LAYERS)


def test_tcav_of_a_built_in_concept_gives_scores_baselines_p_values_and_verdicts_per_class(client):
    started = client.post("/api/tcav", json={"concepts": ["builtin-staccato"], "classes": ["flute", "cello"],
                                             "runs": 20, "seed": 1})
    assert started.status_code == 202
    job = wait_for_job(client, started.json()["job_id"])
    assert job["status"] == "done", job["error"]
    result = job["result"]
    assert result["n_tests"] == 2 and len(result["results"]) == 2
    for row in result["results"]:
        assert 0 <= row["tcav"]["mean"] <= 1 and len(row["tcav"]["runs"]) == 20
        assert 0 <= row["null"]["mean"] <= 1 and 0 <= row["p"] <= 1 and row["p_adjusted"] >= row["p"]
        assert isinstance(row["significant"], bool) and row["verdict"] and 0 <= row["cav_accuracy"]["mean"] <= 1
    heard = result["hear"][0]
    assert heard["concept"] == "staccato" and len(heard["clips"]) == 8
    assert client.get(heard["clips"][0]["audio_url"]).status_code == 200


def test_the_same_tcav_request_gives_the_same_scores(client):
    request = {"concepts": ["builtin-fortissimo"], "classes": ["trumpet"], "runs": 20, "seed": 3}
    first = wait_for_job(client, client.post("/api/tcav", json=request).json()["job_id"])["result"]
    second = wait_for_job(client, client.post("/api/tcav", json=request).json()["job_id"])["result"]
    assert first["results"] == second["results"]


def test_bad_tcav_requests_are_refused_with_a_reason(client):
    unknown_layer = client.post("/api/tcav", json={"concepts": ["builtin-vibrato"], "layers": ["encoder.nope"]})
    assert unknown_layer.status_code == 422 and "encoder.nope" in unknown_layer.json()["detail"]
    unknown_class = client.post("/api/tcav", json={"concepts": ["builtin-vibrato"], "classes": ["kazoo"]})
    assert unknown_class.status_code == 422 and "kazoo" in unknown_class.json()["detail"]
    assert client.post("/api/tcav", json={"concepts": ["k-nothing"]}).status_code == 404
    assert client.post("/api/tcav", json={"concepts": []}).status_code == 422


def test_discovery_finds_concepts_with_playable_excerpts(client):
    started = client.post("/api/discoveries", json={"classes": ["flute", "trumpet", "cello"], "rank": 3})
    assert started.status_code == 202
    job = wait_for_job(client, started.json()["job_id"])
    assert job["status"] == "done", job["error"]
    components = job["result"]["components"]
    assert len(components) == 3 and 0 <= job["result"]["fidelity"] <= 1
    excerpt = components[0]["excerpts"][0]
    assert excerpt["label"] in ("flute", "trumpet", "cello") and excerpt["end_s"] > excerpt["start_s"]
    assert client.get(excerpt["audio_url"]).status_code == 200


def test_discovery_at_a_layer_with_negative_values_is_refused(client):
    negative = client.post("/api/discoveries", json={"classes": ["flute", "cello"], "layer": "encoder.down.2"})
    assert negative.status_code == 422 and "non-negative" in negative.json()["detail"]


def test_a_built_in_concepts_examples_can_be_heard_resynthesised(client):
    examples = client.get("/api/concepts/builtin-staccato/examples").json()
    assert len(examples) == 30 and all(e["resynthesised"] for e in examples)
    assert examples[0]["tags"]["articulation"] == "short" and examples[0]["label"]
    sound = client.get(examples[0]["audio_url"])
    assert sound.status_code == 200 and sound.headers["content-type"] == "audio/wav"
    assert client.get(examples[0]["audio_url"], headers={"Range": "bytes=0-99"}).status_code == 206


def test_a_users_concept_plays_its_own_clips(client):
    ids = corpus_ids(client, 20, "flute")[:10] + corpus_ids(client, 20, "oboe")[:10]
    concept = client.post("/api/concepts", json={"name": "reeds and flutes", "clip_ids": ids}).json()
    examples = client.get(f"/api/concepts/{concept['id']}/examples").json()
    assert [e["audio_url"] for e in examples] == [f"/api/clips/{i}/audio.wav" for i in ids]
    assert not any(e["resynthesised"] for e in examples) and examples[0]["label"] == "flute"


def test_an_example_past_the_end_or_of_an_unknown_concept_is_a_404(client):
    assert client.get("/api/concepts/builtin-staccato/examples/30/audio.wav").status_code == 404
    assert client.get("/api/concepts/k-nothing/examples").status_code == 404


def test_a_concepts_cav_accuracy_per_layer_is_known_before_tcav_and_tcav_agrees(client):
    r = client.get("/api/concepts/builtin-staccato/separability",
                   params={"layers": ["encoder.down.2", "encoder.last"], "runs": 4})
    assert r.status_code == 200, r.text
    found = {f["layer"]: f for f in r.json()["layers"]}
    assert set(found) == {"encoder.down.2", "encoder.last"}
    assert all(0.5 <= f["accuracy"]["mean"] <= 1 and f["runs"] == 4 and f["n_concept"] == 30 for f in found.values())
    started = client.post("/api/tcav", json={"concepts": ["builtin-staccato"], "classes": ["flute"],
                                             "layers": ["encoder.down.2"], "runs": 4})
    job = wait_for_job(client, started.json()["job_id"])
    assert job["status"] == "done", job["error"]
    row = job["result"]["results"][0]
    assert row["cav_accuracy"]["mean"] == pytest.approx(found["encoder.down.2"]["accuracy"]["mean"], abs=1e-3)


def test_separability_of_an_unknown_layer_or_concept_is_refused(client):
    r = client.get("/api/concepts/builtin-staccato/separability", params={"layers": ["encoder.nope"]})
    assert r.status_code == 422 and "encoder.nope" in r.json()["detail"]
    assert client.get("/api/concepts/k-nothing/separability").status_code == 404
