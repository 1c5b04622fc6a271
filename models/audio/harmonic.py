"""Back to sound as a harmonic tone: a mel spectrum played by partials at a known pitch.

Griffin-Lim turns a mel spectrum into *some* waveform with that spectrum; for a spectrum that
belongs to a pitch (a prototype at its reference, a re-creation at the clip's melody) it
smears the partials, and a listener - or a pitch tracker - may hear the wrong octave. Here the
spectrum is played by the partials of that pitch instead: harmonics ``h * f0`` whose
amplitudes are chosen so that the tone's mel power matches the spectrum as closely as a
harmonic tone can (non-negative least squares), then summed as sinusoids.

The mel power of a sinusoid of amplitude ``a`` at ``f`` Hz, with the Hann window of ``n_fft``
samples and the triangular bands of peak 1, is ``a**2 * 3 n_fft**2 / 32 * M_b(f)`` (``M_b``:
band ``b``'s triangle at ``f``). So ``P ~ G a**2`` with ``G[b, h] = 3 n_fft**2 / 32 * M_b(h f0)``.

Shapes: F mel bands, H harmonics.
"""
from __future__ import annotations

import functools

import numpy as np
import torch

from .config import AudioConfig
from .synthesis import apply_fades


@functools.lru_cache(maxsize=16)
def _band_edges(config: AudioConfig) -> torch.Tensor:
    import librosa

    return torch.from_numpy(librosa.mel_frequencies(config.n_mels + 2, fmin=config.fmin, fmax=config.mel_fmax,
                                                    htk=True)).float()


def band_response(config: AudioConfig, hz: torch.Tensor) -> torch.Tensor:
    """Each mel band's triangle at frequencies ``hz (...)`` -> ``(..., F)`` in [0, 1]."""
    e = _band_edges(config).to(hz.device)
    lower, centre, upper = e[:-2], e[1:-1], e[2:]
    f = hz.unsqueeze(-1)
    rising = (f - lower) / (centre - lower)
    falling = (upper - f) / (upper - centre)
    return torch.minimum(rising, falling).clamp_min(0)


