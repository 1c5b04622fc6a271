"""Work shared fairly between the people asking for it, on a few threads.

Each piece of work belongs to an *asker* (a user, or a client address: see
:func:`auralens.server.deps.asker_key`) and a *lane* within it (the connection it came on).
Whenever a thread falls free it takes, of the work waiting, the oldest of the asker that has the
least running (of those, the one served longest ago), and within that asker of the lane that has
the least running - so a newcomer never waits behind a queue that someone else filled. Long work (a rendering, a long clip) never
takes the last free thread, which stays for the short requests of everyone else.

The queue is bounded in all (``capacity``) and per asker (``share``); beyond either,
:meth:`FairQueue.submit` raises :class:`~auralens.server.errors.Busy` for that asker only.
"""
from __future__ import annotations

import itertools
import threading
import time
from collections import Counter
from concurrent.futures import Future
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Callable

from .errors import Busy

ASKER: ContextVar[tuple[str, str]] = ContextVar("asker", default=("server", "server"))  # (asker, lane) of a request
LONG_AUDIO_S = 5.0  # model work on more audio than this, in seconds, is long work
LONG_UPLOAD_BYTES = 2**20  # decoding an upload larger than this is long work
SHUTTING_DOWN = "The server is shutting down; try again when it is back."


def _drop_zeros(counter: Counter) -> None:
    for key in [k for k, n in counter.items() if n <= 0]:
        del counter[key]


@dataclass
class _Work:
    seq: int
    asker: str
    lane: str
    long: bool
    fn: Callable
    args: tuple
    future: Future = field(default_factory=Future)


class FairQueue:
    """``workers`` threads running submitted work, shared fairly between askers.

    ``initializer()`` runs once on each thread; ``on_idle(longest_s)`` on the thread that
    finished the last piece of work whenever none is left waiting or running, with the longest
    time one piece took since the last time. A refusal says ``busy`` (the queue is full) or that
    the asker has ``share`` ``noun`` already, with ``retry_after`` seconds.
    """

    def __init__(self, workers: int, capacity: int, share: int, name: str, initializer: Callable | None = None,
                 noun: str = "requests", busy: str = "The server is busy with other analyses; try again in a moment.",
                 retry_after: int = 2, on_idle: Callable[[float], None] | None = None):
        self.workers, self.capacity, self.share = workers, capacity, share
        self.noun, self.busy, self.retry_after = noun, busy, retry_after
        self._on_idle, self._longest = on_idle, 0.0
        self._cond = threading.Condition()
        self._waiting: list[_Work] = []
        self._held: Counter = Counter()  # asker -> work waiting or running
        self._running_askers: Counter = Counter()
        self._running_lanes: Counter = Counter()
        self._running_long = 0
        self._running = 0
        self._seq = itertools.count()
        self._dispatches = itertools.count()
        self._last: dict[str, int] = {}  # asker or lane -> when it last had work started
        self._closing = False
        self._initializer = initializer
        self._threads = [threading.Thread(target=self._loop, name=f"{name}-{i}", daemon=True) for i in range(workers)]
        for t in self._threads:
            t.start()

    @property
    def pending(self) -> int:
        """Work waiting or running."""
        with self._cond:
            return len(self._waiting) + self._running

    def submit(self, asker: str, lane: str, fn: Callable, *args, long: bool = False, bounded: bool = True) -> Future:
        """Queue ``fn(*args)`` for ``asker`` (``lane``: where within the asker it came from);
        returns its future. ``long``: it may take seconds (it never takes the last free thread).
        ``bounded``: counted against ``capacity`` and the asker's ``share`` (best-effort work
        of the server's own is not)."""
        with self._cond:
            if self._closing:
                raise Busy(SHUTTING_DOWN, retry_after=10)
            if bounded:
                self._check(asker)
            work = _Work(next(self._seq), asker, lane, long, fn, args)
            self._waiting.append(work)
            self._held[asker] += 1
            self._cond.notify()
            return work.future

    def admits(self, asker: str) -> None:
        """Raise :class:`Busy` when work of ``asker`` would be refused now (to refuse before
        preparing it)."""
        with self._cond:
            if self._closing:
                raise Busy(SHUTTING_DOWN, retry_after=10)
            self._check(asker)

    def _check(self, asker: str) -> None:  # holding _cond
        if len(self._waiting) + self._running >= self.capacity:
            raise Busy(self.busy, retry_after=self.retry_after)
        if self._held[asker] >= self.share:
            raise Busy(f"You already have {self._held[asker]} {self.noun} waiting or running, as many as one "
                       "person may; try again when one has finished.", retry_after=self.retry_after)

    def _eligible(self, work: _Work) -> bool:
        return not work.long or self.workers == 1 or self._running_long < self.workers - 1

    def _take(self) -> _Work | None:  # holding _cond
        candidates = [w for w in self._waiting if self._eligible(w)]
        if not candidates:
            return None
        work = min(candidates, key=lambda w: (self._running_askers[w.asker], self._last.get(w.asker, -1),
                                              self._running_lanes[w.lane], self._last.get(w.lane, -1), w.seq))
        self._waiting.remove(work)
        self._last[work.asker] = self._last[work.lane] = next(self._dispatches)
        self._running += 1
        self._running_askers[work.asker] += 1
        self._running_lanes[work.lane] += 1
        self._running_long += work.long
        return work

    def _loop(self) -> None:
        if self._initializer is not None:
            self._initializer()
        while True:
            with self._cond:
                work = self._take()
                while work is None:
                    if self._closing:
                        return
                    self._cond.wait()
                    work = self._take()
            started = time.monotonic()
            if work.future.set_running_or_notify_cancel():
                try:
                    work.future.set_result(work.fn(*work.args))
                except BaseException as err:  # handed to whoever waits on the future
                    work.future.set_exception(err)
            with self._cond:
                self._running -= 1
                self._running_askers[work.asker] -= 1
                self._running_lanes[work.lane] -= 1
                self._running_long -= work.long
                self._held[work.asker] -= 1
                for counter in (self._running_askers, self._running_lanes, self._held):
                    _drop_zeros(counter)
                self._longest = max(self._longest, time.monotonic() - started)
                idle = not self._waiting and not self._running and not self._closing
                longest, self._longest = (self._longest, 0.0) if idle else (0.0, self._longest)
                self._cond.notify_all()
            if idle and self._on_idle is not None:
                self._on_idle(longest)

    def close(self, wait: bool = True) -> list:
        """Take no more work, cancel what waits (its futures raise ``Busy``), let the running
        work finish (``wait``: join the threads); returns the cancelled work's ``args``."""
        with self._cond:
            self._closing = True
            cancelled, self._waiting = self._waiting, []
            for work in cancelled:
                self._held[work.asker] -= 1
                work.future.set_exception(Busy(SHUTTING_DOWN, retry_after=10))
            self._cond.notify_all()
        if wait:
            for t in self._threads:
                if t is not threading.current_thread():
                    t.join()
        return [w.args for w in cancelled]
