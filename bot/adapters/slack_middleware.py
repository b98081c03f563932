"""What stands in front of the bolt app in HTTP mode (aiohttp middlewares): Slack's signature
and the body's shape checked before anything reads a request, and every request, with the
listener tasks bolt starts for it, counted in flight so a shutdown waits for them."""

from __future__ import annotations

import asyncio
import json
import logging
from urllib.parse import parse_qs

from aiohttp import web
from slack_sdk.signature import SignatureVerifier

from bot.core.inflight import InFlight

log = logging.getLogger("playbook.slack")


def request_guard(signing_secret: str):
    """An aiohttp middleware: Slack's signature checked first, then the body's shape (a JSON
    object, or a form whose ``payload`` is one), each failure a short 401 / 400."""
    verifier = SignatureVerifier(signing_secret)

    @web.middleware
    async def guard(request: web.Request, handler):
        if request.method != "POST":
            return await handler(request)
        body = (await request.read()).decode("utf-8", errors="replace")
        if not verifier.is_valid_request(body, dict(request.headers)):
            log.warning("Slack: refused a request that is not signed (%s)", request.remote)
            return web.Response(status=401, text="invalid signature")
        problem = _unparsable(body, request.content_type)
        if problem:
            log.warning("Slack: refused a signed request that cannot be parsed (%s)", problem)
            return web.Response(status=400, text=problem)
        return await handler(request)

    return guard


def hold_listeners(inflight: InFlight):
    """An aiohttp middleware: a request is counted in flight from its arrival, and the
    listener tasks bolt starts while acknowledging it from then on, so a shutdown that begins
    before they run waits for them (each answers, or says "restarting") instead of
    cancelling them."""

    @web.middleware
    async def hold(request: web.Request, handler):
        async with inflight.track():
            before = asyncio.all_tasks()
            try:
                return await handler(request)
            finally:
                for task in asyncio.all_tasks() - before:
                    if _started_by_bolt(task):
                        inflight.hold(task)

    return hold


def _started_by_bolt(task: asyncio.Task[object]) -> bool:
    code = getattr(task.get_coro(), "cr_code", None)
    return code is not None and "slack_bolt" in code.co_filename


def _unparsable(body: str, content_type: str) -> str | None:
    """Why a signed Slack request body cannot be read, or ``None``."""
    if content_type == "application/json":
        try:
            data = json.loads(body)
        except ValueError:
            return "the body is not JSON"
        return None if isinstance(data, dict) else "the body is not a JSON object"
    payload = parse_qs(body).get("payload")
    if payload:
        try:
            data = json.loads(payload[0])
        except ValueError:
            return "the payload is not JSON"
        if not isinstance(data, dict):
            return "the payload is not a JSON object"
    return None
