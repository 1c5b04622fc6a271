"""The FastAPI application: the API under /api and the web page at /."""
from __future__ import annotations

from pathlib import Path

import torch
from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel

from frontend import STATIC_DIR
from models.bundle import load_bundle

from . import __version__


class Health(BaseModel):
    status: str
    version: str
    device: str
    bundle: str | None


def resolve_device(device: str) -> str:
    """``auto`` -> ``cuda`` when a GPU is usable, else ``cpu``; ``cuda`` without a GPU is an error."""
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device == "cuda" and not torch.cuda.is_available():
        raise ValueError("--device cuda was asked for, but no CUDA GPU is available here.")
    return device


def create_app(device: str = "auto", bundle: str | Path | None = None) -> FastAPI:
    """Build the app around a bundle (default: the one shipped in the package)."""
    chosen = resolve_device(device)
    loaded = load_bundle(bundle)
    app = FastAPI(title="auralens", version=__version__,
                  description="Explore audio classifiers that explain themselves in sound.")

    @app.get("/api/health", response_model=Health, tags=["health"])
    def health() -> Health:
        """Is the server up, which version, on which device, serving which bundle."""
        return Health(status="ok", version=__version__, device=chosen, bundle=loaded.name)

    app.mount("/", StaticFiles(directory=STATIC_DIR, html=True), name="frontend")
    return app
