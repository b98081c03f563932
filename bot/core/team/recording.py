"""Database writes that come second to answering: a question is answered (or apologised for)
whatever the database does.

The question log, the answers kept for their buttons and the threads the bot answered in are
written by one background thread, so an answer never waits on them; a failure is logged once
(until the database works again) with its cause, and ``problem`` says what is wrong for
``/healthz``. Deduplication of platform retries falls back to memory while the database cannot
be written.
"""

from __future__ import annotations

import atexit
import logging
import queue
import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Generic, TypeVar

from sqlalchemy.exc import SQLAlchemyError

log = logging.getLogger("playbook.store")
T = TypeVar("T")
FAILURES = (SQLAlchemyError, OSError)
REMEMBERED_EVENTS = 10_000
EXIT_SECONDS = 5.0


class Recorder:
    """Runs database writes (now, or later on its own thread) and keeps their health."""

    def __init__(self) -> None:
        self.problem: str | None = None
        self._lock = threading.Lock()
        # (what, action); what is None for a flush marker, which is no database write
        self._queue: queue.Queue[tuple[str | None, Callable[[], object]]] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._events: Noted[str, bool] = Noted(REMEMBERED_EVENTS)  # recent events, in memory

    def run(self, what: str, action: Callable[[], T], default: T, *, write: bool = True) -> T:
        """``action()``, or ``default`` when the database fails (said once, with the cause).
        A write that works clears ``problem``; a read (``write=False``) does not, since a
        database can be read while it cannot be written."""
        try:
            result = action()
        except FAILURES as exc:
            self._failed(what, exc)
            return default
        if write:
            self._worked()
        return result

    def later(self, what: str, action: Callable[[], object]) -> None:
        """Run ``action`` on the recorder's thread, after what was queued before it."""
        self._put(what, action)

    def flush(self, timeout: float = 5.0) -> bool:
        """Wait until every queued write ran (at most ``timeout`` seconds); whether they did."""
        done = threading.Event()
        self._put(None, done.set)
        return done.wait(timeout)

    def _put(self, what: str | None, action: Callable[[], object]) -> None:
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._work, name="recorder", daemon=True)
                self._thread.start()
                # What is queued when the process exits is written first (bounded).
                atexit.register(self.flush, EXIT_SECONDS)
        self._queue.put((what, action))

    def first_delivery(self, key: str, stored: Callable[[], bool]) -> bool:
        """Whether the event ``key`` is seen for the first time: by the database when it can
        be written (across processes), else by this process's memory of recent events. While
        the database is known to fail, it is not tried (each try would hold an answer back);
        the periodic check says when it works again. Only the first sighting in this process
        asks the database: were a later one to write first, both would be told "seen"."""
        if not self._events.put(key, True):
            return False  # seen here already: only the first sighting asks the database
        if self.problem is not None:
            return True
        first = self.run("recording a delivered event", stored, None)
        return True if first is None else first

    def _work(self) -> None:
        while True:
            what, action = self._queue.get()
            if what is None:
                action()
            else:
                self.run(what, action, None)

    def _failed(self, what: str, exc: BaseException) -> None:
        reason = f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
        with self._lock:
            first = self.problem is None
            self.problem = f"the database cannot be written ({reason[:200]})"
        if first:
            log.error("The database failed while %s (%s); answering goes on.", what, reason)

    def _worked(self) -> None:
        with self._lock:
            was, self.problem = self.problem, None
        if was is not None:
            log.warning("The database works again.")


REMEMBERED = 10_000
K = TypeVar("K")
V = TypeVar("V")


class Noted(Generic[K, V]):
    """What this process noted lately, known at once while its database write runs later on
    the recorder's thread (the threads the bot answered in, the answers it kept for their
    buttons): a follow-up or a click that comes before that write still finds it. Bounded,
    oldest forgotten first; thread-safe."""

    def __init__(self, size: int = REMEMBERED) -> None:
        self._size = size
        self._lock = threading.Lock()
        self._items: OrderedDict[K, V] = OrderedDict()

    def put(self, key: K, value: V) -> bool:
        """Note ``value`` under ``key``; whether ``key`` was not noted already."""
        with self._lock:
            new = key not in self._items
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self._size:
                self._items.popitem(last=False)
            return new

    def get(self, key: K) -> V | None:
        """What was noted under ``key``, or ``None``."""
        with self._lock:
            return self._items.get(key)

    def __contains__(self, key: object) -> bool:
        with self._lock:
            return key in self._items
