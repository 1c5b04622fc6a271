"""What keeps other web pages away from the server: a Host check (DNS rebinding), a refusal of
state-changing requests that another site's page sends (cross-site request forgery, including
``fetch(..., {mode: "no-cors"})`` uploads), and the security headers of every response (a
Content-Security-Policy that forbids framing and any script, style or media from elsewhere).

One ASGI middleware, :class:`RequestGuard`, does all three before the app sees a request::

    app.add_middleware(RequestGuard, allowed_hosts=("localhost", "127.0.0.1", "[::1]"))

A request the guard refuses is answered ``{"detail": "a sentence"}`` with 400 (a host name the
server does not answer to) or 403 (a change asked by another site), and never reaches a route.
"""
from __future__ import annotations

import base64
import hashlib
import ipaddress
import json
import re
import socket
from urllib.parse import urlsplit

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
ANY_HOST = "*"  # in ``allowed_hosts``: answer to every host name (a proxy in front checks it)

# The page's policy. Everything comes from the server itself; on top of ``default-src 'self'``:
# - style-src 'unsafe-inline': plotly.js writes its own stylesheet into a <style> element when
#   it draws the first chart (without it the charts' hover labels, axes and mode bar have no
#   styling); the page itself has no inline style.
# - img-src data:: the page's empty favicon (``<link rel="icon" href="data:,">``) and the icons
#   plotly's mode bar and Swagger UI draw from data: URLs.
# No 'unsafe-inline' or 'unsafe-eval' for scripts: no script runs but the server's own files.
PAGE_POLICY = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self' 'unsafe-inline'",
    "img-src": "'self' data:",
    "object-src": "'none'",
    "base-uri": "'none'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
}

HEADERS = {
    "x-content-type-options": "nosniff",  # a file is what its Content-Type says, never sniffed
    "x-frame-options": "DENY",  # no framing (older browsers; CSP's frame-ancestors for the rest)
    "referrer-policy": "same-origin",  # the page's addresses (permalinks) never leave the server
    "cross-origin-opener-policy": "same-origin",  # a page that opens ours gets no handle on it
    "cross-origin-resource-policy": "same-origin",  # no other site embeds our audio or JSON
    "permissions-policy": "microphone=(self), camera=(), geolocation=(), payment=(), usb=()",
}


def content_security_policy(script_hashes: tuple[str, ...] = ()) -> str:
    """The page's Content-Security-Policy header value; ``script_hashes`` (``"sha256-..."``
    sources) allow exactly those inline scripts besides the server's own files."""
    policy = dict(PAGE_POLICY)
    if script_hashes:
        policy["script-src"] += "".join(f" '{h}'" for h in script_hashes)
    return "; ".join(f"{k} {v}" for k, v in policy.items())


def inline_script_hashes(html: str) -> tuple[str, ...]:
    """The ``sha256-<base64>`` CSP sources of every inline ``<script>`` of an HTML page."""
    bodies = re.findall(r"<script>(.*?)</script>", html, flags=re.S)
    return tuple("sha256-" + base64.b64encode(hashlib.sha256(b.encode()).digest()).decode() for b in bodies)


WILDCARDS = ("", "0.0.0.0", "::", "[::]")  # bind addresses meaning every interface


def is_loopback(bind: str) -> bool:
    """Whether binding to ``bind`` (an address or a name) reaches this machine only."""
    if bind.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(bind.strip("[]")).is_loopback
    except ValueError:
        return False


def hosts_for(bind: str, defaults: tuple[str, ...], extra: tuple[str, ...] = ()) -> tuple[str, ...]:
    """The host names a server bound to ``bind`` answers to: ``defaults``, the bound address
    itself (on every interface: this machine's name), and ``extra``."""
    if bind in WILDCARDS:
        named = (socket.gethostname().lower(),)
    else:
        named = (f"[{bind.strip('[]')}]" if ":" in bind else bind.lower(),)
    return tuple(dict.fromkeys((*defaults, *named, *(h.lower() for h in extra))))


