"""The orchestra16 corpus builder: files, manifests, tags, splits, concept sets, determinism."""

from __future__ import annotations

import csv
import filecmp
from collections import Counter
from pathlib import Path

import librosa
import numpy as np
import pytest
import soundfile

from auralens.models.corpus import (
    CLASS_NAMES,
    CLASSES,
    CONCEPT_COLUMNS,
    CONCEPTS,
    CORPUS_COLUMNS,
    Note,
    assign_splits,
    build_corpus,
    instrument_named,
    register_of,
    register_pitches,
    split_counts,
)
from auralens.models.corpus.render import peak_dbfs, render_notes

from .helpers import SOUNDFONT, needs_fluidsynth

SMALL_BUILD = dict(per_class=3, seed=0, concept_size=4, random_sets=2, workers=2, progress=False)


def read_rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as file:
        return list(csv.DictReader(file))


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    """One small corpus for the module: 3 clips per class, concept sets of 4, 2 random sets."""
    out = tmp_path_factory.mktemp("orchestra16")
    report = build_corpus(SOUNDFONT, out, **SMALL_BUILD)
    return out, report


@pytest.fixture(scope="module")
def rows(corpus):
    return read_rows(corpus[0] / "manifest.csv")


@pytest.fixture(scope="module")
def concept_rows(corpus):
    return read_rows(corpus[0] / "concepts" / "manifest.csv")


@needs_fluidsynth
def test_every_class_gets_per_class_clips_with_indexed_names(corpus, rows):
    out, report = corpus
    assert report.n_clips == 3 * len(CLASSES) == len(rows)
    for name in CLASS_NAMES:
        files = sorted(path.name for path in (out / name).iterdir())
        assert files == [f"{name}_{index:04d}.flac" for index in range(3)]
    assert report.clips_per_class == {name: 3 for name in CLASS_NAMES}


@needs_fluidsynth
def test_manifests_have_the_contract_columns_and_every_path_exists(corpus):
    out, _ = corpus
    for manifest, columns in (
        (out / "manifest.csv", CORPUS_COLUMNS),
        (out / "concepts" / "manifest.csv", CONCEPT_COLUMNS),
    ):
        with manifest.open(newline="", encoding="utf-8") as file:
            header = next(csv.reader(file))
        assert tuple(header) == columns
        for row in read_rows(manifest):
            assert "\\" not in row["path"] and not Path(row["path"]).is_absolute()
            assert (manifest.parent / row["path"]).is_file()
    assert CORPUS_COLUMNS == (
        "path", "label", "split", "pitch", "velocity", "duration", "vibrato", "reverb",
        "family", "register", "dynamics", "articulation",
        "soundfont", "clip", "n_notes", "motion", "shape",
    )


@needs_fluidsynth
def test_clips_are_two_second_mono_16_bit_22050_hz_and_not_silent(corpus, rows, concept_rows):
    out, _ = corpus
    paths = [out / row["path"] for row in rows] + [out / "concepts" / row["path"] for row in concept_rows]
    for path in paths:
        info = soundfile.info(path)
        assert (info.samplerate, info.channels, info.frames) == (22_050, 1, 44_100)
        assert info.subtype == "PCM_16"
        audio, _ = soundfile.read(path, dtype="float32")
        assert peak_dbfs(audio) > -50.0
        assert peak_dbfs(audio) < 0.0


@needs_fluidsynth
def test_pitch_tag_is_in_class_range_and_register_tag_agrees(rows, concept_rows):
    for row in rows + concept_rows:
        instrument = instrument_named(row["label"])
        pitch = int(row["pitch"])
        assert instrument.low <= pitch <= instrument.high
        assert row["register"] == register_of(instrument, pitch)
        assert row["family"] == instrument.family


@needs_fluidsynth
def test_velocity_matches_dynamics_and_duration_matches_articulation(rows, concept_rows):
    dynamics = {"40": "pp", "64": "mp", "90": "f", "120": "ff"}
    for row in rows + concept_rows:
        assert dynamics[row["velocity"]] == row["dynamics"]
        duration = float(row["duration"])
        assert len(row["duration"].partition(".")[2]) <= 3
        assert row["articulation"] == ("short" if duration < 0.6 else "long")


@needs_fluidsynth
def test_vibrato_reverb_and_duration_are_drawn_from_their_ranges(rows, concept_rows):
    for row in rows + concept_rows:
        assert row["vibrato"] in {"0", "90"} and row["reverb"] in {"0", "40", "100"}
    for row in rows:
        assert 0.3 <= float(row["duration"]) <= 1.8


