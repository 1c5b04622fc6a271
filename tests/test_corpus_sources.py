"""The corpus's second edition: several SoundFonts, melodies and their notes, negatives."""
from __future__ import annotations

import csv
import subprocess
import sys
from collections import Counter

import librosa
import numpy as np
import pytest
import soundfile

from auralens.models.corpus import build_corpus
from auralens.models.corpus.sources import source_name
from auralens.models.data import DatasetError, read_collection

from .helpers import OPL3_SOUNDFONT, SOUNDFONT, needs_second_edition

SUSTAINED = ("clarinet", "flute", "oboe", "violin")


def read_rows(path):
    with path.open(newline="", encoding="utf-8") as file:
        return list(csv.DictReader(file))


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """Four sustained classes x 5 clips from each of FluidR3_GM and OPL-3, 3 of 5 melodies,
    2 negatives of each kind."""
    out = tmp_path_factory.mktemp("second-edition")
    report = build_corpus([SOUNDFONT, OPL3_SOUNDFONT], out, per_class=5, seed=3, concept_size=0,
                          classes=SUSTAINED, melody_share=0.6, negatives=2, progress=False)
    return out, report, read_rows(out / "manifest.csv")


@needs_second_edition
def test_every_clip_records_its_soundfont_and_every_source_plays_every_class(built):
    _, report, rows = built
    sources = {source_name(SOUNDFONT), source_name(OPL3_SOUNDFONT)}
    assert Counter((r["label"], r["soundfont"]) for r in rows) == {(c, s): 5 for c in SUSTAINED for s in sources}
    assert set(report.sources) == sources and all(c.clips == 20 for c in report.sources.values())


@needs_second_edition
def test_splits_are_drawn_per_class_and_source(built):
    _, _, rows = built
    for label in SUSTAINED:
        for source in {r["soundfont"] for r in rows}:
            splits = Counter(r["split"] for r in rows if r["label"] == label and r["soundfont"] == source)
            assert splits == {"train": 3, "val": 1, "test": 1}


@needs_second_edition
def test_the_melody_share_of_clips_are_phrases_of_3_to_8_notes_lasting_2_to_6_s(built):
    out, report, rows = built
    melodies = [r for r in rows if r["clip"] == "melody"]
    assert len(melodies) == 3 * len(SUSTAINED) * 2 == sum(c.melodies for c in report.sources.values())
    for row in melodies:
        assert 3 <= int(row["n_notes"]) <= 8 and row["articulation"] in ("legato", "detached")
        assert 2.0 <= soundfile.info(out / row["path"]).duration <= 6.0


@needs_second_edition
def test_the_sidecar_annotates_every_note_of_every_clip_and_models_data_reads_it(built):
    out, _, rows = built
    table = read_collection(out)
    assert len(table) == len(rows)
    for record, row in zip(table.records, rows):
        assert len(record.notes) == int(row["n_notes"]) and record.source == row["soundfont"]
        assert all(0 <= n.onset < n.offset for n in record.notes)


def _cents_off(samples: np.ndarray, sr: int, note, next_onset: float | None) -> float:
    """How far (cents) the median f0 heard during one annotated note is from its pitch."""
    end = min(note.offset, next_onset) if next_onset is not None else note.offset
    held = samples[int((note.onset + 0.04) * sr): int((end - 0.02) * sr)]
    expected = librosa.midi_to_hz(note.pitch)
    f0 = librosa.yin(held, fmin=expected / 1.5, fmax=min(expected * 1.5, sr / 4), sr=sr, frame_length=1024)
    return float(1200 * np.log2(np.median(f0) / expected))


@needs_second_edition
def test_the_notes_of_a_phrase_are_the_pitches_heard(built):
    out, _, _ = built
    table = read_collection(out)
    errors = []
    for record in table.records:
        if record.tags["clip"] != "melody" or record.source != source_name(SOUNDFONT):
            continue
        samples, sr = soundfile.read(record.path, dtype="float32")
        onsets = [n.onset for n in record.notes[1:]] + [None]
        errors += [abs(_cents_off(samples, sr, note, nxt)) for note, nxt in zip(record.notes, onsets)
                   if min(note.offset, nxt or note.offset) - note.onset > 0.12]
    assert len(errors) >= 12
    assert np.median(errors) < 50, errors


