"""The explorer API through FastAPI's TestClient: uploads, analyses, reconstructions, errors."""
import io

import numpy as np
import pytest
import soundfile as sf
from fastapi.testclient import TestClient

from auralens.server.app import create_app
from auralens.server.renders import render_key

from .helpers import SOUNDFONT, needs_fluidsynth, upload, wait_until, wav_bytes
from .sounds import SR, harmonic_tone


@pytest.fixture
def client(tmp_path):
    """A fresh app for each test (the tests count uploads), with limits small enough to reach."""
    app = create_app(device="cpu", data_dir=tmp_path / "data", max_upload_mb=5, max_seconds=30)
    with TestClient(app, base_url="http://localhost") as c:
        yield c


def test_uploading_a_recording_returns_its_clip(client):
    response = upload(client, wav_bytes(harmonic_tone(220.0, 2.0)), "my tone.wav")
    assert response.status_code == 201
    clip = response.json()
    assert clip["name"] == "my tone.wav" and clip["duration_s"] == pytest.approx(2.0, abs=0.01)
    assert clip["sample_rate"] == SR and clip["audio_url"].endswith("/audio.wav")
    assert client.get("/api/clips", params={"origin": "upload"}).json()["total"] == 1


def test_a_clip_has_a_spectrogram_and_playable_audio(client):
    clip = upload(client, wav_bytes(harmonic_tone(220.0, 1.0))).json()
    detail = client.get(f"/api/clips/{clip['id']}").json()
    spec = detail["spectrogram"]
    assert len(spec["freqs_hz"]) == 128 and len(spec["values_db"]) == 128 and len(spec["times_s"]) == 44
    audio = client.get(clip["audio_url"])
    assert audio.status_code == 200 and audio.headers["content-type"] == "audio/wav"
    samples, sr = sf.read(io.BytesIO(audio.content))
    assert sr == SR and len(samples) == SR


@pytest.mark.parametrize("data,status,words", [
    (b"just some text, not a recording\n" * 20, 415, "could not be read as audio"),
    (b"", 422, "empty"),
    (wav_bytes(np.zeros(SR, dtype=np.float32)), 422, "silent"),
    (wav_bytes(np.full(SR, np.nan, dtype=np.float32), subtype="FLOAT"), 422, "NaN"),
    (wav_bytes(harmonic_tone(220.0, 31.0)), 422, "limit"),
    (np.random.default_rng(0).bytes(6 * 2**20), 413, "upload limit"),
])
def test_unusable_uploads_get_a_clear_error(client, data, status, words):
    response = upload(client, data)
    assert response.status_code == status
    assert words in response.json()["detail"]
    assert client.get("/api/clips", params={"origin": "upload"}).json()["total"] == 0


def test_unknown_ids_are_404_with_a_reason(client):
    for path in ("/api/clips/u-nothing", "/api/clips/u-nothing/audio.wav", "/api/analyses/a-nothing",
                 "/api/analyses/a-nothing/reconstructions/0"):
        response = client.get(path)
        assert response.status_code == 404 and "There is no" in response.json()["detail"]
    response = client.post("/api/analyses", json={"clip_id": "u-nothing"})
    assert response.status_code == 404


def test_an_analysis_ranks_classes_and_reports_every_prototype_at_every_stage(client):
    clip = upload(client, wav_bytes(harmonic_tone(330.0, 2.0))).json()
    response = client.post("/api/analyses", json={"clip_id": clip["id"]})
    assert response.status_code == 201
    a = response.json()
    scores = [p["score"] for p in a["prediction"]]
    assert len(scores) == 16 and scores == sorted(scores, reverse=True) and sum(scores) == pytest.approx(1, abs=1e-4)
    assert len(a["prototypes"]) == 16
    assert set(a["prototypes"][0]["stage_errors"]) == {"raw", "gain", "pitch", "filters"}
    assert a["timeline"] and a["timeline"][-1]["end_s"] == pytest.approx(2.0, abs=0.05)
    assert client.get(f"/api/analyses/{a['id']}").json() == a