@needs_fluidsynth
def test_splits_are_train_val_test_with_each_present_per_class(rows, corpus):
    by_class: dict[str, Counter] = {}
    for row in rows:
        by_class.setdefault(row["label"], Counter())[row["split"]] += 1
    assert set(by_class) == set(CLASS_NAMES)
    for counts in by_class.values():
        assert counts == Counter({"train": 1, "val": 1, "test": 1})
    assert [row["split"] for row in rows] == assign_splits([row["label"] for row in rows], 0)


@needs_fluidsynth
def test_concept_and_random_sets_have_the_requested_sizes(corpus, concept_rows):
    out, report = corpus
    sets = Counter(row["concept"] for row in concept_rows)
    expected = {name: 4 for name in (*CONCEPTS, "random_00", "random_01")}
    assert sets == expected
    for name in expected:
        files = sorted(path.name for path in (out / "concepts" / name).iterdir())
        assert files == [f"{name}_{index:04d}.flac" for index in range(4)]
    assert report.n_concept_clips == len(concept_rows) == 4 * 7
    assert report.random_sets == ("random_00", "random_01")


@needs_fluidsynth
def test_concept_rows_satisfy_their_concept(concept_rows):
    for row in concept_rows:
        concept, instrument = row["concept"], instrument_named(row["label"])
        if concept == "vibrato":
            assert row["vibrato"] == "90"
        elif concept == "reverberant":
            assert row["reverb"] == "100"
        elif concept == "staccato":
            assert 0.15 <= float(row["duration"]) <= 0.3 and row["articulation"] == "short"
        elif concept == "fortissimo":
            assert row["velocity"] == "120" and row["dynamics"] == "ff"
        elif concept == "high_register":
            assert int(row["pitch"]) in register_pitches(instrument, "high")
            assert row["register"] == "high"
    for concept in CONCEPTS:
        labels = [row["label"] for row in concept_rows if row["concept"] == concept]
        assert len(set(labels)) == len(labels), "a set of 4 should draw 4 different classes"


@needs_fluidsynth
def test_same_seed_gives_byte_identical_files_whatever_the_worker_count(corpus, tmp_path):
    out, _ = corpus
    build_corpus(SOUNDFONT, tmp_path, **{**SMALL_BUILD, "workers": 1})
    first = sorted(p.relative_to(out) for p in out.rglob("*") if p.is_file())
    second = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*") if p.is_file())
    assert first == second
    for relative in first:
        assert filecmp.cmp(out / relative, tmp_path / relative, shallow=False), relative


OTHER_CLASSES = ("flute", "violin")


@pytest.fixture(scope="module")
def other_build(tmp_path_factory):
    """Flutes and violins, 3 each, with seed 1, as WAV, without concept sets."""
    out = tmp_path_factory.mktemp("seed1-wav")
    report = build_corpus(
        SOUNDFONT, out, per_class=3, seed=1, concept_size=0, audio_format="wav",
        classes=OTHER_CLASSES, progress=False,
    )
    return out, report, read_rows(out / "manifest.csv")


@needs_fluidsynth
def test_different_seed_gives_different_draws(rows, other_build):
    _, _, other = other_build
    draws = ("pitch", "velocity", "duration", "vibrato", "reverb")
    seed0 = [tuple(row[k] for k in draws) for row in rows if row["label"] in OTHER_CLASSES]
    seed1 = [tuple(row[k] for k in draws) for row in other]
    assert seed0 != seed1


@needs_fluidsynth
def test_the_wav_format_writes_wav_files(other_build):
    out, _, other = other_build
    assert [row["path"] for row in other] == [
        f"{name}/{name}_{index:04d}.wav" for name in OTHER_CLASSES for index in range(3)
    ]
    assert soundfile.info(out / other[0]["path"]).format == "WAV"


@needs_fluidsynth
def test_a_concept_size_of_zero_makes_no_concept_sets(other_build):
    out, report, _ = other_build
    assert report.n_concept_clips == 0 and not (out / "concepts").exists()


@needs_fluidsynth
def test_rendered_pitch_matches_the_pitch_tag(corpus, rows, concept_rows):
    out, _ = corpus
    sustained = [
        (out / row["path"], row) for row in rows
    ] + [(out / "concepts" / row["path"], row) for row in concept_rows]
    sustained = [(path, row) for path, row in sustained
                 if row["label"] in {"flute", "violin", "oboe", "clarinet"} and row["articulation"] == "long"]
    assert sustained
    for path, row in sustained:
        audio, sample_rate = soundfile.read(path, dtype="float32")
        held = audio[int(0.1 * sample_rate) : int(float(row["duration"]) * sample_rate)]
        expected = 440.0 * 2 ** ((int(row["pitch"]) - 69) / 12)
        f0_track = librosa.yin(
            held, fmin=expected / 2.5, fmax=min(expected * 2.5, sample_rate / 4),
            sr=sample_rate, frame_length=2048,
        )
        f0 = np.median(f0_track)
        assert abs(f0 / expected - 1) < 0.03, (row["path"], f0, expected)


