"""Log-mel features equal librosa's; Griffin-Lim brings them back to sound with the right pitch."""
import io

import librosa
import numpy as np
import pytest
import soundfile as sf
import torch

from auralens.models.audio import (AudioConfig, LogMel, encode_wav, log_mel, log_mel_to_audio,
                          mel_to_magnitude, spectral_convergence, steady_tone)

from .sounds import SR, harmonic_tone

CFG = AudioConfig()


def librosa_log_mel(y: np.ndarray) -> np.ndarray:
    power = librosa.feature.melspectrogram(
        y=y, sr=CFG.sample_rate, n_fft=CFG.n_fft, hop_length=CFG.hop_length, n_mels=CFG.n_mels,
        fmin=CFG.fmin, fmax=CFG.mel_fmax, htk=True, norm=None, power=2.0)
    return (np.log10(power + 1e-10) + 10) / 17


SIGNALS = {
    "noise": lambda: (0.3 * np.random.default_rng(0).standard_normal(2 * SR)).astype(np.float32),
    "chirp": lambda: (0.5 * librosa.chirp(fmin=60, fmax=9000, sr=SR, duration=2.0)).astype(np.float32),
    "harmonic": lambda: harmonic_tone(196.0),
}


def estimated_f0(y: np.ndarray) -> float:
    return float(np.median(librosa.yin(y, fmin=60, fmax=1000, sr=SR)[5:-5]))


@pytest.mark.parametrize("name", SIGNALS)
def test_log_mel_matches_librosa_within_1e_4_log_units(name):
    y = SIGNALS[name]()
    ours = log_mel(y).numpy()
    assert ours.shape == (128, 87)
    assert np.abs(ours - librosa_log_mel(y)).max() <= 1e-4


def test_log_mel_of_a_batch_equals_log_mel_of_each_clip():
    batch = np.stack([SIGNALS[n]() for n in SIGNALS])
    together = log_mel(batch)
    for i, y in enumerate(batch):
        torch.testing.assert_close(together[i], log_mel(y))


def test_silence_maps_to_zero():
    assert log_mel(np.zeros(SR, dtype=np.float32)).abs().max() < 1e-6


def test_ten_db_louder_is_one_seventeenth_unit_higher():
    y = SIGNALS["noise"]()
    louder = log_mel(y * 10 ** 0.5)  # +10 dB
    np.testing.assert_allclose((louder - log_mel(y)).numpy(), 1 / 17, atol=1e-5)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no GPU here")
def test_log_mel_on_gpu_matches_cpu():
    y = SIGNALS["chirp"]()
    torch.testing.assert_close(log_mel(y, device="cuda").cpu(), log_mel(y), atol=1e-4, rtol=0)


def test_module_output_shape_follows_the_hop():
    module = LogMel(CFG)
    assert module(torch.zeros(2, 3, 10_000)).shape == (2, 3, 128, 1 + 10_000 // 512)


def test_mel_inverse_is_non_negative_and_reproduces_the_mel_power():
    spec = log_mel(harmonic_tone(330.0))
    magnitude = mel_to_magnitude(spec)
    assert magnitude.shape == (1025, 87) and (magnitude >= 0).all()
    filterbank = torch.from_numpy(librosa.filters.mel(sr=SR, n_fft=2048, n_mels=128, htk=True, norm=None))
    power, target = filterbank @ magnitude.square(), CFG.log_to_power(spec)
    assert (power - target).norm() / target.norm() < 0.05
    strong = spec > spec.max() - 40 / 170  # bands within 40 dB of the loudest
    db_error = (CFG.power_to_log(power) - spec)[strong].abs().mean() * CFG.db_per_unit
    assert db_error < 2.0


def test_griffin_lim_keeps_the_fundamental_of_a_harmonic_tone_within_one_percent():
    for f0 in (110.0, 220.0, 440.0):
        y = harmonic_tone(f0)
        audio = log_mel_to_audio(log_mel(y), n_iter=32, length=len(y)).numpy()
        assert abs(estimated_f0(audio) - f0) / f0 < 0.01


def test_griffin_lim_runs_batched_and_matches_one_by_one():
    specs = torch.stack([log_mel(harmonic_tone(f)) for f in (150.0, 300.0)])
    batched = log_mel_to_audio(specs, n_iter=8, seed=3)
    assert batched.shape == (2, CFG.n_samples(87))
    torch.testing.assert_close(batched[1], log_mel_to_audio(specs[1], n_iter=8, seed=3), atol=1e-4, rtol=0)


def test_griffin_lim_with_momentum_converges_better_than_without():
    y = harmonic_tone(262.0)
    magnitude = mel_to_magnitude(log_mel(y))
    from auralens.models.audio import griffin_lim
    fast = spectral_convergence(magnitude, griffin_lim(magnitude, n_iter=16, momentum=0.99))
    slow = spectral_convergence(magnitude, griffin_lim(magnitude, n_iter=16, momentum=0.0))
    assert fast < slow


def test_steady_tone_has_the_requested_length_and_fades():
    frame = log_mel(harmonic_tone(440.0)).mean(dim=-1)
    audio = steady_tone(frame, seconds=1.5)
    assert audio.shape == (int(1.5 * SR),)
    assert audio[0].abs() < 1e-3 and audio[-1].abs() < 1e-3
    assert abs(estimated_f0(audio.numpy()) - 440.0) / 440.0 < 0.01


def test_encode_wav_normalises_to_minus_one_dbfs_and_reports_the_gain():
    y = 0.1 * np.sin(2 * np.pi * 440 * np.arange(SR) / SR)
    data, gain_db = encode_wav(y, SR)
    decoded, sr = sf.read(io.BytesIO(data))
    assert sr == SR and sf.info(io.BytesIO(data)).subtype == "PCM_16"
    assert 20 * np.log10(np.abs(decoded).max()) == pytest.approx(-1.0, abs=0.01)
    assert gain_db == pytest.approx(20 * np.log10(10 ** (-1 / 20) / 0.1), abs=0.01)


def test_encode_wav_can_keep_the_level():
    y = 0.1 * np.sin(2 * np.pi * 440 * np.arange(SR) / SR)
    data, gain_db = encode_wav(y, SR, peak_dbfs=None)
    decoded, _ = sf.read(io.BytesIO(data))
    assert gain_db == 0.0 and np.abs(decoded).max() == pytest.approx(0.1, abs=1e-3)
