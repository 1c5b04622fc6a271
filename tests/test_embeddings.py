"""Embedding spaces, the neighbour index, the tags space and their life in a bundle, on sounds
made here whose answers are known."""
from __future__ import annotations

import csv
import json

import numpy as np
import pytest
import soundfile as sf
import torch

from auralens.models.audio import AudioConfig, load_audio, log_mel
from auralens.models.bundle import Bundle, BundleError, ModelEntry, load_bundle
from auralens.models.weights import write_weights
from auralens.models.embeddings import NeighbourIndex, UnknownWords, build_embeddings, load_spaces, recall_at_k
from auralens.models import aisfx_network
from auralens.models.embeddings import aisfx, pitch, tags, timbre
from auralens.models.embeddings.standardise import finish, standardisation
from auralens.models.prototypes.model import KIND, PrototypeConfig, PrototypeModel

from .helpers import one_torch_thread
from .sounds import SR

# Source-filter tones: harmonics of f0 under a fixed spectral envelope (the instrument's body),
# the textbook model of a timbre that stays when the pitch changes.
FORMANTS = {"dark": [(400, 300)], "bright": [(2500, 800)], "nasal": [(1200, 300), (3500, 500)]}
PITCHES = (110.0, 138.6, 174.6, 220.0)  # Hz, major thirds apart: no pitch class shared


