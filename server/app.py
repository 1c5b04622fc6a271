"""The FastAPI application: the API under /api and the web page at /."""
from __future__ import annotations

from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import Depends, FastAPI
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import FileResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException
import plotly
from swagger_ui_bundle import swagger_ui_path

from auralens.frontend import STATIC_DIR
from auralens.models.runtime import pick_device

from . import __version__
from .accounts import Sessions, WhoIsAsking, secret_key
from .config import Settings, default_data_dir
from .deps import note_asker
from .errors import DomainError, domain_error, method_not_allowed, storage_unusable, unexpected_error, validation_error
from .limits import RequestLimits
from .routers import compare as compare_routes
from .routers import accounts as accounts_routes
from .collection_jobs import resume_collections
from .routers import analyses, clips, collections, concepts, jobs, maps, models, neighbours, table
from .schemas import Health
from .security import RequestGuard, content_security_policy, inline_script_hashes
from .state import AppState
from .storage import StorageError


def create_app(device: str = "auto", bundle: str | Path | None = None, data_dir: str | Path | None = None,
               max_upload_mb: float = Settings.max_upload_mb, max_seconds: float = Settings.max_seconds,
               allowed_hosts: tuple[str, ...] = Settings.allowed_hosts, accounts: bool = Settings.accounts,
               settings: Settings | None = None) -> FastAPI:
    """Build the app around a bundle (default: the one shipped in the package); models load
    once, here, onto the chosen device. ``data_dir`` (default :func:`default_data_dir`),
    ``max_upload_mb``, ``max_seconds``, ``allowed_hosts`` and ``accounts`` are the
    :class:`~auralens.server.config.Settings` of the same names; ``settings``, when given, are
    all of them (and those five are ignored)."""
    chosen = str(pick_device(device))
    if settings is None:
        settings = Settings(Path(data_dir) if data_dir else default_data_dir(), max_upload_mb, max_seconds,
                            allowed_hosts=tuple(allowed_hosts), accounts=accounts)
    state = AppState(bundle, chosen, settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        state.open()
        resume_collections(state)  # collections a previous run left half analysed
        yield
        state.close()

    app = FastAPI(title="auralens", version=__version__, lifespan=lifespan, docs_url=None, redoc_url=None,
                  description="Explore audio classifiers that explain themselves in sound.",
                  dependencies=[Depends(note_asker)])
    app.state.auralens = state
    app.add_exception_handler(DomainError, domain_error)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(StarletteHTTPException, method_not_allowed)
    app.add_exception_handler(StorageError, storage_unusable)
    app.add_exception_handler(Exception, unexpected_error)
    app.state.sessions = Sessions(lambda: state.storage, secret_key(settings.data_dir)) if settings.accounts else None
    app.add_middleware(WhoIsAsking, sessions=app.state.sessions)
    app.add_middleware(RequestLimits, settings=settings)
    app.add_middleware(RequestGuard, allowed_hosts=settings.allowed_hosts)  # outermost: refuses first

    @app.get("/api/health", response_model=Health, tags=["health"],
             responses={503: {"model": Health, "description": "the server cannot store anything (see problem)"}})
    def health():
        """Is the server up, which version, on which device, serving which bundle; ``unhealthy``
        (503) with the ``problem`` in words when it cannot keep what it is given."""
        answer = Health(status="ok", version=__version__, device=chosen, bundle=state.bundle.name)
        if state.storage is not None and not state.storage.intact():
            answer.status, answer.problem = "unhealthy", (f"The data folder {state.storage.root} was deleted "
                                                          "or replaced while the server was running.")
            return JSONResponse(answer.model_dump(), status_code=503)
        return answer

    # the API docs with Swagger UI served from the installed package, not from a CDN
    app.mount("/api/docs-assets", StaticFiles(directory=swagger_ui_path), name="docs-assets")

    @app.get("/docs", include_in_schema=False)
    def docs():
        page = get_swagger_ui_html(openapi_url=app.openapi_url, title="auralens API",
                                   swagger_js_url="/api/docs-assets/swagger-ui-bundle.js",
                                   swagger_css_url="/api/docs-assets/swagger-ui.css",
                                   swagger_favicon_url="/api/docs-assets/favicon-32x32.png")
        # its one inline script (starting Swagger UI) is allowed by its hash, no other
        page.headers["Content-Security-Policy"] = content_security_policy(inline_script_hashes(page.body.decode()))
        return page

    plotly_js = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"

    @app.get("/vendor/plotly.min.js", include_in_schema=False)
    def plotly_library():
        """plotly.js from the installed ``plotly`` package (the page needs no CDN)."""
        return FileResponse(plotly_js, media_type="text/javascript",
                            headers={"Cache-Control": "public, max-age=86400"})

    app.include_router(models.router)
    app.include_router(clips.router)
    app.include_router(analyses.router)
    app.include_router(jobs.router)
    app.include_router(compare_routes.router)
    app.include_router(concepts.router)
    app.include_router(neighbours.router)
    app.include_router(maps.router)
    app.include_router(accounts_routes.router)
    app.include_router(collections.router)
    app.include_router(table.router)
    # the page: its files at fixed places, so that every other path is the API's to answer
    # (a wrong method on an API path gets the router's 405 with its Allow header)
    app.mount("/js", StaticFiles(directory=STATIC_DIR / "js"), name="frontend-js")

    # the pages are asked for again each time (no-cache), so that a browser whose session has
    # ended is sent to sign in rather than shown a page kept from before
    @app.get("/", include_in_schema=False)
    def page():
        return FileResponse(STATIC_DIR / "index.html", media_type="text/html", headers={"Cache-Control": "no-cache"})

    @app.get("/login", include_in_schema=False)
    def login_page():
        return FileResponse(STATIC_DIR / "login.html", media_type="text/html", headers={"Cache-Control": "no-cache"})

    @app.get("/style.css", include_in_schema=False)
    def stylesheet():
        return FileResponse(STATIC_DIR / "style.css", media_type="text/css")
    return app
