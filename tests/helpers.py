"""Helpers for tests that run the ``playbook`` command or a fake platform beside it."""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import IO

KNOWLEDGE = Path(__file__).resolve().parents[1] / "knowledge"
SHARED = KNOWLEDGE.parents[1] / "shared"


def site_corpus() -> Path:
    """The second-cerveau site that the site tests read: ``PLAYBOOK_TEST_SITE``, else
    ``../shared/corpora/second-cerveau`` beside the project."""
    return Path(os.environ.get("PLAYBOOK_TEST_SITE") or SHARED / "corpora" / "second-cerveau")


def skip_without_site(site: Path) -> None:
    """Skip the calling test, saying where the site was looked for (CI fails on any skip)."""
    import pytest

    if not site.is_dir():
        pytest.skip(f"the site corpus is expected at {site} (set PLAYBOOK_TEST_SITE)")


_OURS = ("PLAYBOOK_", "SLACK_", "DISCORD_")


def copy_knowledge(folder: Path) -> Path:
    """A working directory holding a copy of the bundled ``knowledge/``. Returns ``folder``."""
    shutil.copytree(KNOWLEDGE, folder / "knowledge")
    return folder


def environment(env: dict | None = None) -> dict:
    """This process's environment without the bot's own variables, plus ``env``."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith(_OURS)}
    return {**clean, **(env or {})}


def run(workdir: Path, *args: str, env: dict | None = None, stdin: str | None = None):
    """Run ``python -m bot ARGS`` in ``workdir`` to completion; returns the CompletedProcess."""
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=workdir,
        env=environment(env),
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
    )


def start(workdir: Path, *args: str, env: dict | None = None) -> subprocess.Popen:
    """Start ``python -m bot ARGS`` in ``workdir`` (stdout and stderr captured)."""
    return subprocess.Popen(
        [sys.executable, "-m", "bot", *args],
        cwd=workdir,
        env=environment(env),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


# The log lines that say where ``playbook serve`` listens (text or JSON logs alike).
LISTENING = {
    "slack": re.compile(r"Slack: listening on http://[^\s:/]+:(\d+)/"),
    "health": re.compile(r"Health: http://[^\s:/]+:(\d+)/healthz"),
    "web": re.compile(r"Web pages: http://[^\s:/]+:(\d+)/"),
}


class Bot:
    """``python -m bot ARGS`` started in ``workdir``, its output read as it comes (so no
    pipe fills up), so that a test can wait for a log line, such as the one naming the port
    the bot bound when given port 0, and still read the whole output at the end.

    Ports are bound once, by the bot: a port found free by the test, closed, then bound by
    the bot later could be taken by another process in between."""

    def __init__(self, workdir: Path, *args: str, env: dict | None = None) -> None:
        self.proc = start(workdir, *args, env=env)
        self._out: list[str] = []
        self._err: list[str] = []
        self._ended = 0  # streams read to their end
        self._changed = threading.Condition()
        self._readers = [
            threading.Thread(target=self._read, args=(stream, lines), daemon=True)
            for stream, lines in ((self.proc.stdout, self._out), (self.proc.stderr, self._err))
        ]
        for reader in self._readers:
            reader.start()

    def _read(self, stream: IO[str], lines: list[str]) -> None:
        for line in stream:
            with self._changed:
                lines.append(line)
                self._changed.notify_all()
        with self._changed:
            self._ended += 1
            self._changed.notify_all()

    def wait_for_log(self, pattern: re.Pattern[str], timeout: float = 60.0) -> re.Match[str]:
        """The first line of the log (stderr) that ``pattern`` finds; fails the test when the
        bot exits or ``timeout`` seconds pass first."""
        deadline = time.monotonic() + timeout
        seen = 0
        with self._changed:
            while True:
                for line in self._err[seen:]:
                    found = pattern.search(line)
                    if found:
                        return found
                seen = len(self._err)
                if self._ended == len(self._readers):
                    tail = "".join(self._err)[-3000:]
                    raise AssertionError(
                        f"the bot exited before logging {pattern.pattern}:\n{tail}"
                    )
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"timed out waiting for the log line {pattern.pattern}")
                self._changed.wait(left)

    def port(self, which: str, timeout: float = 60.0) -> int:
        """The port the bot says it listens on: ``slack`` (``--slack-http``) or ``health``."""
        return int(self.wait_for_log(LISTENING[which], timeout).group(1))

    def send_signal(self, sig: int = signal.SIGTERM) -> None:
        """Send ``sig`` to the bot."""
        self.proc.send_signal(sig)

    def poll(self) -> int | None:
        """The exit code, or ``None`` while it runs."""
        return self.proc.poll()

    def kill(self) -> None:
        """SIGKILL."""
        self.proc.kill()

    @property
    def returncode(self) -> int | None:
        """The exit code, once it exited."""
        return self.proc.returncode

    def communicate(self, timeout: float) -> tuple[str, str]:
        """Wait for the bot to exit (``subprocess.TimeoutExpired`` after ``timeout`` s);
        returns all it wrote to stdout and stderr."""
        self.proc.wait(timeout)
        for reader in self._readers:
            reader.join(timeout)
        with self._changed:
            return "".join(self._out), "".join(self._err)


def wait_until(predicate: Callable[[], object], timeout: float = 30.0, what: str = "it") -> None:
    """Poll ``predicate`` until it is true; fail the test after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