def test_an_unknown_model_is_a_404(client):
    clip = upload(client, wav_bytes(harmonic_tone(330.0, 1.0))).json()
    response = client.post("/api/analyses", json={"clip_id": clip["id"], "model": "nope"})
    assert response.status_code == 404 and "no model 'nope'" in response.json()["detail"]


def test_reconstructions_come_for_every_prototype_at_every_stage_with_their_curves(client):
    clip = upload(client, wav_bytes(harmonic_tone(262.0, 1.0))).json()
    a = client.post("/api/analyses", json={"clip_id": clip["id"]}).json()
    for k in (0, 15):
        for stage in ("raw", "gain", "pitch", "filters"):
            r = client.get(f"/api/analyses/{a['id']}/reconstructions/{k}", params={"stage": stage}).json()
            assert r["prototype"] == k and r["stage"] == stage and len(r["spectrogram"]["times_s"]) == 44
            assert r["error"] == pytest.approx(a["prototypes"][k]["stage_errors"][stage], rel=1e-3, abs=1e-6)
            curves = r["transforms"]
            assert (curves["gain_db"] is None) == (stage == "raw")
            assert (curves["shift_semitones"] is None) == (stage in ("raw", "gain"))
            assert (curves["lowcut_hz"] is not None) == (stage == "filters")


def test_a_reconstruction_plays_as_a_loud_sound_of_the_clips_length_with_its_gain_in_a_header(client):
    clip = upload(client, wav_bytes(harmonic_tone(262.0, 1.0))).json()
    a = client.post("/api/analyses", json={"clip_id": clip["id"]}).json()
    audio = client.get(f"/api/analyses/{a['id']}/reconstructions/3/audio.wav", params={"stage": "pitch"})
    assert audio.status_code == 200 and "x-gain-db" in audio.headers
    samples, sr = sf.read(io.BytesIO(audio.content))
    assert sr == SR and abs(len(samples) - SR) < 600 and np.abs(samples).max() > 0.5


def test_bad_reconstruction_queries_are_refused(client):
    clip = upload(client, wav_bytes(harmonic_tone(262.0, 1.0))).json()
    a = client.post("/api/analyses", json={"clip_id": clip["id"]}).json()
    assert client.get(f"/api/analyses/{a['id']}/reconstructions/99").status_code == 404
    assert client.get(f"/api/analyses/{a['id']}/reconstructions/-1").status_code == 422
    assert client.get(f"/api/analyses/{a['id']}/reconstructions/0", params={"stage": "loud"}).status_code == 422


def test_clips_and_analyses_survive_a_restart(tmp_path):
    with TestClient(create_app(device="cpu", data_dir=tmp_path), base_url="http://localhost") as first:
        clip = upload(first, wav_bytes(harmonic_tone(220.0, 1.0))).json()
        a = first.post("/api/analyses", json={"clip_id": clip["id"]}).json()
    with TestClient(create_app(device="cpu", data_dir=tmp_path), base_url="http://localhost") as second:
        assert second.get(f"/api/clips/{clip['id']}").status_code == 200
        assert second.get(f"/api/analyses/{a['id']}").json() == a


@needs_fluidsynth
def test_an_uploaded_flute_note_is_heard_as_a_flute(client, tmp_path):
    from auralens.models.corpus import build_corpus

    build_corpus(SOUNDFONT, tmp_path / "notes", per_class=1, seed=77, concept_size=0, classes=("flute",),
                 progress=False)
    note = next((tmp_path / "notes" / "flute").iterdir())
    clip = upload(client, note.read_bytes(), note.name).json()
    a = client.post("/api/analyses", json={"clip_id": clip["id"]}).json()
    assert a["prediction"][0]["label"] == "flute"


def test_bundle_info_lists_the_models_and_their_stages(client):
    info = client.get("/api/bundle").json()
    assert info["name"] == "orchestra16" and len(info["classes"]) == 16
    by_id = {m["id"]: m for m in info["models"]}
    assert by_id["prototypes"]["supervised"] and not by_id["clusters"]["supervised"]
    assert by_id["prototypes"]["stages"] == ["raw", "gain", "pitch", "filters"]
    assert by_id["prototypes"]["n_prototypes"] == 16 and "stages" in by_id["prototypes"]["metrics"]


