"""What the explorer shows about a clip, and the augmentations the training uses."""
import pytest
import torch

from auralens.models.audio import log_mel
from auralens.models.prototypes.analysis import analyse
from auralens.models.prototypes.augment import Augmentation, augment, stretch_time
from auralens.models.prototypes.transforms import STAGES

from .small_models import trained_looking_model
from .sounds import timbre_tone


def test_analysis_covers_every_prototype_at_every_stage():
    model = trained_looking_model()
    x = log_mel(timbre_tone(220.0, "hollow", 2.0))
    a = analyse(model, x)
    K, T = 6, x.shape[-1]
    assert a.scores.shape == (3,) and torch.isclose(a.scores.sum(), torch.tensor(1.0))
    assert a.stage_errors.shape == (4, K) and a.frame_errors.shape == (K, T)
    assert a.reconstructions.shape == (4, K, 128, T)
    for s in range(len(STAGES)):
        direct = (a.reconstructions[s] - x).square().mean((-2, -1))
        torch.testing.assert_close(a.stage_errors[s], direct, atol=1e-5, rtol=1e-4)


def test_analysis_reports_transformations_in_decibels_semitones_and_hertz():
    model = trained_looking_model()
    a = analyse(model, log_mel(timbre_tone(330.0, "bright", 1.0)), with_reconstructions=False)
    assert set(a.units) == {"gain_db", "shift_semitones", "low_cut_hz", "low_edge_db", "high_cut_hz", "high_edge_db"}
    assert a.units["gain_db"].abs().max() <= 0.5 * 170 + 1e-3
    assert a.units["shift_semitones"].abs().max() <= 24
    for key in ("low_cut_hz", "high_cut_hz"):
        assert (a.units[key] >= 0).all() and (a.units[key] <= 11_025).all()
    assert a.reconstructions is None


def test_analysis_of_an_earlier_stage_model_stops_at_that_stage():
    model = trained_looking_model()
    model.stage = "gain"
    a = analyse(model, log_mel(timbre_tone(330.0, "dark", 1.0)))
    assert a.stage_errors.shape[0] == 2 and set(a.units) == {"gain_db"}


def test_augmentation_keeps_shape_and_is_repeatable_with_a_seed():
    x = log_mel(torch.stack([torch.from_numpy(timbre_tone(f, "bright", 2.0)) for f in (110.0, 440.0)]))
    one = augment(x, Augmentation(), torch.Generator().manual_seed(3))
    two = augment(x, Augmentation(), torch.Generator().manual_seed(3))
    assert one.shape == x.shape and torch.equal(one, two) and (one >= 0).all()
    assert not torch.equal(one, augment(x, Augmentation(), torch.Generator().manual_seed(4)))


def test_time_stretch_slows_the_decay():
    x = log_mel(timbre_tone(220.0, "bright", 2.0, decay=3.0)).unsqueeze(0)
    slower = stretch_time(x, torch.tensor([1.5]))
    level = lambda s: s[0].mean(0)
    assert level(slower)[40] > level(x)[40]


def test_timeline_names_the_winning_prototype_per_stretch_and_merges_repeats():
    from auralens.models.prototypes.analysis import timeline

    errors = torch.tensor([[0.1] * 40 + [0.9] * 40 + [0.1] * 20, [0.5] * 100])
    segments = timeline(errors, seconds_per_frame=0.05, segment_s=1.0)
    assert [s["prototype"] for s in segments] == [0, 1, 0]
    assert segments[0]["start_s"] == 0 and segments[-1]["end_s"] == pytest.approx(5.0)
    assert all(a["end_s"] == b["start_s"] for a, b in zip(segments, segments[1:]))


def test_a_long_clip_timeline_follows_the_instrument_that_plays():
    from auralens.models.audio import AudioConfig
    from auralens.models.prototypes.analysis import timeline

    model = trained_looking_model()
    with torch.no_grad():  # prototype 0 is a hollow tone's spectrum, prototype 2 a dark one's
        model.prototypes[0] = log_mel(timbre_tone(220.0, "hollow", 1.0, decay=0.0)).mean(-1)
        model.prototypes[2] = log_mel(timbre_tone(220.0, "dark", 1.0, decay=0.0)).mean(-1)
    model.stage = "raw"
    clip = torch.cat([torch.from_numpy(timbre_tone(220.0, t, 2.0, decay=0.0)) for t in ("hollow", "dark")])
    a = analyse(model, log_mel(clip), with_reconstructions=False)
    segments = timeline(a.frame_errors, AudioConfig().frame_seconds, segment_s=1.0)
    def winner_at(t):
        return next(s["prototype"] for s in segments if s["start_s"] <= t < s["end_s"])

    assert winner_at(0.5) == 0 and winner_at(1.5) == 0 and winner_at(2.5) == 2 and winner_at(3.5) == 2
