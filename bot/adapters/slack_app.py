"""Slack adapter: bolt (async) listeners that translate Slack payloads into core calls.

Mentions are answered in a thread (and later messages of that thread without a mention), direct
messages directly, ``/ask`` privately with a "Share in channel" button, ``/checklist`` posts a
checklist whose checkboxes the whole channel ticks. Every answer has 👍/👎 buttons.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from urllib.parse import parse_qs

from aiohttp import web
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp
from slack_bolt.logger.messages import warning_client_prioritized_and_token_skipped
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.signature import SignatureVerifier
from slack_sdk.web.async_client import AsyncWebClient

from bot.adapters.slack_render import (
    CHECKLIST_ACTION,
    FEEDBACK_DOWN,
    FEEDBACK_UP,
    SHARE,
    TEACH,
    answer_payload,
    checklist_index_payload,
    checklist_payload,
    escape,
    read_item_block_id,
    reply_payload,
    teach_menu_payload,
)
from bot.core.assistant import Asker, Assistant
from bot.core.conversation import ANSWER, NOTICE, Conversation, Reply
from bot.core.inflight import InFlight
from bot.core.language import command_language
from bot.core.messages import message
from bot.core.team.learning import NONE_CHOICE, taught_text
from bot.core.team.progress import ItemNotFound
from bot.core.team.store import conversation_key
from bot.core.types import Answer

log = logging.getLogger("playbook.slack")
MENU_CHOICES = 99  # sections offered after 👎 (Slack filters a menu's options as one types)


class _WithoutTokenNotice(logging.Filter):
    """Drops bolt's notice that the token it read from ``SLACK_BOT_TOKEN`` goes unused: the
    bot hands bolt a client holding that same token, so there is nothing to act on."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.getMessage() != warning_client_prioritized_and_token_skipped()


log.addFilter(_WithoutTokenNotice())
# (platform, user id, action) → what happened, for the user: ``reindex`` or ``examples``
Admin = Callable[[str, str, str], Awaitable[str]]

DEFAULT_API_URL = "https://slack.com/api/"
_MENTION = re.compile(r"<@[A-Z0-9]+(?:\|[^>]*)?>")


class SlackConfigError(Exception):
    """Missing or invalid Slack credentials; the message names the variable."""


@dataclass(frozen=True)
class SlackConfig:
    """Slack credentials and endpoints, named as Slack names them."""

    bot_token: str = ""
    signing_secret: str = ""
    app_token: str = ""
    api_url: str = DEFAULT_API_URL

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> SlackConfig:
        """Read ``SLACK_BOT_TOKEN``, ``SLACK_SIGNING_SECRET``, ``SLACK_APP_TOKEN``,
        ``SLACK_API_URL`` from the environment."""
        env = os.environ if environ is None else environ
        api_url = env.get("SLACK_API_URL") or DEFAULT_API_URL
        return cls(
            bot_token=env.get("SLACK_BOT_TOKEN", ""),
            signing_secret=env.get("SLACK_SIGNING_SECRET", ""),
            app_token=env.get("SLACK_APP_TOKEN", ""),
            api_url=api_url if api_url.endswith("/") else api_url + "/",
        )

    @property
    def configured(self) -> bool:
        """Whether Slack is asked for at all (a bot token is set)."""
        return bool(self.bot_token)

    def socket_mode(self, force_http: bool = False) -> bool:
        """Socket Mode when an app-level token is set (unless HTTP mode is forced)."""
        return bool(self.app_token) and not force_http

    def check(self, force_http: bool = False) -> None:
        """Raise ``SlackConfigError`` naming what is missing or malformed."""
        if not self.bot_token.startswith("xoxb-"):
            raise SlackConfigError(
                "SLACK_BOT_TOKEN must be the app's Bot User OAuth Token (it starts with xoxb-)."
            )
        if self.socket_mode(force_http):
            if not self.app_token.startswith("xapp-"):
                raise SlackConfigError(
                    "SLACK_APP_TOKEN must be an app-level token with connections:write "
                    "(it starts with xapp-)."
                )
        elif not self.signing_secret:
            raise SlackConfigError(
                "SLACK_SIGNING_SECRET is not set: HTTP mode needs it to verify requests "
                "(Basic Information → Signing Secret), or set SLACK_APP_TOKEN for Socket Mode."
            )


