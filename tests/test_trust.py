"""The "like what the model knows" score: its spectral summary, its fit, and old scores read
from new figures."""
from __future__ import annotations

import numpy as np
import torch

from auralens.models.audio import AudioConfig, log_mel
from auralens.models.trust import TrustModel, choose_regularisation, fit_trust, spectral_summary

from .sounds import SR, timbre_tone

CFG = AudioConfig()


def test_the_spectral_summary_does_not_change_with_the_level():
    x = log_mel(timbre_tone(220.0, "bright", 1.5, decay=0.3), CFG)
    louder = x + 0.2  # every band up by the same amount in log units
    assert torch.allclose(spectral_summary(x), spectral_summary(louder), atol=1e-5)


def test_the_spectral_summary_of_a_batch_is_that_of_each_clip():
    a = log_mel(timbre_tone(220.0, "bright", 1.0), CFG)
    b = log_mel((0.05 * np.random.default_rng(0).standard_normal(SR)).astype(np.float32), CFG)[:, : a.shape[1]]
    batch = spectral_summary(torch.stack([a, b]))
    assert torch.allclose(batch[0], spectral_summary(a), atol=1e-5)
    assert torch.allclose(batch[1], spectral_summary(b), atol=1e-5)


def test_noise_and_a_held_tone_have_different_summaries_that_a_score_separates():
    rng = np.random.default_rng(1)
    tones = [log_mel(timbre_tone(float(f), t, 1.0, decay=0.3), CFG)
             for f in rng.uniform(110, 660, 20) for t in ("bright", "dark")]
    noises = [log_mel((level * rng.standard_normal(SR)).astype(np.float32), CFG) for level in rng.uniform(0.01, 0.3, 40)]
    known, unknown = torch.stack([spectral_summary(x) for x in tones]), torch.stack([spectral_summary(x) for x in noises])
    score = fit_trust(known[::2], unknown[::2], flag_rate=0.05)
    assert score.flagged(unknown[1::2]).float().mean() > 0.9
    assert score.flagged(known[1::2]).float().mean() < 0.2


def test_the_regularisation_is_one_of_those_tried():
    gen = torch.Generator().manual_seed(0)
    Z = torch.randn(80, 3, generator=gen).numpy()
    y = (Z[:, 0] > 0).astype(float)
    assert choose_regularisation(Z, y, Cs=(0.05, 2.0)) in (0.05, 2.0)


def test_a_score_fitted_on_fewer_figures_reads_only_its_own_columns():
    old = TrustModel(mean=[0.0, 0.0], std=[1.0, 1.0], weights=[1.0, -1.0], bias=0.0, threshold=0.5)
    figures = torch.tensor([[0.3, 0.1]])
    with_summary = torch.cat([figures, torch.randn(1, 98)], 1)
    assert torch.equal(old.score(figures), old.score(with_summary))
