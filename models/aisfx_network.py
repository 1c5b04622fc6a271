"""The pretrained aiSFX sound-effects encoder, when its weights are installed: the network, its
checkpoint, and its front end (from audio, or from a bundle's log-mel). The `aisfx` embedding space
(:mod:`auralens.models.embeddings.aisfx`) and the latent model's frozen encoder use it.

The network and its checkpoint are by Alison B. Ma and Alexander Lerch ("Representation
learning for the automatic indexing of sound effects libraries", ISMIR 2022), published as
the PyPI package ``aisfx`` 0.1.2 under CC BY 4.0. Install it with
``pip install --no-deps aisfx==0.1.2`` (its own dependency pins do not install on current
Python). auralens never imports the package: it finds the checkpoint file through
``importlib.util.find_spec("aisfx")``, reads it with ``torch.load(weights_only=True)`` (only
tensors and a few numpy scalar types are allowed; no code runs), and builds the network here.

Network (CNN9-max): four blocks of [conv 3x3 (no bias) -> BN -> ReLU -> conv 3x3 -> BN -> ReLU
-> 2x2 max-pool (none after the fourth)], 64-128-256-512 channels, then the mean over frequency
and the maximum over time: 512 numbers per block of 100 frames (about 2.3 s).
Input: 44.1 kHz mono peak-normalised, 2048-sample Hann frames, hop 1024, 96 HTK mel bands from
0 to 22 050 Hz with unit area, power, ``log10(1e4 * S + 1) / 9.4578``, frames x bands.

The same input can also be made from a bundle's log-mel (:func:`features_from_log_mel`), so
that a model working on log-mels can use the network as its encoder: the mel power is mapped
onto aiSFX's bands by a fixed non-negative matrix, and the level that peak normalisation would
set is estimated from the loudest frame. On 64 rendered orchestral notes the embeddings made
this way agree with those made from the audio to a cosine of 0.98 on average (0.90 at worst).
"""
from __future__ import annotations

import functools
import importlib.util
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

CREDIT = ("aiSFX encoder by Alison B. Ma and Alexander Lerch (ISMIR 2022), checkpoint from the "
          "aisfx 0.1.2 package, CC BY 4.0")


@dataclass(frozen=True)
class AisfxConfig:
    sample_rate: int = 44_100  # Hz
    n_fft: int = 2048  # samples, Hann window
    hop_length: int = 1024  # samples
    n_mels: int = 96  # HTK bands, 0 Hz .. Nyquist, unit area
    log_gain: float = 1e4  # log10(gain * S + 1)
    log_scale: float = 9.457798957824707  # the largest log value of the authors' training data
    block_frames: int = 100  # frames per network input
    block_hop: int = 50  # frames between blocks (50 % overlap)
    channels: tuple[int, ...] = (64, 128, 256, 512)


