"""What the ``playbook`` commands share: the usage error, the exit code for it, and what
building an engine tells the terminal (a progress bar on stderr)."""

from __future__ import annotations

import sys

from bot.app import say

EXIT_USAGE = 2
_stderr = say


class UserError(Exception):
    """A problem the user can fix; shown as one line, exit code 2."""


class ProgressBar:
    """A one-line progress bar on stderr (redrawn in place on a terminal)."""

    def __init__(self, label: str, stream=None) -> None:
        self.label = label
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty()
        self._last = -1

    def __call__(self, done: int, total: int) -> None:
        """Show ``done`` of ``total``."""
        if total == 0:
            return
        width = 30
        filled = width * done // total
        line = f"{self.label} [{'#' * filled}{'.' * (width - filled)}] {done}/{total}"
        if self.tty:
            print(f"\r{line}", end="" if done < total else "\n", file=self.stream, flush=True)
        elif done == total and self._last != done:
            print(line, file=self.stream, flush=True)
        self._last = done


def telling(quiet: bool) -> dict:
    """What building an engine tells the terminal: nothing when ``quiet`` (``--json``)."""
    if quiet:
        return {"notify": lambda _m: None, "progress": None}
    return {"notify": _stderr, "progress": ProgressBar("Embedding")}