def formant_tone(f0: float, instrument: str, seconds: float = 1.0, level: float = 0.3) -> np.ndarray:
    t = np.arange(int(seconds * SR)) / SR
    y = np.zeros_like(t)
    for k in range(1, int(9000 // f0) + 1):
        amp = sum(1 / (1 + ((k * f0 - fc) / bw) ** 2) for fc, bw in FORMANTS[instrument]) + 0.003
        y += amp * np.sin(2 * np.pi * k * f0 * t)
    envelope = np.minimum(1, t / 0.02) * np.exp(-t)
    return (level * y * envelope / np.abs(y).max()).astype(np.float32)


@pytest.fixture(scope="module")
def tone_spaces():
    """Every instrument at every pitch, in the timbre and pitch spaces (unit vectors)."""
    keys = [(f, name) for f in PITCHES for name in FORMANTS]
    audio = np.stack([formant_tone(f, name) for f, name in keys])
    raw_timbre = timbre.embed(log_mel(audio)).numpy()
    vectors = {"timbre": finish(raw_timbre, *standardisation(raw_timbre)),
               "pitch": finish(pitch.embed(audio, SR), None, None)}
    return keys, vectors


def _nearest_other(vectors: np.ndarray) -> np.ndarray:
    sims = vectors @ vectors.T
    np.fill_diagonal(sims, -np.inf)
    return sims.argmax(1)


def _distance(vectors, keys, a, b) -> float:
    return float(1 - vectors[keys.index(a)] @ vectors[keys.index(b)])


def test_same_timbre_at_another_pitch_is_near_in_timbre_and_far_in_pitch(tone_spaces):
    keys, v = tone_spaces
    nearest = _nearest_other(v["timbre"])
    assert all(keys[j][1] == keys[i][1] and keys[j][0] != keys[i][0] for i, j in enumerate(nearest))
    for f, name in keys[:3]:  # the same instrument a third higher is far in pitch
        other = (PITCHES[1], name)
        same_note = min(_distance(v["pitch"], keys, (f, name), (f, n)) for n in FORMANTS if n != name)
        assert _distance(v["pitch"], keys, (f, name), other) > 3 * same_note


def test_same_notes_on_another_instrument_are_near_in_pitch_and_far_in_timbre(tone_spaces):
    keys, v = tone_spaces
    nearest = _nearest_other(v["pitch"])
    assert all(keys[j][0] == keys[i][0] and keys[j][1] != keys[i][1] for i, j in enumerate(nearest))
    for i, (f, name) in enumerate(keys):  # in timbre, the nearest clip of the same note is farther
        same_note = min(_distance(v["timbre"], keys, (f, name), (f, n)) for n in FORMANTS if n != name)
        same_instrument = min(_distance(v["timbre"], keys, (f, name), (g, name)) for g in PITCHES if g != f)
        assert same_instrument < same_note


def test_timbre_ignores_loudness():
    tone = formant_tone(174.6, "nasal")
    raw = timbre.embed(log_mel(np.stack([tone, tone * 0.1, formant_tone(174.6, "dark")]))).numpy()
    assert np.allclose(raw[0], raw[1], atol=1e-2)  # 20 dB quieter: the same vector
    assert not np.allclose(raw[0], raw[2], atol=1.0)


def test_pitch_profile_names_the_pitch_class_and_octave():
    v = pitch.embed(formant_tone(220.0, "dark")[None], SR)[0]  # A3
    assert pitch.PITCH_CLASSES[int(v[:12].argmax())] == "A"
    assert v[:12].sum() == pytest.approx(1.0) and v[12:].sum() == pytest.approx(1.0)
    assert int(v[12:].argmax()) + 1 >= 3  # peaks at A3 and its harmonics above


def test_exact_index_finds_the_known_nearest():
    rng = np.random.default_rng(0)
    vectors = rng.normal(size=(500, 32))
    index = NeighbourIndex(vectors, [f"v{i}" for i in range(500)])
    query = vectors[[7, 123]] + 0.05 * rng.normal(size=(2, 32))
    dist, ids = index.search(query, k=5)
    assert ids[:, 0].tolist() == ["v7", "v123"]
    unit = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    q = query / np.linalg.norm(query, axis=1, keepdims=True)
    expected = np.sort(1 - q @ unit.T, axis=1)[:, :5]
    assert index.kind == "exact" and np.allclose(dist, expected, atol=1e-5)


def test_the_approximate_index_finds_nine_in_ten_exact_neighbours_and_fewer_with_fewer_probes():
    rng = np.random.default_rng(1)
    centres = rng.normal(size=(200, 48))
    vectors = centres[rng.integers(0, 200, 20_000)] + 0.3 * rng.normal(size=(20_000, 48))
    ids = [str(i) for i in range(len(vectors))]
    queries = vectors[rng.choice(len(vectors), 200, replace=False)] + 0.1 * rng.normal(size=(200, 48))
    exact = NeighbourIndex(vectors, ids, kind="exact").search_rows(queries, 10)[1]
    ivf = NeighbourIndex(vectors, ids, kind="ivf", n_lists=128, n_probe=16)
    assert ivf.kind == "ivf"
    recall = recall_at_k(ivf.search_rows(queries, 10)[1], exact)
    ivf.n_probe = 1
    assert recall >= 0.9 and recall > recall_at_k(ivf.search_rows(queries, 10)[1], exact)


# -- the tags space -----------------------------------------------------------------------------
def _tagged_tones(n_per: int = 6, seed: int = 0):
    """Tones tagged with family (the instrument), register and dynamics."""
    rng = np.random.default_rng(seed)
    clips, words = [], []
    for name in FORMANTS:
        for register, (lo, hi) in {"low": (100, 160), "high": (400, 640)}.items():
            for dynamics, gain_db in {"pp": -30.0, "ff": 0.0}.items():
                for _ in range(n_per):
                    f0 = rng.uniform(lo, hi)
                    clips.append(formant_tone(f0, name, level=0.5 * 10 ** ((gain_db + rng.uniform(-3, 3)) / 20)))
                    words.append(tags.tag_words({"family": name, "register": register, "dynamics": dynamics}))
    return clips, words


@pytest.fixture(scope="module")
def tags_model():
    torch.manual_seed(0)
    clips, words = _tagged_tones()
    mels = [log_mel(c) for c in clips]
    with one_torch_thread():
        model = tags.train_tags(mels, words, train=tags.TagsTraining(epochs=50, batch_size=24, lr=5e-3))
    return model, clips, words


def test_tags_search_returns_clips_with_the_tags(tags_model):
    model, clips, words = tags_model
    vectors = tags.embed(model, log_mel(np.stack(clips))).numpy()
    index = NeighbourIndex(vectors, [str(i) for i in range(len(clips))])
    for query, wanted in [("bright high", {"bright", "high"}), ("dark, low register", {"dark", "low"}),
                          ("nasal fortissimo", {"nasal", "ff"}), ("pp low", {"pp", "low"}),
                          ("bright ff", {"bright", "ff"})]:
        _, ids = index.search(model.search_vector(query).numpy(), k=5)
        hits = [set(words[int(i)]) for i in ids[0]]
        assert all(wanted <= h for h in hits), (query, hits)


def test_unknown_words_are_an_error_naming_the_vocabulary(tags_model):
    model = tags_model[0]
    with pytest.raises(UnknownWords) as err:
        model.search_vector("muted bright")
    assert err.value.unknown == ["muted"]
    assert "muted" in str(err.value) and all(w in str(err.value) for w in ("bright", "dark", "ff", "low"))


# -- a bundle with a corpus -----------------------------------------------------------------------
def _tiny_bundle(path):
    """A bundle of 3 classes with an (untrained) prototype model and a corpus of 18 tagged tones."""
    classes = list(FORMANTS)
    cfg = PrototypeConfig(n_classes=3)
    model = PrototypeModel(cfg)
    model.stage = "filters"
    write_weights(path / "models" / "p" / "filters.safetensors", model.state_dict())
    entry = ModelEntry("p", KIND, cfg.to_dict(), "models/p/filters.safetensors",
                       {"filters": "models/p/filters.safetensors"})
    Bundle(path, "tiny", AudioConfig(), classes, {"p": entry}).save()
    rows, rng = [], np.random.default_rng(3)
    for name in classes:
        for i in range(6):
            register = "low" if i % 2 == 0 else "high"
            f0 = rng.uniform(100, 160) if register == "low" else rng.uniform(400, 640)
            clip_id = f"c-{name}-{i:03d}"
            (path / "corpus" / "audio").mkdir(parents=True, exist_ok=True)
            sf.write(path / "corpus" / "audio" / f"{clip_id}.flac", formant_tone(f0, name), SR, subtype="PCM_16")
            rows.append({"id": clip_id, "label": name, "split": "test", "path": f"audio/{clip_id}.flac",
                         "family": name, "register": register, "dynamics": "ff" if i < 3 else "pp"})
    with open(path / "corpus" / "index.csv", "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    return path


@pytest.fixture(scope="module")
def built_bundle(tmp_path_factory):
    path = _tiny_bundle(tmp_path_factory.mktemp("bundle"))
    with one_torch_thread():
        meta = build_embeddings(path, spaces=["timbre", "pitch", "learned", "prototype-profile", "tags"],
                                tags_epochs=3, progress=False)
    return path, meta


def test_built_spaces_are_stored_with_their_quality_and_a_clip_embedded_anew_lands_on_its_vector(built_bundle):
    path, meta = built_bundle
    stored = json.loads((path / "bundle.json").read_text())["embeddings"]
    assert stored["ids"] == meta["ids"] and len(stored["ids"]) == 18
    spaces = load_spaces(path)
    assert spaces.names == ["timbre", "pitch", "learned", "prototype-profile", "tags"]
    for name in spaces.names:
        q = stored["spaces"][name]["quality"]
        assert 0 <= q["nn_macro_f1"] <= 1 and q["dbi"] > 0 and "accuracy" in q["probe"]
        assert stored["spaces"][name]["description"]
        # a corpus clip's audio, embedded anew, lands on its stored vector
        samples = load_audio(path / "corpus" / "audio" / "c-nasal-002.flac", SR).samples
        assert np.allclose(spaces.embed(name, samples), spaces.vector(name, "c-nasal-002"), atol=1e-4)
        hits = dict(spaces.neighbours(name, samples, k=18))  # an upload is searched among all clips
        assert len(hits) == 18 and hits["c-nasal-002"] < 1e-4, name
    assert "all" in stored["probes"]


def test_neighbours_of_a_corpus_clip_leave_the_clip_out(built_bundle):
    spaces = load_spaces(built_bundle[0])
    hits = spaces.neighbours("timbre", "c-dark-001", k=5)
    assert len(hits) == 5 and "c-dark-001" not in [h.clip_id for h in hits]
    assert [h.distance for h in hits] == sorted(h.distance for h in hits)
    assert hits[0].clip_id.startswith("c-dark"), hits  # the same instrument at another pitch


def test_a_bundles_vocabulary_holds_the_words_of_its_tags(built_bundle):
    spaces = load_spaces(built_bundle[0])
    assert {"dark", "bright", "nasal", "low", "high", "ff", "pp"} <= set(spaces.vocabulary)


def test_a_bundle_is_searched_by_words(built_bundle):
    spaces = load_spaces(built_bundle[0])
    assert len(spaces.search_words("nasal low", k=4)) == 4


def test_words_a_bundle_does_not_know_are_an_error_naming_those_it_knows(built_bundle):
    spaces = load_spaces(built_bundle[0])
    with pytest.raises(UnknownWords, match="knows: .*bright"):
        spaces.search_words("trumpet")


def test_rebuilding_one_space_keeps_the_others(tmp_path):
    path = _tiny_bundle(tmp_path / "b")
    with one_torch_thread():
        build_embeddings(path, spaces=["timbre", "learned", "tags"], tags_epochs=2, progress=False)
        before = load_spaces(path)
        meta = build_embeddings(path, spaces=["pitch"], progress=False)
    after = load_spaces(path)
    assert after.names == ["timbre", "pitch", "learned", "tags"] and set(meta["spaces"]) == set(after.names)
    for name in ("timbre", "learned", "tags"):  # kept as stored, and measured again
        assert np.array_equal(after.vector(name, "c-dark-001"), before.vector(name, "c-dark-001"))
        assert "nn_macro_f1" in meta["spaces"][name]["quality"]
    assert len(after.search_words("nasal low", k=3)) == 3
    assert "all" in meta["probes"]


def test_a_retrained_model_rebuilds_its_spaces_with_any_partial_rebuild(tmp_path):
    path = _tiny_bundle(tmp_path / "b")
    with one_torch_thread():
        build_embeddings(path, spaces=["timbre", "learned"], progress=False)
        before = load_spaces(path).vector("learned", "c-dark-001")
        entry = load_bundle(path).entry("p")
        retrained = PrototypeModel(PrototypeConfig.from_dict(entry.config))
        retrained.stage = "filters"
        write_weights(path / entry.weights, retrained.state_dict())  # other (random) weights
        messages = []
        build_embeddings(path, spaces=["timbre"], progress=False, log=messages.append)
    after = load_spaces(path)
    assert after.names == ["timbre", "learned"]
    assert not np.allclose(after.vector("learned", "c-dark-001"), before)
    assert any("learned" in m and "rebuilt" in m for m in messages)


def test_a_bundle_without_embeddings_is_a_clear_error(tmp_path):
    path = _tiny_bundle(tmp_path / "b")
    with pytest.raises(BundleError, match="add-embeddings"):
        load_spaces(path)
    assert "embeddings" not in load_bundle(path).extra


def test_cli_add_embeddings_without_a_corpus_exits_2_with_one_line(tmp_path, capsys):
    from auralens.server.cli import main

    Bundle(tmp_path / "empty", "empty", AudioConfig(), ["a"], {}).save()
    assert main(["bundle", "add-embeddings", "--bundle", str(tmp_path / "empty"), "--quiet"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "add-corpus" in err


@pytest.mark.skipif(not aisfx_network.available(), reason="aisfx not installed (pip install --no-deps aisfx==0.1.2)")
def test_aisfx_encoder_loads_the_pretrained_weights_and_embeds():
    encoder = aisfx_network.load_encoder()  # strict: every key of the checkpoint's encoder matches
    clips = np.stack([formant_tone(220.0, "dark", 2.0), formant_tone(220.0, "dark", 2.0) * 0.2,
                      formant_tone(220.0, "bright", 2.0)])
    v = aisfx.embed(encoder, clips, SR).numpy()
    assert v.shape == (3, 512) and np.isfinite(v).all() and (v >= 0).all()
    assert np.allclose(v[0], v[1], atol=1e-3)  # peak-normalised input: the level does not matter
    assert not np.allclose(v[0], v[2], atol=1e-2)
