"""Errors as the API states them: ``{"detail": "a sentence for a person"}`` with the right
status, documented in the OpenAPI schema for every route."""
from __future__ import annotations

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel


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
