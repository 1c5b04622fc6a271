"""Labelled collections: folders and manifests, splits, the feature cache, unreadable files."""
import csv
import os

import pytest
import torch

from auralens.models.audio import AudioConfig, load_audio, log_mel
from auralens.models.data import DatasetError, load_features, read_collection

from .sounds import harmonic_tone

PITCHES = {"low": 110.0, "high": 880.0}


@pytest.fixture
def folder(write_audio, tmp_path):
    """A labelled folder: 10 clips of a low tone and 10 of a high tone, of varied lengths."""
    for label, f0 in PITCHES.items():
        for i in range(10):
            write_audio(f"collection/{label}/{label}_{i}.wav", harmonic_tone(f0 * (1 + i / 100), 0.5 + 0.1 * i))
    return tmp_path / "collection"


def test_a_labelled_folder_gives_one_record_per_file_with_its_label(folder):
    table = read_collection(folder)
    assert len(table) == 20 and table.labels == ["high", "low"]
    assert all(r.path.parent.name == r.label for r in table.records)


def test_missing_splits_are_drawn_seeded_per_class(folder):
    first, again = read_collection(folder, seed=1), read_collection(folder, seed=1)
    assert [r.split for r in first.records] == [r.split for r in again.records]
    for label in first.labels:
        splits = [r.split for r in first.records if r.label == label]
        assert (splits.count("train"), splits.count("val"), splits.count("test")) == (7, 1, 2)


def test_a_manifest_gives_paths_labels_splits_and_tags(folder, tmp_path):
    manifest = tmp_path / "list.csv"
    with open(manifest, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["path", "label", "split", "register"])
        w.writerow(["collection/low/low_0.wav", "low", "test", "low"])
        w.writerow(["collection/high/high_0.wav", "high", "", "high"])
    table = read_collection(manifest)
    assert [r.path for r in table.records] == [folder / "low/low_0.wav", folder / "high/high_0.wav"]
    assert table.records[0].split == "test" and table.records[1].split in ("train", "val", "test")
    assert table.records[0].tags == {"register": "low"}


def test_a_manifest_without_label_column_is_refused(tmp_path):
    manifest = tmp_path / "m.csv"
    manifest.write_text("path,instrument\na.wav,flute\n")
    with pytest.raises(DatasetError, match="lacks the column"):
        read_collection(manifest)


def test_a_folder_without_audio_is_refused(tmp_path):
    (tmp_path / "flute").mkdir()
    (tmp_path / "flute" / "readme.txt").write_text("hello")
    with pytest.raises(DatasetError, match="No audio files"):
        read_collection(tmp_path)


def test_a_missing_path_is_refused(tmp_path):
    with pytest.raises(DatasetError, match="no folder or file"):
        read_collection(tmp_path / "nowhere")


def test_features_equal_the_front_end_log_mel(folder, tmp_path):
    table = read_collection(folder)
    features = load_features(table, cache_dir=tmp_path / "cache", progress=False)
    assert len(features) == 20 and features.class_names == ["high", "low"]
    for rec, feats, target in zip(features.records, features.features, features.targets):
        expected = log_mel(load_audio(rec.path).samples)
        assert feats.shape == expected.shape
        assert (feats - expected).abs().max() < 2e-3  # stored as float16
        assert features.class_names[target] == rec.label


def test_a_second_load_reads_no_audio(folder, tmp_path):
    table = read_collection(folder)
    first = load_features(table, cache_dir=tmp_path / "cache", progress=False)
    assert first.n_decoded == 20
    # Scramble every file's bytes but keep its size and time stamp: only the cache can answer.
    for rec in table.records:
        st = rec.path.stat()
        rec.path.write_bytes(b"\0" * st.st_size)
        os.utime(rec.path, ns=(st.st_atime_ns, st.st_mtime_ns))
    second = load_features(table, cache_dir=tmp_path / "cache", progress=False)
    assert second.n_decoded == 0 and second.skipped == []
    for a, b in zip(first.features, second.features):
        torch.testing.assert_close(a, b)


def test_a_changed_file_is_decoded_again(folder, tmp_path, write_audio):
    table = read_collection(folder)
    load_features(table, cache_dir=tmp_path / "cache", progress=False)
    changed = table.records[0].path
    write_audio(str(changed.relative_to(tmp_path)), harmonic_tone(300.0, 1.7))
    again = load_features(table, cache_dir=tmp_path / "cache", progress=False)
    assert again.n_decoded == 1
    assert again.features[0].shape[-1] == AudioConfig().n_frames(int(1.7 * 22_050))


def test_splits_loaded_one_after_another_share_the_cache(folder, tmp_path):
    table = read_collection(folder)
    for split in ("train", "val", "test"):
        load_features(table.subset(split), cache_dir=tmp_path / "cache", progress=False)
    again = [load_features(table.subset(split), cache_dir=tmp_path / "cache", progress=False) for split in ("train", "test")]
    assert [a.n_decoded for a in again] == [0, 0] and all(len(a) for a in again)


def test_unreadable_files_are_skipped_and_counted(folder, tmp_path):
    (folder / "low" / "broken.wav").write_text("not audio")
    (folder / "high" / "empty.wav").write_bytes(b"")
    features = load_features(read_collection(folder), cache_dir=tmp_path / "cache", progress=False)
    assert len(features) == 20 and len(features.skipped) == 2
    reasons = dict((p.name, r) for p, r in features.skipped)
    assert "could not be read as audio" in reasons["broken.wav"] and "empty" in reasons["empty.wav"]


def test_unreadable_files_fail_the_load_when_asked(folder, tmp_path):
    (folder / "low" / "broken.wav").write_text("not audio")
    with pytest.raises(DatasetError, match="broken.wav"):
        load_features(read_collection(folder), cache_dir=tmp_path / "cache", on_error="fail", progress=False)


def test_labels_the_model_does_not_know_are_named(folder, tmp_path):
    with pytest.raises(DatasetError, match="does not know: low"):
        load_features(read_collection(folder), class_names=["high", "flute"], cache_dir=tmp_path, progress=False)


def test_a_damaged_cache_is_rebuilt(folder, tmp_path):
    table = read_collection(folder)
    load_features(table, cache_dir=tmp_path / "cache", progress=False)
    for f in (tmp_path / "cache").iterdir():
        f.write_bytes(b"garbage")
    again = load_features(table, cache_dir=tmp_path / "cache", progress=False)
    assert again.n_decoded == 20 and len(again) == 20


def test_cli_prepare_reports_counts_and_skipped_files(folder, tmp_path, capsys):
    from auralens.server.cli import main

    (folder / "low" / "broken.wav").write_text("not audio")
    assert main(["data", "prepare", "--data", str(folder), "--cache-dir", str(tmp_path / "c"), "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "20 clips in 2 classes" in out and "1 file(s) could not be read" in out


def test_cli_prepare_fails_on_an_unreadable_file_when_asked_naming_it(folder, tmp_path, capsys):
    from auralens.server.cli import main

    (folder / "low" / "broken.wav").write_text("not audio")
    # after a first run that skipped it, with the readable files in the cache
    assert main(["data", "prepare", "--data", str(folder), "--cache-dir", str(tmp_path / "c"), "--quiet"]) == 0
    capsys.readouterr()
    assert main(["data", "prepare", "--data", str(folder), "--cache-dir", str(tmp_path / "c"),
                 "--on-error", "fail", "--quiet"]) == 2
    assert "broken.wav" in capsys.readouterr().err
