"""A spectrum played as a harmonic tone: partials exactly at the pitch's harmonics, with the
mel spectrum it was asked to play and the note a pitch tracker should hear."""
import librosa
import numpy as np
import pytest
import torch

from auralens.models.audio import AudioConfig, harmonic_amplitudes, harmonic_tone, log_mel

from .sounds import SR, TIMBRES, timbre_tone

CFG = AudioConfig()


def sustained_frame(hz: float, timbre: str) -> torch.Tensor:
    """``(F,)``: the mean inner frame of a sustained synthetic note."""
    return log_mel(timbre_tone(hz, timbre, 1.0, decay=0.3), CFG)[:, 10:-10].mean(1)


@pytest.mark.parametrize("timbre", list(TIMBRES))
def test_the_tone_has_the_mel_spectrum_it_plays_within_half_a_db(timbre):
    frame = sustained_frame(220.0, timbre)
    played = log_mel(harmonic_tone(frame, 220.0, 1.0, CFG).numpy(), CFG)[:, 10:-10].mean(1)
    loud = frame > frame.max() - 0.25  # bands within about 40 dB of the strongest
    assert (played - frame)[loud].abs().mean() * CFG.db_per_unit < 0.5


def test_the_partials_sit_exactly_on_the_harmonics():
    tone = harmonic_tone(sustained_frame(330.0, "bright"), 330.0, 1.0, CFG).numpy()
    spectrum = np.abs(np.fft.rfft(tone * np.hanning(len(tone)))) ** 2
    hz = np.fft.rfftfreq(len(tone), 1 / SR)
    near = np.abs(hz / 330.0 - np.round(hz / 330.0)) * 330.0 < 5  # within 5 Hz of a harmonic
    assert spectrum[~near].sum() / spectrum.sum() < 1e-3


def test_a_tracker_hears_the_pitch_even_when_the_fundamental_is_weak():
    frame = sustained_frame(196.0, "hollow")
    centres = torch.from_numpy(CFG.mel_frequencies()).float()
    weak = frame - 0.2 * (centres < 250)  # the fundamental 34 dB down
    tone = harmonic_tone(weak, 196.0, 1.0, CFG).numpy()
    f0, voiced, _ = librosa.pyin(tone, fmin=60, fmax=1000, sr=SR, frame_length=2048)
    assert abs(12 * np.log2(np.nanmedian(f0[voiced]) / 196.0)) < 0.5


def test_silence_asks_for_no_partials():
    assert harmonic_amplitudes(torch.zeros(CFG.n_mels), 220.0, CFG).max() < 1e-4


def test_a_phrase_played_by_its_melody_keeps_its_notes_and_its_spectrum():
    from auralens.models.audio import harmonic_render

    from .sounds import timbre_phrase

    pitches, note_s = [55, 59, 62, 67], 0.4
    y = timbre_phrase(pitches, "bright", note_s)
    x = log_mel(y, CFG)
    frame_s = np.arange(x.shape[-1]) * CFG.hop_length / SR
    midi = np.array([pitches[min(int(s / note_s), len(pitches) - 1)] for s in frame_s])
    played = harmonic_render(x, torch.tensor(440 * 2 ** ((midi - 69) / 12), dtype=torch.float32), CFG, len(y))
    loud = x > x.amax(0, keepdim=True) - 0.25
    assert (log_mel(played.numpy(), CFG) - x)[loud].abs().mean() * CFG.db_per_unit < 3.0
    f0, voiced, _ = librosa.pyin(played.numpy(), fmin=60, fmax=1000, sr=SR)
    heard = librosa.hz_to_midi(f0)
    truth = np.array([pitches[min(int(s / note_s), len(pitches) - 1)] for s in librosa.times_like(f0, sr=SR)])
    assert np.nanmedian(np.abs(heard - truth)[voiced]) < 0.5
