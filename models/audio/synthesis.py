"""Back to sound: log-mel -> linear magnitude -> waveform with batched fast Griffin-Lim."""
from __future__ import annotations

import functools

import numpy as np
import torch

from .config import AudioConfig
from .features import mel_filterbank


@functools.lru_cache(maxsize=16)
def _filterbank(config: AudioConfig, device: str) -> torch.Tensor:
    return torch.from_numpy(mel_filterbank(config)).to(device)


@functools.lru_cache(maxsize=16)
def _window(n_fft: int, device: str) -> torch.Tensor:
    return torch.hann_window(n_fft, periodic=True, device=device)


def mel_to_magnitude(log_mel: torch.Tensor, config: AudioConfig = AudioConfig(), n_iter: int = 30) -> torch.Tensor:
    """Invert the mel filterbank: the non-negative least-squares linear power, as magnitude.

    Solves ``min_S>=0 ||M S - P_mel||^2`` with multiplicative updates started from ``M^T P``
    (every update keeps ``S`` non-negative and never increases the error), then takes the
    square root of the power.

    Parameters
    ----------
    log_mel : ``(..., n_mels, n_frames)`` log units.
    config : AudioConfig the features were made with.
    n_iter : number of multiplicative updates.

    Returns
    -------
    ``(..., n_fft // 2 + 1, n_frames)`` float32 linear STFT magnitude.

    Examples
    --------
    >>> mel_to_magnitude(torch.full((128, 10), 0.5)).shape
    torch.Size([1025, 10])
    """
    fb = _filterbank(config, str(log_mel.device))  # (F, N)
    mel_power = config.log_to_power(log_mel.float()).clamp_min(0)  # (..., F, T)
    numerator = torch.matmul(fb.T, mel_power)  # (..., N, T) = M^T P
    power = numerator.clone()
    eps = 1e-20
    for _ in range(n_iter):
        denominator = torch.matmul(fb.T, torch.matmul(fb, power))  # M^T M S
        power = power * numerator / (denominator + eps)
    return power.sqrt()


def griffin_lim(
    magnitude: torch.Tensor,
    config: AudioConfig = AudioConfig(),
    n_iter: int = 32,
    momentum: float = 0.99,
    length: int | None = None,
    seed: int = 0,
) -> torch.Tensor:
    """Fast Griffin-Lim (with momentum): a waveform whose STFT magnitude approaches ``magnitude``.

    Parameters
    ----------
    magnitude : ``(..., n_fft // 2 + 1, n_frames)`` linear STFT magnitude.
    n_iter : iterations (32-64 is plenty with momentum).
    momentum : 0 gives classic Griffin-Lim; 0.99 the fast variant.
    length : samples of the output; default ``(n_frames - 1) * hop``.
    seed : seeds the random initial phase, so the same input gives the same sound,
        alone or in any batch.

    Returns
    -------
    ``(..., length)`` float32 waveform at ``config.sample_rate``.

    Examples
    --------
    >>> griffin_lim(torch.ones(1025, 44), n_iter=4).shape
    torch.Size([22016])
    """
    cfg = config
    lead = magnitude.shape[:-2]
    mag = magnitude.reshape(-1, *magnitude.shape[-2:]).float()  # (B, N, T)
    device = mag.device
    window = _window(cfg.n_fft, str(device))
    n_out = length if length is not None else cfg.n_samples(mag.shape[-1])

    def stft(y):
        return torch.stft(y, cfg.n_fft, cfg.hop_length, window=window, center=True,
                          pad_mode="constant", return_complex=True)

    def istft(spec):
        return torch.istft(spec, cfg.n_fft, cfg.hop_length, window=window, center=True, length=n_out)

    gen = torch.Generator(device="cpu").manual_seed(seed)
    # one initial phase pattern for every item, so a clip sounds the same alone or in a batch
    phase = torch.rand(mag.shape[-2:], generator=gen).to(device) * (2 * np.pi)
    angles = torch.polar(torch.ones_like(mag), phase.expand_as(mag))
    previous = torch.zeros_like(angles)
    alpha = momentum / (1 + momentum)
    for _ in range(n_iter):
        rebuilt = stft(istft(mag * angles))
        angles = rebuilt - alpha * previous
        angles = angles / (angles.abs() + 1e-16)
        previous = rebuilt
    audio = istft(mag * angles)
    return audio.reshape(*lead, audio.shape[-1])


def log_mel_to_audio(
    log_mel: torch.Tensor,
    config: AudioConfig = AudioConfig(),
    n_iter: int = 32,
    length: int | None = None,
    seed: int = 0,
) -> torch.Tensor:
    """Log-mel ``(..., n_mels, n_frames)`` -> waveform ``(..., n_samples)``, batched, on its device.

    Examples
    --------
    >>> log_mel_to_audio(torch.full((2, 128, 44), 0.5), n_iter=4).shape
    torch.Size([2, 22016])
    """
    return griffin_lim(mel_to_magnitude(log_mel, config), config, n_iter=n_iter, length=length, seed=seed)


def steady_tone(frame: torch.Tensor, seconds: float = 1.5, config: AudioConfig = AudioConfig(),
                fade_s: float = 0.02, n_iter: int = 32) -> torch.Tensor:
    """Play a single-frame spectrum (e.g. a prototype) as a steady sound with short fades.

    ``frame``: ``(..., n_mels)`` log units -> ``(..., round(seconds * sample_rate))`` waveform.

    Examples
    --------
    >>> steady_tone(torch.full((128,), 0.5), seconds=1.0, n_iter=4).shape
    torch.Size([22050])
    """
    n_samples = int(round(seconds * config.sample_rate))
    n_frames = config.n_frames(n_samples)
    spec = frame.unsqueeze(-1).expand(*frame.shape, n_frames)
    audio = log_mel_to_audio(spec, config, n_iter=n_iter, length=n_samples)
    return apply_fades(audio, fade_s, config.sample_rate)


def apply_fades(audio: torch.Tensor, fade_s: float, sample_rate: int) -> torch.Tensor:
    """Raised-cosine fade in and out of ``fade_s`` seconds on the last axis."""
    n = min(int(fade_s * sample_rate), audio.shape[-1] // 2)
    if n == 0:
        return audio
    ramp = 0.5 - 0.5 * torch.cos(torch.linspace(0, np.pi, n, device=audio.device))
    out = audio.clone()
    out[..., :n] *= ramp
    out[..., -n:] *= ramp.flip(0)
    return out


def spectral_convergence(target_magnitude: torch.Tensor, audio: torch.Tensor,
                         config: AudioConfig = AudioConfig()) -> torch.Tensor:
    """``||target - |STFT(audio)|||_F / ||target||_F`` per item: 0 is perfect.

    ``target_magnitude``: ``(..., n_fft // 2 + 1, n_frames)``; ``audio``: ``(..., n_samples)``.
    Returns a tensor of shape ``(...)``.
    """
    window = _window(config.n_fft, str(audio.device))
    spec = torch.stft(audio.reshape(-1, audio.shape[-1]), config.n_fft, config.hop_length,
                      window=window, center=True, pad_mode="constant", return_complex=True).abs()
    target = target_magnitude.reshape(-1, *target_magnitude.shape[-2:])
    t = min(spec.shape[-1], target.shape[-1])
    spec, target = spec[..., :t], target[..., :t]
    num = torch.linalg.vector_norm(target - spec, dim=(-2, -1))
    den = torch.linalg.vector_norm(target, dim=(-2, -1)).clamp_min(1e-12)
    return (num / den).reshape(target_magnitude.shape[:-2])
