"""The Slack listeners of checklists: ``/checklist`` (lists them, posts one with the channel's
progress, or clears it) and the checkbox of each item of a posted checklist (ticks or unticks
it for the whole channel and updates the message). A posted checklist speaks the language it
was asked for in, which its checkboxes' block ids carry."""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

from slack_bolt.async_app import AsyncApp

from bot.adapters.slack_render import (
    CHECKLIST_ACTION,
    checklist_index_payload,
    checklist_payload,
    read_item_block_id,
)
from bot.adapters.slack_replies import private, slack_error
from bot.core.language import command_language
from bot.core.messages import message
from bot.core.team.checklists import Checklist
from bot.core.team.progress import ItemNotFound, ProgressNotSaved
from bot.core.team.store import conversation_key

if TYPE_CHECKING:
    from bot.adapters.slack_app import SlackBot

log = logging.getLogger("playbook.slack")
RESET_WORDS = ("reset", "réinitialiser", "reinitialiser")  # ``/checklist <name> reset``
NOT_THERE = ("not_in_channel", "channel_not_found")  # Slack's errors for a channel not joined


class ChecklistListeners:
    """``/checklist`` and the checkboxes of posted checklists, for ``bot``."""

    def __init__(self, bot: SlackBot) -> None:
        self.bot = bot

    def register(self, app: AsyncApp) -> None:
        """Listen to ``/checklist`` and the checklists' checkboxes on ``app``."""
        app.command("/checklist")(self.on_checklist)
        app.action(CHECKLIST_ACTION)(self.on_checklist_item)

    async def on_checklist(self, ack, command: dict, respond) -> None:
        """``/checklist`` lists; ``/checklist <name>`` posts one; ``… reset`` clears it.
        Unknown names get the closest ones."""
        await ack()
        words = command.get("text", "").split()
        language = command_language(" ".join(words))
        if not words:
            payload = checklist_index_payload(self.bot.assistant.checklists.checklists, language)
            await respond(response_type="ephemeral", **payload)
            return
        reset = len(words) > 1 and words[-1].lower() in RESET_WORDS
        found = self.bot.assistant.board.find(" ".join(words[:-1] if reset else words))
        if found.checklist is None:
            payload = checklist_index_payload(list(found.suggestions), language, suggestions=True)
            await respond(response_type="ephemeral", **payload)
            return
        await self._post(command, found.checklist, reset, language, respond)

    async def _post(
        self, command: dict, checklist: Checklist, reset: bool, language: str, respond
    ) -> None:
        """Post ``checklist`` with the channel's progress (cleared first when ``reset``); when
        it cannot be posted, the asker alone is told why."""
        channel = command.get("channel_id", "")
        conversation = conversation_key("slack", command.get("team_id", ""), channel)
        board = self.bot.assistant.board
        method = board.reset if reset else board.state
        try:
            state = await asyncio.to_thread(method, conversation, checklist)
        except ProgressNotSaved:  # logged once by the board; the asker is told
            await respond(response_type="ephemeral", text=message(language, "sorry"))
            return
        try:
            payload = checklist_payload(state, language)
            await self.bot.client.chat_postMessage(channel=channel, **payload)
        except Exception as exc:
            if slack_error(exc) in NOT_THERE:
                await respond(response_type="ephemeral", text=message(language, "not_in_channel"))
                return
            log.exception("/checklist failed in %s", channel)
            await respond(response_type="ephemeral", text=message(language, "sorry"))

    async def on_checklist_item(self, ack, body: dict, action: dict, respond) -> None:
        """A checkbox of a posted checklist: store the tick and update the message; when the
        database cannot take it, the clicker alone is told so."""
        await ack()
        checklist_id, item_id, language = read_item_block_id(action.get("block_id", ""))
        checklist = self.bot.assistant.checklists.get(checklist_id)
        if checklist is None:
            await private(respond, message(language, "checklist_gone"))
            return
        channel = body.get("channel", {}).get("id", "")
        conversation = conversation_key("slack", body.get("team", {}).get("id", ""), channel)
        board = self.bot.assistant.board
        user = body.get("user", {})
        try:
            state = await asyncio.to_thread(
                board.tick,
                conversation,
                checklist,
                item_id,
                user.get("id", ""),
                bool(action.get("selected_options")),
                user.get("name") or user.get("username"),
            )
        except ItemNotFound:
            state = await asyncio.to_thread(board.state, conversation, checklist)
            await private(respond, message(language, "item_gone"))
        except ProgressNotSaved:  # logged once by the board
            await private(respond, message(language, "sorry"))
            return
        await self.bot.client.chat_update(
            channel=channel,
            ts=body.get("message", {}).get("ts", ""),
            **checklist_payload(state, language),
        )
