"""What stands in front of the bolt app in HTTP mode (aiohttp middlewares): Slack's signature
and the body's shape checked before anything reads a request, and every request, with the
listener tasks bolt starts for it, counted in flight so a shutdown waits for them.

The shape check (``malformed``) covers what bolt and the listeners read without checking it
themselves: an ``event`` that is an object with a type, ``actions`` a non-empty list of
objects, ids that are strings (or objects with a string ``id``), texts that are strings. A
signed body that fails it would otherwise raise inside bolt (a 500 and a traceback)."""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any
from urllib.parse import parse_qs

from aiohttp import web
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_sdk.signature import SignatureVerifier
from slack_sdk.socket_mode.aiohttp import SocketModeClient
from slack_sdk.socket_mode.request import SocketModeRequest
from slack_sdk.socket_mode.response import SocketModeResponse

from bot.core import InFlight

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


class GuardedSocketModeHandler(AsyncSocketModeHandler):
    """Socket Mode with the HTTP guard's shape check: an envelope whose payload bolt cannot
    read is acknowledged (Slack does not send it again) and dropped, with one log line."""

    # bolt's own aiohttp handler narrows the client's type the same way
    async def handle(self, client: SocketModeClient, req: SocketModeRequest) -> None:  # type: ignore[override]
        """Hand a well-formed envelope to bolt; acknowledge and drop the others."""
        payload = req.payload
        problem = malformed(payload) if isinstance(payload, dict) else "it is not an object"
        if problem:
            log.warning("Slack: refused a Socket Mode request that cannot be read (%s)", problem)
            await client.send_socket_mode_response(SocketModeResponse(envelope_id=req.envelope_id))
            return
        await super().handle(client, req)


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
        return malformed(data) if isinstance(data, dict) else "the body is not a JSON object"
    payload = parse_qs(body).get("payload")
    if payload:
        try:
            data = json.loads(payload[0])
        except ValueError:
            return "the payload is not JSON"
        if not isinstance(data, dict):
            return "the payload is not a JSON object"
        return malformed(data)
    return None


IDS = ("enterprise", "team", "user", "channel")  # a string, or an object with a string id
TEXTS = ("type", "text", "ts", "thread_ts", "subtype", "bot_id", "channel_type", "event_id")
OBJECTS = ("message", "previous_message", "container", "item")
LISTS_OF_OBJECTS = ("authorizations", "response_urls")


def malformed(data: dict[str, Any]) -> str | None:
    """What in a Slack request's JSON has a shape bolt or the listeners cannot read (a few
    words naming the field), or ``None``."""
    problem = _fields(data, top=True)
    if problem:
        return problem
    if "event" in data or data.get("type") == "event_callback":
        event = data.get("event")
        if not isinstance(event, dict) or not isinstance(event.get("type"), str):
            return "its event is not an object with a type"
        problem = _fields(event, top=False)
        if problem:
            return "its event's " + problem.removeprefix("its ")
        if event["type"] in ("app_mention", "message") and not isinstance(
            event.get("channel"), str
        ):
            return "its event has no channel"
    if "actions" in data or data.get("type") == "block_actions":
        actions = data.get("actions")
        if not isinstance(actions, list) or not actions:
            return "its actions are not a non-empty list"
        if not all(isinstance(a, dict) and isinstance(a.get("action_id"), str) for a in actions):
            return "its actions are not objects with an action_id"
    return None


def _fields(data: dict[str, Any], *, top: bool) -> str | None:
    """The first of ``data``'s common fields with the wrong shape. At the top of an
    interaction, Slack may send a ``team`` or ``user`` of ``null``; inside an event, never."""
    for key in IDS:
        value = data.get(key)
        if key not in data or (value is None and top) or isinstance(value, str):
            continue
        if not (isinstance(value, dict) and isinstance(value.get("id", ""), str)):
            return f"its {key} is malformed"
    for key in TEXTS:
        if key in data and not isinstance(data[key], str):
            return f"its {key} is not a string"
    for key in OBJECTS:
        if key in data and not isinstance(data[key], dict):
            return f"its {key} is not an object"
    for key in LISTS_OF_OBJECTS:
        value = data.get(key)
        if value is not None and not (
            isinstance(value, list) and all(isinstance(v, dict) for v in value)
        ):
            return f"its {key} are not a list of objects"
    return None
