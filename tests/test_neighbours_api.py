"""Neighbours in every embedding space and search by words, through the API, on the default bundle."""
from .helpers import upload, wav_bytes
from .sounds import harmonic_tone


def test_the_bundle_lists_its_spaces_with_what_they_measure_and_their_quality(client):
    spaces = {s["id"]: s for s in client.get("/api/spaces").json()}
    assert {"timbre", "pitch", "learned", "prototype-profile", "tags"} <= set(spaces)
    assert "pitch and loudness" in spaces["timbre"]["description"]
    assert all(0 <= s["quality"]["nn_macro_f1"] <= 1 and s["quality"]["dbi"] > 0 for s in spaces.values())
    bundle = client.get("/api/bundle").json()
    assert [s["id"] for s in bundle["embedding_spaces"]] == list(spaces)
    assert 0 <= bundle["embedding_probe"]["accuracy"] <= 1  # all streams together


def test_an_upload_gets_k_playable_neighbours_in_every_space(client):
    clip = upload(client, wav_bytes(harmonic_tone(220.0, 1.5))).json()
    for space in [s["id"] for s in client.get("/api/spaces").json()]:
        hits = client.get(f"/api/clips/{clip['id']}/neighbours", params={"space": space, "k": 7}).json()
        assert len(hits) == 7, space
        assert [h["distance"] for h in hits] == sorted(h["distance"] for h in hits)
        assert all(h["label"] and h["tags"] for h in hits)
    assert client.get(hits[0]["audio_url"]).status_code == 200


def test_a_corpus_clip_is_not_its_own_neighbour(client):
    hits = client.get("/api/clips/c-oboe-003/neighbours", params={"space": "timbre", "k": 5}).json()
    assert "c-oboe-003" not in [h["clip_id"] for h in hits]


def test_a_corpus_clips_nearest_timbre_is_its_instrument(client):
    hits = client.get("/api/clips/c-oboe-003/neighbours", params={"space": "timbre", "k": 5}).json()
    assert hits[0]["label"] == "oboe"


def test_words_find_clips_that_carry_those_tags(client):
    hits = client.get("/api/search", params={"q": "brass ff", "k": 10}).json()
    assert len(hits) == 10
    assert sum(h["tags"]["family"] == "brass" for h in hits) >= 7


def test_words_the_tags_space_does_not_know_are_left_out_and_named(client):
    r = client.get("/api/search", params={"q": "muted brass fortissimo", "k": 10})
    assert r.status_code == 200 and r.headers["X-Ignored-Words"] == "muted"
    hits = r.json()
    assert sum(h["tags"]["family"] == "brass" for h in hits) >= 7 and sum(h["tags"]["dynamics"] == "ff" for h in hits) >= 5


def test_an_unknown_space_is_a_404_naming_the_spaces(client):
    r = client.get("/api/clips/c-oboe-003/neighbours", params={"space": "colour"})
    assert r.status_code == 404 and "timbre" in r.json()["detail"]


def test_a_search_of_only_unknown_words_is_refused_naming_the_known_ones(client):
    r = client.get("/api/search", params={"q": "muted"})
    assert r.status_code == 422 and "muted" in r.json()["detail"] and "brass" in r.json()["detail"]


def test_neighbours_of_an_unknown_clip_or_k_of_zero_are_refused(client):
    assert client.get("/api/clips/u-nothing/neighbours").status_code == 404
    assert client.get("/api/clips/c-oboe-003/neighbours", params={"k": 0}).status_code == 422


def test_a_concept_word_stands_for_its_tag_and_the_reading_is_named(client):
    r = client.get("/api/search", params={"q": "staccato", "k": 10})
    assert r.status_code == 200 and r.headers["X-Read-As"] == "staccato = short"
    assert sum(h["tags"]["articulation"] == "short" for h in r.json()) >= 8


def test_an_instrument_name_keeps_to_that_instruments_clips(client):
    r = client.get("/api/search", params={"q": "cello fortissimo", "k": 5})
    hits = r.json()
    assert r.status_code == 200 and len(hits) == 5 and {h["label"] for h in hits} == {"cello"}
    assert "fortissimo = ff" in r.headers["X-Read-As"] and "cello = strings (cello clips only)" in r.headers["X-Read-As"]
    assert hits[0]["tags"]["dynamics"] == "ff"


def test_instrument_names_of_two_words_and_plurals_are_known(client):
    hits = client.get("/api/search", params={"q": "french horn", "k": 3}).json()
    assert {h["label"] for h in hits} == {"french_horn"}
    assert {h["label"] for h in client.get("/api/search", params={"q": "violins", "k": 3}).json()} == {"violin"}
