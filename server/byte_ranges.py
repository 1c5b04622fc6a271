"""Sounds served with byte ranges (RFC 9110 section 14), so that a browser can seek in them.

Chromium marks an ``<audio>`` element's source seekable only when the server answers a
``Range: bytes=a-b`` request with ``206 Partial Content``; without it the scrub bar does nothing
and setting ``currentTime`` starts again from 0. Every audio route answers through
:func:`ranged`.

>>> ranged(request, wav_bytes, "audio/wav")                          # doctest: +SKIP
<Response 206: bytes 1000-1999/88244>   # with "Range: bytes=1000-1999"
"""
from __future__ import annotations

import re

from fastapi import Request, Response
from fastapi.responses import JSONResponse

RANGE = re.compile(r"^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$")


def byte_range(header: str | None, size: int) -> tuple[int, int] | None | bool:
    """The one range ``(first, last)`` (inclusive byte offsets) a ``Range`` header asks of a
    body of ``size`` bytes; ``None`` when the whole body is to be sent (no header, a header of
    another unit or of several ranges, which a server may answer in full); ``False`` when the
    range lies wholly past the end (416)."""
    if not header:
        return None
    found = RANGE.match(header)
    if found is None:
        return None
    first, last = found.groups()
    if not first and not last:
        return None
    if not first:  # the last N bytes
        n = int(last)
        return (max(0, size - n), size - 1) if n > 0 and size > 0 else False
    start = int(first)
    end = min(int(last), size - 1) if last else size - 1
    if last and int(last) < start:
        return None  # not a valid range: ignored, as the RFC says
    return (start, end) if start < size else False


def ranged(request: Request, data: bytes, media_type: str, headers: dict[str, str] | None = None) -> Response:
    """``data`` (the whole body, bytes) as the answer to ``request``: ``206`` with
    ``Content-Range`` for the byte range it asks, ``416`` with ``bytes */size`` for a range past
    the end, else ``200``; always with ``Accept-Ranges: bytes`` and the given ``headers``."""
    size = len(data)
    common = {"Accept-Ranges": "bytes", **(headers or {})}
    wanted = byte_range(request.headers.get("range"), size)
    if wanted is False:
        return JSONResponse(status_code=416, headers={**common, "Content-Range": f"bytes */{size}"},
                            content={"detail": f"The range asked for starts past the end of the sound ({size} bytes)."})
    if wanted is None:
        return Response(data, media_type=media_type, headers=common)
    first, last = wanted
    return Response(data[first:last + 1], status_code=206, media_type=media_type,
                    headers={**common, "Content-Range": f"bytes {first}-{last}/{size}"})
