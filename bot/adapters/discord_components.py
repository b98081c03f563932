"""Discord's message components and what they do: 👍/👎 on an answer (``FeedbackButton``), the
menu of sections after 👎 (``TeachSelect``), the menu that ticks a checklist's items
(``ChecklistSelect``), and the views that carry them. Each is a dynamic item: its custom id
carries what it needs (the answer id; the checklist id and language), so the buttons and menus
of earlier messages keep working after a restart."""

from __future__ import annotations

import asyncio
from typing import Any

import discord

from bot.adapters.discord_render import (
    MAX_OPTIONS,
    NO_MENTIONS,
    answer_embed,
    checklist_embed,
    checklist_options,
    feedback_labels,
    plain,
)
from bot.core.assistant import Asker, Assistant
from bot.core.conversation import Reply
from bot.core.knowledge.sections import digest
from bot.core.language import COMMAND_LANGUAGE
from bot.core.messages import message
from bot.core.team.learning import NONE_CHOICE, choice_labels, taught_text
from bot.core.team.progress import ChecklistState, ProgressNotSaved
from bot.core.team.store import conversation_key
from bot.core.types import Answer, Citation


def _selected(interaction: discord.Interaction) -> list[str]:
    """The values picked in a select menu's interaction."""
    data: object = interaction.data or {}
    values = data.get("values", []) if isinstance(data, dict) else []
    return [str(v) for v in values] if isinstance(values, list) else []


async def _recalled(
    interaction: discord.Interaction, answer_id: str
) -> tuple[Assistant, Answer | None]:
    """The assistant and the answer a button or menu belongs to; when the answer has
    expired, the user is told so (and ``None`` comes back)."""
    assistant: Assistant = interaction.client.assistant  # type: ignore[attr-defined]
    answer = await asyncio.to_thread(assistant.recall, answer_id)
    if answer is None:
        await interaction.response.send_message(message("en", "gone"), ephemeral=True)
    return assistant, answer


class FeedbackButton(
    discord.ui.DynamicItem[discord.ui.Button],
    template=r"fb:(?P<vote>up|down):(?P<id>[0-9a-f]{16})",
):
    """👍 or 👎 on an answer; the custom id carries the answer id, so it survives restarts."""

    def __init__(self, vote: str, answer_id: str, label: str | None = None) -> None:
        super().__init__(
            discord.ui.Button(
                style=discord.ButtonStyle.secondary,
                label=label,
                emoji="👍" if vote == "up" else "👎",
                custom_id=f"fb:{vote}:{answer_id}",
            )
        )
        self.vote = vote
        self.answer_id = answer_id

    @classmethod
    async def from_custom_id(cls, interaction, item, match):
        return cls(match["vote"], match["id"])

    async def callback(self, interaction: discord.Interaction) -> None:
        """Store the vote and thank the clicker privately."""
        assistant, answer = await _recalled(interaction, self.answer_id)
        if answer is None:
            return
        asker = Asker("discord", str(interaction.channel_id), str(interaction.user.id))
        vote = 1 if self.vote == "up" else -1
        saved = await asyncio.to_thread(
            assistant.feedback, answer, vote, asker, None, self.answer_id
        )
        if saved is not None and vote < 0:
            choices = await asyncio.to_thread(assistant.closest_sections, answer.question, 24)
            await interaction.response.send_message(
                message(answer.language, "which_section"),
                view=teach_view(answer.language, self.answer_id, choices),
                ephemeral=True,
                allowed_mentions=NO_MENTIONS,
            )
            return
        await interaction.response.send_message(
            message(answer.language, "feedback_thanks" if saved is not None else "sorry"),
            ephemeral=True,
            allowed_mentions=NO_MENTIONS,
        )


class TeachSelect(
    discord.ui.DynamicItem[discord.ui.Select], template=r"teach:(?P<id>[0-9a-f]{16})"
):
    """The menu sent after 👎: the closest sections and "None"; the pick is kept as what
    answers the question (``Assistant.teach``)."""

    def __init__(self, answer_id: str, options: list[discord.SelectOption] | None = None):
        super().__init__(
            discord.ui.Select(
                custom_id=f"teach:{answer_id}",
                options=options or [discord.SelectOption(label="-", value=NONE_CHOICE)],
            )
        )
        self.answer_id = answer_id

    @classmethod
    async def from_custom_id(cls, interaction, item, match):
        return cls(match["id"])

    async def callback(self, interaction: discord.Interaction) -> None:
        """Keep the pick and say what was kept, in place of the menu."""
        assistant, answer = await _recalled(interaction, self.answer_id)
        if answer is None:
            return
        picked = (_selected(interaction) or [NONE_CHOICE])[0]
        key = None if picked == NONE_CHOICE else assistant.section_key(picked)
        if picked != NONE_CHOICE and key is None:
            text = message(answer.language, "section_gone")
        else:
            asker = Asker("discord", str(interaction.channel_id), str(interaction.user.id))
            taught = await asyncio.to_thread(assistant.teach, answer.question, key, asker)
            text = taught_text(answer.language, taught)
        await interaction.response.edit_message(
            content=text, view=None, allowed_mentions=NO_MENTIONS
        )


