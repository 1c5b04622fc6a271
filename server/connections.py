"""Connections as the server takes them: slow headers time out, each client address holds a
bounded number of connections, and the server as a whole a bounded number too.

:func:`guarded_protocol` makes uvicorn's HTTP/1.1 protocol (h11) with these bounds; it is
passed to uvicorn as its ``http`` class by ``auralens serve``.
"""
from __future__ import annotations

import asyncio
from collections import Counter

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

from .config import Settings

TOO_MANY = (b"HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\nconnection: close\r\n"
            b"retry-after: 5\r\ncontent-length: %d\r\n\r\n%s")


def _refusal(detail: str) -> bytes:
    body = ('{"detail": "%s"}' % detail).encode()
    return TOO_MANY % (len(body), body)


def guarded_protocol(settings: Settings) -> type[H11Protocol]:
    """An ``H11Protocol`` class that closes a connection whose request headers have not all
    arrived ``client_timeout_s`` after it opened (or after its previous response), and that
    answers 503 and closes any connection beyond ``max_connections_per_client`` from one address."""
    open_per_client: Counter = Counter()
    per_client, header_timeout = settings.max_connections_per_client, settings.client_timeout_s
    refusal = _refusal(f"Too many connections from your address (at most {per_client} at once); "
                       "close some and try again.")

    class GuardedH11Protocol(H11Protocol):
        _counted: str | None = None
        _header_timer: asyncio.TimerHandle | None = None

        def connection_made(self, transport) -> None:
            super().connection_made(transport)
            host = self.client[0] if self.client else "unknown"
            if open_per_client[host] >= per_client:
                transport.write(refusal)
                transport.close()
                return
            open_per_client[host] += 1
            self._counted = host
            self._await_headers()

        def connection_lost(self, exc) -> None:
            self._stop_waiting()
            if self._counted is not None:
                open_per_client[self._counted] -= 1
                if open_per_client[self._counted] <= 0:
                    del open_per_client[self._counted]
                self._counted = None
            super().connection_lost(exc)

        def _await_headers(self) -> None:
            self._stop_waiting()
            self._header_timer = self.loop.call_later(header_timeout, self._headers_too_slow)

        def _stop_waiting(self) -> None:
            if self._header_timer is not None:
                self._header_timer.cancel()
                self._header_timer = None

        def _headers_too_slow(self) -> None:
            self._header_timer = None
            if self.conn.their_state is h11.IDLE and not self.transport.is_closing():
                self.transport.close()  # no request came whole in time: nothing to answer

        def handle_events(self) -> None:
            before = self.cycle
            super().handle_events()
            if self.cycle is not before:  # a request's headers arrived whole
                self._stop_waiting()

        def on_response_complete(self) -> None:
            super().on_response_complete()
            if not self.transport.is_closing():
                self._await_headers()  # the next request on this connection gets as long

    return GuardedH11Protocol
