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


def health_app(status: Status, metrics: Metrics) -> web.Application:
    """The application: ``/healthz`` is 200 ``ok`` or 503 with the reasons; ``/metrics`` is the
    Prometheus text format."""

    async def healthz(_request: web.Request) -> web.Response:
        problems = status()
        if problems:
            return web.Response(status=503, text="unhealthy: " + "; ".join(problems) + "\n")
        return web.Response(text="ok\n")

    async def prometheus(_request: web.Request) -> web.Response:
        response = web.Response(body=metrics.render())
        response.headers["Content-Type"] = CONTENT_TYPE_LATEST
        return response

    app = web.Application()
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/metrics", prometheus)
    return app


async def start_health(host: str, port: int, status: Status, metrics: Metrics) -> web.AppRunner:
    """Start serving on ``host:port`` (``AUTO_PORT``: a free port the system picks) and log
    where. Returns the runner (``await runner.cleanup()`` stops it)."""
    runner = web.AppRunner(health_app(status, metrics), access_log=None)
    await runner.setup()
    await web.TCPSite(runner, host, 0 if port == AUTO_PORT else port).start()
    log.info("Health: http://%s:%s/healthz and /metrics", host, bound_port(runner))
    return runner


def bound_port(runner: web.BaseRunner) -> int:
    """The port ``runner`` listens on (the one the system picked when asked for port 0)."""
    return int(runner.addresses[0][1])