def test_the_model_lists_every_prototype_with_its_class_and_a_sound(client):
    protos = client.get("/api/models/prototypes/prototypes").json()
    assert [p["index"] for p in protos] == list(range(16))
    assert sorted(p["label"] for p in protos) == sorted(client.get("/api/bundle").json()["classes"])
    audio = client.get(protos[7]["audio_url"])
    samples, sr = sf.read(io.BytesIO(audio.content))
    assert sr == SR and len(samples) == int(1.5 * SR)


def test_prototypes_of_an_unknown_model_or_past_the_last_index_are_404(client):
    assert client.get("/api/models/nope/prototypes").status_code == 404
    assert client.get("/api/models/prototypes/prototypes/16/audio.wav").status_code == 404


def _prototype_sound(client, **params):
    response = client.get("/api/models/prototypes/prototypes/4/audio.wav", params=params)
    assert response.status_code == 200
    return sf.read(io.BytesIO(response.content))[0]


def test_what_if_gain_changes_the_level_by_as_many_decibels(client):
    soft, loud = _prototype_sound(client, gain_db=-6), _prototype_sound(client, gain_db=6)
    rms = lambda y: np.sqrt(np.mean(y[2000:-2000] ** 2))
    assert 20 * np.log10(rms(loud) / rms(soft)) == pytest.approx(12.0, abs=0.5)


def _centroid_hz(y):
    """The spectral centroid of samples ``y`` at ``SR``, in Hz."""
    spectrum = np.abs(np.fft.rfft(y))
    freqs = np.fft.rfftfreq(len(y), 1 / SR)
    return (spectrum * freqs).sum() / spectrum.sum()


def test_what_if_transpose_an_octave_up_raises_the_spectrum(client):
    plain = _prototype_sound(client)
    assert _centroid_hz(_prototype_sound(client, shift_semitones=12)) > 1.3 * _centroid_hz(plain)


def test_what_if_lowcut_removes_the_bass(client):
    plain = _prototype_sound(client)
    assert _centroid_hz(_prototype_sound(client, lowcut_hz=2000)) > _centroid_hz(plain)


def test_a_prototype_sound_of_no_length_is_refused(client):
    assert client.get("/api/models/prototypes/prototypes/4/audio.wav", params={"seconds": 0}).status_code == 422


def test_twenty_concurrent_analyses_all_succeed_with_the_same_prediction(client):
    from concurrent.futures import ThreadPoolExecutor

    clip = upload(client, wav_bytes(harmonic_tone(196.0, 2.0))).json()

    def analyse(_):
        return client.post("/api/analyses", json={"clip_id": clip["id"]})

    with ThreadPoolExecutor(20) as pool:
        responses = list(pool.map(analyse, range(20)))
    assert [r.status_code for r in responses] == [201] * 20
    ids = {r.json()["id"] for r in responses}
    assert len(ids) == 20 and all(client.get(f"/api/analyses/{i}").status_code == 200 for i in ids)
    first = responses[0].json()["prediction"]
    assert all(r.json()["prediction"] == first for r in responses)


def test_a_full_queue_answers_503_with_retry_after(tmp_path):
    import asyncio
    import threading

    from auralens.server.config import Settings
    from auralens.server.errors import Busy, domain_error
    from auralens.server.state import AppState

    state = AppState(None, "cpu", Settings(tmp_path, queue_size=1))
    release = threading.Event()

    async def scenario():
        blocker = asyncio.ensure_future(state.run(lambda: release.wait(10)))  # at most 10 s, should the test fail
        await asyncio.sleep(0.05)
        with pytest.raises(Busy) as info:
            await state.run(lambda: None)
        release.set()
        await blocker
        return info.value

    err = asyncio.run(domain_error(None, asyncio.run(scenario())))
    assert err.status_code == 503 and err.headers["Retry-After"] == "2"
    state.close()


