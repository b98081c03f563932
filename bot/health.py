"""``/healthz`` and ``/metrics`` while serving (aiohttp, its own port)."""

from __future__ import annotations

import logging
from collections.abc import Callable

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST

from bot.config import AUTO_PORT
from bot.core.metrics import Metrics

log = logging.getLogger("playbook.health")

Status = Callable[[], list[str]]  # the reasons the bot is not healthy (empty: healthy)
Notes = Callable[[], list[str]]  # what an operator should know although the bot works


def _no_notes() -> list[str]:
    return []


def health_app(status: Status, metrics: Metrics, notes: Notes = _no_notes) -> web.Application:
    """The application: ``/healthz`` is 200 ``ok`` or 503 with the reasons, then one line per
    note (a file of the knowledge base left out, and why); ``/metrics`` is the Prometheus text
    format."""

    async def healthz(_request: web.Request) -> web.Response:
        problems = status()
        detail = "".join(f"left out: {note}\n" for note in notes())
        if problems:
            text = "unhealthy: " + "; ".join(problems) + "\n" + detail
            return web.Response(status=503, text=text)
        return web.Response(text="ok\n" + detail)

    async def prometheus(_request: web.Request) -> web.Response:
        response = web.Response(body=metrics.render())
        response.headers["Content-Type"] = CONTENT_TYPE_LATEST
        return response

    app = web.Application()
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/metrics", prometheus)
    return app


async def start_health(
    host: str,
    port: int,
    status: Status,
    metrics: Metrics,
    header_timeout: float = 10,
    notes: Notes = _no_notes,
) -> web.AppRunner:
    """Start serving on ``host:port`` (``AUTO_PORT``: a free port the system picks) and log
    where; a connection that has not sent a request's headers within ``header_timeout``
    seconds (or stays idle that long) is closed. Returns the runner (``await
    runner.cleanup()`` stops it)."""
    runner = http_runner(health_app(status, metrics, notes), header_timeout)
    await runner.setup()
    await web.TCPSite(runner, host, 0 if port == AUTO_PORT else port).start()
    log.info("Health: http://%s:%s/healthz and /metrics", host, bound_port(runner))
    return runner


def http_runner(app: web.Application, header_timeout: float) -> web.AppRunner:
    """The runner of an aiohttp ``app`` (no access log) that closes a connection which has
    not sent a request's headers within ``header_timeout`` seconds. aiohttp's keep-alive
    timer does it: it runs from the connection's start and from the end of each response
    until the next request's headers are read, and closes a connection still waiting for
    them (a request being handled is never cut)."""
    return web.AppRunner(app, access_log=None, keepalive_timeout=header_timeout)


def bound_port(runner: web.BaseRunner) -> int:
    """The port ``runner`` listens on (the one the system picked when asked for port 0)."""
    return int(runner.addresses[0][1])
