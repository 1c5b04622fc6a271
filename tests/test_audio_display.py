"""Spectrograms in the units people read."""
import torch

from auralens.models.audio import AudioConfig, log_mel, spectrogram_for_display

from .sounds import harmonic_tone


def test_display_spectrogram_has_seconds_hertz_and_decibels():
    spec = log_mel(harmonic_tone(440.0, 2.0))
    d = spectrogram_for_display(spec)
    assert len(d["times_s"]) == 87 and len(d["freqs_hz"]) == 128 and len(d["values_db"]) == 128
    assert d["times_s"][1] - d["times_s"][0] == round(AudioConfig().frame_seconds, 4)
    loudest_band = max(range(128), key=lambda b: d["values_db"][b][40])
    assert abs(d["freqs_hz"][loudest_band] - 440.0) < 40


def test_ten_db_louder_reads_ten_db_higher():
    y = harmonic_tone(220.0, 1.0)
    quiet, loud = (spectrogram_for_display(log_mel(y * g))["values_db"] for g in (1.0, 10 ** 0.5))
    assert abs((loud[20][10] - quiet[20][10]) - 10.0) < 0.2


def test_long_spectrograms_are_averaged_down_for_drawing():
    d = spectrogram_for_display(torch.rand(128, 1001), max_frames=100)
    assert len(d["times_s"]) == 100 and len(d["values_db"][0]) == 100
    assert d["times_s"] == sorted(d["times_s"])