def test_corpus_clips_filter_by_class_tag_and_split(client):
    everything = client.get("/api/clips", params={"limit": 500}).json()
    assert everything["total"] == 192 and all(c["origin"] == "corpus" for c in everything["clips"])
    flutes = client.get("/api/clips", params={"label": "flute", "limit": 500}).json()
    assert flutes["total"] == 12 and {c["label"] for c in flutes["clips"]} == {"flute"}
    loud = client.get("/api/clips", params={"tag": "dynamics=ff", "limit": 500}).json()["clips"]
    assert loud and all(c["tags"]["dynamics"] == "ff" for c in loud)
    assert client.get("/api/clips", params={"split": "train"}).json()["total"] == 0


def test_uploads_are_listed_after_the_corpus_clips_in_one_id_space(client):
    upload(client, wav_bytes(harmonic_tone(220.0, 1.0)))
    assert client.get("/api/clips", params={"origin": "upload"}).json()["total"] == 1
    page = client.get("/api/clips", params={"offset": 191, "limit": 5}).json()
    assert page["total"] == 193 and [c["origin"] for c in page["clips"]] == ["corpus", "upload"]


def test_a_corpus_clip_plays_and_is_analysed_as_its_class(client):
    clip = client.get("/api/clips", params={"label": "violin", "limit": 1}).json()["clips"][0]
    assert client.get(clip["audio_url"]).status_code == 200
    assert len(client.get(f"/api/clips/{clip['id']}").json()["spectrogram"]["times_s"]) == 87
    a = client.post("/api/analyses", json={"clip_id": clip["id"]}).json()
    assert a["prediction"][0]["label"] == "violin"


def test_each_prototype_names_the_corpus_clips_it_explains_best(client):
    protos = client.get("/api/models/prototypes/prototypes").json()
    for p in protos:
        assert len(p["best_clips"]) == 3
        labels = {client.get(f"/api/clips/{c}").json()["label"] for c in p["best_clips"]}
        assert labels == {p["label"]}


def test_the_bundle_reports_the_size_of_its_corpus(client):
    assert client.get("/api/bundle").json()["corpus_size"] == 192


def test_what_if_reports_the_models_ranking_and_the_transformed_spectrum(client):
    plain = client.get("/api/models/prototypes/prototypes/7/what-if").json()
    louder = client.get("/api/models/prototypes/prototypes/7/what-if", params={"gain_db": 6}).json()
    higher = client.get("/api/models/prototypes/prototypes/7/what-if", params={"shift_semitones": 12}).json()
    assert sum(p["score"] for p in plain["prediction"]) == pytest.approx(1.0, abs=1e-4)
    assert plain["original_db"] == plain["transformed_db"]
    assert np.allclose(np.subtract(louder["transformed_db"], louder["original_db"]), 6.0, atol=0.01)
    centroid = lambda db: np.dot(plain["freqs_hz"], 10 ** (np.array(db) / 10)) / np.sum(10 ** (np.array(db) / 10))
    assert centroid(higher["transformed_db"]) > 1.3 * centroid(higher["original_db"])


def test_what_if_beyond_the_shift_range_is_refused(client):
    assert client.get("/api/models/prototypes/prototypes/7/what-if", params={"shift_semitones": 99}).status_code == 422


def test_the_winners_sounds_are_rendered_ahead_when_the_server_is_idle_and_match_a_fresh_render(client):
    clip = upload(client, wav_bytes(harmonic_tone(196.0, 1.0))).json()
    a = client.post("/api/analyses", json={"clip_id": clip["id"]}).json()
    state = client.app.state.auralens
    winner = min(a["prototypes"], key=lambda p: p["error"])["index"]
    ahead = wait_until(lambda: state.renders.get(render_key(a["id"], winner, "raw")), 30, "the winner's sound rendered ahead")
    served = client.get(f"/api/analyses/{a['id']}/reconstructions/{winner}/audio.wav", params={"stage": "raw"})
    assert served.content == ahead[0]
    state.renders = type(state.renders)(16)  # forget it, render again alone
    again = client.get(f"/api/analyses/{a['id']}/reconstructions/{winner}/audio.wav", params={"stage": "raw"})
    same = lambda a, b: np.abs(sf.read(io.BytesIO(a))[0] - sf.read(io.BytesIO(b))[0]).max()
    assert same(again.content, served.content) < 1e-3  # in a batch or alone: the same sound, to a few LSB
