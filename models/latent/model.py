"""Latent prototypes: a classifier that reasons by similarity to a few points of an embedding
space, each of which can be heard through a decoder.

An autoencoder maps a log-mel clip to one vector z (convolutions over time, then pooled over
time, so any clip length works) and decodes z back to a log-mel of fixed length. The encoder is
either trained here or the pretrained aiSFX network (frozen; z its 512 numbers), read from
the bundle's log-mel; the decoder is always trained here. With the
autoencoder frozen, K = n_classes * protos_per_class prototypes live in the standardised
embedding space s = (z - mu) / (2 sigma); a clip's similarity to prototype k is
exp(-mean((s - p_k)^2)), and a linear layer (started as the one-hot prototype -> class map)
turns the K similarities into class logits, divided by a temperature of 0.1. Decoding a
prototype (un-standardised) gives its sound.

Shapes: B clips, F mel bands, T frames (any length; shorter than ``frames`` is padded with
silence), D latent size, K prototypes, C classes.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F

from ..aisfx_network import AisfxEncoder, blocks, features_from_log_mel, mel_adapter
from ..audio import AudioConfig

KIND = "latent-prototypes"  # the model family's name in a bundle (see auralens.models.kinds)


@dataclass
class LatentConfig:
    n_classes: int = 16
    protos_per_class: int = 3  # the PECMAE authors' code uses 3-5
    n_mels: int = 128
    frames: int = 87  # decoder output length (2 s at 22 050 Hz, hop 512); shorter inputs are padded to it
    latent_dim: int = 128  # D
    channels: int = 160  # encoder width (bands are the input channels of 1-D convolutions over time)
    decoder_channels: int = 192  # wider than the encoder: each frame is drawn from these many spectral shapes
    n_resample: int = 3  # the encoder halves time 3 times, the decoder doubles it 3 times
    temperature: float = 0.1  # logits = linear(similarities) / temperature
    encoder: str = "own"  # "own": trained here; "aisfx": the pretrained aiSFX network, frozen (latent_dim 512)
    audio: dict | None = None  # the bundle's audio settings, which the aisfx encoder reads log-mels with

    @property
    def n_prototypes(self) -> int:
        return self.n_classes * self.protos_per_class

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> "LatentConfig":
        return cls(**d)


def conv_block(c_in: int, c_out: int, kernel: int, stride: int = 1, padding: int = 0) -> nn.Sequential:
    return nn.Sequential(nn.Conv1d(c_in, c_out, kernel, stride, padding), nn.ReLU(), nn.BatchNorm1d(c_out))


def up_block(c_in: int, c_out: int) -> nn.Sequential:
    """Double the time axis: transposed conv (4, stride 2), then a 3-tap conv to smooth it."""
    return nn.Sequential(nn.ConvTranspose1d(c_in, c_out, 4, 2, 1), nn.ReLU(), nn.BatchNorm1d(c_out),
                         nn.Conv1d(c_out, c_out, 3, padding=1), nn.ReLU(), nn.BatchNorm1d(c_out))


class Encoder(nn.Module):
    """Log-mel ``(B, F, T)`` -> z ``(B, D)``: 1-D convolutions over time (bands as channels),
    time halved ``n_resample`` times, then the mean and the maximum over time -> linear."""

    def __init__(self, cfg: LatentConfig):
        super().__init__()
        c = cfg.channels
        self.inp = conv_block(cfg.n_mels, c, 3, padding=1)
        self.down = nn.Sequential(*[conv_block(c, c, 4, stride=2, padding=1) for _ in range(cfg.n_resample)])
        self.out = nn.Linear(2 * c, cfg.latent_dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.down(self.inp(2 * x - 1))  # (B, C, T / 8), log units [0, 1] -> [-1, 1]
        pooled = torch.cat([h.mean(-1), h.amax(-1)], dim=1)  # (B, 2C)
        return self.out(pooled)  # (B, D)


class PretrainedAisfxEncoder(nn.Module):
    """Log-mel ``(B, F, T)`` -> the pretrained aiSFX embedding z ``(B, 512)``, never trained.

    The bundle's mel power is mapped onto the network's 96 bands and levelled as its peak
    normalisation would (see :func:`auralens.models.aisfx_network.features_from_log_mel`), cut into
    100-frame blocks (a 2 s clip is one block, padded with silence); z is the network's vector
    averaged over the blocks. Its weights are the aisfx package's checkpoint, stored in the
    bundle with the rest of the model, so a bundle does not need the package to run.
    """

    frozen = True  # training leaves it alone

    def __init__(self, cfg: LatentConfig):
        super().__init__()
        if cfg.audio is None:
            raise ValueError("The aisfx encoder needs the bundle's audio settings (LatentConfig.audio).")
        self.audio = AudioConfig.from_dict(cfg.audio)
        self.net = AisfxEncoder()
        self.net.requires_grad_(False)
        self.register_buffer("adapter", torch.from_numpy(mel_adapter(self.audio)))  # (96, F)

    def train(self, mode: bool = True) -> "PretrainedAisfxEncoder":
        return super().train(False)  # batch-norm statistics stay the pretrained ones

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b = blocks(features_from_log_mel(x, self.audio, self.adapter))  # (B, n, 100, 96)
        B, n = b.shape[:2]
        # 16 blocks at a time: on CPU larger batches of its wide activations run slower per block
        z = torch.cat([self.net(part) for part in b.flatten(0, 1).split(16)])  # (B * n, 512)
        return z.view(B, n, -1).mean(1)  # (B, 512)


class Decoder(nn.Module):
    """z ``(B, D)`` -> log-mel ``(B, F, frames)`` (log units; not clamped)."""

    def __init__(self, cfg: LatentConfig):
        super().__init__()
        c = cfg.decoder_channels
        self.frames = cfg.frames
        self.t0 = math.ceil(cfg.frames / 2 ** cfg.n_resample)
        self.inp = nn.Linear(cfg.latent_dim, c * self.t0)
        self.up = nn.Sequential(*[up_block(c, c) for _ in range(cfg.n_resample)])
        self.out = nn.Conv1d(c, cfg.n_mels, 3, padding=1)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        h = F.relu(self.inp(z)).view(z.shape[0], -1, self.t0)  # (B, C, t0)
        h = self.up(h)  # (B, C, t0 * 8)
        return self.out(h)[..., :self.frames]  # (B, F, frames)


@dataclass
class Output:
    """What the model says about a batch.

    embedding: ``(B, D)`` the clips in the standardised space of the prototypes.
    distances: ``(B, K)`` mean squared difference to each prototype.
    similarities: ``(B, K)`` ``exp(-distances)``, in (0, 1].
    logits: ``(B, C)`` class logits (temperature applied).
    scores: ``(B, C)`` class probabilities (softmax of the logits).
    """

    embedding: torch.Tensor
    distances: torch.Tensor
    similarities: torch.Tensor
    logits: torch.Tensor
    scores: torch.Tensor

    @property
    def errors(self) -> torch.Tensor:
        """``(B, K)`` smaller is closer: the distances (the name shared with the spectral model)."""
        return self.distances


class LatentPrototypeModel(nn.Module):
    def __init__(self, cfg: LatentConfig):
        super().__init__()
        self.cfg = cfg
        K, C, D = cfg.n_prototypes, cfg.n_classes, cfg.latent_dim
        if cfg.encoder == "own":
            self.encoder = Encoder(cfg)
        elif cfg.encoder == "aisfx":
            if D != 512:
                raise ValueError("With the aisfx encoder the latent size is 512, the network's.")
            self.encoder = PretrainedAisfxEncoder(cfg)
        else:
            raise ValueError(f"Unknown encoder '{cfg.encoder}': own or aisfx.")
        self.decoder = Decoder(cfg)
        self.register_buffer("z_mean", torch.zeros(D))  # standardisation of the embedding space,
        self.register_buffer("z_std", torch.ones(D))  # fitted on the training clips
        self.prototypes = nn.Parameter(torch.zeros(K, D))  # (K, D) in the standardised space
        self.classifier = nn.Linear(K, C, bias=False)
        self.register_buffer("prototype_class", torch.arange(K) // cfg.protos_per_class)
        with torch.no_grad():  # the one-hot prototype -> class map
            self.classifier.weight.copy_(F.one_hot(self.prototype_class, C).T.float())

    # -- the autoencoder ---------------------------------------------------------------------
    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """Log-mel ``(B, F, T)`` -> z ``(B, D)``; clips shorter than ``frames`` get trailing silence."""
        if x.shape[-1] < self.cfg.frames:
            x = F.pad(x, (0, self.cfg.frames - x.shape[-1]))  # 0 log units is silence
        return self.encoder(x)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """z ``(B, D)`` -> log-mel ``(B, F, frames)``."""
        return self.decoder(z)

    def reconstruct(self, x: torch.Tensor) -> torch.Tensor:
        """``(B, F, T)`` -> the decoded clip ``(B, F, frames)``."""
        return self.decode(self.encode(x))

    def standardise(self, z: torch.Tensor) -> torch.Tensor:
        """z ``(..., D)`` -> ``(z - mu) / (2 sigma)``, the space of the prototypes."""
        return (z - self.z_mean) / (2 * self.z_std)

    def unstandardise(self, s: torch.Tensor) -> torch.Tensor:
        """Inverse of :meth:`standardise`: a point of the prototype space -> z the decoder reads."""
        return s * (2 * self.z_std) + self.z_mean

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        """Log-mel ``(B, F, T)`` -> standardised embedding ``(B, D)``."""
        return self.standardise(self.encode(x))

    # -- the prototype classifier ------------------------------------------------------------
    def classify(self, s: torch.Tensor) -> Output:
        """Standardised embeddings ``(B, D)`` -> :class:`Output`."""
        distances = (s.unsqueeze(1) - self.prototypes).pow(2).mean(-1)  # (B, K)
        similarities = torch.exp(-distances)
        logits = self.classifier(similarities) / self.cfg.temperature  # (B, C)
        return Output(s, distances, similarities, logits, logits.softmax(-1))

    def forward(self, x: torch.Tensor) -> Output:
        """Log-mel ``(B, F, T)`` -> :class:`Output`."""
        return self.classify(self.embed(x))

    def prototype_log_mels(self) -> torch.Tensor:
        """Every prototype decoded: ``(K, F, frames)`` log units."""
        return self.decode(self.unstandardise(self.prototypes))
