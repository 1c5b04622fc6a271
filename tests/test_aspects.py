"""Aspects: neighbours from a weighted blend of embedding spaces, each result with its
similarity in every space - through the API on the default bundle, and on synthetic notes
whose answer is known."""
import numpy as np
import pytest

from auralens.models.audio import log_mel
from auralens.models.embeddings import pitch, timbre
from auralens.models.embeddings.aspects import Aspects, BadWeights, parse_weights
from auralens.models.embeddings.standardise import finish, standardisation

from .helpers import upload, wav_bytes
from .sounds import SR, TIMBRES, harmonic_tone, timbre_tone

BLEND = "/api/clips/{}/neighbours/blend"


def blend(client, clip_id, weights, k=10):
    r = client.get(BLEND.format(clip_id), params={"weights": weights, "k": k})
    assert r.status_code == 200, r.text
    return r.json()


@pytest.fixture(scope="module")
def notes():
    """Aspects over synthetic notes: three timbres x six pitches, in the timbre and pitch spaces
    computed from the sound as the bundle computes them; ids are ``<timbre>-<Hz>``."""
    pitches = [165.0, 196.0, 220.0, 262.0, 294.0, 330.0]
    ids, sounds = [], []
    for name in TIMBRES:
        for f0 in pitches:
            ids.append(f"{name}-{f0:g}")
            sounds.append(timbre_tone(f0, name, seconds=1.0))
    samples = np.stack(sounds)
    raw_timbre = timbre.embed(log_mel(samples)).numpy()
    return Aspects({"timbre": finish(raw_timbre, *standardisation(raw_timbre)), "pitch": finish(pitch.embed(samples, SR), None, None)}, ids)


def rank(hits, clip_id):
    return [h.clip_id for h in hits].index(clip_id)


def test_weights_all_on_one_space_give_that_spaces_own_neighbour_order(client):
    for space in ("timbre", "pitch", "learned", "tags"):
        own = client.get("/api/clips/c-oboe-003/neighbours", params={"space": space, "k": 10}).json()
        blended = blend(client, "c-oboe-003", f"{space}:1")
        assert [h["clip_id"] for h in blended["neighbours"]] == [h["clip_id"] for h in own], space


def test_an_uploads_blend_on_one_space_follows_that_spaces_neighbours(client):
    clip = upload(client, wav_bytes(harmonic_tone(196.0, 1.5))).json()
    own = client.get(f"/api/clips/{clip['id']}/neighbours", params={"space": "timbre", "k": 8}).json()
    blended = blend(client, clip["id"], "timbre:1,pitch:0", k=8)
    assert [h["clip_id"] for h in blended["neighbours"]] == [h["clip_id"] for h in own]
    assert all(set(h["aspects"]) == {"timbre", "pitch"} for h in blended["neighbours"])


def test_each_result_has_a_similarity_per_aspect_and_a_blended_one_between_0_and_1(client):
    found = blend(client, "c-violin-002", "timbre:0.5,pitch:0.3,tags:0.2")
    assert found["weights"] == pytest.approx({"timbre": 0.5, "pitch": 0.3, "tags": 0.2})
    sims = [h["similarity"] for h in found["neighbours"]]
    assert sims == sorted(sims, reverse=True)
    for h in found["neighbours"]:
        assert set(h["aspects"]) == {"timbre", "pitch", "tags"}
        assert all(0 <= s <= 1 for s in [h["similarity"], *h["aspects"].values()])
        # the blend is the weighted geometric mean of the aspects
        expected = np.prod([h["aspects"][s] ** w for s, w in found["weights"].items()])
        assert h["similarity"] == pytest.approx(expected, rel=1e-3)


def test_weights_need_not_sum_to_one(client):
    halves = blend(client, "c-flute-001", "timbre:1,pitch:1")
    tens = blend(client, "c-flute-001", "timbre:10,pitch:10")
    assert [h["clip_id"] for h in halves["neighbours"]] == [h["clip_id"] for h in tens["neighbours"]]


def test_on_synthetic_notes_all_timbre_finds_the_same_timbre_and_all_pitch_the_same_note(notes):
    by_timbre = notes.blend({"timbre": 1.0, "pitch": 0.0}, query="bright-220", k=17)
    by_pitch = notes.blend({"timbre": 0.0, "pitch": 1.0}, query="bright-220", k=17)
    assert by_timbre[0].clip_id.startswith("bright-")  # another pitch, the same colour
    assert {h.clip_id.split("-")[1] for h in by_pitch[:2]} == {"220"}  # the same note, other colours


def test_the_blend_is_monotone_in_a_weight(notes):
    """Moving weight from pitch to timbre only ever brings the same timbre at another pitch
    nearer, and another timbre at the same pitch further away."""
    same_timbre, same_note = "bright-196", "dark-220"
    ranks_timbre, ranks_note, gaps = [], [], []
    for w in np.linspace(0, 1, 11):
        hits = notes.blend({"timbre": float(w), "pitch": float(1 - w)}, query="bright-220", k=17)
        ranks_timbre.append(rank(hits, same_timbre))
        ranks_note.append(rank(hits, same_note))
        d = {h.clip_id: h.distance for h in hits}
        gaps.append(d[same_note] - d[same_timbre])
    assert ranks_timbre == sorted(ranks_timbre, reverse=True) and ranks_note == sorted(ranks_note)
    assert all(b >= a - 1e-6 for a, b in zip(gaps, gaps[1:]))
    assert ranks_note[0] < ranks_timbre[0] and ranks_timbre[-1] < ranks_note[-1]  # the answer flips


def test_a_clip_is_not_its_own_blended_neighbour(notes):
    assert "dark-196" not in [h.clip_id for h in notes.blend({"timbre": 1, "pitch": 1}, query="dark-196", k=17)]


def test_each_spaces_distances_are_divided_by_its_typical_neighbour_distance(notes):
    hit = notes.blend({"timbre": 1.0}, query="dark-196", k=1)[0]
    cosine = 1 - float(notes.vector("timbre", "dark-196") @ notes.vector("timbre", hit.clip_id))
    assert hit.distance == pytest.approx(cosine / notes.scale("timbre"), rel=1e-4)
    assert hit.aspects["timbre"] == pytest.approx(2 ** -hit.distance, rel=1e-4)


@pytest.mark.parametrize("weights, words", [
    ("timbre", "space:weight"),
    ("timbre:loud", "not a number"),
    ("colour:1", "no space 'colour'"),
    ("timbre:-0.5", "0 or more"),
    ("timbre:0,pitch:0", "at least one"),
    ("timbre:inf", "finite"),
    ("timbre:1,timbre:2", "twice"),
    (",,", "No weights"),
])
def test_bad_weights_are_refused_with_a_sentence(client, weights, words):
    r = client.get(BLEND.format("c-oboe-003"), params={"weights": weights})
    assert r.status_code == 422 and words in r.json()["detail"]


def test_a_blend_without_weights_or_of_an_unknown_clip_is_refused(client):
    assert client.get(BLEND.format("c-oboe-003")).status_code == 422
    assert client.get(BLEND.format("u-nothing"), params={"weights": "timbre:1"}).status_code == 404


def test_parse_weights_names_the_spaces_there_are():
    with pytest.raises(BadWeights, match="timbre, pitch"):
        parse_weights("colour:1", ["timbre", "pitch"])
    with pytest.raises(BadWeights, match="not installed"):
        parse_weights("aisfx:1", ["timbre"], {"aisfx": "its weights are not installed"})
