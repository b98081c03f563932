"""The Slack listeners that answer questions: a mention (in the message's thread), a direct
message, a later message in a thread the bot answered in (without a mention), and ``/ask`` (a
private answer with a "Share in channel" button). Each is one conversation turn of the core,
posted as a Slack message."""

from __future__ import annotations

import asyncio
import logging
import re
from typing import TYPE_CHECKING

from slack_bolt.async_app import AsyncApp

from bot.adapters.slack_render import reply_payload
from bot.core import Asker, Reply, conversation_key
from bot.core.messages import message

if TYPE_CHECKING:
    from bot.adapters.slack_app import SlackBot

log = logging.getLogger("playbook.slack")
# A label stops at the next "<" (Slack escapes it in text): from each "<@" the pattern reads
# at most up to the next "<", so stripping takes time linear in the message, whatever it holds.
_MENTION = re.compile(r"<@[A-Z0-9]+(?:\|[^<>]*)?>")


def question_text(text: str) -> str:
    """The question in a message: its text without mentions, spaces collapsed."""
    return " ".join(_MENTION.sub(" ", text or "").split())


class QuestionListeners:
    """Mentions, direct messages, thread follow-ups and ``/ask``, for ``bot``."""

    def __init__(self, bot: SlackBot) -> None:
        self.bot = bot

    def register(self, app: AsyncApp) -> None:
        """Listen to mentions, messages and ``/ask`` on ``app``."""
        app.event("app_mention")(self.on_mention)
        app.event("message")(self.on_message)
        app.command("/ask")(self.on_ask)

    async def on_mention(self, event: dict, body: dict) -> None:
        """A mention in a channel: answer in the message's thread. Counted in flight from
        here (the retry check reads the database), so a shutdown waits for it."""
        if event.get("bot_id") or event.get("subtype"):
            return
        async with self.bot.inflight.track():
            if not await self._first(body):
                return
            thread = event.get("thread_ts") or event.get("ts")
            asker = Asker("slack", event["channel"], event.get("user", ""))
            await self._reply(question_text(event.get("text", "")), asker, thread)

    async def on_message(self, event: dict, body: dict) -> None:
        """A direct message, or a follow-up in a thread the bot answered in."""
        if event.get("subtype") or event.get("bot_id") or not event.get("user"):
            return  # edits, deletions, joins, bot messages
        if event["user"] == self.bot.bot_user_id:
            return
        async with self.bot.inflight.track():
            await self._on_user_message(event, body)

    async def _on_user_message(self, event: dict, body: dict) -> None:
        text = event.get("text", "")
        channel = event["channel"]
        thread = event.get("thread_ts")
        asker = Asker("slack", channel, event["user"])
        if event.get("channel_type") == "im":
            if await self._first(body):
                await self._reply(question_text(text), asker, thread)
            return
        if not thread or not self.bot.thread_followups:
            return
        if self.bot.bot_user_id and f"<@{self.bot.bot_user_id}" in text:
            return  # the app_mention event answers it
        conversation = self.bot.conversation
        known = await asyncio.to_thread(conversation.is_bot_thread, "slack", channel, thread)
        if known and await self._first(body):  # not addressed: small talk gets no reply
            await self._reply(question_text(text), asker, thread, addressed=False)

    async def on_ask(self, ack, command: dict, respond) -> None:
        """``/ask <question>``: a private answer with a "Share in channel" button."""
        question = " ".join(command.get("text", "").split())
        if not question:
            await ack(text=message("en", "ask_usage"))  # nothing typed tells the language
            return
        await ack()
        asker = Asker("slack", command.get("channel_id", ""), command.get("user_id", ""))

        async def answer_privately(reply: Reply) -> None:
            await respond(response_type="ephemeral", **reply_payload(reply, share=True))

        await self.bot.conversation.turn(question, asker, answer_privately)

    async def _reply(
        self, question: str, asker: Asker, thread: str | None, *, addressed: bool = True
    ) -> None:
        """Answer in ``asker.channel`` (in ``thread`` when given, which the conversation notes
        as the bot's): the conversation's turn, posted as a message (``addressed``: see
        ``Conversation.turn``). The thread is the conversation a follow-up is read in (a direct
        message without a thread: the conversation with the bot as a whole); it only holds the
        turns the bot answered."""
        bot = self.bot

        async def post(reply: Reply) -> None:
            await bot.client.chat_postMessage(
                channel=asker.channel, thread_ts=thread, unfurl_links=False, **reply_payload(reply)
            )

        key = conversation_key("slack", asker.channel, thread or "")
        await bot.conversation.turn(
            question, asker, post, addressed=addressed, thread=thread or "", conversation=key
        )

    async def _first(self, body: dict) -> bool:
        """Whether this is the first delivery of the event (Slack retries unanswered ones)."""
        event_id = body.get("event_id")
        if not event_id:
            return True
        first = await asyncio.to_thread(self.bot.conversation.first_delivery, "slack", event_id)
        if not first:
            log.info("ignoring a retry of event %s", event_id)
        return first
