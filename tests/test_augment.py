"""Train-time augmentation: seeded, each kind doing what it should, recorded by training."""
from __future__ import annotations

import json

import numpy as np
import pytest

from auralens.models.augment import KINDS, AugmentConfig, Augmenter

from .sounds import SR, harmonic_tone, write_timbre_collection

ALWAYS = dict(room_probability=1.0, eq_probability=1.0, noise_probability=1.0, codec_probability=1.0)


def burst() -> np.ndarray:
    """0.3 s of a tone, then 1.7 s of silence."""
    out = np.zeros(2 * SR, np.float32)
    out[: int(0.3 * SR)] = harmonic_tone(330.0, 0.3)
    return out


def only(kind: str, seed: int = 0) -> Augmenter:
    return Augmenter(AugmentConfig(**ALWAYS).only([kind]), SR, seed)


def test_the_same_seed_and_clip_give_the_same_augmentation_and_another_clip_another():
    x = harmonic_tone(220.0)
    first, applied = Augmenter(AugmentConfig(**ALWAYS), SR, seed=5).augment(x, (3, 0))
    again, _ = Augmenter(AugmentConfig(**ALWAYS), SR, seed=5).augment(x, (3, 0))
    other, _ = Augmenter(AugmentConfig(**ALWAYS), SR, seed=5).augment(x, (4, 0))
    assert set(applied) == set(KINDS)
    assert np.array_equal(first, again) and not np.allclose(first, other)


def test_every_kind_switched_off_leaves_the_clip_as_it_was():
    x = harmonic_tone(220.0)
    out, applied = Augmenter(AugmentConfig(**ALWAYS).only([]), SR, seed=0).augment(x, (0, 0))
    assert applied == {} and np.array_equal(out, x)


def test_a_room_adds_a_decay_after_the_sound_stops():
    x = burst()
    out, applied = only("room").augment(x, (0, 0))
    after = slice(int(0.35 * SR), int(0.6 * SR))
    assert len(out) == len(x) and np.all(x[after] == 0)
    tail_db = 10 * np.log10(np.mean(out[after] ** 2) / np.mean(out[: int(0.3 * SR)] ** 2))
    assert -45 < tail_db < -3, (tail_db, applied["room"])


def test_a_level_change_adds_exactly_its_db():
    x = harmonic_tone(220.0)
    out, applied = only("level").augment(x, (7, 0))
    gain = applied["level"]["gain_db"]
    assert -40 <= gain <= 0
    assert 20 * np.log10(np.sqrt(np.mean(out.astype(np.float64) ** 2) / np.mean(x.astype(np.float64) ** 2))) \
        == pytest.approx(gain, abs=0.01)


def test_noise_is_added_at_its_drawn_snr():
    x = harmonic_tone(220.0)
    out, applied = only("noise").augment(x, (2, 0))
    snr = 10 * np.log10(np.mean(x.astype(np.float64) ** 2) / np.mean((out - x).astype(np.float64) ** 2))
    assert snr == pytest.approx(applied["noise"]["snr_db"], abs=0.05) and 5 <= snr <= 40


@pytest.mark.parametrize("codec", ["ogg", "mp3"])
def test_a_codec_round_trip_keeps_the_length_and_the_timing(codec):
    x = burst()
    out, applied = Augmenter(AugmentConfig(**ALWAYS, codecs=(codec,)).only(["codec"]), SR, 0).augment(x, (0, 0))
    assert applied["codec"]["codec"] == codec and len(out) == len(x)
    lags = np.arange(-200, 201)
    match = [np.dot(out[1000 + lag: 6000 + lag], x[1000:6000]) for lag in lags]
    assert lags[int(np.argmax(match))] == 0 and not np.array_equal(out, x)


def test_a_microphone_colour_changes_the_spectrum_not_the_length():
    x = (np.random.default_rng(0).standard_normal(SR) * 0.1).astype(np.float32)
    out, applied = only("eq").augment(x, (0, 0))
    spectrum_ratio = np.abs(np.fft.rfft(out)) / np.abs(np.fft.rfft(x))
    assert len(out) == len(x) and "peaks" in applied["eq"]
    assert spectrum_ratio[:20].mean() < 0.5  # the high-pass takes out the lowest hertz


def test_training_records_the_augmentation_the_collection_asks_for(tmp_path):
    from auralens.models.prototypes.train import TrainConfig
    from auralens.models.training.record import RunOptions
    from auralens.models.training.spectral import train_prototypes_into_bundle

    root = write_timbre_collection(tmp_path / "data", per_class=6)
    (root / "augmentation.json").write_text(json.dumps(AugmentConfig().only(["level", "noise"]).to_dict()))
    entry = train_prototypes_into_bundle(
        root, tmp_path / "bundle", TrainConfig(batch_size=8, patience=1, max_epochs_per_stage=1, warmup_steps=2,
                                               augment=False),
        run=RunOptions(device="cpu", progress=False, augmentation="corpus"))
    used = entry.training["audio_augmentation"]
    n_train = sum(entry.training["data"]["per_class"]["train"].values())
    assert used["config"]["kinds"] == {k: k in ("level", "noise") for k in KINDS}
    assert used["clips"] == n_train and used["applied"]["level"] == n_train