def host_name(host_header: str) -> str:
    """The name part of a Host header, lower case: ``"LocalHost:8000"`` -> ``"localhost"``,
    ``"[::1]:8000"`` -> ``"[::1]"``, ``"example.org."`` -> ``"example.org"``."""
    host = host_header.strip().lower()
    if host.startswith("["):
        return host[:host.find("]") + 1] if "]" in host else host
    return host.rsplit(":", 1)[0].rstrip(".") if ":" in host else host.rstrip(".")


def _authority(scheme: str, netloc: str) -> str:
    """``host[:port]`` lower case, without the scheme's default port."""
    netloc = netloc.lower()
    default = {"http": ":80", "https": ":443"}.get(scheme)
    return netloc[: -len(default)] if default and netloc.endswith(default) else netloc


def foreign_origin(headers: Headers, scheme: str) -> str | None:
    """Who, other than the server's own page, asks for this request: the other site's origin
    (or a phrase naming it) when the browser says the request comes from another origin, else
    None. A browser's ``Sec-Fetch-Site`` (which no page can set) decides; without it (older
    browsers) the ``Origin`` must be the server's own (its Host header). Requests with neither
    (command-line clients, scripts) are nobody else's."""
    origin = headers.get("origin")
    site = headers.get("sec-fetch-site")
    if site in ("cross-site", "same-site"):
        return origin or f"a {site} page"
    if site in ("same-origin", "none"):  # the page itself, or the person (typed, bookmarked)
        return None
    if origin is None:
        return None
    if origin == "null":  # a sandboxed frame, a file:// page, a redirect across origins
        return "a page with no origin (a sandboxed frame or a local file)"
    parts = urlsplit(origin)
    own = _authority(scheme, headers.get("host", ""))
    return None if _authority(parts.scheme, parts.netloc) == own else origin


class RequestGuard:
    """ASGI middleware: refuse unknown Host names and other sites' state-changing requests,
    add the security headers (:data:`HEADERS` and the CSP) to every response that lacks them.

    ``allowed_hosts``: the host names (no port; IPv6 in brackets) the server answers to, or
    containing :data:`ANY_HOST` to answer to all.
    """

    def __init__(self, app: ASGIApp, allowed_hosts: tuple[str, ...]):
        self.app = app
        self.allowed = frozenset(h.lower().rstrip(".") for h in allowed_hosts)
        self.headers = [(k.encode(), v.encode()) for k, v in
                        {**HEADERS, "content-security-policy": content_security_policy()}.items()]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        refusal = self.refusal(scope, headers)
        send = self._with_headers(send)
        if refusal is not None:
            await _answer(send, *refusal)
            return
        await self.app(scope, receive, send)

    def refusal(self, scope: Scope, headers: Headers) -> tuple[int, str] | None:
        """``(status, detail)`` when the request must be refused, else None."""
        host = host_name(headers.get("host", ""))
        if ANY_HOST not in self.allowed and host not in self.allowed:
            named = f"the host name '{host[:100]}'" if host else "a request without a Host header"
            return 400, (f"This server does not answer to {named}; it answers to "
                         f"{', '.join(sorted(self.allowed))} (start it with --allowed-host NAME to add one).")
        if scope["method"] in UNSAFE_METHODS:
            other = foreign_origin(headers, scope.get("scheme", "http"))
            if other is not None:
                return 403, (f"This server does not accept changes asked by another web site "
                             f"({other[:200]}); use the auralens page itself.")
        return None

    def _with_headers(self, send: Send) -> Send:
        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {k.lower() for k, _ in message.get("headers", [])}
                message["headers"] = list(message.get("headers", [])) + [
                    (k, v) for k, v in self.headers if k not in present]
            await send(message)
        return sending


async def _answer(send: Send, status: int, detail: str) -> None:
    body = json.dumps({"detail": detail}).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})
