"""Helpers for tests that run the ``playbook`` command or a fake platform beside it."""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Coroutine
from pathlib import Path

KNOWLEDGE = Path(__file__).resolve().parents[1] / "knowledge"
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


def free_port() -> int:
    """A TCP port free on 127.0.0.1 now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def port_open(port: int) -> bool:
    """Whether something listens on 127.0.0.1:port."""
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


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
