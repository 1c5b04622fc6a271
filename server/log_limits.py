"""A log that never floods: the same message at most ``burst`` times per ``window_s`` seconds;
the rest are counted and reported once, with the next one let through.

>>> import logging
>>> repeats = RepeatLimit(burst=2, window_s=60)
>>> record = lambda: logging.LogRecord("x", logging.ERROR, "f.py", 1, "accept failed", None, None)
>>> [repeats.filter(record()) for _ in range(4)]
[True, True, False, False]
"""
from __future__ import annotations

import logging
import threading
import time

LOGGERS = ("", "uvicorn", "uvicorn.error", "uvicorn.access")  # whose handlers write the server's log


class RepeatLimit(logging.Filter):
    """Let a message (by logger, level, text before formatting and exception type) through at
    most ``burst`` times per ``window_s`` seconds; when a new window opens, the first record
    let through says how many like it were held back."""

    def __init__(self, burst: int = 5, window_s: float = 60.0):
        super().__init__()
        self.burst, self.window_s = burst, window_s
        self._seen: dict[tuple, list] = {}  # key -> [window start, count, held back]
        self._lock = threading.Lock()

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[0].__name__ if record.exc_info and record.exc_info[0] else None
        key = (record.name, record.levelno, str(record.msg), exc)
        now = time.monotonic()
        with self._lock:
            if len(self._seen) > 10_000:  # many different messages: forget the old ones
                self._seen.clear()
            seen = self._seen.setdefault(key, [now, 0, 0])
            if now - seen[0] >= self.window_s:
                held, seen[:] = seen[2], [now, 0, 0]
                if held:
                    record.msg = f"{record.msg} (and {held} more like it in the last {self.window_s:g} s)"
            seen[1] += 1
            if seen[1] > self.burst:
                seen[2] += 1
                return False
            return True


def limit_repeats(burst: int = 5, window_s: float = 60.0) -> RepeatLimit:
    """Put one :class:`RepeatLimit` on every handler that writes the server's log (uvicorn's,
    the root logger's, and Python's last resort, which writes what no handler takes, such as
    asyncio's errors); call it once logging is configured. Returns it."""
    repeats = RepeatLimit(burst, window_s)
    handlers = {h for name in LOGGERS for h in logging.getLogger(name).handlers}
    for handler in handlers | {logging.lastResort}:
        if handler is not None:
            handler.addFilter(repeats)
    return repeats
