"""Log-mel features in torch: batched, on any device, equal to librosa's to float precision."""
from __future__ import annotations

import functools

import numpy as np
import torch

from .config import AudioConfig


def mel_filterbank(config: AudioConfig) -> np.ndarray:
    """HTK mel filterbank without area normalisation, shape ``(n_mels, n_fft // 2 + 1)``."""
    import librosa

    return librosa.filters.mel(
        sr=config.sample_rate, n_fft=config.n_fft, n_mels=config.n_mels,
        fmin=config.fmin, fmax=config.mel_fmax, htk=True, norm=None,
    )


class LogMel(torch.nn.Module):
    """Audio -> log-mel features of the bundle's :class:`AudioConfig`.

    The STFT runs in float64 (float32 rounding noise would lift quiet bands above the
    1e-10 floor); the result is float32. Equal to
    ``config.power_to_log(librosa.feature.melspectrogram(y, htk=True, norm=None, ...))``
    within 1e-4 log units.

    Input:  ``(..., n_samples)`` float audio.
    Output: ``(..., n_mels, n_frames)`` float32 log units, ``n_frames = 1 + n_samples // hop``.

    Examples
    --------
    >>> cfg = AudioConfig()
    >>> LogMel(cfg)(torch.zeros(3, 44_100)).shape
    torch.Size([3, 128, 87])
    """

    def __init__(self, config: AudioConfig):
        super().__init__()
        self.config = config
        self.register_buffer("window", torch.hann_window(config.n_fft, periodic=True, dtype=torch.float64), persistent=False)
        self.register_buffer("filterbank", torch.from_numpy(mel_filterbank(config).astype(np.float64)), persistent=False)

    def power(self, audio: torch.Tensor) -> torch.Tensor:
        """Mel power spectrogram, ``(..., n_samples) -> (..., n_mels, n_frames)`` float64."""
        cfg = self.config
        lead = audio.shape[:-1]
        flat = audio.reshape(-1, audio.shape[-1]).to(self.window.device, torch.float64)
        spec = torch.stft(flat, cfg.n_fft, cfg.hop_length, window=self.window, center=True,
                          pad_mode="constant", return_complex=True)  # (B, n_fft/2+1, T)
        power = spec.real.square() + spec.imag.square()
        mel = torch.matmul(self.filterbank, power)  # (B, n_mels, T)
        return mel.reshape(*lead, cfg.n_mels, mel.shape[-1])

    def forward(self, audio: torch.Tensor) -> torch.Tensor:
        return self.config.power_to_log(self.power(audio)).float()


@functools.lru_cache(maxsize=16)
def _log_mel_module(config: AudioConfig, device: str) -> LogMel:
    return LogMel(config).to(device)


@torch.inference_mode()
def log_mel(audio, config: AudioConfig = AudioConfig(), device: str | torch.device = "cpu") -> torch.Tensor:
    """Log-mel of one clip or a batch, with a module built once per (config, device).

    Parameters
    ----------
    audio : numpy array or tensor, ``(..., n_samples)``, float, at ``config.sample_rate``.
    config : AudioConfig
    device : where to compute ("cpu", "cuda", ...).

    Returns
    -------
    torch.Tensor, ``(..., n_mels, n_frames)``, float32 log units on ``device``.

    Examples
    --------
    >>> log_mel(np.zeros(22_050, dtype=np.float32)).shape
    torch.Size([128, 44])
    """
    tensor = torch.as_tensor(audio)
    return _log_mel_module(config, str(torch.device(device)))(tensor)
