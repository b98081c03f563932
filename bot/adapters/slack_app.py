"""Slack adapter: the bolt (async) app around one ``Assistant``, and Slack's credentials.

``SlackBot`` holds the app, its Web API client and what its listeners share; the listeners
live by what they answer: ``slack_questions`` (mentions, direct messages, thread follow-ups,
``/ask``), ``slack_buttons`` (share, 👍/👎, the menu of sections), ``slack_checklists``
(``/checklist`` and its checkboxes); ``/playbook`` (admins) is here. ``slack_render`` turns
what the core returns into Block Kit, ``slack_middleware`` guards the HTTP endpoint, and
``slack_server`` runs the app over HTTP or Socket Mode.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass

from aiohttp import web
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp
from slack_bolt.logger.messages import warning_client_prioritized_and_token_skipped
from slack_bolt.middleware.authorization.async_single_team_authorization import (
    AsyncSingleTeamAuthorization,
)
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.web.async_client import AsyncSlackResponse, AsyncWebClient

from bot.adapters.slack_buttons import AnswerButtons
from bot.adapters.slack_checklists import ChecklistListeners
from bot.adapters.slack_middleware import hold_listeners, request_guard
from bot.adapters.slack_questions import QuestionListeners
from bot.adapters.slack_render import escape
from bot.adapters.slack_replies import slack_error
from bot.core import Admin, Assistant, Conversation, InFlight, command_language
from bot.core.messages import message

log = logging.getLogger("playbook.slack")


class _WithoutTokenNotice(logging.Filter):
    """Drops bolt's notice that the token it read from ``SLACK_BOT_TOKEN`` goes unused: the
    bot hands bolt a client holding that same token, so there is nothing to act on."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.getMessage() != warning_client_prioritized_and_token_skipped()


log.addFilter(_WithoutTokenNotice())

DEFAULT_API_URL = "https://slack.com/api/"


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


class SlackBot:
    """The bolt app and its listeners around one ``Assistant``: what the listeners share
    (the assistant, the Web API client, the conversation, the answers in flight, the bot's
    user id once verified, the admin commands) and the connection to Slack."""

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
        request that is not signed (401) or cannot be parsed or read (400: not JSON, or an
        event, actions or ids of the wrong shape) itself, with one short log
        line, before anything else reads it."""
        app = self.app.web_app(path=path, port=port)
        app.middlewares.append(request_guard(self.config.signing_secret))
        app.middlewares.append(hold_listeners(self.inflight))
        return app

    async def verify(self) -> str:
        """Check the bot token with ``auth.test``. Returns the bot's user id.

        Raises ``SlackConfigError`` when Slack refuses the token, or cannot be reached (a
        different message: the token may be right).
        """
        try:
            result = await self.client.auth_test()
        except SlackApiError as exc:
            reason = slack_error(exc)
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
        self._share_identity(result)
        return self.bot_user_id

    def _share_identity(self, result: AsyncSlackResponse) -> None:
        """Give bolt's authorization the ``auth.test`` answer ``verify`` got: bolt asks for it
        on its first request otherwise, once per request until one answer is back, so a burst
        right after start made one ``auth.test`` call per question (each waiting on Slack,
        each counting against its rate limit)."""
        for middleware in self.app._async_middleware_list:  # bolt has no public hook for it
            if isinstance(middleware, AsyncSingleTeamAuthorization):
                middleware.auth_test_result = result

    def connected(self) -> bool:
        """Whether Slack can reach the bot: token verified and, in Socket Mode, the socket up."""
        if not self.verified:
            return False
        handler = self.socket_handler
        return handler is None or bool(handler.client.is_connected())

    def _register(self) -> None:
        """Every listener on the bolt app: each group registers its own."""
        QuestionListeners(self).register(self.app)
        AnswerButtons(self).register(self.app)
        ChecklistListeners(self).register(self.app)
        self.app.command("/playbook")(self.on_admin)
        self.app.error(self.on_error)

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
