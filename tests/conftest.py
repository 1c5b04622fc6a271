"""Shared fixtures: audio files written on the fly, the app on the default bundle, a small latent
prototype model trained into a bundle of its own."""
from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

import numpy as np
import pytest
import soundfile as sf
from fastapi.testclient import TestClient

from auralens.models.bundle import ModelEntry
from auralens.models.training.latent import LatentOptions, train_latent_into_bundle
from auralens.models.training.record import RunOptions
from auralens.server.app import create_app

from .helpers import one_torch_thread
from .small_models import LATENT_FAST, LATENT_SMALL
from .sounds import SR, write_timbre_collection


@pytest.fixture
def write_audio(tmp_path):
    """Write samples to ``tmp_path/name`` in the format its extension names; returns the path."""

    def write(name: str, samples: np.ndarray, sr: int = SR, **kwargs):
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        sf.write(path, samples, sr, **kwargs)
        return path

    return write


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    """The app on the default bundle through FastAPI's TestClient, with a data folder of its own,
    shared by the tests of one module; it asks as ``localhost`` (a host name the app answers to)."""
    app = create_app(device="cpu", data_dir=tmp_path_factory.mktemp("data"))
    with TestClient(app, base_url="http://localhost") as c:
        yield c


class LatentBundle(NamedTuple):
    data: Path  # the labelled folder it was trained on: 3 timbres x 40 notes
    bundle: Path  # the bundle holding it, as model "latent"
    entry: ModelEntry  # its entry in the bundle
    cache: Path  # the feature cache of ``data``


@pytest.fixture(scope="session")
def latent_bundle(tmp_path_factory) -> LatentBundle:
    """Three timbres x 40 notes at random pitches and levels, and a small latent prototype model
    (2 prototypes per class) trained on them into a fresh bundle, on one thread."""
    data = write_timbre_collection(tmp_path_factory.mktemp("timbres") / "data", per_class=40)
    bundle = tmp_path_factory.mktemp("bundle") / "b"
    cache = tmp_path_factory.mktemp("cache")
    with one_torch_thread():
        entry = train_latent_into_bundle(data, bundle, LATENT_FAST,
                                         LatentOptions(protos_per_class=2, model_options=LATENT_SMALL),
                                         RunOptions(device="cpu", cache_dir=cache, progress=False, command="test"))
    return LatentBundle(data, bundle, entry, cache)