async def wait_for_calls(found: Callable[[], list], count: int, timeout: float, what: str) -> list:
    """Poll ``found()`` (a fake server's recorded calls) until it holds ``count`` calls and
    return them; fail the test after ``timeout`` seconds with ``what`` in the message."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        calls = found()
        if len(calls) >= count:
            return calls
        await asyncio.sleep(0.02)
    raise AssertionError(f"{what}: seen {len(found())} times, wanted {count}")


def http_get(url: str) -> tuple[int, str]:
    """``(status, body)`` of a GET, error statuses included."""
    try:
        with urllib.request.urlopen(url, timeout=5) as resp:
            return resp.status, resp.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def http_post(url: str, body: str, headers: dict) -> int:
    """The status of a POST of ``body``."""
    request = urllib.request.Request(url, data=body.encode(), headers=headers)
    with urllib.request.urlopen(request, timeout=5) as resp:
        return resp.status


async def serve_app(app) -> tuple:
    """Serve an aiohttp application on 127.0.0.1 at a free port. Returns ``(runner, port)``;
    ``await runner.cleanup()`` stops it."""
    from aiohttp import web

    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    return runner, site._server.sockets[0].getsockname()[1]


class ThreadedFake:
    """A fake platform (``FakeSlack``, ``FakeDiscord``) served on its own event loop in a
    thread, so that a bot subprocess can talk to it while the test waits synchronously."""

    def __init__(self, factory: Callable[[], object]) -> None:
        self.factory = factory

    def __enter__(self):
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.fake = self.call(self.factory().start())
        return self

    def call(self, coro: Coroutine):
        """Run ``coro`` on the fake's loop and return its result."""
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(10)

    def __exit__(self, *exc) -> None:
        self.call(self.fake.stop())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)


# What a passage must never be: markup left over instead of text. Once URLs, HTML tags,
# shortcodes and file names are taken out, nothing but punctuation, "image" or tag names.
_RESIDUE_OUT = re.compile(
    r"(?:https?://|www\.)\S+|</?[A-Za-z][^>]*>|\{\{[<%].*?[>%]\}\}|\S+\.(?:png|jpe?g|gif|svg)\b",
    re.S | re.I,
)
_RESIDUE_WORDS = {"image", "img", "div", "span", "br", "p", "a", "alt", "figure", "src"}
_MARKUP_MARKS = ("{{<", "{{%", "<div", "![", "<!--", "<br", "<span")


def residue_passages(texts) -> list[str]:
    """The texts among ``texts`` that are markup residue, or that still hold raw markup
    (``{{<``, ``{{%``, ``<div``, ``![``, …)."""
    found = []
    for text in texts:
        words = re.findall(r"\w+", _RESIDUE_OUT.sub(" ", text))
        if all(w.casefold() in _RESIDUE_WORDS for w in words) or any(
            mark in text for mark in _MARKUP_MARKS
        ):
            found.append(text)
    return found
