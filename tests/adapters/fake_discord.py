"""A fake Discord on 127.0.0.1 for the real discord.py client: REST (recording every call)
and a gateway websocket that sends HELLO, READY, GUILD_CREATE and the events a test pushes."""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from dataclasses import dataclass, field

from aiohttp import WSMsgType, web

from tests.helpers import serve_app, wait_for_calls

APP_ID = "900000000000000001"
BOT_ID = "900000000000000002"
GUILD_ID = "900000000000000003"
CHANNEL_ID = "900000000000000004"
USER_ID = "900000000000000005"
DM_CHANNEL_ID = "900000000000000006"
TOKEN = "MTAwMDAwMDAwMDAwMDAwMDAy.fake.token-for-tests"
NOW = "2026-11-27T12:00:00.000000+00:00"


def user(uid: str = USER_ID, name: str = "alice", bot: bool = False) -> dict:
    return {
        "id": uid,
        "username": name,
        "discriminator": "0",
        "global_name": name.capitalize(),
        "avatar": None,
        "bot": bot,
        "flags": 0,
        "public_flags": 0,
    }


BOT_USER = user(BOT_ID, "playbook", bot=True)


def member(u: dict) -> dict:
    return {
        "user": u,
        "roles": [],
        "joined_at": NOW,
        "deaf": False,
        "mute": False,
        "flags": 0,
        "nick": None,
        "avatar": None,
        "pending": False,
        "permissions": "2248473465835073",
    }


def channel(cid: str = CHANNEL_ID) -> dict:
    return {
        "id": cid,
        "type": 0,
        "guild_id": GUILD_ID,
        "name": "general",
        "position": 0,
        "permission_overwrites": [],
        "nsfw": False,
        "parent_id": None,
        "topic": None,
        "last_message_id": None,
        "rate_limit_per_user": 0,
        "flags": 0,
    }


def guild() -> dict:
    return {
        "id": GUILD_ID,
        "name": "Acme",
        "icon": None,
        "owner_id": USER_ID,
        "roles": [
            {
                "id": GUILD_ID,
                "name": "@everyone",
                "permissions": "2248473465835073",
                "position": 0,
                "color": 0,
                "hoist": False,
                "managed": False,
                "mentionable": False,
                "flags": 0,
            }
        ],
        "emojis": [],
        "stickers": [],
        "features": [],
        "member_count": 2,
        "large": False,
        "unavailable": False,
        "joined_at": NOW,
        "channels": [channel()],
        "threads": [],
        "members": [member(BOT_USER), member(user())],
        "presences": [],
        "voice_states": [],
        "system_channel_flags": 0,
        "premium_tier": 0,
        "preferred_locale": "fr",
        "nsfw_level": 0,
        "mfa_level": 0,
        "verification_level": 0,
        "explicit_content_filter": 0,
        "default_message_notifications": 0,
        "afk_timeout": 300,
        "afk_channel_id": None,
        "system_channel_id": None,
        "rules_channel_id": None,
        "public_updates_channel_id": None,
        "description": None,
        "banner": None,
        "splash": None,
        "discovery_splash": None,
        "vanity_url_code": None,
        "premium_subscription_count": 0,
        "max_members": 1000,
        "application_id": None,
        "safety_alerts_channel_id": None,
        "lazy": True,
    }


@dataclass
class Call:
    """One REST request: method, path, query and JSON body."""

    verb: str
    path: str
    query: dict
    body: object


