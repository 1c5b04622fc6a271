"""Spectral prototypes with transformation networks: a classifier you can listen to.

K prototypes are one-frame log-mel spectra. For a clip and each prototype, small networks
predict frame by frame how to transform the prototype to match the clip (gain, pitch shift,
low and high filters); the reconstruction error of prototype k says how well k explains the
clip, and the class is the class of the best-explaining prototype.

Shapes: B clips, F mel bands, T frames (any length; padded to a multiple of 16 inside),
K prototypes = n_classes * protos_per_class.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field

import torch
import torch.nn as nn
import torch.nn.functional as F

from .pitch import PitchNetwork, sounding_frames
from .transforms import STAGES, SpectralTables, Transforms, fitted_gain, frame_errors, reconstruct, stage_index

KIND = "spectral-prototypes"  # the model family's name in a bundle (see auralens.models.kinds)

DOWNSAMPLING = 16  # time is halved 4 times in the encoder


@dataclass
class PrototypeConfig:
    n_classes: int = 16
    protos_per_class: int = 1  # ours; the reference implementation of "A Model You Can Hear" has 1
    supervised: bool = True
    n_mels: int = 128
    fmin: float = 0.0  # Hz, the mel axis of the features
    fmax: float = 11_025.0
    channels: tuple[int, ...] = (8, 16, 32, 64)  # encoder levels
    skip_channels: int = 2  # per-level frequency-collapsed skip features
    gain_max: float = 0.5  # log units (85 dB)
    shift_max: float = 24.0  # semitones
    shift_step: float = 0.5  # semitones between exactly computed shifts
    slope_max: float = 1.0  # log units per unit of mel position
    n_cuts: int = 128  # tabulated filter cutoffs
    filter_beta: float = 40.0  # knee sharpness: the ramp falls to 1e-3 of its slope 0.1 past the cutoff
    # tau = softplus(theta). Ours: theta starts at 50 (tau ~ 50), so that the classification
    # term matters within tens of epochs; the reference implementation of "A Model You Can
    # Hear: Audio Identification with Playable Prototypes" starts at -4 and trains 10 000 epochs.
    temperature_init: float = 50.0
    # Ours, second version: every prototype is a harmonic tone at a reference pitch; its pitch
    # shift is the clip's melody minus that reference, its gain is fitted in closed form, and
    # only the filters come from a network (trained to make every prototype fit). False: the
    # first version, where networks predict gain and pitch shift too.
    pitch_anchored: bool = False
    reference_midi: tuple[float, ...] = ()  # (K,) set in training from the classes' notes
    pitch_low: float = 24.0  # MIDI range of the pitch network (C1 .. E7)
    pitch_high: float = 100.0
    pitch_step: float = 1 / 3  # semitones between its bins
    pitch_hidden: int = 160
    # Ours: the pitch network hears each clip relative to its loudest bin (a clip played 20 dB
    # softer has the same melody). Configs written before it are read as False.
    pitch_relative_level: bool = True
    # Ours: a pitch-anchored prototype as source and filter. ``prototypes`` is then the
    # harmonic part, which the pitch shift moves with the note, and ``envelopes (K, F)`` a part
    # that stays where it is in frequency (body resonances, formants); heard at its reference a
    # prototype is the sum of the two. False: the whole prototype is transposed.
    source_filter: bool = False
    # Ours: the curriculum's last stage, the transformations the model decides with. A
    # pitch-anchored model that ends at "pitch" has no filter network (and no encoder): its
    # decision is the prototypes at the clip's melody with fitted gain, and nothing learns to
    # make every prototype fit, which keeps classes apart on sample sets it never heard.
    last_stage: str = "filters"
    # Confidence and trust, fitted after training (``auralens bundle add-trust``): the logits
    # are divided by ``calibration_temperature * exp(calibration_slope * (log best error -
    # calibration_centre))`` (:func:`auralens.models.trust.clip_temperature`: a clip the
    # prototypes explain badly gets softer confidences); ``trust`` is a
    # :class:`auralens.models.trust.TrustModel`.
    calibration_temperature: float = 1.0
    calibration_slope: float = 0.0
    calibration_centre: float = 0.0
    trust: dict | None = None

    @property
    def n_prototypes(self) -> int:
        return self.n_classes * self.protos_per_class

    @property
    def stages(self) -> tuple[str, ...]:
        """The curriculum stages the model goes through, ``raw`` to :attr:`last_stage`."""
        return STAGES[: stage_index(self.last_stage) + 1]

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> "PrototypeConfig":
        d = dict(d)
        d["channels"] = tuple(d.get("channels", cls.channels))
        d.setdefault("pitch_anchored", False)  # configs written before the second version
        d.setdefault("source_filter", False)
        d.setdefault("last_stage", STAGES[-1])
        d.setdefault("pitch_relative_level", False)  # networks trained on absolute levels
        d["reference_midi"] = tuple(float(v) for v in d.get("reference_midi", ()))
        return cls(**d)


def conv_block_2d(c_in: int, c_out: int, kernel, stride=1, padding=0) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(c_in, c_out, kernel, stride, padding), nn.ReLU(), nn.BatchNorm2d(c_out))


class FrequencyCollapse(nn.Sequential):
    """Conv2d(C, C_out, kernel (F, 1)) spanning the whole band axis -> ReLU -> BatchNorm:
    ``(B, C, F, T) -> (B, C_out, T)``. The convolution is computed as one matrix product
    over (C, F) per frame: the same linear map, several times faster on CPU."""

    def __init__(self, c_in: int, c_out: int, n_bands: int):
        super().__init__(nn.Conv2d(c_in, c_out, (n_bands, 1)), nn.ReLU(), nn.BatchNorm2d(c_out))

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        conv, relu, norm = self
        B, C, Fb, T = h.shape
        weight = conv.weight.view(conv.out_channels, C * Fb)
        out = torch.einsum("ok,bkt->bot", weight, h.reshape(B, C * Fb, T)) + conv.bias.unsqueeze(-1)  # (B, C_out, T)
        return norm(relu(out).unsqueeze(2)).squeeze(2)


class Encoder(nn.Module):
    """Log-mel ``(B, F, T)`` -> bottleneck ``(B, C, T/16)`` and skips ``[(B, 2, T/2^i)]``, i = 0..3."""

    def __init__(self, cfg: PrototypeConfig):
        super().__init__()
        self.levels, self.collapse, self.down = nn.ModuleList(), nn.ModuleList(), nn.ModuleList()
        c_in, n_bands = 1, cfg.n_mels
        for c in cfg.channels:
            self.levels.append(conv_block_2d(c_in, c, 3, padding=1))
            self.collapse.append(FrequencyCollapse(c, cfg.skip_channels, n_bands))
            self.down.append(conv_block_2d(c, c, 2, stride=2))
            c_in, n_bands = c, n_bands // 2
        self.last = nn.Sequential(conv_block_2d(c_in, c_in, 3, padding=1), FrequencyCollapse(c_in, c_in, n_bands))

    def forward(self, x: torch.Tensor):
        h = (2 * x - 1).unsqueeze(1)  # (B, 1, F, T), log units [0, 1] -> [-1, 1]
        skips = []
        for level, collapse, down in zip(self.levels, self.collapse, self.down):
            h = level(h)
            skips.append(collapse(h))  # (B, 2, T_i)
            h = down(h)  # (B, c, F_i / 2, T_i / 2)
        return self.last(h), skips  # (B, C, T/16)


class TemporalDecoder(nn.Module):
    """1-D U-Net: bottleneck + skips -> ``(B, n_out, T)`` raw transformation parameters."""

    def __init__(self, cfg: PrototypeConfig, n_out: int):
        super().__init__()
        c, s = cfg.channels[-1], cfg.skip_channels
        self.up = nn.ModuleList(
            nn.Sequential(nn.Conv1d(c, c, 3, padding=1), nn.ReLU(), nn.BatchNorm1d(c),
                          nn.ConvTranspose1d(c, c - s, 2, stride=2), nn.ReLU(), nn.BatchNorm1d(c - s))
            for _ in cfg.channels
        )
        self.head = nn.Sequential(nn.Conv1d(c, c, 3, padding=1), nn.ReLU(), nn.BatchNorm1d(c), nn.Conv1d(c, n_out, 1))
        nn.init.normal_(self.head[-1].weight, std=1e-3)  # a newly enabled transformation starts
        nn.init.zeros_(self.head[-1].bias)  # as (almost) the identity

    def forward(self, bottleneck: torch.Tensor, skips: list[torch.Tensor]) -> torch.Tensor:
        h = bottleneck
        for up, skip in zip(self.up, reversed(skips)):
            h = torch.cat([up(h), skip], dim=1)  # (B, C, T_i)
        return self.head(h)


@dataclass
class Output:
    """What the model says about a batch.

    errors: ``(B, K)`` mean reconstruction error of each prototype.
    frame_errors: ``(B, K, T)`` the same per frame (for timelines).
    class_errors: ``(B, n_classes)`` the best prototype of each class.
    logits: ``(B, n_classes)`` ``-tau * class_errors``.
    transforms: the ``(B, T, K)`` parameters of the active stage.
    """

    errors: torch.Tensor
    frame_errors: torch.Tensor
    class_errors: torch.Tensor
    logits: torch.Tensor
    transforms: Transforms = field(repr=False)


@dataclass
class FairTerms:
    """What a pitch-anchored model trains on (see :meth:`PrototypeModel.fair_terms`).

    fit_errors: ``(B, K)`` every prototype's error with the prototypes held fixed: the
        networks' objective (make every prototype fit as well as it can).
    errors: ``(B, K)`` the same errors with the transformations held fixed: what the
        prototypes and the temperature learn from (own class, classification).
    pitch_logits: ``(B, N + 1, T)`` the pitch network's output on the clip.
    """

    fit_errors: torch.Tensor
    errors: torch.Tensor
    pitch_logits: torch.Tensor


class PrototypeModel(nn.Module):
    def __init__(self, cfg: PrototypeConfig):
        super().__init__()
        self.cfg = cfg
        K = cfg.n_prototypes
        self.prototypes = nn.Parameter(torch.zeros(K, cfg.n_mels))  # (K, F) log units
        # (K, F) log units, the part that does not move with the note (source_filter only)
        self.envelopes = nn.Parameter(torch.zeros(K, cfg.n_mels)) if cfg.source_filter else None
        self.theta = nn.Parameter(torch.tensor(cfg.temperature_init))
        if cfg.pitch_anchored and stage_index(cfg.last_stage) < 2:
            raise ValueError("A pitch-anchored model trains from the pitch stage on: its last stage is "
                             "pitch or filters.")
        # one network per transformation a network predicts, up to the last stage; gain and
        # pitch shift come from networks in the first version only
        outputs = {"gain": K, "pitch": K, "filters": 4 * K}  # filters: low cut, low slope, high cut, high slope
        predicted = ("filters",) if cfg.pitch_anchored else ("gain", "pitch", "filters")
        self.decoders = nn.ModuleDict({name: TemporalDecoder(cfg, outputs[name])
                                       for name in predicted if name in cfg.stages})
        self.encoder = Encoder(cfg) if len(self.decoders) else None  # what the decoders watch the clip with
        if cfg.pitch_anchored:
            self.pitch = PitchNetwork(cfg.n_mels, cfg.pitch_low, cfg.pitch_high, cfg.pitch_step, cfg.pitch_hidden,
                                      cfg.pitch_relative_level)
            reference = torch.tensor(cfg.reference_midi or [69.0] * K, dtype=torch.float32)
            self.register_buffer("reference_midi", reference)  # (K,) each prototype's pitch
        self.tables = SpectralTables(cfg.n_mels, cfg.fmin, cfg.fmax, cfg.shift_max, cfg.shift_step,
                                     cfg.n_cuts, cfg.filter_beta)
        # class of each prototype; for clustering, set after training from the majority label
        self.register_buffer("prototype_class", torch.arange(K) // cfg.protos_per_class)
        self.register_buffer("stage_buffer", torch.tensor(0))

    # -- curriculum ------------------------------------------------------------------------
    @property
    def stage(self) -> str:
        return STAGES[int(self.stage_buffer)]

    @stage.setter
    def stage(self, name: str) -> None:
        if stage_index(name) > stage_index(self.cfg.last_stage):
            raise ValueError(f"This model's curriculum ends at the '{self.cfg.last_stage}' stage.")
        self.stage_buffer.fill_(stage_index(name))

    def idle_at(self, stage: str) -> tuple[str, ...]:
        """Name prefixes of the state the model does not run at ``stage``: the encoder and
        decoders before any network predicts (raw; a pitch-anchored model before filters), the
        decoders of later stages, and the pitch network before the pitch stage."""
        level = stage_index(stage)
        if self.cfg.pitch_anchored:
            idle = ("encoder.", "decoders.") if level < 3 else ()
            return idle + (("pitch.",) if level < 2 else ())
        if level == 0:
            return "encoder.", "decoders."
        return tuple(f"decoders.{name}." for name in STAGES[level + 1:] if name in self.decoders)

    def stage_state(self) -> dict[str, torch.Tensor]:
        """The state dict less what the model's stage does not run (see :meth:`idle_at`): what a
        bundle stores for an earlier curriculum stage; :meth:`load_state_dict` takes it back."""
        idle = self.idle_at(self.stage)
        return {k: v for k, v in self.state_dict().items() if not k.startswith(idle)}

    def load_state_dict(self, state_dict, strict: bool = True, assign: bool = False):
        """As :meth:`torch.nn.Module.load_state_dict`; a state saved at a stage may leave out
        what that stage does not run (:meth:`stage_state`), which keeps its present values."""
        if "stage_buffer" in state_dict:
            idle = self.idle_at(STAGES[int(state_dict["stage_buffer"])])
            kept = {k: v for k, v in self.state_dict().items() if k.startswith(idle) and k not in state_dict}
            state_dict = {**kept, **state_dict}
        return super().load_state_dict(state_dict, strict, assign)

    @property
    def temperature(self) -> torch.Tensor:
        return F.softplus(self.theta)

    def probabilities(self, class_errors: torch.Tensor) -> torch.Tensor:
        """Calibrated class probabilities ``(..., C)``: ``softmax(-tau * class error / T)``,
        ``T`` the clip's calibration temperature (1 until one is fitted; see
        :func:`auralens.models.trust.clip_temperature`)."""
        from ..trust import clip_temperature

        cfg = self.cfg
        T = clip_temperature(class_errors, cfg.calibration_temperature, cfg.calibration_slope, cfg.calibration_centre)
        return torch.softmax(-self.temperature * class_errors / T, dim=-1)

    def reference_spectra(self) -> torch.Tensor:
        """``(K, F)`` log units: every prototype as it sounds untransformed (at its reference
        pitch): the prototypes, plus their envelopes for a source-filter model."""
        return self.prototypes if self.envelopes is None else self.prototypes + self.envelopes

    def parts(self, k=None, detach: bool = False) -> tuple[torch.Tensor, torch.Tensor | None]:
        """``(prototypes, envelopes)`` of prototypes ``k`` (default all), each ``(K', F)``;
        envelopes None without source and filter. What the transformation functions take."""
        protos, env = self.prototypes, self.envelopes
        if k is not None:
            protos, env = protos[k], None if env is None else env[k]
        if detach:
            protos, env = protos.detach(), None if env is None else env.detach()
        return protos, env

    # -- transformations --------------------------------------------------------------------
    def transforms(self, x: torch.Tensor, stage: str | None = None, f0: torch.Tensor | None = None) -> Transforms:
        """Parameters of the transformations on at ``stage`` (default: the model's).

        ``x (B, F, T)`` -> :class:`Transforms` with ``(B, T, K)`` tensors, bounded, in model units.
        A pitch-anchored model shifts every prototype by the clip's pitch ``f0 (B, T)`` (MIDI;
        default: its pitch network's track) minus the prototype's reference, and fits the gain
        in closed form; the first version predicts both with networks.
        """
        tr = self.predicted_transforms(x, stage, f0)
        if self.cfg.pitch_anchored and stage_index(stage or self.stage) >= 1:
            protos, env = self.parts()
            tr.gain = fitted_gain(x, protos, tr, self.tables, self.cfg.gain_max, env)
        return tr

    def predicted_transforms(self, x: torch.Tensor, stage: str | None = None,
                             f0: torch.Tensor | None = None) -> Transforms:
        """:meth:`transforms` before a pitch-anchored model fits its gain (``gain`` None)."""
        cfg, K = self.cfg, self.cfg.n_prototypes
        level = stage_index(stage or self.stage)
        if level == 0:
            return Transforms()
        B, _, T = x.shape
        if cfg.pitch_anchored and level < 3:
            return Transforms(shift=self.anchored_shift(x, f0) if level >= 2 else None)
        padded = _pad_time(x)
        bottleneck, skips = self.encoder(padded)

        def run(name: str, n: int) -> torch.Tensor:  # (B, n*K, T_pad) -> (B, T, K, n)
            raw = self.decoders[name](bottleneck, skips)[..., :T]
            return raw.view(B, n, K, T).permute(0, 3, 2, 1)

        if cfg.pitch_anchored:
            tr = bounded_transforms(cfg, x.new_zeros(B, T, K), None, run("filters", 4))
            tr.gain, tr.shift = None, self.anchored_shift(x, f0)
            return tr
        return bounded_transforms(cfg, run("gain", 1)[..., 0],
                                  run("pitch", 1)[..., 0] if level >= 2 else None,
                                  run("filters", 4) if level >= 3 else None)

    def anchored_shift(self, x: torch.Tensor, f0: torch.Tensor | None = None) -> torch.Tensor:
        """``(B, T, K)`` semitones: the clip's pitch ``f0 (B, T)`` minus each reference."""
        if f0 is None:
            f0 = self.pitch.track(x)[0]
        shift = f0.to(x.dtype).unsqueeze(-1) - self.reference_midi  # (B, T, K)
        return shift.clamp(-self.cfg.shift_max, self.cfg.shift_max)

    def fair_terms(self, x: torch.Tensor, f0: torch.Tensor) -> FairTerms:
        """The training terms of a pitch-anchored model on ``x (B, F, T)`` with the clip's
        pitch ``f0 (B, T)`` (annotated): the filter network sees every prototype's error with
        the prototypes fixed; the prototypes see their errors with the transformations fixed.
        The classification term built on ``errors`` therefore reaches only the prototypes and
        the temperature: no network can learn to spoil another class's re-creation."""
        tr = self.predicted_transforms(x, self.stage, f0)
        fixed, fixed_env = self.parts(detach=True)
        tr_fit = Transforms(**{k: v for k, v in vars(tr).items()})
        if stage_index(self.stage) >= 1:
            tr_fit.gain = fitted_gain(x, fixed, tr, self.tables, self.cfg.gain_max, fixed_env)
        fit_errors = self.clip_errors(x, frame_errors(x, fixed, tr_fit, self.tables, fixed_env))
        tr_fixed = Transforms(**{k: None if v is None else v.detach() for k, v in vars(tr).items()})
        protos, env = self.parts()
        if stage_index(self.stage) >= 1:
            tr_fixed.gain = fitted_gain(x, protos, tr_fixed, self.tables, self.cfg.gain_max, env)
        errors = self.clip_errors(x, frame_errors(x, protos, tr_fixed, self.tables, env))
        return FairTerms(fit_errors, errors, self.pitch(x))

    def forward(self, x: torch.Tensor, stage: str | None = None, f0: torch.Tensor | None = None,
                fair: bool = False):
        """``x (B, F, T)`` log-mel -> :class:`Output` (``fair``: :class:`FairTerms`, training a
        pitch-anchored model with the annotated pitch ``f0 (B, T)``)."""
        if fair:
            return self.fair_terms(x, f0)
        tr = self.transforms(x, stage, f0)
        per_frame = frame_errors(x, self.prototypes, tr, self.tables, self.envelopes)  # (B, K, T)
        errors = self.clip_errors(x, per_frame)
        class_errors = self.class_errors(errors)
        return Output(errors, per_frame, class_errors, -self.temperature * class_errors, tr)

    def clip_errors(self, x: torch.Tensor, per_frame: torch.Tensor) -> torch.Tensor:
        """``(B, K, T)`` per-frame errors -> ``(B, K)`` a clip's error. The first version
        averages every frame; a pitch-anchored model only the sounding ones (within about 40 dB
        of the clip's loudest frame): silence and padding say nothing about timbre."""
        if not self.cfg.pitch_anchored:
            return per_frame.mean(-1)
        weight = sounding_frames(x).to(per_frame.dtype).unsqueeze(1)  # (B, 1, T)
        return (per_frame * weight).sum(-1) / weight.sum(-1).clamp_min(1)

    def class_errors(self, errors: torch.Tensor) -> torch.Tensor:
        """``(B, K)`` -> ``(B, n_classes)``: each class's best (smallest) prototype error."""
        out = errors.new_full((errors.shape[0], self.cfg.n_classes), float("inf"))
        return out.scatter_reduce(1, self.prototype_class.expand_as(errors), errors, "amin")

    def reconstruct(self, x: torch.Tensor, stage: str, k=None,
                    f0: torch.Tensor | None = None) -> tuple[torch.Tensor, Transforms]:
        """Reconstructions of ``x (B, F, T)`` at ``stage`` by prototypes ``k`` (default all):
        ``(B, K', F, T)`` log-mel, and the transformation parameters used."""
        tr = self.transforms(x, stage, f0)
        protos, env = self.parts(k)
        tr_k = tr if k is None else tr.select(k)
        rec = reconstruct(protos, tr_k, self.tables, (x.shape[0], x.shape[-1]), env)  # (B, T, K', F)
        return rec.permute(0, 2, 3, 1), tr_k


def bounded_transforms(cfg: PrototypeConfig, gain: torch.Tensor, shift: torch.Tensor | None = None,
                       filters: torch.Tensor | None = None) -> Transforms:
    """Unbounded parameters -> :class:`Transforms` within the model's bounds.

    ``gain``, ``shift``: ``(B, T, K)``; ``filters``: ``(B, T, K, 4)`` as low cut, low slope,
    high cut, high slope. Cuts go through a logistic to [0, 1], the others through tanh to
    +-``gain_max`` / ``shift_max`` / ``slope_max``. ``None`` leaves a transformation off.
    """
    tr = Transforms(gain=cfg.gain_max * torch.tanh(gain))
    if shift is not None:
        tr.shift = cfg.shift_max * torch.tanh(shift)
    if filters is not None:
        tr.low_cut, tr.high_cut = torch.sigmoid(filters[..., 0]), torch.sigmoid(filters[..., 2])
        tr.low_slope, tr.high_slope = cfg.slope_max * torch.tanh(filters[..., 1]), cfg.slope_max * torch.tanh(filters[..., 3])
    return tr


def _pad_time(x: torch.Tensor) -> torch.Tensor:
    """Pad time (reflect, or replicate for very short clips) to a multiple of 16 frames."""
    T = x.shape[-1]
    extra = (-T) % DOWNSAMPLING
    if extra == 0:
        return x
    mode = "reflect" if extra < T else "replicate"
    return F.pad(x, (0, extra), mode=mode)
