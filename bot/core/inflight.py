"""Answers in flight: counted, so that SIGTERM can let them finish before the process exits."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager


class InFlight:
    """Counts the answers being composed or delivered; ``drain`` waits for them."""

    def __init__(self) -> None:
        self.count = 0
        self.closing = False
        self._idle: asyncio.Event | None = None

    def _event(self) -> asyncio.Event:
        if self._idle is None:
            self._idle = asyncio.Event()
            if self.count == 0:
                self._idle.set()
        return self._idle

    @asynccontextmanager
    async def track(self) -> AsyncIterator[None]:
        """Count the body as one answer in flight."""
        self.count += 1
        self._event().clear()
        try:
            yield
        finally:
            self.count -= 1
            if self.count == 0:
                self._event().set()

    async def drain(self, timeout: float) -> bool:
        """Refuse new questions from now on and wait (at most ``timeout`` s) for those in
        flight. Returns whether they all finished."""
        self.closing = True
        try:
            await asyncio.wait_for(self._event().wait(), timeout)
        except TimeoutError:
            return False
        return True
