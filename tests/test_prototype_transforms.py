"""Each transformation against its definition, and the fast error against the plain one."""
import numpy as np
import pytest
import torch

from auralens.models.audio import AudioConfig, log_mel
from auralens.models.prototypes.transforms import STAGES, SpectralTables, Transforms, frame_errors, reconstruct

from .sounds import harmonic_tone

CFG = AudioConfig()
TABLES = SpectralTables(CFG.n_mels, CFG.fmin, CFG.mel_fmax, shift_max=24.0, shift_step=0.5)


def one(value: float) -> torch.Tensor:
    return torch.full((1, 1, 1), float(value))


def spectrum_of(f0: float) -> torch.Tensor:
    """Time-averaged log-mel of a harmonic tone, ``(1, F)``."""
    return log_mel(harmonic_tone(f0)).mean(-1, keepdim=True).T


def peak_bands(spectrum: torch.Tensor, n: int = 4) -> list[int]:
    """Indices of the ``n`` strongest local maxima along the band axis."""
    s = spectrum.flatten()
    peaks = [i for i in range(1, len(s) - 1) if s[i] > s[i - 1] and s[i] >= s[i + 1]]
    return sorted(sorted(peaks, key=lambda i: -float(s[i]))[:n])


def apply(proto: torch.Tensor, tr: Transforms) -> torch.Tensor:
    return reconstruct(proto, tr, TABLES, (1, 1))[0, 0]  # (K, F)


def test_zero_shift_is_exactly_the_identity():
    proto = torch.rand(3, CFG.n_mels)
    out = apply(proto, Transforms(shift=torch.zeros(1, 1, 3)))
    assert torch.equal(out, proto)


def test_twelve_semitones_up_moves_harmonics_one_octave_within_a_band():
    low, high = spectrum_of(220.0), spectrum_of(440.0)
    shifted = apply(low, Transforms(shift=one(12)))
    centres = TABLES.centre_hz.numpy()
    for band in peak_bands(high, 3):
        nearest = min(peak_bands(shifted, 6), key=lambda b: abs(b - band))
        assert abs(nearest - band) <= 1, (centres[band], centres[nearest])


def test_a_shift_and_its_inverse_come_back_in_the_middle_of_the_axis():
    proto = spectrum_of(330.0)
    there = apply(proto, Transforms(shift=one(5)))
    back = apply(there, Transforms(shift=one(-5)))
    middle = slice(20, 100)
    assert (back[0, middle] - proto[0, middle]).abs().mean() < 0.02


def test_shifting_between_grid_points_moves_smoothly():
    proto = spectrum_of(262.0)
    errors = [float((apply(proto, Transforms(shift=one(s))) - apply(proto, Transforms(shift=one(s + 0.1)))).abs().max())
              for s in np.arange(0.0, 2.0, 0.1)]
    assert max(errors) < 0.1


def test_gain_adds_exactly_to_every_band():
    proto = torch.rand(2, CFG.n_mels)
    out = apply(proto, Transforms(gain=torch.tensor([[[0.1, -0.2]]])))
    torch.testing.assert_close(out - proto, torch.tensor([[0.1], [-0.2]]).expand(2, CFG.n_mels))


@pytest.mark.parametrize("side", ["low", "high"])
def test_each_filter_acts_on_its_side_of_the_cutoff_only(side):
    proto = torch.full((1, CFG.n_mels), 0.5)
    cut = 0.5
    tr = Transforms(gain=one(0), low_cut=one(cut), low_slope=one(-0.8 if side == "low" else 0),
                    high_cut=one(cut), high_slope=one(-0.8 if side == "high" else 0))
    change = (apply(proto, tr) - proto)[0]
    m = TABLES.position
    acted, spared = (m < cut - 0.1, m > cut + 0.1) if side == "low" else (m > cut + 0.1, m < cut - 0.1)
    assert change[spared].abs().max() < 1e-3
    assert (change[acted] < -0.05).all()
    edge = 0 if side == "low" else -1
    assert change[edge] == pytest.approx(-0.8 * cut, abs=0.02)  # slope x distance to the cutoff


@pytest.mark.parametrize("stage", STAGES)
def test_fast_frame_errors_equal_the_mean_square_of_the_reconstruction(stage):
    gen = torch.Generator().manual_seed(0)
    B, T, K = 2, 7, 3
    x = torch.rand(B, CFG.n_mels, T, generator=gen)
    protos = torch.rand(K, CFG.n_mels, generator=gen)
    r = lambda scale=1.0: scale * torch.randn(B, T, K, generator=gen)
    tr = Transforms(r(0.2), r(10), torch.rand(B, T, K, generator=gen), r(), torch.rand(B, T, K, generator=gen), r())
    tr = tr.up_to(stage)
    fast = frame_errors(x, protos, tr, TABLES)
    plain = (x.transpose(1, 2).unsqueeze(2) - reconstruct(protos, tr, TABLES, (B, T))).square().mean(-1).transpose(1, 2)
    torch.testing.assert_close(fast, plain, atol=2e-6, rtol=1e-5)


def test_fast_frame_errors_have_the_gradients_of_the_plain_ones():
    gen = torch.Generator().manual_seed(1)
    B, T, K = 2, 5, 2
    x = torch.rand(B, CFG.n_mels, T, generator=gen)
    protos = torch.rand(K, CFG.n_mels, generator=gen, requires_grad=True)
    leaves = [torch.randn(B, T, K, generator=gen).mul(s).requires_grad_() for s in (0.2, 8, 1, 1, 1, 1)]
    leaves[2], leaves[4] = leaves[2].detach().sigmoid().requires_grad_(), leaves[4].detach().sigmoid().requires_grad_()
    tr = Transforms(*leaves)
    fast = torch.autograd.grad(frame_errors(x, protos, tr, TABLES).sum(), [protos, *leaves])
    rec = reconstruct(protos, tr, TABLES, (B, T))
    plain = torch.autograd.grad((x.transpose(1, 2).unsqueeze(2) - rec).square().mean(-1).sum(), [protos, *leaves])
    for f, p in zip(fast, plain):
        torch.testing.assert_close(f, p, atol=1e-4, rtol=1e-3)


def test_frequency_collapse_is_the_full_band_convolution():
    from auralens.models.prototypes.model import FrequencyCollapse

    layer = FrequencyCollapse(3, 2, 16).eval()
    h = torch.randn(2, 3, 16, 9)
    conv, relu, norm = layer
    expected = norm(relu(conv(h))).squeeze(2)
    torch.testing.assert_close(layer(h), expected, atol=1e-5, rtol=1e-5)
