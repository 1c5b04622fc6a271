"""A small thread-safe least-recently-used cache (features, renders, neighbours of the app)."""
from __future__ import annotations

import threading
from collections import OrderedDict


class LRU:
    """A small thread-safe least-recently-used cache, bounded in entries and, given a
    ``weigh(value) -> bytes``, in bytes too."""

    def __init__(self, size: int, max_bytes: int | None = None, weigh=None):
        self.size, self.max_bytes, self.weigh = size, max_bytes, weigh
        self._items, self._bytes, self._lock = OrderedDict(), 0, threading.Lock()

    def get(self, key):
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
        return None

    def put(self, key, value):
        with self._lock:
            if key in self._items:
                self._bytes -= self._weight(self._items.pop(key))
            self._items[key] = value
            self._bytes += self._weight(value)
            while len(self._items) > self.size or (self.max_bytes is not None and self._bytes > self.max_bytes
                                                   and len(self._items) > 1):
                self._bytes -= self._weight(self._items.popitem(last=False)[1])
        return value

    def _weight(self, value) -> int:
        return self.weigh(value) if self.weigh else 0
