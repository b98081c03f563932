"""The Slack listeners of checklists: ``/checklist`` (lists them, posts one with the channel's
progress, or clears it) and the checkbox of each item of a posted checklist (ticks or unticks
it for the whole channel and updates the message). What each does is the chat's
(``Conversation.checklist``, ``tick``); here the command and the checkbox are read and the
reply posted. A posted checklist speaks the language it was asked for in, which its
checkboxes' block ids carry."""

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
from bot.core import CHECKLIST, CHECKLISTS, Asker, ChecklistState
from bot.core.messages import message

if TYPE_CHECKING:
    from bot.adapters.slack_app import SlackBot

log = logging.getLogger("playbook.slack")
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
        channel = command.get("channel_id", "")
        asker = Asker("slack", channel, command.get("user_id", ""), command.get("team_id", ""))
        text = command.get("text", "")
        reply = await asyncio.to_thread(self.bot.conversation.checklist, text, asker)
        if reply.kind == CHECKLISTS:
            payload = checklist_index_payload(
                list(reply.checklists), reply.language, suggestions=bool(reply.asked)
            )
            await respond(response_type="ephemeral", **payload)
        elif reply.kind == CHECKLIST and reply.state is not None:
            await self._post(channel, reply.state, reply.language, respond)
        else:
            await respond(response_type="ephemeral", text=reply.text)

    async def _post(self, channel: str, state: ChecklistState, language: str, respond) -> None:
        """Post the checklist ``state``; when it cannot be posted, the asker alone is told
        why."""
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
        """A checkbox of a posted checklist: the chat stores the tick; the message is updated,
        and the clicker alone is told what went wrong, if anything."""
        await ack()
        checklist_id, item_id, language = read_item_block_id(action.get("block_id", ""))
        channel = body.get("channel", {}).get("id", "")
        user = body.get("user", {})
        clicker = Asker(
            "slack",
            channel,
            user.get("id", ""),
            body.get("team", {}).get("id", ""),
            user.get("name") or user.get("username"),
        )
        done = bool(action.get("selected_options"))
        reply = await asyncio.to_thread(
            self.bot.conversation.tick, checklist_id, item_id, done, clicker, language
        )
        if reply.text:
            await private(respond, reply.text)
        if reply.state is None:
            return
        await self.bot.client.chat_update(
            channel=channel,
            ts=body.get("message", {}).get("ts", ""),
            **checklist_payload(reply.state, reply.language),
        )
