"""What a run's train-time augmentation does: which kinds are on, how often, over which ranges."""
from __future__ import annotations

from dataclasses import asdict, dataclass, fields

KINDS = ("room", "eq", "noise", "level", "codec")


@dataclass(frozen=True)
class AugmentConfig:
    """Seeded train-time augmentation of waveforms, applied in the order of `KINDS`.

    Each kind is switched by its flag and applied to a clip with its probability:
    ``room`` convolves with one of ``n_rooms`` simulated shoebox rooms (pyroomacoustics,
    reverberation time ``rt60_s`` seconds); ``eq`` a microphone colour (high-pass, low-pass and
    two peaking filters of up to ``eq_gain_db``); ``noise`` white, pink or brown noise at a
    signal-to-noise ratio in ``snr_db``; ``level`` a gain in ``level_db`` (a 40 dB range, never
    above the original, so nothing clips); ``codec`` an Ogg/Vorbis or MP3 round trip at a
    quality in ``codec_quality`` (0 worst, 1 best). ``views`` augmented copies of each
    training clip join the training split (the originals stay).
    """

    room: bool = True
    eq: bool = True
    noise: bool = True
    level: bool = True
    codec: bool = True
    room_probability: float = 0.5
    eq_probability: float = 0.5
    noise_probability: float = 0.5
    level_probability: float = 1.0
    codec_probability: float = 0.3
    n_rooms: int = 16
    rt60_s: tuple[float, float] = (0.15, 1.0)
    eq_gain_db: float = 9.0
    snr_db: tuple[float, float] = (5.0, 40.0)
    level_db: tuple[float, float] = (-40.0, 0.0)
    codecs: tuple[str, ...] = ("ogg", "mp3")
    codec_quality: tuple[float, float] = (0.1, 0.7)
    views: int = 1

    def __post_init__(self) -> None:
        for kind in KINDS:
            p = getattr(self, f"{kind}_probability")
            if not 0 <= p <= 1:
                raise ValueError(f"{kind}_probability must be from 0 to 1, got {p}")
        if self.views < 1 or self.n_rooms < 1:
            raise ValueError(f"views and n_rooms must be at least 1, got {self.views} and {self.n_rooms}")
        unknown = set(self.codecs) - {"ogg", "mp3"}
        if unknown or not self.codecs:
            raise ValueError(f"codecs must be among ogg, mp3, got {self.codecs}")

    @property
    def kinds(self) -> dict[str, bool]:
        """Kind name -> switched on."""
        return {kind: getattr(self, kind) for kind in KINDS}

    def only(self, kinds: list[str] | tuple[str, ...]) -> "AugmentConfig":
        """The same settings with just ``kinds`` switched on; ValueError naming an unknown kind.

        >>> AugmentConfig().only(["level"]).kinds["room"]
        False
        """
        unknown = sorted(set(kinds) - set(KINDS))
        if unknown:
            raise ValueError(f"unknown augmentation {', '.join(unknown)}; the kinds are {', '.join(KINDS)}")
        return AugmentConfig(**{**asdict(self), **{kind: kind in kinds for kind in KINDS}})

    def to_dict(self) -> dict:
        """JSON-ready: ``{"kinds": {kind: on}, "settings": {...}}`` (tuples as lists).

        >>> AugmentConfig().to_dict()["kinds"]["codec"]
        True
        """
        settings = {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items() if k not in KINDS}
        return {"kinds": self.kinds, "settings": settings}

    @classmethod
    def from_dict(cls, data: dict) -> "AugmentConfig":
        """The inverse of :meth:`to_dict`; ValueError for fields this version does not know.

        >>> AugmentConfig.from_dict(AugmentConfig(noise=False).to_dict()).noise
        False
        """
        known = {f.name for f in fields(cls)}
        merged = {**data.get("settings", {}), **data.get("kinds", {})}
        unknown = sorted(set(merged) - known)
        if unknown:
            raise ValueError(f"unknown augmentation setting(s) {', '.join(unknown)}")
        return cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in merged.items()})
