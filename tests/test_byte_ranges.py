"""Every sound the API serves answers byte ranges, so that a browser can seek in it."""
import pytest

from .helpers import upload, wav_bytes
from .sounds import harmonic_tone


@pytest.fixture(scope="module")
def sound_urls(client):
    """One address of each kind of sound: an upload, a corpus clip, a prototype (spectral and
    latent, both renderings), a what-if change, a reconstruction."""
    clip = upload(client, wav_bytes(harmonic_tone(220.0, 2.0)), "tone.wav").json()
    corpus = client.get("/api/clips?origin=corpus&limit=1").json()["clips"][0]
    analysis = client.post("/api/analyses", json={"clip_id": clip["id"], "model": "prototypes"}).json()
    return [clip["audio_url"], corpus["audio_url"], "/api/models/prototypes/prototypes/0/audio.wav",
            "/api/models/prototypes/prototypes/0/audio.wav?shift_semitones=3",
            "/api/models/latent/prototypes/0/audio.wav", "/api/models/latent/prototypes/0/audio.wav?rendering=nearest",
            f"/api/analyses/{analysis['id']}/reconstructions/1/audio.wav?stage=gain"]


def test_every_sound_answers_a_byte_range_with_206_and_the_bytes_asked_for(client, sound_urls):
    for url in sound_urls:
        whole = client.get(url)
        assert whole.status_code == 200 and whole.headers["accept-ranges"] == "bytes", url
        size = len(whole.content)
        part = client.get(url, headers={"Range": "bytes=100-1099"})
        assert part.status_code == 206, url
        assert part.headers["content-range"] == f"bytes 100-1099/{size}"
        assert part.content == whole.content[100:1100]


def test_open_and_suffix_ranges_give_the_tail_of_the_sound(client, sound_urls):
    whole = client.get(sound_urls[0]).content
    assert client.get(sound_urls[0], headers={"Range": "bytes=44-"}).content == whole[44:]
    tail = client.get(sound_urls[0], headers={"Range": "bytes=-500"})
    assert tail.status_code == 206 and tail.content == whole[-500:]
    assert tail.headers["content-range"] == f"bytes {len(whole) - 500}-{len(whole) - 1}/{len(whole)}"


def test_a_range_past_the_end_is_416_with_the_size_and_a_sentence(client, sound_urls):
    size = len(client.get(sound_urls[0]).content)
    r = client.get(sound_urls[0], headers={"Range": f"bytes={size}-"})
    assert r.status_code == 416 and r.headers["content-range"] == f"bytes */{size}"
    assert "past the end" in r.json()["detail"]


def test_a_malformed_range_is_ignored_and_the_whole_sound_sent(client, sound_urls):
    for header in ["bytes=abc", "bytes=500-100", "items=0-10", "bytes=0-10,20-30"]:
        r = client.get(sound_urls[0], headers={"Range": header})
        assert r.status_code == 200 and len(r.content) > 1000, header
