"""The `aisfx` space: a pretrained sound-effects encoder, when its weights are installed.

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

DESCRIPTION = "alike to a network trained to file sound-effects libraries (aiSFX by Ma and Lerch, CC BY 4.0)"
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


def blocks(x: torch.Tensor, cfg: AisfxConfig = AisfxConfig()) -> torch.Tensor:
    """``(B, T, F)`` -> ``(B, n_blocks, block_frames, F)``: 50 %-overlapping blocks; a clip shorter
    than one block is padded with zeros (silence), a partial last block is dropped."""
    B, T, Fb = x.shape
    if T < cfg.block_frames:
        x = F.pad(x, (0, 0, 0, cfg.block_frames - T))
        T = cfg.block_frames
    return x.unfold(1, cfg.block_frames, cfg.block_hop).transpose(2, 3)  # (B, n, block, F)


@torch.inference_mode()
def embed(encoder: AisfxEncoder, samples: np.ndarray, sample_rate: int) -> torch.Tensor:
    """aiSFX vectors: the encoder's 512 numbers averaged over a clip's 2.3 s blocks.

    Parameters
    ----------
    encoder : from :func:`load_encoder`.
    samples : ``(B, n_samples)`` float audio at ``sample_rate``, clips of equal length.

    Returns
    -------
    ``(B, 512)`` float32 on the CPU.

    Examples
    --------
    >>> enc = load_encoder()                                    # doctest: +SKIP
    >>> embed(enc, np.zeros((2, 44_100), np.float32), 22_050).shape   # doctest: +SKIP
    torch.Size([2, 512])
    """
    device = next(encoder.parameters()).device
    b = blocks(features(samples, sample_rate, device))  # (B, n, 100, 96)
    B, n = b.shape[:2]
    return encoder(b.reshape(B * n, *b.shape[2:])).view(B, n, -1).mean(1).float().cpu()