def harmonic_amplitudes(log_mel: torch.Tensor, f0_hz, config: AudioConfig = AudioConfig(),
                        n_iter: int = 200, n_harmonics: int | None = None) -> torch.Tensor:
    """Amplitudes of the harmonics of ``f0_hz`` whose tone has the mel spectrum nearest ``log_mel``.

    Parameters
    ----------
    log_mel : ``(..., F)`` log units: one frame (a prototype), or many (a spectrogram's frames).
    f0_hz : the pitch, Hz: a float, or ``(...)`` one per frame.
    n_iter : multiplicative non-negative least-squares updates, started from each band's power
        shared among the harmonics it hears.
    n_harmonics : how many harmonics (default: as many as fit under the top band's edge at the
        lowest pitch).

    Returns
    -------
    ``(..., H)`` linear amplitudes (full scale 1) of harmonics ``1 .. H``; zero for harmonics
    above the top band's edge.

    Examples
    --------
    >>> harmonic_amplitudes(torch.full((128,), 0.5), 220.0).shape
    torch.Size([50])
    >>> harmonic_amplitudes(torch.full((10, 128), 0.5), torch.full((10,), 440.0)).shape
    torch.Size([10, 25])
    """
    top = float(min(config.mel_fmax, config.sample_rate / 2))
    f0 = torch.as_tensor(f0_hz, dtype=torch.float32, device=log_mel.device).clamp_min(20.0)
    f0 = f0.expand(log_mel.shape[:-1])
    H = n_harmonics or max(1, int(top // float(f0.min())) if f0.numel() else 1)
    hz = f0.unsqueeze(-1) * torch.arange(1, H + 1, dtype=torch.float32, device=log_mel.device)  # (..., H)
    G = band_response(config, hz).transpose(-1, -2) * (3 * config.n_fft ** 2 / 32)  # (..., F, H)
    G = G * (hz < top).unsqueeze(-2)
    P = config.log_to_power(log_mel.float()).clamp_min(0).unsqueeze(-1)  # (..., F, 1)
    target = G.transpose(-1, -2) @ P  # (..., H, 1)
    # start: each band's power shared among the harmonics it hears, in proportion to its response
    share = G / G.sum(-1, keepdim=True).clamp_min(1e-30)
    power = (share * P).sum(-2, keepdim=True).transpose(-1, -2) / (3 * config.n_fft ** 2 / 32)  # (..., H, 1)
    for _ in range(n_iter):
        power = power * target / (G.transpose(-1, -2) @ (G @ power)).clamp_min(1e-30)
    return power.squeeze(-1).clamp_min(0).sqrt()


def harmonic_tone(log_mel: torch.Tensor, f0_hz: float, seconds: float = 1.5,
                  config: AudioConfig = AudioConfig(), fade_s: float = 0.02, seed: int = 0) -> torch.Tensor:
    """Play a one-frame spectrum as a steady harmonic tone at ``f0_hz``.

    ``log_mel (F,)`` log units -> ``(round(seconds * sample_rate),)`` waveform whose partials
    sit exactly at ``h * f0_hz`` and whose mel spectrum is the nearest a harmonic tone can come
    to ``log_mel`` (:func:`harmonic_amplitudes`). Starting phases are drawn from ``seed``, so
    the same spectrum always sounds the same.

    Examples
    --------
    >>> harmonic_tone(torch.full((128,), 0.5), 220.0, seconds=1.0).shape
    torch.Size([22050])
    """
    amplitudes = harmonic_amplitudes(log_mel, f0_hz, config)  # (H,)
    n = int(round(seconds * config.sample_rate))
    gen = torch.Generator().manual_seed(seed)
    phases = torch.rand(len(amplitudes), generator=gen, dtype=torch.float64) * 2 * np.pi
    t = torch.arange(n, dtype=torch.float64) / config.sample_rate
    harmonics = torch.arange(1, len(amplitudes) + 1, dtype=torch.float64)
    # (n,) = sum_h a_h cos(2 pi h f0 t + phi_h), in chunks of samples to bound memory
    out = torch.empty(n, dtype=torch.float64)
    step = max(1, 4_000_000 // len(amplitudes))
    for start in range(0, n, step):
        arg = 2 * np.pi * f0_hz * t[start:start + step, None] * harmonics + phases
        out[start:start + step] = torch.cos(arg) @ amplitudes.double().cpu()
    return apply_fades(out.float(), fade_s, config.sample_rate).to(log_mel.device)


def harmonic_render(log_mel: torch.Tensor, f0_hz: torch.Tensor, config: AudioConfig = AudioConfig(),
                    length: int | None = None, n_iter: int = 30, seed: int = 0) -> torch.Tensor:
    """Play a spectrogram by the partials of a pitch that moves: a melody's re-creation.

    Parameters
    ----------
    log_mel : ``(F, T)`` log units.
    f0_hz : ``(T,)`` the pitch of every frame, Hz (hold the last pitch where none sounds).
    length : samples of the output; default ``(T - 1) * hop``.
    n_iter : least-squares updates per frame (:func:`harmonic_amplitudes`).
    seed : seeds the starting phases.

    Returns
    -------
    ``(length,)`` waveform: each harmonic's frequency and amplitude follow the frames
    (linearly between frame centres), its phase the running sum of its frequency, so a glide
    is a glide and a note change has no click.

    Examples
    --------
    >>> harmonic_render(torch.full((128, 20), 0.5), torch.full((20,), 220.0)).shape
    torch.Size([9728])
    """
    T = log_mel.shape[-1]
    n = length if length is not None else config.n_samples(T)
    amplitudes = harmonic_amplitudes(log_mel.T, f0_hz, config, n_iter).float().cpu()  # (T, H)
    H = amplitudes.shape[-1]
    # where each sample falls between frame centres (frame t is centred on sample t * hop)
    position = torch.arange(n, dtype=torch.float64) / config.hop_length
    i0 = position.floor().long().clamp(0, T - 1)
    i1 = (i0 + 1).clamp(max=T - 1)
    w = (position - i0).clamp(0, 1).unsqueeze(-1)  # (n, 1)
    f0 = f0_hz.double().cpu()
    f0 = f0[i0] * (1 - w[:, 0]) + f0[i1] * w[:, 0]  # (n,) Hz
    w = w.float()
    base = 2 * np.pi * torch.cumsum(f0, 0) / config.sample_rate  # (n,) the fundamental's phase
    phase0 = torch.rand(H, generator=torch.Generator().manual_seed(seed), dtype=torch.float64) * 2 * np.pi
    top = float(min(config.mel_fmax, config.sample_rate / 2))
    heard = (amplitudes.amax(0) > 1e-4 * amplitudes.max().clamp_min(1e-30)).nonzero()[:, 0]  # within 80 dB
    out = torch.zeros(n)
    for chunk in heard.split(32):
        h = (chunk + 1).double()  # harmonic numbers
        frames = amplitudes[:, chunk]  # (T, c)
        a = frames[i0] * (1 - w) + frames[i1] * w  # (n, c)
        a = a * (f0.unsqueeze(-1) * h < top)  # a harmonic that glides past the top falls silent
        angle = torch.remainder(base.unsqueeze(-1) * h + phase0[chunk], 2 * np.pi).float()  # float64 phase, float32 sound
        out += (a * torch.cos(angle)).sum(-1)
    return out.to(log_mel.device)
