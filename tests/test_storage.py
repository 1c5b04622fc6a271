"""Clips and analyses survive restarts; files are content-addressed and never half-written."""
import threading

import pytest

from auralens.server.storage import Storage


@pytest.fixture
def store(tmp_path):
    s = Storage(tmp_path / "data")
    yield s
    s.close()


def add(store, data=b"RIFF....WAVEfmt audio bytes", name="take 1.wav"):
    return store.add_upload(data, name, "wav", 2.0, 44_100, 2)


def test_an_upload_is_kept_under_its_content_hash(store):
    clip = add(store)
    path = store.audio_path(clip.sha256, clip.ext)
    assert path.read_bytes() == b"RIFF....WAVEfmt audio bytes"
    assert path.parent.parent.name == "audio" and path.name.startswith(clip.sha256)


def test_the_same_bytes_uploaded_twice_share_one_file_but_get_two_clips(store):
    a, b = add(store), add(store, name="again.wav")
    assert a.id != b.id and a.sha256 == b.sha256
    assert len(list((store.root / "audio").rglob("*.wav"))) == 1


def test_clips_and_analyses_survive_a_restart(tmp_path):
    first = Storage(tmp_path / "data")
    clip = add(first)
    analysis_id = first.add_analysis(clip.id, "prototypes", "orchestra16", {"prediction": [{"label": "flute", "score": 0.9}]})
    first.close()
    again = Storage(tmp_path / "data")
    assert again.clip(clip.id) == clip
    stored = again.analysis(analysis_id)
    assert stored["clip_id"] == clip.id and stored["prediction"][0]["label"] == "flute"
    again.close()


def test_unknown_ids_are_none(store):
    assert store.clip("u-nothing") is None and store.analysis("a-nothing") is None


def test_every_clip_is_listed_counted_and_paged(store):
    ids = [add(store, data=bytes([i]) * 10).id for i in range(5)]
    listed = [c.id for c in store.clips(limit=10)]
    assert sorted(listed) == sorted(ids) and store.count_clips() == 5
    assert len(store.clips(limit=2, offset=4)) == 1


def test_concurrent_uploads_all_land(store):
    errors = []

    def worker(i):
        try:
            for j in range(10):
                add(store, data=f"{i}-{j}".encode())
        except Exception as err:  # pragma: no cover - reported below
            errors.append(err)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == [] and store.count_clips() == 80
    assert not list((store.root / "audio").rglob("*.tmp"))


def test_client_file_names_never_become_paths(store):
    clip = add(store, name="../../etc/passwd")
    assert store.audio_path(clip.sha256, clip.ext).resolve().is_relative_to((store.root / "audio").resolve())


def test_the_render_cache_forgets_the_oldest_entries_beyond_its_byte_budget():
    from auralens.server.lru import LRU

    cache = LRU(100, max_bytes=10, weigh=len)
    for key in "abcd":
        cache.put(key, b"xxxx")
    assert cache.get("a") is None and cache.get("b") is None
    assert cache.get("c") == b"xxxx" and cache.get("d") == b"xxxx"
