"""Errors as the API states them: ``{"detail": "a sentence for a person"}`` with the right
status, documented in the OpenAPI schema for every route.

The app's services and routes raise the domain errors below, each with its sentence; one handler,
:func:`domain_error`, answers them with their HTTP status (and ``Retry-After`` for :class:`Busy`).
"""
from __future__ import annotations

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel


class DomainError(Exception):
    """Something the person asking can understand and act on; ``detail`` says what, in a sentence."""

    def __init__(self, detail: str):
        super().__init__(detail)
        self.detail = detail


class NotFound(DomainError):
    """No such model, prototype, clip, analysis, concept, job or space (404)."""


class Invalid(DomainError):
    """A value out of range, unusable audio, or a view the model's kind does not have (422)."""


class Conflict(DomainError):
    """The request clashes with what is there (a concept name taken, a built-in concept) (409)."""


class TooLarge(DomainError):
    """An upload larger than the limit (413)."""


class UnsupportedMedia(DomainError):
    """A file that is not audio in a format we read (415)."""


class Unauthorized(DomainError):
    """Nobody signed in, or a wrong name or password, on a server with accounts (401)."""


class Forbidden(DomainError):
    """Something the asker may see but not change (another user's shared concept) (403)."""


class Busy(DomainError):
    """The server has as much work waiting as it takes; ``retry_after`` seconds is a fair wait (503)."""

    def __init__(self, detail: str, retry_after: int):
        super().__init__(detail)
        self.retry_after = retry_after


STATUS = {NotFound: 404, Invalid: 422, Conflict: 409, TooLarge: 413, UnsupportedMedia: 415, Busy: 503,
          Unauthorized: 401, Forbidden: 403}


class ErrorDetail(BaseModel):
    detail: str


def _doc(text: str) -> dict:
    return {"model": ErrorDetail, "description": text}


NOT_FOUND = {404: _doc("no such model, prototype, clip, analysis or job")}
INVALID = {422: _doc("a value out of range or of the wrong type, or unusable audio")}
BUSY = {503: _doc("the server is busy; retry after the number of seconds in Retry-After")}
UPLOAD = {413: _doc("the file is larger than the upload limit"),
          415: _doc("the file is not audio in a format we read")}
MALFORMED = {400: _doc("a request body that cannot be parsed (not JSON, not a form)")}
COMMON = {**MALFORMED, **NOT_FOUND, **INVALID, **BUSY}


async def domain_error(request: Request, exc: DomainError) -> JSONResponse:
    """A domain error as HTTP: its status, its sentence as ``detail``, Retry-After when busy."""
    headers = {"Retry-After": str(exc.retry_after)} if isinstance(exc, Busy) else None
    return JSONResponse(status_code=STATUS[type(exc)], content={"detail": exc.detail}, headers=headers)


def _where(loc) -> str:
    parts = [str(p) for p in loc if p not in ("query", "path", "body")]
    return ".".join(parts) or "the request"


async def validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
    """A request that does not fit the schema: say which value and why, in one sentence."""
    problems = "; ".join(f"{_where(e.get('loc', ()))}: {e.get('msg', 'invalid')}" for e in exc.errors())
    return JSONResponse(status_code=422, content={"detail": f"Invalid request - {problems}."})


async def method_not_allowed(request: Request, exc) -> JSONResponse:
    """405 naming every method the address accepts (Starlette's own names only the first
    route registered for the path), other HTTP errors as they are."""
    from fastapi.exception_handlers import http_exception_handler

    if exc.status_code != 405:
        return await http_exception_handler(request, exc)
    from starlette.routing import Match

    path = request.url.path
    allowed = sorted(m for m in ("GET", "POST", "PUT", "PATCH", "DELETE")
                     if any(route.matches({**request.scope, "method": m})[0] == Match.FULL
                            for route in request.app.routes))
    return JSONResponse(status_code=405, headers={"Allow": ", ".join(allowed)},
                        content={"detail": f"{path} accepts {', '.join(allowed)}, not {request.method}."})