class ConvBlock(nn.Module):
    """``(B, c_in, T, F) -> (B, c_out, T/p, F/p)``: two 3x3 convolutions with BN and ReLU, then max-pool p."""

    def __init__(self, c_in: int, c_out: int, pool: int):
        super().__init__()
        self.conv1 = nn.Conv2d(c_in, c_out, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(c_out)
        self.conv2 = nn.Conv2d(c_out, c_out, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(c_out)
        self.pool = pool

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.relu(self.bn1(self.conv1(x)))
        x = F.relu(self.bn2(self.conv2(x)))
        return F.max_pool2d(x, self.pool) if self.pool > 1 else x


class AisfxEncoder(nn.Module):
    """Log-mel blocks ``(B, T=100, F=96)`` -> embeddings ``(B, 512)``."""

    def __init__(self, cfg: AisfxConfig = AisfxConfig()):
        super().__init__()
        c_in, n = 1, len(cfg.channels)
        for i, c in enumerate(cfg.channels):
            self.add_module(f"conv_block{i + 1}", ConvBlock(c_in, c, pool=2 if i < n - 1 else 1))
            c_in = c

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = x.unsqueeze(1)  # (B, 1, T, F)
        for block in self.children():
            h = block(h)  # ... (B, 512, T/8, F/8)
        return h.mean(dim=3).amax(dim=2)  # mean over frequency, max over time: (B, 512)


def checkpoint_path() -> Path | None:
    """Where the installed ``aisfx`` package keeps its checkpoint, or None when it is absent."""
    try:
        spec = importlib.util.find_spec("aisfx")
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / "models" / "checkpoint.pth"
    return path if path.is_file() else None


def available() -> bool:
    """True when the aisfx checkpoint is installed."""
    return checkpoint_path() is not None


def read_checkpoint(path: Path) -> dict[str, torch.Tensor]:
    """The encoder's tensors from the checkpoint, read without running any code from it.

    The file is a pickled tuple ``(state_dict, dataset dict)`` with numpy integers in the
    dict; only numpy's scalar reconstructor and dtype classes are allowed besides tensors.
    """
    from numpy import dtypes

    try:
        from numpy._core.multiarray import scalar
    except ImportError:  # numpy < 2
        from numpy.core.multiarray import scalar
    allowed = [(scalar, "numpy.core.multiarray.scalar"), (scalar, "numpy._core.multiarray.scalar"),
               np.dtype, dtypes.Int64DType]
    with torch.serialization.safe_globals(allowed):
        state, _datasets = torch.load(path, map_location="cpu", weights_only=True)
    prefix = "embedding_net."
    return {k[len(prefix):]: v for k, v in state.items() if k.startswith(prefix)}


def load_encoder(device: str | torch.device = "cpu", path: Path | None = None) -> AisfxEncoder:
    """The pretrained encoder in eval mode; raises FileNotFoundError when aisfx is not installed."""
    path = path or checkpoint_path()
    if path is None:
        raise FileNotFoundError("The aisfx space needs the aisfx package: pip install --no-deps aisfx==0.1.2")
    model = AisfxEncoder()
    model.load_state_dict(read_checkpoint(path))
    return model.to(device).eval()


@functools.lru_cache(maxsize=4)
def _front_end(device: str) -> tuple[torch.Tensor, torch.Tensor]:
    import librosa

    cfg = AisfxConfig()
    fb = librosa.filters.mel(sr=cfg.sample_rate, n_fft=cfg.n_fft, n_mels=cfg.n_mels, fmin=0.0,
                             fmax=cfg.sample_rate / 2, htk=True, norm=1)  # rows of unit area
    return (torch.hann_window(cfg.n_fft, device=device),
            torch.from_numpy(fb).float().to(device))


def features(samples: np.ndarray, sample_rate: int, device: str | torch.device = "cpu") -> torch.Tensor:
    """The encoder's input features of clips of equal length.

    Parameters
    ----------
    samples : ``(B, n_samples)`` float audio at ``sample_rate`` (resampled to 44.1 kHz here).

    Returns
    -------
    ``(B, n_frames, 96)`` float32 on ``device``, about 0..1.
    """
    import librosa

    cfg = AisfxConfig()
    y = np.asarray(samples, dtype=np.float32)
    if sample_rate != cfg.sample_rate:
        y = librosa.resample(y, orig_sr=sample_rate, target_sr=cfg.sample_rate, res_type="soxr_hq", axis=-1)
    peak = np.abs(y).max(axis=-1, keepdims=True)
    y = y / np.where(peak > 0, peak, 1.0)
    window, fb = _front_end(str(torch.device(device)))
    spec = torch.stft(torch.from_numpy(np.ascontiguousarray(y)).to(window.device), cfg.n_fft, cfg.hop_length,
                      window=window, center=True, pad_mode="constant", return_complex=True)  # (B, 1025, T)
    mel = torch.matmul(fb, spec.abs().square())  # (B, 96, T)
    return (torch.log10(cfg.log_gain * mel + 1.0) / cfg.log_scale).transpose(1, 2)


# peak^2 / (the loudest frame's summed aiSFX-band power): the median over 64 rendered notes of
# FluidR3_GM (10th-90th percentile 0.65e-5 .. 2.5e-5); sets the level of log-mel input
LEVEL_PER_FRAME_POWER = 1.44e-5


@functools.lru_cache(maxsize=8)
def mel_adapter(audio) -> np.ndarray:
    """The non-negative matrix ``(96, n_mels)`` that maps a bundle's mel power onto aiSFX's bands.

    Each aiSFX band (a unit-area triangle over 44.1 kHz STFT bins) is written, by non-negative
    least squares, as a sum of the bundle's mel triangles over the bundle's STFT bins. One
    44.1 kHz bin holds the power of the two bundle bins it spans, so the band's weights over
    the bundle's bins are its triangle read at their frequencies. Bands above the bundle's
    highest mel edge get what the bundle has there (nothing, for audio that was never there).
    An overall scale would not matter: :func:`features_from_log_mel` sets the level from the
    loudest frame.

    Parameters
    ----------
    audio : the bundle's :class:`~auralens.models.audio.AudioConfig`.

    Examples
    --------
    >>> from auralens.models.audio import AudioConfig
    >>> mel_adapter(AudioConfig()).shape
    (96, 128)
    """
    import librosa
    from scipy.optimize import nnls

    from .audio.features import mel_filterbank

    cfg = AisfxConfig()
    ours = mel_filterbank(audio).astype(np.float64)  # (n_mels, bins)
    theirs = librosa.filters.mel(sr=cfg.sample_rate, n_fft=cfg.n_fft, n_mels=cfg.n_mels, fmin=0.0,
                                 fmax=cfg.sample_rate / 2, htk=True, norm=1)  # (96, 1025)
    f_ours = np.fft.rfftfreq(audio.n_fft, 1 / audio.sample_rate)
    f_theirs = np.fft.rfftfreq(cfg.n_fft, 1 / cfg.sample_rate)
    targets = np.stack([np.interp(f_ours, f_theirs, band, right=0.0) for band in theirs])  # (96, bins)
    return np.stack([nnls(ours.T, band)[0] for band in targets]).astype(np.float32)


def features_from_log_mel(x: torch.Tensor, audio, adapter: torch.Tensor | None = None) -> torch.Tensor:
    """The encoder's input features made from a bundle's log-mel instead of audio.

    Parameters
    ----------
    x : ``(B, n_mels, T)`` log units of the bundle's :class:`~auralens.models.audio.AudioConfig` ``audio``.
    adapter : :func:`mel_adapter` of ``audio`` as a tensor (computed when None).

    Returns
    -------
    ``(B, T', 96)`` like :func:`features`: the frames resampled in time to aiSFX's hop when the
    bundle's differs (23.2 ms each with the default settings, so ``T' = T``).

    Examples
    --------
    >>> from auralens.models.audio import AudioConfig
    >>> features_from_log_mel(torch.zeros(2, 128, 87), AudioConfig()).shape
    torch.Size([2, 87, 96])
    """
    cfg = AisfxConfig()
    if adapter is None:
        adapter = torch.from_numpy(mel_adapter(audio))
    power = audio.log_to_power(x.float()).clamp_min(0)  # (B, n_mels, T)
    bands = torch.matmul(adapter.to(power), power)  # (B, 96, T)
    ratio = audio.frame_seconds / (cfg.hop_length / cfg.sample_rate)
    if abs(ratio - 1) > 1e-3:
        bands = F.interpolate(bands, size=max(1, round(bands.shape[-1] * ratio)), mode="linear",
                              align_corners=False)
    loudest = bands.sum(1).amax(-1).clamp_min(1e-20)  # (B,)
    peak_squared = LEVEL_PER_FRAME_POWER * loudest  # what the waveform's peak^2 would be
    normalised = bands / peak_squared[:, None, None]
    return (torch.log10(cfg.log_gain * normalised + 1.0) / cfg.log_scale).transpose(1, 2)


def blocks(x: torch.Tensor, cfg: AisfxConfig = AisfxConfig()) -> torch.Tensor:
    """``(B, T, F)`` -> ``(B, n_blocks, block_frames, F)``: 50 %-overlapping blocks; a clip shorter
    than one block is padded with zeros (silence), a partial last block is dropped."""
    B, T, Fb = x.shape
    if T < cfg.block_frames:
        x = F.pad(x, (0, 0, 0, cfg.block_frames - T))
        T = cfg.block_frames
    return x.unfold(1, cfg.block_frames, cfg.block_hop).transpose(2, 3)  # (B, n, block, F)
