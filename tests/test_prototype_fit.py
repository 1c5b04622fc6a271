"""Transformations fitted to a clip: what each prototype can explain, apart from the networks' choice."""
import torch

from auralens.models.audio import log_mel
from auralens.models.prototypes.fit import fit_transforms

from .small_models import trained_looking_model
from .sounds import timbre_tone


def clips() -> torch.Tensor:
    tones = [log_mel(timbre_tone(f0, timbre, 1.0)) for f0, timbre in ((220.0, "hollow"), (330.0, "bright"))]
    return torch.stack(tones)  # (2, F, T)


def test_no_fitting_steps_gives_the_networks_own_errors():
    model, x = trained_looking_model(), clips()
    errors, _ = fit_transforms(model, x, steps=0)
    with torch.no_grad():
        torch.testing.assert_close(errors, model(x).errors, atol=1e-6, rtol=1e-5)


def test_fitted_transformations_explain_every_prototype_at_least_as_well():
    model, x = trained_looking_model(), clips()
    before, _ = fit_transforms(model, x, steps=0)
    after, tr = fit_transforms(model, x, steps=60)
    assert (after <= before + 1e-6).all()
    assert after.mean() < 0.8 * before.mean()
    assert tr.shift.abs().max() <= model.cfg.shift_max and tr.gain.abs().max() <= model.cfg.gain_max


def test_fitting_leaves_the_model_untouched():
    model, x = trained_looking_model(), clips()
    weights = {k: v.clone() for k, v in model.state_dict().items()}
    fit_transforms(model, x, steps=5)
    assert all(torch.equal(weights[k], v) for k, v in model.state_dict().items())
    assert all(p.grad is None for p in model.parameters())


def test_a_raw_stage_model_has_nothing_to_fit():
    model, x = trained_looking_model(), clips()
    model.stage = "raw"
    errors, tr = fit_transforms(model, x, steps=10)
    expected = (x.unsqueeze(1) - model.prototypes.detach()[None, :, :, None]).square().mean((-2, -1))
    torch.testing.assert_close(errors, expected, atol=1e-6, rtol=1e-5)
    assert tr.gain is None