def _slack_error(exc: Exception) -> str | None:
    """The ``error`` code of a Slack API error (``not_in_channel``…), else ``None``."""
    data = getattr(getattr(exc, "response", None), "data", None)
    return data.get("error") if isinstance(data, dict) else None


async def _private(respond, text: str) -> None:
    """A message only the user who acted sees, leaving the original message as it is."""
    await respond(response_type="ephemeral", replace_original=False, text=text)


def _question_text(text: str) -> str:
    return " ".join(_MENTION.sub(" ", text or "").split())


def _request_guard(signing_secret: str):
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


def _hold_listeners(inflight: InFlight):
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


class SlackBot:
    """The bolt app and its listeners around one ``Assistant``."""

    def __init__(
        self,
        assistant: Assistant,
        config: SlackConfig,
        *,
        thread_followups: bool = True,
        inflight: InFlight | None = None,
        admin: Admin | None = None,
    ) -> None:
        self.assistant = assistant
        self.config = config
        self.thread_followups = thread_followups
        self.inflight = inflight or InFlight()
        self.conversation = Conversation(assistant, self.inflight)
        self.admin = admin
        self.verified = False
        self.socket_handler: AsyncSocketModeHandler | None = None  # set in Socket Mode
        self.client = AsyncWebClient(token=config.bot_token, base_url=config.api_url)
        self.client.retry_handlers.append(AsyncRateLimitErrorRetryHandler(max_retry_count=2))
        self.bot_user_id = ""
        self.app = AsyncApp(
            client=self.client,
            signing_secret=config.signing_secret or "socket-mode-does-not-sign",
            process_before_response=False,
            logger=log,
        )
        self._register()

    def web_app(self, path: str = "/slack/events", port: int = 3000) -> web.Application:
        """The HTTP app serving Slack's requests on ``path``, behind a guard that answers a
        request that is not signed (401) or cannot be parsed (400) itself, with one short log
        line, before anything else reads it."""
        app = self.app.web_app(path=path, port=port)
        app.middlewares.append(_request_guard(self.config.signing_secret))
        app.middlewares.append(_hold_listeners(self.inflight))
        return app

    async def verify(self) -> str:
        """Check the bot token with ``auth.test``. Returns the bot's user id.

        Raises ``SlackConfigError`` when Slack refuses the token, or cannot be reached (a
        different message: the token may be right).
        """
        try:
            result = await self.client.auth_test()
        except SlackApiError as exc:
            reason = _slack_error(exc)
            raise SlackConfigError(
                f"SLACK_BOT_TOKEN was refused by Slack ({reason or type(exc).__name__})."
            ) from exc
        except Exception as exc:
            where = self.client.base_url
            raise SlackConfigError(
                f"Cannot reach Slack at {where} ({type(exc).__name__}: {exc}); check the "
                "network or proxy settings. The token was not checked."
            ) from exc
        self.bot_user_id = str(result.get("user_id", ""))
        self.verified = True
        return self.bot_user_id

    def connected(self) -> bool:
        """Whether Slack can reach the bot: token verified and, in Socket Mode, the socket up."""
        if not self.verified:
            return False
        handler = self.socket_handler
        return handler is None or bool(handler.client.is_connected())

    # --- registration ---------------------------------------------------------------------
    def _register(self) -> None:
        app = self.app
        app.event("app_mention")(self.on_mention)
        app.event("message")(self.on_message)
        app.command("/ask")(self.on_ask)
        app.command("/checklist")(self.on_checklist)
        app.command("/playbook")(self.on_admin)
        app.action(SHARE)(self.on_share)
        app.action(FEEDBACK_UP)(self.on_feedback)
        app.action(FEEDBACK_DOWN)(self.on_feedback)
        app.action(CHECKLIST_ACTION)(self.on_checklist_item)
        app.action(TEACH)(self.on_teach)
        app.error(self.on_error)

    # --- answering ------------------------------------------------------------------------
    async def _reply(self, question: str, asker: Asker, thread: str | None) -> None:
        """Answer in ``asker.channel`` (in ``thread`` when given): the conversation's turn,
        posted as a message."""

        async def post(reply: Reply) -> None:
            await self.client.chat_postMessage(
                channel=asker.channel, thread_ts=thread, unfurl_links=False, **reply_payload(reply)
            )
            if thread and reply.kind in (ANSWER, NOTICE):  # a thread the bot speaks in
                await asyncio.to_thread(
                    self.assistant.remember_thread, "slack", asker.channel, thread
                )

        await self.conversation.turn(question, asker, post)

    async def _first(self, body: dict) -> bool:
        event_id = body.get("event_id")
        if not event_id:
            return True
        first = await asyncio.to_thread(self.assistant.first_delivery, "slack", event_id)
        if not first:
            log.info("ignoring a retry of event %s", event_id)
        return first

    async def on_mention(self, event: dict, body: dict) -> None:
        """A mention in a channel: answer in the message's thread. Counted in flight from
        here (the retry check reads the database), so a shutdown waits for it."""
        if event.get("bot_id") or event.get("subtype"):
            return
        async with self.inflight.track():
            if not await self._first(body):
                return
            thread = event.get("thread_ts") or event.get("ts")
            asker = Asker("slack", event["channel"], event.get("user", ""))
            await self._reply(_question_text(event.get("text", "")), asker, thread)

    async def on_message(self, event: dict, body: dict) -> None:
        """A direct message, or a follow-up in a thread the bot answered in."""
        if event.get("subtype") or event.get("bot_id") or not event.get("user"):
            return  # edits, deletions, joins, bot messages
        if event["user"] == self.bot_user_id:
            return
        async with self.inflight.track():
            await self._on_user_message(event, body)

    async def _on_user_message(self, event: dict, body: dict) -> None:
        text = event.get("text", "")
        channel = event["channel"]
        thread = event.get("thread_ts")
        asker = Asker("slack", channel, event["user"])
        if event.get("channel_type") == "im":
            if await self._first(body):
                await self._reply(_question_text(text), asker, thread)
            return
        if not thread or not self.thread_followups:
            return
        if self.bot_user_id and f"<@{self.bot_user_id}" in text:
            return  # the app_mention event answers it
        known = await asyncio.to_thread(self.assistant.is_bot_thread, "slack", channel, thread)
        if known and await self._first(body):
            await self._reply(_question_text(text), asker, thread)

    async def on_ask(self, ack, command: dict, respond) -> None:
        """``/ask <question>``: a private answer with a "Share in channel" button."""
        question = " ".join(command.get("text", "").split())
        if not question:
            await ack(text=message(command_language(question), "ask_usage"))
            return
        await ack()
        asker = Asker("slack", command.get("channel_id", ""), command.get("user_id", ""))

        async def answer_privately(reply: Reply) -> None:
            await respond(response_type="ephemeral", **reply_payload(reply, share=True))

        await self.conversation.turn(question, asker, answer_privately)

    async def _recall(self, action: dict, respond) -> Answer | None:
        """The answer a button belongs to; when it has expired, the clicker is told so."""
        answer = await asyncio.to_thread(self.assistant.recall, action.get("value", ""))
        if answer is None:
            await _private(respond, message("en", "gone"))
        return answer

    async def on_share(self, ack, body: dict, action: dict, respond) -> None:
        """ "Share in channel": post the private answer publicly."""
        await ack()
        answer = await self._recall(action, respond)
        if answer is None:
            return
        channel = body.get("channel", {}).get("id", "")
        user = body.get("user", {}).get("id", "")
        try:
            payload = answer_payload(answer, answer_id=action["value"], shared_by=user)
            await self.client.chat_postMessage(channel=channel, unfurl_links=False, **payload)
            await respond(delete_original=True)
        except Exception:
            log.exception("sharing an answer in %s failed", channel)
            await _private(respond, message(answer.language, "sorry"))

    async def on_feedback(self, ack, body: dict, action: dict, respond) -> None:
        """👍/👎 on an answer: store it and thank the clicker privately."""
        await ack()
        answer = await self._recall(action, respond)
        if answer is None:
            return
        asker = Asker(
            "slack", body.get("channel", {}).get("id", ""), body.get("user", {}).get("id", "")
        )
        vote = 1 if action.get("action_id") == FEEDBACK_UP else -1
        saved = await asyncio.to_thread(
            self.assistant.feedback, answer, vote, asker, None, action.get("value") or None
        )
        if saved is None:
            await _private(respond, message(answer.language, "sorry"))
            return
        if vote > 0:
            await _private(respond, message(answer.language, "feedback_thanks"))
            return
        choices = await asyncio.to_thread(
            self.assistant.closest_sections, answer.question, MENU_CHOICES
        )
        menu = teach_menu_payload(answer.language, action.get("value") or "", choices)
        await respond(response_type="ephemeral", replace_original=False, **menu)

    async def on_teach(self, ack, body: dict, action: dict, respond) -> None:
        """The section picked from the menu after 👎 (or "None"): kept as what answers the
        question, used from the next question on; the picker is told what was kept."""
        await ack()
        answer_id, _, choice = (action.get("selected_option") or {}).get("value", "").partition("|")
        answer = await self._recall({"value": answer_id}, respond)
        if answer is None:
            return
        asker = Asker(
            "slack", body.get("channel", {}).get("id", ""), body.get("user", {}).get("id", "")
        )
        key = None if choice == NONE_CHOICE else self.assistant.section_key(choice)
        if choice != NONE_CHOICE and key is None:
            await respond(replace_original=True, text=message(answer.language, "section_gone"))
            return
        taught = await asyncio.to_thread(self.assistant.teach, answer.question, key, asker)
        await respond(replace_original=True, text=taught_text(answer.language, taught))

    # --- checklists -----------------------------------------------------------------------
    async def on_checklist(self, ack, command: dict, respond) -> None:
        """``/checklist`` lists; ``/checklist <name>`` posts one; ``… reset`` clears it."""
        await ack()
        words = command.get("text", "").split()
        language = command_language(" ".join(words))
        book = self.assistant.checklists
        if not words:
            payload = checklist_index_payload(book.checklists, language)
            await respond(response_type="ephemeral", **payload)
            return
        reset = len(words) > 1 and words[-1].lower() in ("reset", "réinitialiser", "reinitialiser")
        name = " ".join(words[:-1] if reset else words)
        found = self.assistant.board.find(name)
        if found.checklist is None:
            payload = checklist_index_payload(list(found.suggestions), language, suggestions=True)
            await respond(response_type="ephemeral", **payload)
            return
        channel = command.get("channel_id", "")
        conversation = conversation_key("slack", command.get("team_id", ""), channel)
        method = self.assistant.board.reset if reset else self.assistant.board.state
        state = await asyncio.to_thread(method, conversation, found.checklist)
        try:
            await self.client.chat_postMessage(
                channel=channel, **checklist_payload(state, language)
            )
        except Exception as exc:
            error = getattr(getattr(exc, "response", None), "data", {}) or {}
            if isinstance(error, dict) and error.get("error") in (
                "not_in_channel",
                "channel_not_found",
            ):
                await respond(response_type="ephemeral", text=message(language, "not_in_channel"))
                return
            log.exception("/checklist failed in %s", channel)
            await respond(response_type="ephemeral", text=message(language, "sorry"))

    async def on_checklist_item(self, ack, body: dict, action: dict, respond) -> None:
        """A checkbox of a posted checklist: store the tick and update the message."""
        await ack()
        checklist_id, item_id, language = read_item_block_id(action.get("block_id", ""))
        checklist = self.assistant.checklists.get(checklist_id)
        channel = body.get("channel", {}).get("id", "")
        user = body.get("user", {})
        if checklist is None:
            await _private(respond, message(language, "checklist_gone"))
            return
        conversation = conversation_key("slack", body.get("team", {}).get("id", ""), channel)
        done = bool(action.get("selected_options"))
        try:
            state = await asyncio.to_thread(
                self.assistant.board.tick,
                conversation,
                checklist,
                item_id,
                user.get("id", ""),
                done,
                user.get("name") or user.get("username"),
            )
        except ItemNotFound:
            state = await asyncio.to_thread(self.assistant.board.state, conversation, checklist)
            await _private(respond, message(language, "item_gone"))
        await self.client.chat_update(
            channel=channel,
            ts=body.get("message", {}).get("ts", ""),
            **checklist_payload(state, language),
        )

    async def on_admin(self, ack, command: dict, respond) -> None:
        """``/playbook reindex``: an admin reloads the knowledge base now; ``/playbook
        examples``: the examples the team taught."""
        await ack()
        words = command.get("text", "").split()
        if len(words) != 1 or self.admin is None:
            usage = message(command_language(" ".join(words)), "admin_usage")
            await respond(response_type="ephemeral", text=usage)
            return
        result = await self.admin("slack", command.get("user_id", ""), words[0].lower())
        await respond(response_type="ephemeral", text=escape(result))

    async def on_error(self, error: Exception, body: dict) -> None:
        """Log listener errors with their detail (users got an apology from the listener)."""
        log.error("Slack listener error: %s", error, exc_info=error)
