"""The FastAPI application: the API under /api and the web page at /."""
from __future__ import annotations

from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from frontend import STATIC_DIR
from models.runtime import pick_device

from . import __version__
from .routers import analyses, clips, models
from .schemas import Health
from .state import AppState, Settings, default_data_dir


def create_app(device: str = "auto", bundle: str | Path | None = None, data_dir: str | Path | None = None,
               max_upload_mb: float = 50.0, max_seconds: float = 600.0) -> FastAPI:
    """Build the app around a bundle (default: the one shipped in the package); models load
    once, here, onto the chosen device."""
    chosen = str(pick_device(device))
    settings = Settings(Path(data_dir) if data_dir else default_data_dir(), max_upload_mb, max_seconds)
    state = AppState(bundle, chosen, settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        yield
        state.close()

    app = FastAPI(title="auralens", version=__version__, lifespan=lifespan,
                  description="Explore audio classifiers that explain themselves in sound.")
    app.state.auralens = state

    @app.get("/api/health", response_model=Health, tags=["health"])
    def health() -> Health:
        """Is the server up, which version, on which device, serving which bundle."""
        return Health(status="ok", version=__version__, device=chosen, bundle=state.bundle.name)

    app.include_router(models.router)
    app.include_router(clips.router)
    app.include_router(analyses.router)
    app.mount("/", StaticFiles(directory=STATIC_DIR, html=True), name="frontend")
    return app
