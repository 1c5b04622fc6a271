"""Shared fixtures: real audio files written on the fly."""
from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from .sounds import SR


@pytest.fixture
def write_audio(tmp_path):
    """Write samples to ``tmp_path/name`` in the format its extension names; returns the path."""

    def write(name: str, samples: np.ndarray, sr: int = SR, **kwargs):
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        sf.write(path, samples, sr, **kwargs)
        return path

    return write
