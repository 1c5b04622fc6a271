"""Request limits at the ASGI level, before any route runs: URLs and bodies of a bounded size,
bodies that arrive at a fair pace.

A body is refused by its ``Content-Length`` before a byte of it is read, and - when it has no
length or lies about it - as soon as more than the limit has arrived; one that trickles in
(slower than ``min_body_kb_per_s`` once ``client_timeout_s`` has passed) is cut off. Each
refusal is a JSON ``{"detail": ...}`` with 413, 414 or 408 and closes the connection, so that
nothing more of the body is read.
"""
from __future__ import annotations

import asyncio
import json
import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .config import Settings

MULTIPART_SLACK = 64 * 1024  # bytes of multipart framing allowed beyond the upload limit
SELECTION_BYTES = 4 * 2**20  # a table's request naming a selection of clips (100 000 ids of ~20 bytes, quoted)


class BodyRefused(Exception):
    """The request body was refused (and answered) by :class:`RequestLimits`."""


def body_limit(settings: Settings, method: str, path: str) -> tuple[int, str]:
    """Largest body in bytes that ``method path`` takes, and the limit in words: an upload to
    ``POST /api/clips`` (its file, plus the form's framing), a collection to ``POST /api/collections``
    (its files or ZIP, plus framing), a table's page for a selection of clip ids (``POST
    /api/table``) of at most 4 MB, otherwise a request body (JSON)
    of at most ``max_json_kb``."""
    if method == "POST" and path.rstrip("/") == "/api/clips":
        return settings.max_upload_bytes + MULTIPART_SLACK, f"the upload limit of {settings.max_upload_mb:g} MB"
    if method == "POST" and path.rstrip("/") == "/api/collections":
        framing = MULTIPART_SLACK + 1024 * settings.max_collection_files  # each file's part headers
        return settings.max_collection_bytes + framing, f"the limit of {settings.max_collection_mb:g} MB for a collection"
    if method == "POST" and path.rstrip("/") in ("/api/table", "/api/table.csv"):  # a selection of up to 100 000 ids
        return SELECTION_BYTES, f"the limit of {SELECTION_BYTES // 2**20} MB for a table's request"
    return int(settings.max_json_kb * 1024), f"the limit of {settings.max_json_kb:g} KB for a request body"


async def refuse(send: Send, status: int, detail: str) -> None:
    """Answer ``{"detail": detail}`` with ``status`` and close the connection afterwards."""
    body = json.dumps({"detail": detail}).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                            (b"connection", b"close")]})
    await send({"type": "http.response.body", "body": body})


def _size(n: int) -> str:
    return f"{n / 2**20:.3g} MB" if n >= 2**20 else f"{n / 1024:.3g} KB"


class RequestLimits:
    """ASGI middleware enforcing :func:`body_limit`, ``max_url_bytes`` and the body's pace."""

    def __init__(self, app: ASGIApp, settings: Settings):
        self.app, self.settings = app, settings

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        url = len(scope.get("raw_path") or b"") + len(scope.get("query_string") or b"")
        if url > self.settings.max_url_bytes:
            return await refuse(send, 414, f"The address is {url} bytes long; the limit is "
                                           f"{self.settings.max_url_bytes}.")
        limit, stated = body_limit(self.settings, scope["method"], scope["path"])
        declared = _content_length(scope)
        if declared is not None and declared > limit:
            return await refuse(send, 413, f"The request is {_size(declared)}, larger than {stated}.")
        guard = _GuardedBody(receive, send, limit, stated, self.settings)
        try:
            await self.app(scope, guard.receive, guard.send)
        except BodyRefused:
            pass


def _content_length(scope: Scope) -> int | None:
    for name, value in scope["headers"]:
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


class _GuardedBody:
    """One request's ``receive`` and ``send``, counting and timing the body as it arrives."""

    def __init__(self, receive: Receive, send: Send, limit: int, stated: str, settings: Settings):
        self._receive, self._send, self.limit, self.stated = receive, send, limit, stated
        self.grace, self.rate = settings.client_timeout_s, settings.min_body_kb_per_s * 1024
        self.start, self.received = time.monotonic(), 0
        self.complete, self.answered, self.refused = False, False, False

    async def receive(self) -> Message:
        if self.complete or self.refused:
            return await self._receive()
        allowed = self.start + self.grace + self.received / self.rate - time.monotonic()
        try:
            message = await asyncio.wait_for(self._receive(), timeout=max(allowed, 0.0))
        except asyncio.TimeoutError:
            elapsed = time.monotonic() - self.start
            await self._refuse(408, f"The request body arrived too slowly ({self.received} bytes in "
                                    f"{elapsed:.0f} s); send at least {self.rate / 1024:g} KB/s.")
        if message["type"] == "http.request":
            self.received += len(message.get("body", b""))
            if self.received > self.limit:
                await self._refuse(413, f"The request is larger than {self.stated}.")
            self.complete = not message.get("more_body", False)
        return message

    async def _refuse(self, status: int, detail: str):
        self.refused = True
        if not self.answered:
            self.answered = True
            await refuse(self._send, status, detail)
        raise BodyRefused(detail)

    async def send(self, message: Message) -> None:
        if self.refused:
            return  # the refusal was the answer; what the app says after it goes nowhere
        if message["type"] == "http.response.start":
            self.answered = True
        await self._send(message)