@dataclass
class FakeDiscord:
    calls: list[Call] = field(default_factory=list)
    events: asyncio.Queue | None = None
    identified: asyncio.Event | None = None
    identify: dict | None = None
    _ids: itertools.count = field(default_factory=lambda: itertools.count(910000000000000000))
    _seq: itertools.count = field(default_factory=lambda: itertools.count(1))
    _runner: web.AppRunner | None = None
    port: int = 0
    close_code: int | None = None  # close the gateway with this code after IDENTIFY
    refuse_token: bool = False  # answer 401 to every REST call
    hold_ready: bool = False  # never answer IDENTIFY: the session does not come up

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/v10"

    @property
    def gateway_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/gw"

    async def start(self) -> FakeDiscord:
        app = web.Application()
        app.router.add_get("/gw", self._gateway)
        app.router.add_route("*", "/api/v10/{path:.*}", self._rest)
        self._runner, self.port = await serve_app(app)
        self.events = asyncio.Queue()
        self.identified = asyncio.Event()
        return self

    async def stop(self) -> None:
        if self._runner:
            await self._runner.cleanup()

    def next_id(self) -> str:
        return str(next(self._ids))

    @staticmethod
    def _json(data: object, status: int = 200) -> web.Response:
        # discord.py wants exactly "application/json" (no charset)
        return web.Response(
            body=json.dumps(data).encode(), status=status, content_type="application/json"
        )

    def message(self, channel_id: str, body: dict) -> dict:
        return {
            "id": self.next_id(),
            "channel_id": channel_id,
            "author": BOT_USER,
            "content": body.get("content") or "",
            "timestamp": NOW,
            "edited_timestamp": None,
            "tts": False,
            "mention_everyone": False,
            "mentions": [],
            "mention_roles": [],
            "attachments": [],
            "embeds": body.get("embeds") or [],
            "pinned": False,
            "type": 0,
            "flags": body.get("flags") or 0,
            "components": body.get("components") or [],
        }

    async def _rest(self, request: web.Request) -> web.Response:
        path = "/" + request.match_info["path"]
        raw = await request.read()
        body: object = {}
        if raw:
            if request.content_type == "application/json":
                body = json.loads(raw)
            elif request.content_type.startswith("multipart"):
                body = {"multipart": raw.decode(errors="replace")}
                marker = b'name="payload_json"'
                if marker in raw:
                    part = raw.split(marker, 1)[1].split(b"\r\n\r\n", 1)[1].split(b"\r\n--", 1)[0]
                    body = json.loads(part)
        self.calls.append(Call(request.method, path, dict(request.query), body))
        if self.refuse_token:
            return self._json({"message": "401: Unauthorized", "code": 0}, status=401)
        if path == "/users/@me":
            return self._json(BOT_USER)
        if path == "/oauth2/applications/@me":
            return self._json(
                {
                    "id": APP_ID,
                    "name": "playbook",
                    "icon": None,
                    "description": "",
                    "bot_public": True,
                    "bot_require_code_grant": False,
                    "owner": user(),
                    "summary": "",
                    "verify_key": "00",
                    "team": None,
                    "flags": 0,
                    "rpc_origins": [],
                    "tags": [],
                    "bot": BOT_USER,
                }
            )
        if path.endswith("/commands") and request.method == "PUT":
            out = [
                {
                    **c,
                    "id": self.next_id(),
                    "application_id": APP_ID,
                    "version": "1",
                    "default_member_permissions": None,
                    "type": c.get("type", 1),
                }
                for c in body
            ]
            return self._json(out)
        if path.startswith("/interactions/") and path.endswith("/callback"):
            data = body.get("data") or {}
            resource = {"type": body.get("type")}
            if body.get("type") in (4, 7):
                resource["message"] = self.message(CHANNEL_ID, data)
            return self._json(
                {
                    "interaction": {
                        "id": path.split("/")[2],
                        "type": 2,
                        "activity_instance_id": None,
                        "response_message_id": None,
                        "response_message_loading": False,
                        "response_message_ephemeral": bool(data.get("flags", 0) & 64),
                    },
                    "resource": resource,
                }
            )
        if path.startswith("/webhooks/"):
            return self._json(self.message(CHANNEL_ID, body))
        if path.startswith("/channels/") and path.endswith("/messages"):
            return self._json(self.message(path.split("/")[2], body))
        if path == "/gateway" or path == "/gateway/bot":
            return self._json(
                {
                    "url": self.gateway_url,
                    "shards": 1,
                    "session_start_limit": {
                        "total": 1000,
                        "remaining": 1000,
                        "reset_after": 0,
                        "max_concurrency": 1,
                    },
                }
            )
        return self._json({})

    async def _gateway(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        await ws.send_json({"op": 10, "d": {"heartbeat_interval": 41250}, "s": None, "t": None})

        async def reader() -> None:
            async for msg in ws:
                if msg.type != WSMsgType.TEXT:
                    continue
                data = json.loads(msg.data)
                if data["op"] == 1:
                    await ws.send_json({"op": 11, "d": None, "s": None, "t": None})
                elif data["op"] == 2:
                    self.identify = data["d"]
                    if self.hold_ready:
                        continue
                    if self.close_code:  # once: the client may then identify again
                        code, self.close_code = self.close_code, None
                        await ws.close(code=code)
                        return
                    await self.dispatch_now(
                        ws,
                        "READY",
                        {
                            "v": 10,
                            "user": BOT_USER,
                            "guilds": [{"id": GUILD_ID, "unavailable": True}],
                            "session_id": "session-1",
                            "resume_gateway_url": self.gateway_url,
                            "application": {"id": APP_ID, "flags": 0},
                            "private_channels": [],
                            "relationships": [],
                            "presences": [],
                            "geo_ordered_rtc_regions": [],
                        },
                    )
                    await self.dispatch_now(ws, "GUILD_CREATE", guild())
                    self.identified.set()

        read = asyncio.create_task(reader())
        try:
            while not ws.closed:
                try:
                    event, data = await asyncio.wait_for(self.events.get(), 0.2)
                except TimeoutError:
                    continue
                await self.dispatch_now(ws, event, data)
        finally:
            read.cancel()
        return ws

    async def dispatch_now(self, ws, event: str, data: dict) -> None:
        await ws.send_json({"op": 0, "t": event, "s": next(self._seq), "d": data})

    async def push(self, event: str, data: dict) -> None:
        await self.events.put((event, data))

    def of(self, fragment: str, verb: str = "POST") -> list[Call]:
        return [c for c in self.calls if c.verb == verb and fragment in c.path]

    async def wait_for(
        self, fragment: str, count: int = 1, verb: str = "POST", timeout: float = 60.0
    ) -> list[Call]:
        what = f"{verb} *{fragment}* (all calls: {[(c.verb, c.path) for c in self.calls]})"
        return await wait_for_calls(lambda: self.of(fragment, verb), count, timeout, what)


def interaction(
    kind: int,
    data: dict,
    *,
    token: str = "itok",
    message: dict | None = None,
    guild_id: str | None = GUILD_ID,
    channel_id: str = CHANNEL_ID,
) -> dict:
    """An INTERACTION_CREATE payload (2 command, 3 component, 4 autocomplete)."""
    payload = {
        "id": str(int(time.time() * 1000)),
        "application_id": APP_ID,
        "type": kind,
        "data": data,
        "channel_id": channel_id,
        "channel": channel(channel_id),
        "token": token,
        "version": 1,
        "app_permissions": "2248473465835073",
        "locale": "fr",
        "entitlements": [],
        "authorizing_integration_owners": {"0": GUILD_ID},
        "context": 0,
        "attachment_size_limit": 8388608,
    }
    if guild_id:
        payload.update(guild_id=guild_id, guild_locale="fr", member=member(user()))
    else:
        payload["user"] = user()
    if message:
        payload["message"] = message
    return payload


def message_create(
    content: str,
    *,
    mentions: list[dict] | None = None,
    author: dict | None = None,
    guild_id: str | None = GUILD_ID,
    channel_id: str = CHANNEL_ID,
) -> dict:
    """A MESSAGE_CREATE payload."""
    data = {
        "id": str(int(time.time() * 1000)),
        "channel_id": channel_id,
        "author": author or user(),
        "content": content,
        "timestamp": NOW,
        "edited_timestamp": None,
        "tts": False,
        "mention_everyone": False,
        "mentions": mentions or [],
        "mention_roles": [],
        "attachments": [],
        "embeds": [],
        "pinned": False,
        "type": 0,
        "flags": 0,
        "components": [],
    }
    if guild_id:
        data.update(guild_id=guild_id, member=member(author or user()))
    return data