@needs_second_edition
def test_negatives_have_every_kind_in_their_own_folder_and_never_a_label(built):
    out, report, rows = built
    negatives = read_rows(out / "negatives" / "manifest.csv")
    assert Counter(r["kind"] for r in negatives) == {k: 2 for k in ("speech", "noise", "percussion", "programs")}
    assert "label" not in negatives[0] and report.negatives["speech"] == 2
    assert all((out / "negatives" / r["path"]).is_file() for r in negatives)
    assert not any(r["path"].startswith("negatives/") for r in rows)
    assert not any("negatives" in r.path.parts for r in read_collection(out).records)
    with pytest.raises(DatasetError, match="label"):
        read_collection(out / "negatives" / "manifest.csv")


@needs_second_edition
def test_negatives_of_percussion_and_other_programs_come_from_each_soundfont(built):
    out, _, _ = built
    negatives = read_rows(out / "negatives" / "manifest.csv")
    for kind in ("percussion", "programs"):
        assert {r["source"] for r in negatives if r["kind"] == kind} == {source_name(SOUNDFONT),
                                                                       source_name(OPL3_SOUNDFONT)}


def _fake_soundfont(path):
    path.write_bytes(b"RIFF\x04\x00\x00\x00sfbk")
    return path


def test_timgm6mb_is_refused_in_a_training_corpus(tmp_path):
    timgm = _fake_soundfont(tmp_path / "TimGM6mb.sf2")
    with pytest.raises(ValueError, match="unheard check"):
        build_corpus([SOUNDFONT, timgm], tmp_path / "out", progress=False)


@needs_second_edition
def test_a_check_corpus_puts_every_clip_in_the_test_split(tmp_path):
    report = build_corpus(OPL3_SOUNDFONT, tmp_path, per_class=2, classes=["flute"], check_corpus=True,
                          concept_size=4, negatives=2, progress=False)
    assert {r["split"] for r in read_rows(tmp_path / "manifest.csv")} == {"test"}
    assert report.check_corpus and not (tmp_path / "concepts").exists() and not (tmp_path / "negatives").exists()


def test_an_unknown_soundfont_path_is_a_one_line_error(tmp_path):
    result = subprocess.run([sys.executable, "-m", "auralens.server.cli", "corpus", "build", "--soundfont",
                             str(SOUNDFONT), str(tmp_path / "missing.sf3"), "--out", str(tmp_path / "out")],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0 and "missing.sf3" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_labelled_folder_with_a_notes_file_gives_its_records_notes(write_audio, tmp_path):
    from .sounds import harmonic_tone

    write_audio("mine/flute/a.wav", harmonic_tone(440.0, 1.0))
    write_audio("mine/flute/b.wav", harmonic_tone(660.0, 1.0))
    (tmp_path / "mine" / "notes.csv").write_text("path,onset,offset,pitch,velocity\nflute/a.wav,0.5,0.9,69,90\n"
                                                 "flute/a.wav,0.0,0.4,67,80\n")
    records = {r.path.name: r for r in read_collection(tmp_path / "mine").records}
    assert [n.pitch for n in records["a.wav"].notes] == [67, 69] and records["b.wav"].notes == ()
    assert records["a.wav"].source == ""


@needs_second_edition
def test_the_build_records_the_augmentation_asked_for_with_switched_off_kinds_off(tmp_path):
    import json

    from auralens.models.training.augmentation import resolve_augmentation

    out = tmp_path / "out"
    result = subprocess.run([sys.executable, "-m", "auralens.server.cli", "corpus", "build", "--soundfont",
                             str(OPL3_SOUNDFONT), "--out", str(out), "--per-class", "1", "--melodies", "0",
                             "--negatives", "0", "--concept-size", "0", "--no", "room", "codec", "--quiet"],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    kinds = json.loads((out / "augmentation.json").read_text())["kinds"]
    assert kinds == {"room": False, "eq": True, "noise": True, "level": True, "codec": False}
    assert resolve_augmentation("corpus", out).kinds == kinds
    assert "train-time augmentation: eq, noise, level" in result.stdout


def test_training_refuses_timgm6mb_clips_in_its_train_split(write_audio, tmp_path):
    from auralens.models.prototypes.train import TrainConfig
    from auralens.models.training.record import RunOptions
    from auralens.models.training.spectral import train_prototypes_into_bundle

    from .sounds import harmonic_tone

    write_audio("check/flute/a.wav", harmonic_tone(440.0, 0.5))
    (tmp_path / "check" / "manifest.csv").write_text("path,label,split,soundfont\nflute/a.wav,flute,train,TimGM6mb\n")
    with pytest.raises(ValueError, match="unheard check"):
        train_prototypes_into_bundle(tmp_path / "check", tmp_path / "bundle", TrainConfig(),
                                     run=RunOptions(device="cpu", progress=False))
    assert not (tmp_path / "bundle").exists()
