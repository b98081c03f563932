"""The Slack listeners of an answer's buttons: "Share in channel" (a private answer posted
publicly), 👍/👎 (stored; 👎 offers the menu of sections), and that menu (the section picked is
kept as what answers the question). Each button carries the id of its answer."""

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
from bot.core.assistant import Asker
from bot.core.messages import message
from bot.core.team.learning import NONE_CHOICE, taught_text
from bot.core.types import Answer

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
        """ "Share in channel": post the private answer publicly, once, in the channel where
        it was given (whatever channel the click names); a later click is told it was
        shared already."""
        await ack()
        answer = await self._recall(action, respond)
        if answer is None:
            return
        claim = self.bot.assistant.claim_share
        channel = await asyncio.to_thread(claim, "slack", action.get("value", ""))
        if channel is None:
            await private(respond, message(answer.language, "already_shared"))
            return
        user = body.get("user", {}).get("id", "")
        try:
            payload = answer_payload(answer, answer_id=action["value"], shared_by=user)
            await self.bot.client.chat_postMessage(channel=channel, unfurl_links=False, **payload)
            await respond(delete_original=True)
        except Exception:
            log.exception("sharing an answer in %s failed", channel)
            await private(respond, message(answer.language, "sorry"))

    async def on_feedback(self, ack, body: dict, action: dict, respond) -> None:
        """👍/👎 on an answer: store it; thank the clicker of 👍 privately, and offer the
        clicker of 👎 the menu of the closest sections."""
        await ack()
        answer = await self._recall(action, respond)
        if answer is None:
            return
        assistant = self.bot.assistant
        vote = 1 if action.get("action_id") == FEEDBACK_UP else -1
        answer_id = action.get("value") or None
        saved = await asyncio.to_thread(
            assistant.feedback, answer, vote, _clicker(body), None, answer_id
        )
        if saved is None:
            await private(respond, message(answer.language, "sorry"))
            return
        if vote > 0:
            await private(respond, message(answer.language, "feedback_thanks"))
            return
        choices = await asyncio.to_thread(assistant.closest_sections, answer.question, MENU_CHOICES)
        menu = teach_menu_payload(answer.language, answer_id or "", choices)
        await respond(response_type="ephemeral", replace_original=False, **menu)

    async def on_teach(self, ack, body: dict, action: dict, respond) -> None:
        """The section picked from the menu after 👎 (or "None"): kept as what answers the
        question, used from the next question on; the picker is told what was kept."""
        await ack()
        answer_id, _, choice = (action.get("selected_option") or {}).get("value", "").partition("|")
        answer = await self._recall({"value": answer_id}, respond)
        if answer is None:
            return
        assistant = self.bot.assistant
        key = None if choice == NONE_CHOICE else assistant.section_key(choice)
        if choice != NONE_CHOICE and key is None:
            await respond(replace_original=True, text=message(answer.language, "section_gone"))
            return
        taught = await asyncio.to_thread(assistant.teach, answer.question, key, _clicker(body))
        await respond(replace_original=True, text=taught_text(answer.language, taught))

    async def _recall(self, action: dict, respond) -> Answer | None:
        """The answer a button belongs to; when it has expired, the clicker is told so (in
        English: the answer's language went with it)."""
        answer = await asyncio.to_thread(self.bot.assistant.recall, action.get("value", ""))
        if answer is None:
            await private(respond, message("en", "gone"))
        return answer