@needs_fluidsynth
def test_silent_keys_are_dropped_redrawn_and_reported(tmp_path):
    # FluidR3_GM has no contrabass sample above MIDI 57, so a quarter of its keys are silent.
    report = build_corpus(
        SOUNDFONT, tmp_path, per_class=12, concept_size=0, classes=["contrabass"], progress=False
    )
    assert report.redrawn, "12 contrabass draws with no silent key"
    assert all(r.label == "contrabass" and 58 <= r.pitch <= 67 for r in report.redrawn)
    assert report.redrawn_per_class() == {"contrabass": len(report.redrawn)}
    assert "dropped and redrawn" in report.summary() and "contrabass" in report.summary()
    written = read_rows(tmp_path / "manifest.csv")
    assert len(written) == 12 and all(int(row["pitch"]) <= 57 for row in written)


@needs_fluidsynth
def test_loud_reverberant_note_does_not_bleed_into_the_next_slot(tmp_path):
    loud = Note("harp", 28, 120, 1800, 90, 100)
    silent_key = Note("contrabass", 67, 120, 1800, 90, 100)
    clips = render_notes([loud, silent_key], SOUNDFONT, tmp_path)
    assert peak_dbfs(clips[0]) > -20
    assert peak_dbfs(clips[1]) < -100


@needs_fluidsynth
def test_rebuild_in_place_replaces_the_earlier_clips(tmp_path):
    options = dict(concept_size=0, classes=["oboe"], progress=False)
    build_corpus(SOUNDFONT, tmp_path, per_class=3, **options)
    report = build_corpus(SOUNDFONT, tmp_path, per_class=1, audio_format="wav", **options)
    files = sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*") if p.is_file())
    assert files == ["manifest.csv", "notes.csv", "oboe/oboe_0000.wav"]
    assert report.n_clips == 1


@needs_fluidsynth
def test_summary_tells_clips_sets_redraws_and_time(corpus):
    _, report = corpus
    summary = report.summary()
    assert "48 clips" in summary and "3 per class" in summary
    assert "random sets" in summary and "vibrato" in summary
    assert "dropped and redrawn" in summary
    assert report.seconds > 0 and f"{report.seconds:.1f} s" in summary


def test_missing_soundfont_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="SoundFont file not found"):
        build_corpus(tmp_path / "missing.sf2", tmp_path / "out", progress=False)


def test_a_file_that_is_not_a_soundfont_is_a_clear_error(tmp_path):
    not_a_soundfont = tmp_path / "notes.sf2"
    not_a_soundfont.write_bytes(b"not a soundfont")
    with pytest.raises(ValueError, match="not a SoundFont"):
        build_corpus(not_a_soundfont, tmp_path / "out", progress=False)


@needs_fluidsynth
def test_missing_fluidsynth_program_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(FileNotFoundError, match="install the Debian package fluidsynth"):
        build_corpus(SOUNDFONT, tmp_path / "out", per_class=1, progress=False)


@pytest.mark.parametrize(
    "options, message",
    [
        ({"per_class": 0}, "per_class must be an integer >= 1"),
        ({"seed": -1}, "seed must be"),
        ({"workers": 0}, "workers must be"),
        ({"audio_format": "mp3"}, "audio_format must be one of flac, wav"),
        ({"classes": ["kazoo"]}, "unknown class 'kazoo'"),
    ],
)
def test_invalid_arguments_are_clear_errors(tmp_path, options, message):
    with pytest.raises(ValueError, match=message):
        build_corpus(SOUNDFONT, tmp_path, progress=False, **options)


def test_assign_splits_gives_70_10_20_per_class_and_is_deterministic():
    labels = [name for name in ("harp", "oboe", "viola") for _ in range(100)]
    rng = np.random.default_rng(0)
    labels = list(rng.permutation(labels))
    splits = assign_splits(labels, seed=3)
    for name in ("harp", "oboe", "viola"):
        counts = Counter(s for s, label in zip(splits, labels) if label == name)
        assert counts == Counter({"train": 70, "val": 10, "test": 20})
    assert assign_splits(labels, seed=3) == splits
    assert assign_splits(labels, seed=4) != splits


def test_assign_splits_gives_every_split_to_small_classes():
    for n in range(3, 12):
        assert set(assign_splits(["cello"] * n, seed=0)) == {"train", "val", "test"}
        assert sum(split_counts(n).values()) == n


def test_assign_splits_gives_one_clip_to_train_and_two_to_train_and_test():
    assert assign_splits(["cello"], seed=0) == ["train"]
    assert sorted(assign_splits(["cello"] * 2, seed=0)) == ["test", "train"]
