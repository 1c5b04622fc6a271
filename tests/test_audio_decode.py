"""Decoding and validation: every kind of unusable input is a typed error a person can read."""
import subprocess
import sys

import numpy as np
import pytest

from auralens.models.audio import (AudioError, AudioTooLong, EmptyAudio, InvalidSamples, SilentAudio,
                          UnsupportedAudio, load_audio)

from .sounds import SR, harmonic_tone


def dominant_frequency(samples: np.ndarray, sr: int) -> float:
    spectrum = np.abs(np.fft.rfft(samples * np.hanning(len(samples))))
    return float(np.fft.rfftfreq(len(samples), 1 / sr)[spectrum.argmax()])


@pytest.mark.parametrize("fmt,subtype,ext", [
    ("WAV", "PCM_16", "wav"), ("WAV", "FLOAT", "wav"), ("FLAC", "PCM_16", "flac"),
    ("OGG", "VORBIS", "ogg"), ("OGG", "OPUS", "opus"), ("MP3", "MPEG_LAYER_III", "mp3"),
])
def test_each_accepted_format_decodes_to_the_same_pitch(write_audio, fmt, subtype, ext):
    sr = 48_000 if subtype == "OPUS" else SR
    tone = 0.5 * np.sin(2 * np.pi * 440 * np.arange(sr) / sr)
    path = write_audio(f"tone.{ext}", tone, sr, format=fmt, subtype=subtype)
    audio = load_audio(path)
    assert audio.sample_rate == SR
    assert abs(audio.duration_s - 1.0) < 0.1
    assert abs(dominant_frequency(audio.samples, SR) - 440) < 3


def test_bytes_decode_like_the_file(write_audio):
    path = write_audio("tone.flac", harmonic_tone(220, 0.5))
    from_file = load_audio(path).samples
    from_bytes = load_audio(path.read_bytes()).samples
    np.testing.assert_array_equal(from_file, from_bytes)


def test_stereo_is_mixed_down_to_mono(write_audio):
    left = np.full(SR, 0.4, dtype=np.float32)
    path = write_audio("stereo.wav", np.stack([left, -0.5 * left], axis=1), subtype="FLOAT")
    audio = load_audio(path)
    assert audio.samples.ndim == 1 and audio.source_channels == 2
    np.testing.assert_allclose(audio.samples, 0.1, atol=1e-6)


def test_resampling_keeps_the_frequency(write_audio):
    sr = 44_100
    path = write_audio("tone.wav", 0.5 * np.sin(2 * np.pi * 1000 * np.arange(sr) / sr), sr)
    audio = load_audio(path, sample_rate=SR)
    assert audio.source_sample_rate == sr and len(audio.samples) == SR
    assert abs(dominant_frequency(audio.samples, SR) - 1000) < 2


def test_a_text_file_named_wav_is_unsupported(tmp_path):
    path = tmp_path / "notes.wav"
    path.write_text("These are my notes, not a recording.\n" * 20)
    with pytest.raises(UnsupportedAudio, match="could not be read as audio"):
        load_audio(path)


def test_random_bytes_are_unsupported():
    with pytest.raises(UnsupportedAudio):
        load_audio(np.random.default_rng(0).bytes(4096))


def test_an_empty_file_is_empty_audio(tmp_path):
    path = tmp_path / "empty.wav"
    path.write_bytes(b"")
    with pytest.raises(EmptyAudio, match="empty"):
        load_audio(path)


def test_a_header_without_samples_is_empty_audio(write_audio):
    with pytest.raises(EmptyAudio, match="no audio samples"):
        load_audio(write_audio("nothing.wav", np.zeros(0, dtype=np.float32)))


def test_an_hour_long_file_is_too_long_and_is_refused_before_decoding(write_audio):
    # 1 hour at 1 kHz keeps the file small; the limit is read from the header.
    path = write_audio("hour.wav", np.full(3600 * 1000, 0.1, dtype=np.float32), 1000, subtype="PCM_U8")
    with pytest.raises(AudioTooLong, match="60 min 0 s long; the limit is 10 min"):
        load_audio(path)


def test_the_duration_limit_is_configurable(write_audio):
    path = write_audio("three.wav", harmonic_tone(220, 3.0))
    assert load_audio(path, max_seconds=5).duration_s == pytest.approx(3.0)
    with pytest.raises(AudioTooLong):
        load_audio(path, max_seconds=2)


def test_all_zero_audio_is_silent(write_audio):
    with pytest.raises(SilentAudio, match="silent"):
        load_audio(write_audio("zero.wav", np.zeros(SR, dtype=np.float32)))


def test_nan_samples_are_invalid(write_audio):
    samples = harmonic_tone(220, 1.0)
    samples[100] = np.nan
    with pytest.raises(InvalidSamples, match="NaN"):
        load_audio(write_audio("nan.wav", samples, subtype="FLOAT"))


def test_infinite_samples_are_invalid(write_audio):
    samples = harmonic_tone(220, 1.0)
    samples[5] = np.inf
    with pytest.raises(InvalidSamples):
        load_audio(write_audio("inf.wav", samples, subtype="FLOAT"))


def test_every_audio_error_is_a_value_error_with_a_sentence(tmp_path):
    path = tmp_path / "e.wav"
    path.write_bytes(b"")
    with pytest.raises(ValueError) as info:
        load_audio(path)
    assert isinstance(info.value, AudioError)
    assert str(info.value)[0].isupper() and str(info.value).endswith(".")


def test_cli_names_three_different_problems_without_a_traceback(tmp_path, write_audio):
    text = tmp_path / "text.wav"
    text.write_text("not audio\n" * 100)
    empty = tmp_path / "empty.wav"
    empty.write_bytes(b"")
    hour = write_audio("hour.wav", np.full(3600 * 1000, 0.1, dtype=np.float32), 1000, subtype="PCM_U8")
    good = write_audio("good.wav", harmonic_tone(220, 1.0))
    result = subprocess.run([sys.executable, "-m", "auralens.server.cli", "audio", "info", str(text), str(empty),
                             str(hour), str(good)], capture_output=True, text=True, timeout=120)
    assert result.returncode == 2
    assert "Traceback" not in result.stdout + result.stderr
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 4 and len(set(line.split(": ", 1)[1] for line in lines)) == 4
    assert "not recognised" in lines[0] and "empty" in lines[1] and "limit" in lines[2]
    assert "1.00 s" in lines[3]
