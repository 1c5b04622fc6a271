"""Errors as the API states them: ``{"detail": "a sentence for a person"}`` with the right
status, documented in the OpenAPI schema for every route.

The app's services and routes raise the domain errors below, each with its sentence; one handler,
:func:`domain_error`, answers them with their HTTP status (and ``Retry-After`` for :class:`Busy`).
"""
from __future__ import annotations

import errno
import sqlite3

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


class Unavailable(DomainError):
    """The server cannot do this at all until someone looks after it (its data folder is gone) (503)."""


class NoSpace(DomainError):
    """The disk holding the data folder is full: nothing was stored, nothing was lost (507)."""


STATUS = {NotFound: 404, Invalid: 422, Conflict: 409, TooLarge: 413, UnsupportedMedia: 415, Busy: 503,
          Unavailable: 503, NoSpace: 507, Unauthorized: 401, Forbidden: 403}
NO_SPACE = ("The server's disk is full, so this could not be stored; nothing that was stored before is "
            "lost. Ask whoever runs the server to free some space, then try again.")
INTERNAL = "Something went wrong inside the server (it has been logged); nothing that was stored is lost."
MAX_DETAIL = 1000  # characters of a detail sentence; longer ones (echoing what a client sent) are cut


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
TOO_LONG = {414: _doc("an address (path and query) longer than the server's limit")}
COMMON = {**MALFORMED, **NOT_FOUND, **INVALID, **BUSY, **TOO_LONG}


def short(detail: str) -> str:
    """``detail`` cut to ``MAX_DETAIL`` characters, so that no answer echoes a huge value back."""
    return detail if len(detail) <= MAX_DETAIL else detail[:MAX_DETAIL - 1] + "…"


async def domain_error(request: Request, exc: DomainError) -> JSONResponse:
    """A domain error as HTTP: its status, its sentence as ``detail``, Retry-After when busy."""
    headers = {"Retry-After": str(exc.retry_after)} if isinstance(exc, Busy) else None
    return JSONResponse(status_code=STATUS[type(exc)], content={"detail": short(exc.detail)}, headers=headers)


async def storage_unusable(request: Request, exc: ValueError) -> JSONResponse:
    """The data folder cannot be written (it was deleted under the running server): 503 with
    the storage's sentence."""
    return JSONResponse(status_code=503, content={"detail": short(str(exc))})


def disk_full(exc: BaseException) -> bool:
    """Whether ``exc`` says that the disk (or the file size the system allows) is full."""
    if isinstance(exc, OSError):
        return exc.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG)
    return isinstance(exc, sqlite3.OperationalError) and "full" in str(exc)


async def unexpected_error(request: Request, exc: Exception) -> JSONResponse:
    """Anything the routes did not expect, as JSON: 507 with a sentence when the disk is full,
    otherwise 500; never a plain-text page. (The server logs the traceback: Starlette raises
    the error on after this answer.)"""
    if disk_full(exc):
        return JSONResponse(status_code=507, content={"detail": NO_SPACE})
    return JSONResponse(status_code=500, content={"detail": INTERNAL})


def _where(loc) -> str:
    parts = [str(p) for p in loc if p not in ("query", "path", "body")]
    return ".".join(parts) or "the request"


async def validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
    """A request that does not fit the schema: say which value and why, in one sentence."""
    problems = "; ".join(f"{_where(e.get('loc', ()))}: {e.get('msg', 'invalid')}" for e in exc.errors())
    return JSONResponse(status_code=422, content={"detail": short(f"Invalid request - {problems}.")})


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
