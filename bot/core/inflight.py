"""Answers in flight: counted, so that SIGTERM can let them finish before the process exits,
and told when the drain time ran out, so that each still waiting says "I am restarting"
instead of going silent."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

NOTICE_SECONDS = 5.0  # after the drain deadline, to post "restarting" to what is still waiting


class InFlight:
    """Counts the answers being composed or delivered, and holds the tasks a platform
    library started for questions it acknowledged but has not handed over yet; ``drain``
    waits for both."""

    def __init__(self) -> None:
        self.count = 0
        self.closing = False
        self._idle: asyncio.Event | None = None
        self._held: set[asyncio.Future[object]] = set()
        self._deadline: asyncio.Event | None = None

    def _deadline_event(self) -> asyncio.Event:
        if self._deadline is None:
            self._deadline = asyncio.Event()
        return self._deadline

    async def deadline(self) -> None:
        """Return when the drain time runs out (never, unless the process shuts down)."""
        await self._deadline_event().wait()

    def _event(self) -> asyncio.Event:
        if self._idle is None:
            self._idle = asyncio.Event()
            if self._is_idle():
                self._idle.set()
        return self._idle

    def _is_idle(self) -> bool:
        return self.count == 0 and not self._held

    def hold(self, task: asyncio.Future[object]) -> None:
        """Count ``task`` in flight until it is done (a listener a platform library started
        after acknowledging an event, before it reaches ``track``)."""
        if task.done() or task in self._held:
            return
        self._held.add(task)
        self._event().clear()
        task.add_done_callback(self._released)

    def _released(self, task: asyncio.Future[object]) -> None:
        self._held.discard(task)
        if self._is_idle():
            self._event().set()

    @asynccontextmanager
    async def track(self) -> AsyncIterator[None]:
        """Count the body as one answer in flight."""
        self.count += 1
        self._event().clear()
        try:
            yield
        finally:
            self.count -= 1
            if self._is_idle():
                self._event().set()

    async def idle(self, timeout: float) -> bool:
        """Wait (at most ``timeout`` s) until nothing is in flight, without refusing new
        questions. Returns whether that moment came."""
        try:
            await asyncio.wait_for(self._event().wait(), timeout)
        except TimeoutError:
            return False
        return True

    async def drain(self, timeout: float, notice_seconds: float = NOTICE_SECONDS) -> bool:
        """Refuse new questions from now on and wait (at most ``timeout`` s) for those in
        flight. When they have not all finished by then, the deadline passes: each answer
        still being composed or queued gives way to "restarting", and those notices get
        ``notice_seconds`` more to be posted. Returns whether everything finished within
        ``timeout``."""
        self.closing = True
        if await self.idle(timeout):
            return True
        self._deadline_event().set()
        await self.idle(notice_seconds)
        return False
