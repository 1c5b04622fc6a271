"""A bundle whose model is a latent prototype model, served: its prototypes heard two ways,
clips classified by similarity to them, and the spectral-only views refused with a reason."""
import io
import zipfile

import pytest
import soundfile as sf
from fastapi.testclient import TestClient

from auralens.models.latent import KIND
from auralens.server.app import create_app

from .helpers import upload, wait_for_job, wav_bytes
from .sounds import timbre_tone


@pytest.fixture(scope="module")
def client(latent_bundle, tmp_path_factory):
    """The app on a bundle that holds only the small latent model of three timbres."""
    app = create_app(device="cpu", bundle=latent_bundle.bundle, data_dir=tmp_path_factory.mktemp("data"))
    with TestClient(app, base_url="http://localhost") as c:
        yield c


def test_the_bundle_lists_the_latent_model_without_stages(client):
    model = client.get("/api/bundle").json()["models"][0]
    assert model["kind"] == KIND and model["stages"] == [] and model["n_prototypes"] == 6


def test_every_latent_prototype_is_heard_decoded_and_as_its_nearest_training_clip(client):
    prototypes = client.get("/api/models/latent/prototypes").json()
    assert len(prototypes) == 6
    for p in prototypes[:2]:
        assert [r["name"] for r in p["renderings"]] == ["decoded", "nearest"]
        for r in p["renderings"]:
            wav = client.get(r["audio_url"])
            assert wav.status_code == 200
            samples, sr = sf.read(io.BytesIO(wav.content))
            assert len(samples) / sr > 0.3 and abs(samples).max() > 0.1
        assert len(p["spectrogram"]["freqs_hz"]) == 128


def test_a_clip_is_classified_by_its_similarity_to_each_latent_prototype(client):
    clip = upload(client, wav_bytes(timbre_tone(220.0, "bright", 1.0))).json()
    a = client.post("/api/analyses", json={"clip_id": clip["id"], "model": "latent"})
    assert a.status_code == 201
    body = a.json()
    assert abs(sum(p["score"] for p in body["prediction"]) - 1) < 1e-4
    assert all(0 < p["similarity"] <= 1 and p["stage_errors"] is None for p in body["prototypes"])
    best = max(body["prototypes"], key=lambda p: p["similarity"])
    assert best["label"] == body["prediction"][0]["label"] == "bright"


def test_spectral_only_views_are_refused_for_a_latent_model_with_a_reason(client):
    clip = upload(client, wav_bytes(timbre_tone(220.0, "hollow", 1.0))).json()
    a = client.post("/api/analyses", json={"clip_id": clip["id"], "model": "latent"}).json()
    r = client.get(f"/api/analyses/{a['id']}/reconstructions/0")
    assert r.status_code == 422 and "spectral prototype" in r.json()["detail"]
    r = client.get("/api/models/latent/prototypes/0/what-if", params={"shift_semitones": 3})
    assert r.status_code == 422 and "spectral prototype" in r.json()["detail"]
    assert client.get("/api/models/latent/prototypes/0/audio.wav", params={"gain_db": 6}).status_code == 422
    assert client.post("/api/tcav", json={"concepts": ["builtin-vibrato"], "model": "latent"}).status_code in (404, 422)


def test_a_latent_analysis_exports_its_decoded_prototypes(client):
    clip = upload(client, wav_bytes(timbre_tone(330.0, "dark", 1.0))).json()
    a = client.post("/api/analyses", json={"clip_id": clip["id"], "model": "latent"}).json()
    job = wait_for_job(client, client.post(f"/api/analyses/{a['id']}/export").json()["job_id"])
    assert job["status"] == "done", job["error"]
    names = zipfile.ZipFile(io.BytesIO(client.get(job["result"]["download_url"]).content)).namelist()
    assert sum(n.startswith("prototypes/") for n in names) == 6 and "analysis.json" in names
    assert {"data/similarity.csv", "data/prediction.csv", "figures/ranking.svg", "figures/clip-spectrogram.svg"} <= set(names)
