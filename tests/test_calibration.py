"""Calibration that follows how well a clip is explained, and the anchor that keeps a pitch-
anchored model's prototypes harmonic while they are trained."""
from __future__ import annotations

import math
import subprocess
import sys

import torch
import torch.nn.functional as F

from auralens.models.prototypes.model import PrototypeConfig, PrototypeModel
from auralens.models.prototypes.train import TrainConfig, anchor_term, anchored_loss
from auralens.models.trust import clip_temperature, expected_calibration_error, fit_error_temperature, fit_temperature


def sure_logits(targets: torch.Tensor, right: float, gen: torch.Generator, n_classes: int = 4) -> torch.Tensor:
    """``(N, C)`` logits that put 8 units on one class: the true one for a share ``right`` of the
    clips, a random one otherwise (always equally sure, right or wrong)."""
    guess = torch.randint(n_classes, targets.shape, generator=gen)
    chosen = torch.where(torch.rand(targets.shape, generator=gen) < right, targets, guess)
    return 8.0 * F.one_hot(chosen, n_classes).float()


def test_a_zero_slope_gives_every_clip_the_one_temperature():
    errors = torch.tensor([[0.01, 0.5], [0.3, 0.2], [2.0, 4.0]])
    assert torch.allclose(clip_temperature(errors, 1.7), torch.full((3, 1), 1.7))


def test_the_temperature_grows_with_the_best_error_by_the_slope():
    errors = torch.tensor([[0.01, 0.5], [0.04, 0.2]])  # best errors a factor 4 apart
    t = clip_temperature(errors, 2.0, 0.5, math.log(0.01)).squeeze(1)
    assert math.isclose(float(t[0]), 2.0, rel_tol=1e-5) and math.isclose(float(t[1] / t[0]), 2.0, rel_tol=1e-4)


def test_the_fit_finds_softer_confidences_for_badly_explained_clips():
    """Well-explained clips are right 95 % of the time, badly explained ones 40 %: the fitted
    slope is positive, and each group's calibration error ends lower than with one temperature."""
    gen = torch.Generator().manual_seed(1)
    y_known, y_unheard = torch.randint(4, (600,), generator=gen), torch.randint(4, (600,), generator=gen)
    known, unheard = sure_logits(y_known, 0.95, gen), sure_logits(y_unheard, 0.4, gen)
    e_known = 0.01 * torch.exp(0.2 * torch.randn(600, 4, generator=gen))
    e_unheard = 0.08 * torch.exp(0.2 * torch.randn(600, 4, generator=gen))
    centre = float(e_known.amin(1).log().median())
    t0, slope = fit_error_temperature([known, unheard], [e_known, e_unheard], [y_known, y_unheard], centre)
    one = fit_temperature(torch.cat([known, unheard]), torch.cat([y_known, y_unheard]))
    assert slope > 0
    for logits, errors, y in ((known, e_known, y_known), (unheard, e_unheard, y_unheard)):
        fitted = torch.softmax(logits / clip_temperature(errors, t0, slope, centre), 1)
        single = torch.softmax(logits / one, 1)
        assert expected_calibration_error(fitted, y) < expected_calibration_error(single, y)


def test_a_model_with_a_slope_is_less_sure_of_a_clip_it_explains_worse():
    model = PrototypeModel(PrototypeConfig(n_classes=2, calibration_temperature=1.0, calibration_slope=1.0,
                                           calibration_centre=math.log(0.01)))
    close = torch.tensor([[0.01, 0.02]])
    far = close + 0.09  # the same gap between the classes, the best error ten times larger
    assert float(model.probabilities(far).max()) < float(model.probabilities(close).max())


def anchored_pair(weight: float) -> tuple[PrototypeModel, TrainConfig]:
    torch.manual_seed(0)
    model = PrototypeModel(PrototypeConfig(n_classes=2, pitch_anchored=True, reference_midi=(57.0, 64.0))).train()
    model.stage = "filters"
    model.register_buffer("anchor", model.prototypes.detach().clone(), persistent=False)
    return model, TrainConfig(anchor_weight=weight, lr=3e-2)


def test_the_anchor_term_holds_the_prototypes_near_their_pitch_aligned_start():
    """The same steps on the same batch move the prototypes far less with the anchor weight on."""
    gen = torch.Generator().manual_seed(2)
    x, y = torch.rand(6, 128, 24, generator=gen) * 0.6, torch.tensor([0, 1, 0, 1, 0, 1])
    track = torch.full((6, 24), 60.0)
    moved = {}
    for weight in (0.0, 50.0):
        model, cfg = anchored_pair(weight)
        opt = torch.optim.Adam([model.prototypes], lr=cfg.lr)
        for _ in range(40):
            loss, _ = anchored_loss(model, model, x, y, cfg, track)
            opt.zero_grad()
            loss.backward()
            opt.step()
        moved[weight] = float(anchor_term(model.prototypes.detach(), model.anchor))
    assert moved[50.0] < 0.5 * moved[0.0]


def test_a_negative_anchor_weight_is_refused_with_a_reason(tmp_path):
    run = subprocess.run([sys.executable, "-m", "auralens.server.cli", "train", "prototypes", "--data", str(tmp_path),
                          "--out", str(tmp_path / "out"), "--anchor-weight", "-1", "--quiet"],
                         capture_output=True, text=True, timeout=120)
    assert run.returncode != 0 and "--anchor-weight" in run.stderr and "Traceback" not in run.stderr
