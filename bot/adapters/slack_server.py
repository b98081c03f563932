"""Running the Slack app: HTTP (Events API on /slack/events) or Socket Mode."""

from __future__ import annotations

import asyncio
import logging

from aiohttp import web

from bot.adapters.slack_app import SlackBot
from bot.health import http_runner

log = logging.getLogger("playbook.slack")
EVENTS_PATH = "/slack/events"


async def serve_http(
    bot: SlackBot,
    host: str,
    port: int,
    stop: asyncio.Event,
    drain_seconds: float = 10,
    header_timeout: float = 10,
) -> None:
    """Serve Slack's requests on ``http://host:port/slack/events`` (port 0: a free port the
    system picks, logged) until ``stop`` is set; then stop listening, let the answers in flight
    finish (bounded) and close. A connection that has not sent a request's headers within
    ``header_timeout`` seconds (or stays idle that long) is closed."""
    runner = http_runner(bot.web_app(EVENTS_PATH, port), header_timeout)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    bound = runner.addresses[0][1]  # the port the system picked when asked for port 0
    log.info("Slack: listening on http://%s:%s%s", host, bound, EVENTS_PATH)
    try:
        await stop.wait()
        began = loop_time()
        await site.stop()
        if not await bot.inflight.drain(drain_seconds):
            log.warning("Slack: answers still in flight after %s s; stopping anyway", drain_seconds)
    finally:
        await runner.cleanup()
    # A request that came on an open connection while closing was acknowledged: its answer
    # (or "restarting") is sent before the process goes.
    await bot.inflight.drain(max(0.5, drain_seconds - (loop_time() - began)))


def loop_time() -> float:
    """The running event loop's clock."""
    return asyncio.get_running_loop().time()


async def serve_socket(
    bot: SlackBot, app_token: str, stop: asyncio.Event, drain_seconds: float = 10
) -> None:
    """Connect to Slack in Socket Mode and serve until ``stop`` is set (an envelope bolt
    cannot read is acknowledged and dropped); then let the answers in flight finish (bounded)
    and disconnect."""
    from bot.adapters.slack_middleware import GuardedSocketModeHandler

    handler = GuardedSocketModeHandler(bot.app, app_token)
    bot.socket_handler = handler
    await handler.connect_async()
    log.info("Slack: connected in Socket Mode")
    try:
        await stop.wait()
        if not await bot.inflight.drain(drain_seconds):
            log.warning("Slack: answers still in flight after %s s; stopping anyway", drain_seconds)
    finally:
        await handler.close_async()