def teach_view(lang: str, answer_id: str, choices: list[tuple[str, Citation]]) -> discord.ui.View:
    """The menu of sections offered after 👎 (at most 24, and "None")."""
    options = [
        discord.SelectOption(label=label[:100], value=digest(key))
        for label, (key, _c) in zip(choice_labels(choices[:24]), choices[:24], strict=True)
    ]
    options.append(
        discord.SelectOption(label=message(lang, "none_covers")[:100], value=NONE_CHOICE)
    )
    view = discord.ui.View(timeout=None)
    select = TeachSelect(answer_id, options)
    select.item.placeholder = message(lang, "choose_section")
    view.add_item(select)
    return view


def checklist_custom_id(checklist_id: str, language: str) -> str:
    """The custom id of a checklist's menu: ``cl:checklist``, then ``:language`` unless the
    checklist was shown in ``COMMAND_LANGUAGE`` (the menus shown before the language was kept
    have none), so a tick re-renders it in the language it was shown in."""
    custom_id = f"cl:{checklist_id}"
    return custom_id if language == COMMAND_LANGUAGE else f"{custom_id}:{language}"


class ChecklistSelect(
    discord.ui.DynamicItem[discord.ui.Select],
    template=r"cl:(?P<id>[a-z0-9-]+)(?::(?P<language>[a-z]{2}))?",
):
    """The menu of a posted checklist: the selected items are the done ones."""

    def __init__(
        self,
        checklist_id: str,
        language: str,
        options: list[discord.SelectOption] | None = None,
    ):
        options = options or [discord.SelectOption(label="-", value="-")]
        super().__init__(
            discord.ui.Select(
                custom_id=checklist_custom_id(checklist_id, language),
                placeholder=message(language, "tick_placeholder"),
                min_values=0,
                max_values=len(options),
                options=options,
            )
        )
        self.checklist_id = checklist_id
        self.language = language

    @classmethod
    async def from_custom_id(cls, interaction, item, match):
        return cls(match["id"], match["language"] or COMMAND_LANGUAGE)

    async def callback(self, interaction: discord.Interaction) -> None:
        """Store the ticks and unticks, then update the message for everyone; when the
        database cannot take them, the user alone is told so."""
        assistant: Assistant = interaction.client.assistant  # type: ignore[attr-defined]
        checklist = assistant.checklists.get(self.checklist_id)
        if checklist is None:
            await interaction.response.send_message(
                message(self.language, "checklist_gone"), ephemeral=True
            )
            return
        try:
            state = await asyncio.to_thread(
                assistant.board.select,
                discord_conversation(interaction.guild_id, interaction.channel_id),
                checklist,
                set(_selected(interaction)),
                str(interaction.user.id),
                interaction.user.display_name,
                offered=MAX_OPTIONS,
            )
        except ProgressNotSaved:  # logged once by the board
            await interaction.response.send_message(
                message(self.language, "sorry"), ephemeral=True, allowed_mentions=NO_MENTIONS
            )
            return
        await interaction.response.edit_message(
            embed=checklist_embed(state, self.language),
            view=checklist_view(state, self.language),
            allowed_mentions=NO_MENTIONS,
        )


def discord_conversation(guild_id: int | None, channel_id: int | None) -> str:
    """The progress key of a Discord channel (``dm`` for direct messages)."""
    return conversation_key("discord", str(guild_id or "dm"), str(channel_id or ""))


def reply_message(reply: Reply) -> dict[str, Any]:
    """The keyword arguments of ``send`` for a conversation's reply: the answer's embed with
    👍/👎, or its short text; nobody is ever pinged."""
    if reply.answer is not None:
        return {
            "embed": answer_embed(reply.answer),
            "view": answer_view(reply.answer.language, reply.answer_id),
            "allowed_mentions": NO_MENTIONS,
        }
    return {"content": plain(reply.text), "allowed_mentions": NO_MENTIONS}


def answer_view(lang: str, answer_id: str) -> discord.ui.View:
    """The 👍/👎 buttons of an answer."""
    up, down = feedback_labels(lang)
    view = discord.ui.View(timeout=None)
    view.add_item(FeedbackButton("up", answer_id, up))
    view.add_item(FeedbackButton("down", answer_id, down))
    return view


def checklist_view(state: ChecklistState, language: str) -> discord.ui.View:
    """The select menu that ticks a checklist's items, its placeholder in ``language``."""
    view = discord.ui.View(timeout=None)
    view.add_item(ChecklistSelect(state.checklist.id, language, checklist_options(state)))
    return view
