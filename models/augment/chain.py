"""One seeded augmentation of a clip: the kinds of an :class:`AugmentConfig` one after another."""
from __future__ import annotations

import numpy as np

from .config import AugmentConfig
from .effects import (NOISE_EXPONENTS, add_noise, apply_room, change_level, codec_round_trip, colour,
                      coloured_noise, simulate_room)

AUGMENT_STREAM, ROOM_STREAM = 11, 12  # first elements of the seed sequences' spawn keys


def stream(seed: int, key: tuple[int, ...]) -> np.random.Generator:
    """An independent generator for ``key`` under ``seed`` (the same pair, the same draws)."""
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=key))


class Augmenter:
    """Applies ``config`` to clips, seeded by ``seed`` and each clip's key.

    The room bank (``config.n_rooms`` simulated rooms) is drawn once from the seed, on first
    use. ``augment(samples, key)`` returns the augmented samples (same length) and what was
    applied (kind -> its draws); the same seed and key give the same result.

    >>> aug = Augmenter(AugmentConfig().only(["level"]), 22050, seed=0)
    >>> y, applied = aug.augment(np.ones(10, np.float32), (0, 0))
    >>> sorted(applied)
    ['level']
    """

    def __init__(self, config: AugmentConfig, sample_rate: int, seed: int):
        self.config, self.sample_rate, self.seed = config, sample_rate, seed
        self._rooms: list[tuple[np.ndarray, dict]] | None = None

    @property
    def rooms(self) -> list[tuple[np.ndarray, dict]]:
        """The room bank: ``(impulse response, draws)`` for each simulated room."""
        if self._rooms is None:
            self._rooms = [simulate_room(stream(self.seed, (ROOM_STREAM, k)), self.sample_rate, self.config.rt60_s)
                           for k in range(self.config.n_rooms)]
        return self._rooms

    def augment(self, samples: np.ndarray, key: tuple[int, ...]) -> tuple[np.ndarray, dict]:
        """Augment ``samples`` ``(n,)`` float32 with the draws of ``key``; ``(samples, applied)``."""
        cfg, rng = self.config, stream(self.seed, (AUGMENT_STREAM, *key))
        # every draw is made whether or not its kind is on, so that switching one kind off
        # leaves the others' draws as they were
        draws = {kind: rng.random() for kind in ("room", "eq", "noise", "level", "codec")}
        room_index = int(rng.integers(cfg.n_rooms))
        eq_rng, noise_rng = stream(self.seed, (AUGMENT_STREAM, *key, 1)), stream(self.seed, (AUGMENT_STREAM, *key, 2))
        noise_colour = str(rng.choice(tuple(NOISE_EXPONENTS)))
        snr = float(rng.uniform(*cfg.snr_db))
        gain = float(rng.uniform(*cfg.level_db))
        codec = str(rng.choice(cfg.codecs))
        quality = float(rng.uniform(*cfg.codec_quality))
        applied: dict = {}
        out = samples.astype(np.float32)
        if cfg.room and draws["room"] < cfg.room_probability:
            rir, room = self.rooms[room_index]
            out = apply_room(out, rir)
            applied["room"] = {"index": room_index, **room}
        if cfg.eq and draws["eq"] < cfg.eq_probability:
            out, applied["eq"] = colour(out, eq_rng, self.sample_rate, cfg.eq_gain_db)
        if cfg.noise and draws["noise"] < cfg.noise_probability:
            out = add_noise(out, coloured_noise(noise_rng, len(out), noise_colour), snr)
            applied["noise"] = {"colour": noise_colour, "snr_db": round(snr, 2)}
        if cfg.level and draws["level"] < cfg.level_probability:
            peak = float(np.abs(out).max()) if len(out) else 0.0
            gain = min(gain, -20 * np.log10(peak)) if peak > 1 else gain  # a room or EQ may have pushed it over
            out = change_level(out, gain)
            applied["level"] = {"gain_db": round(gain, 2)}
        if cfg.codec and draws["codec"] < cfg.codec_probability:
            out = codec_round_trip(out, codec, quality, self.sample_rate)
            applied["codec"] = {"codec": codec, "quality": round(quality, 2)}
        return out, applied
