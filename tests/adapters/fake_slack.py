"""A fake Slack on 127.0.0.1 for the real bolt app: the Web API (recording every call), the
``response_url`` endpoint, and a Socket Mode websocket. Plus signed request builders."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import itertools
import json
import time
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, urlencode

from aiohttp import WSMsgType, web

from tests.helpers import serve_app, wait_for_calls

SIGNING_SECRET = "test-signing-secret"
BOT_TOKEN = "xoxb-test-token"
APP_TOKEN = "xapp-test-token"
TEAM = "T0TEAM"
BOT_USER = "U0BOT"


@dataclass
class Call:
    """One request the bot made: the API method (or ``response``), headers and body."""

    method: str
    headers: dict
    body: dict
    at: float = field(default_factory=time.monotonic)  # when it arrived
    name: str = ""  # the response URL's name (``/response/<name>``)


@dataclass
class FakeSlack:
    """Serves the Web API on ``/api/<method>`` and response URLs on ``/response/<n>``."""

    calls: list[Call] = field(default_factory=list)
    failures: dict[str, list[tuple[int, dict, dict]]] = field(default_factory=dict)
    delays: dict[str, float] = field(default_factory=dict)  # seconds before answering a method
    answered: list[str] = field(default_factory=list)  # methods whose response was sent
    holds: dict[str, list[asyncio.Event]] = field(default_factory=dict)
    ws_envelopes: asyncio.Queue | None = None
    ws_acks: list[dict] = field(default_factory=list)
    _ts: itertools.count = field(default_factory=lambda: itertools.count(1))
    _runner: web.AppRunner | None = None
    port: int = 0

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/"

    def response_url(self, name: str = "1") -> str:
        return f"http://127.0.0.1:{self.port}/response/{name}"

    def fail(self, method: str, status: int = 200, body: dict | None = None, headers=None) -> None:
        """Make the next call of ``method`` answer ``status``/``body`` (e.g. 429)."""
        self.failures.setdefault(method, []).append((status, body or {}, headers or {}))

    def hold(self, method: str, release: asyncio.Event) -> None:
        """Make the next call of ``method`` arrive (it is recorded: the message is in Slack)
        but its response wait until ``release`` is set."""
        self.holds.setdefault(method, []).append(release)

    async def start(self) -> FakeSlack:
        app = web.Application()
        app.router.add_post("/api/{method}", self._api)
        app.router.add_post("/response/{name}", self._response)
        app.router.add_get("/ws", self._ws)
        self._runner, self.port = await serve_app(app)
        self.ws_envelopes = asyncio.Queue()
        return self

    async def stop(self) -> None:
        if self._runner:
            await self._runner.cleanup()

    async def _body(self, request: web.Request) -> dict:
        raw = await request.text()
        if request.content_type == "application/json":
            return json.loads(raw or "{}")
        return dict(parse_qsl(raw))

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        body = await self._body(request)
        self.calls.append(Call(method, dict(request.headers), body))
        if self.delays.get(method):
            await asyncio.sleep(self.delays[method])
        if self.holds.get(method):
            await self.holds[method].pop(0).wait()
        self.answered.append(method)
        if self.failures.get(method):
            status, data, headers = self.failures[method].pop(0)
            return web.json_response(data, status=status, headers=headers)
        if method == "auth.test":
            data = {"ok": True, "user_id": BOT_USER, "bot_id": "B0BOT", "team_id": TEAM}
        elif method in ("chat.postMessage", "chat.update"):
            ts = body.get("ts") or f"1700000000.{next(self._ts):06d}"
            data = {"ok": True, "channel": body.get("channel"), "ts": ts}
        elif method == "apps.connections.open":
            data = {"ok": True, "url": f"ws://127.0.0.1:{self.port}/ws"}
        else:
            data = {"ok": True}
        return web.json_response(data)

    async def _response(self, request: web.Request) -> web.Response:
        body = await self._body(request)
        name = request.match_info["name"]
        self.calls.append(Call("response", dict(request.headers), body, name=name))
        return web.json_response({"ok": True})

    async def _ws(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        await ws.send_json({"type": "hello", "num_connections": 1})

        async def reader() -> None:
            async for msg in ws:
                if msg.type == WSMsgType.TEXT:
                    self.ws_acks.append(json.loads(msg.data))

        read = asyncio.create_task(reader())
        try:
            while not ws.closed:
                try:
                    envelope = await asyncio.wait_for(self.ws_envelopes.get(), 0.2)
                except TimeoutError:
                    continue
                await ws.send_json(envelope)
        finally:
            read.cancel()
        return ws

    def of(self, method: str) -> list[Call]:
        return [c for c in self.calls if c.method == method]

    async def wait_for(self, method: str, count: int = 1, timeout: float = 60.0) -> list[Call]:
        """Wait until ``method`` was called ``count`` times; returns those calls."""
        what = f"{method} (all calls: {[c.method for c in self.calls]})"
        return await wait_for_calls(lambda: self.of(method), count, timeout, what)


def sign(body: str, timestamp: int | None = None, secret: str = SIGNING_SECRET) -> dict:
    """Headers Slack sends: ``v0=`` HMAC-SHA256 of ``v0:{ts}:{body}``."""
    ts = str(int(time.time()) if timestamp is None else timestamp)
    digest = hmac.new(secret.encode(), f"v0:{ts}:{body}".encode(), hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": f"v0={digest}"}


def event_body(event: dict, event_id: str) -> str:
    """An Events API callback as Slack posts it."""
    return json.dumps(
        {
            "token": "legacy",
            "team_id": TEAM,
            "api_app_id": "A0APP",
            "event": event,
            "type": "event_callback",
            "event_id": event_id,
            "event_time": int(time.time()),
            "authorizations": [{"team_id": TEAM, "user_id": BOT_USER, "is_bot": True}],
        }
    )


def mention(text: str, ts: str = "1700000001.000100", **extra) -> dict:
    """An ``app_mention`` event from U0ALICE in C0CHAN: ``<@U0BOT> text``."""
    return {
        "type": "app_mention",
        "user": "U0ALICE",
        "text": f"<@{BOT_USER}> {text}",
        "ts": ts,
        "channel": "C0CHAN",
        "event_ts": ts,
        **extra,
    }


def direct_message(text: str, **extra) -> dict:
    """A ``message`` event from U0ALICE in her direct conversation with the bot (D0DM)."""
    return {
        "type": "message",
        "user": "U0ALICE",
        "text": text,
        "channel": "D0DM",
        "channel_type": "im",
        **extra,
    }


def command_body(command: str, text: str, response_url: str, channel: str = "C0CHAN") -> str:
    """A slash command as Slack posts it (form-encoded)."""
    return urlencode(
        {
            "token": "legacy",
            "team_id": TEAM,
            "team_domain": "acme",
            "channel_id": channel,
            "channel_name": "general",
            "user_id": "U0ALICE",
            "user_name": "alice",
            "command": command,
            "text": text,
            "api_app_id": "A0APP",
            "response_url": response_url,
            "trigger_id": "1.2.3",
        }
    )


def action_body(
    action: dict,
    response_url: str,
    message_ts: str = "",
    channel: str = "C0CHAN",
    user: str = "U0BOB",
    name: str = "bob",
) -> str:
    """A ``block_actions`` interaction as Slack posts it (form field ``payload``)."""
    payload = {
        "type": "block_actions",
        "team": {"id": TEAM, "domain": "acme"},
        "user": {"id": user, "username": name, "name": name, "team_id": TEAM},
        "api_app_id": "A0APP",
        "token": "legacy",
        "container": {"type": "message", "message_ts": message_ts, "channel_id": channel},
        "trigger_id": "1.2.3",
        "channel": {"id": channel, "name": "general"},
        "message": {"ts": message_ts, "type": "message", "text": "", "blocks": []},
        "response_url": response_url,
        "actions": [action],
    }
    return urlencode({"payload": json.dumps(payload)})
