"""Decode bombs and tricky files against the decoder: refused from the header before anything
is decoded, decoded in bounded memory when they are real, never a crash."""
import io
import tracemalloc

import numpy as np
import pytest
import soundfile as sf
import soxr

from auralens.models.audio import (AudioTooLong, AudioTooShort, InvalidSamples, SilentAudio, UnsupportedAudio,
                                   load_audio)

from .hostile_files import flac_declaring, flac_without_length, gsm_wav, silent_ogg, wav_at
from .sounds import SR


def test_a_flac_declaring_8_channels_at_192_khz_for_599_s_is_refused_from_its_header():
    bomb = flac_declaring(channels=8, rate=192_000, seconds=599)
    assert len(bomb) < 300_000  # small on disk: its header promises 920 million samples
    with pytest.raises(AudioTooLong, match="920 million samples .*8 channels"):
        load_audio(bomb)


def test_a_sample_rate_of_655_khz_is_refused_naming_the_accepted_range():
    with pytest.raises(UnsupportedAudio, match="655350 Hz; accepted rates are 8000 to 192000 Hz"):
        load_audio(flac_declaring(channels=1, rate=655_350, seconds=5))


def test_a_wav_at_1_hz_is_refused_instead_of_becoming_a_500_s_clip():
    with pytest.raises(UnsupportedAudio, match="1 Hz"):
        load_audio(wav_at(1, n=500))


def test_a_flac_that_does_not_say_its_length_decodes_to_its_true_duration():
    audio = load_audio(flac_without_length(seconds=1.5))
    assert audio.duration_s == pytest.approx(1.5, abs=1e-3)


def test_a_flac_that_does_not_say_its_length_is_still_held_to_the_duration_limit():
    with pytest.raises(AudioTooLong, match="longer than the limit of 1.0 s"):
        load_audio(flac_without_length(seconds=1.5), max_seconds=1.0)


def test_a_gsm_wav_decodes_to_its_duration():
    assert load_audio(gsm_wav(seconds=1.0)).duration_s == pytest.approx(1.0, abs=0.05)


def test_a_clip_under_512_samples_is_too_short_with_its_length_in_words():
    with pytest.raises(AudioTooShort, match="18 ms long; at least 23 ms"):
        load_audio(wav_at(SR, n=400))


def test_float_samples_near_the_largest_float_are_invalid():
    samples = np.full(SR, 0.1, np.float32)
    samples[100] = 3.3e38
    buf = io.BytesIO()
    sf.write(buf, samples, SR, format="WAV", subtype="FLOAT")
    with pytest.raises(InvalidSamples, match="far beyond full scale"):
        load_audio(buf.getvalue())


def test_many_channels_mix_down_and_resample_by_block_as_the_whole_file_would():
    rng = np.random.default_rng(1)
    x = (0.2 * rng.standard_normal((3 * 48_000 + 777, 6))).astype(np.float32)  # blocks and a remainder
    buf = io.BytesIO()
    sf.write(buf, x, 48_000, format="WAV", subtype="FLOAT")
    whole = soxr.resample(x.mean(axis=1), 48_000, SR, quality="HQ")
    audio = load_audio(buf.getvalue())
    assert audio.source_channels == 6 and len(audio.samples) == len(whole)
    np.testing.assert_allclose(audio.samples, whole, atol=1e-5)


def test_decoding_a_long_multichannel_file_holds_about_its_mono_result_not_every_channel():
    ogg = silent_ogg(seconds=60, channels=8, rate=48_000)  # 92 MB as 8 float32 channels at once
    tracemalloc.start()
    try:
        with pytest.raises(SilentAudio):
            load_audio(ogg)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 20 * 2**20  # the mono result at 22 050 Hz is 5.3 MB
