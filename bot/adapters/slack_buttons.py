"""The Slack listeners of an answer's buttons: "Share in channel" (a private answer posted
publicly), 👍/👎 (stored; 👎 offers the menu of sections), and that menu (the section picked is
kept as what answers the question). Each button carries the id of its answer; what a click
does is the chat's (``Conversation.share``, ``vote``, ``pick``), rendered here."""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

from slack_bolt.async_app import AsyncApp

from bot.adapters.slack_render import (
    FEEDBACK_DOWN,
    FEEDBACK_UP,
    SHARE,
    TEACH,
    answer_payload,
    teach_menu_payload,
)
from bot.adapters.slack_replies import private
from bot.core import MENU, TEXT, Asker, Reply
from bot.core import SHARE as SHARED
from bot.core.messages import message

if TYPE_CHECKING:
    from bot.adapters.slack_app import SlackBot

log = logging.getLogger("playbook.slack")
MENU_CHOICES = 99  # sections offered after 👎 (Slack filters a menu's options as one types)


def _clicker(body: dict) -> Asker:
    """Who clicked, and in which channel."""
    return Asker("slack", body.get("channel", {}).get("id", ""), body.get("user", {}).get("id", ""))


class AnswerButtons:
    """Share, 👍/👎 and the menu of sections, for ``bot``."""

    def __init__(self, bot: SlackBot) -> None:
        self.bot = bot

    def register(self, app: AsyncApp) -> None:
        """Listen to the answers' buttons and menu on ``app``."""
        app.action(SHARE)(self.on_share)
        app.action(FEEDBACK_UP)(self.on_feedback)
        app.action(FEEDBACK_DOWN)(self.on_feedback)
        app.action(TEACH)(self.on_teach)

    async def on_share(self, ack, body: dict, action: dict, respond) -> None:
        """ "Share in channel": the chat says where to post the answer (once); it is posted
        there and the private copy removed."""
        await ack()
        answer_id = action.get("value", "")
        clicker = _clicker(body)
        reply = await asyncio.to_thread(self.bot.conversation.share, answer_id, clicker)
        if reply.kind != SHARED or reply.answer is None:
            await private(respond, reply.text)
            return
        try:
            payload = answer_payload(reply.answer, answer_id=answer_id, shared_by=clicker.user)
            await self.bot.client.chat_postMessage(
                channel=reply.channel, unfurl_links=False, **payload
            )
            await respond(delete_original=True)
        except Exception:
            log.exception("sharing an answer in %s failed", reply.channel)
            await private(respond, message(reply.language, "sorry"))

    async def on_feedback(self, ack, body: dict, action: dict, respond) -> None:
        """👍/👎 on an answer: the chat's reply (thanks, the menu of sections, or why not),
        shown to the clicker alone."""
        await ack()
        reply = await asyncio.to_thread(
            self.bot.conversation.vote,
            action.get("value", ""),
            action.get("action_id") == FEEDBACK_UP,
            _clicker(body),
            menu_size=MENU_CHOICES,
        )
        if reply.kind == MENU:
            menu = teach_menu_payload(reply)
            await respond(response_type="ephemeral", replace_original=False, **menu)
            return
        await private(respond, reply.text)

    async def on_teach(self, ack, body: dict, action: dict, respond) -> None:
        """The section picked from the menu after 👎 (or "None"): the chat keeps it; what was
        kept takes the place of the menu."""
        await ack()
        answer_id, _, choice = (action.get("selected_option") or {}).get("value", "").partition("|")
        reply = await asyncio.to_thread(
            self.bot.conversation.pick, answer_id, choice, _clicker(body)
        )
        await _replace_or_tell(respond, reply)


async def _replace_or_tell(respond, reply: Reply) -> None:
    """A ``text`` reply replaces the message clicked; any other is told to the clicker alone."""
    if reply.kind == TEXT:
        await respond(replace_original=True, text=reply.text)
    else:
        await private(respond, reply.text)
