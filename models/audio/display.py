"""Spectrograms as people read them: seconds, hertz and decibels, small enough to draw."""
from __future__ import annotations

import numpy as np
import torch

from .config import AudioConfig


def spectrogram_for_display(log_mel, config: AudioConfig = AudioConfig(), max_frames: int = 400,
                            start_s: float = 0.0) -> dict:
    """Log-mel ``(F, T)`` -> ``{"times_s": [T'], "freqs_hz": [F], "values_db": [F][T']}``.

    Values are ``10 log10`` of the mel power (170 dB per log unit, silence at -100 dB), rounded
    to 0.1 dB. Longer than ``max_frames``: frames are averaged (in dB) into ``max_frames``
    equal groups and each time is the centre of its group.

    Examples
    --------
    >>> d = spectrogram_for_display(torch.zeros(128, 87))
    >>> len(d["times_s"]), len(d["freqs_hz"]), d["values_db"][0][0]
    (87, 128, -100.0)
    """
    x = torch.as_tensor(log_mel, dtype=torch.float64).cpu()
    F, T = x.shape
    db = log_to_db(x, config)
    frame_times = start_s + np.arange(T) * config.frame_seconds
    if T > max_frames:
        edges = np.linspace(0, T, max_frames + 1).round().astype(int)
        db = torch.stack([db[:, a:b].mean(1) for a, b in zip(edges[:-1], edges[1:])], dim=1)
        frame_times = np.array([frame_times[a:b].mean() for a, b in zip(edges[:-1], edges[1:])])
    return {
        "times_s": np.round(frame_times, 4).tolist(),
        "freqs_hz": np.round(config.mel_frequencies(), 2).tolist(),
        "values_db": np.round(db.numpy(), 1).tolist(),
    }



def log_to_db(log_mel: torch.Tensor, config: AudioConfig = AudioConfig()) -> torch.Tensor:
    """Log units -> ``10 log10`` of the mel power (dB; silence at -100 dB), same shape.

    Examples
    --------
    >>> log_to_db(torch.tensor([0.0, 1.0])).tolist()
    [-100.0, 70.0]
    """
    return log_mel * config.db_per_unit - config.log_offset * 10  # 10 log10(P_mel + floor)
