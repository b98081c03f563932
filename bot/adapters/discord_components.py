"""Discord's message components: 👍/👎 on an answer (``FeedbackButton``), the menu of sections after
👎 (``TeachSelect``), the menu that ticks a checklist's items (``ChecklistSelect``), and the
views that carry them. What a click does is the chat's (``Conversation.vote``, ``pick``,
``select``); here it is decoded and its reply rendered (``show``). Each is a dynamic item: its
custom id carries what it needs (the answer id; the checklist id and language), so the buttons
and menus of earlier messages keep working after a restart."""

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
from bot.core import (
    CHECKLIST,
    COMMAND_LANGUAGE,
    MENU,
    NONE_CHOICE,
    TEXT,
    Asker,
    ChecklistState,
    Conversation,
    Reply,
)
from bot.core.messages import message

MENU_CHOICES = 24  # sections offered after 👎 (25 options at most, "None" the last)


def _selected(interaction: discord.Interaction) -> list[str]:
    """The values picked in a select menu's interaction."""
    data: object = interaction.data or {}
    values = data.get("values", []) if isinstance(data, dict) else []
    return [str(v) for v in values] if isinstance(values, list) else []


def discord_asker(interaction: discord.Interaction) -> Asker:
    """Who acted, and where: the channel, the user, the guild (``dm`` for a direct message)
    and the name Discord shows."""
    return Asker(
        "discord",
        str(interaction.channel_id or ""),
        str(interaction.user.id),
        str(interaction.guild_id or "dm"),
        interaction.user.display_name,
    )


def _chat(interaction: discord.Interaction) -> Conversation:
    """The conversation of the client the interaction came to."""
    conversation: Conversation = interaction.client.conversation  # type: ignore[attr-defined]
    return conversation


async def show(interaction: discord.Interaction, reply: Reply) -> None:
    """Render the chat's ``reply`` to a click or a pick: a checklist or a ``text`` takes the
    place of the message acted on; a menu and any other word go to the user alone."""
    if reply.kind == CHECKLIST and reply.state is not None:
        await interaction.response.edit_message(
            embed=checklist_embed(reply.state, reply.language),
            view=checklist_view(reply.state, reply.language),
            allowed_mentions=NO_MENTIONS,
        )
    elif reply.kind == TEXT:
        await interaction.response.edit_message(
            content=reply.text, view=None, allowed_mentions=NO_MENTIONS
        )
    else:
        view = teach_view(reply) if reply.kind == MENU else discord.utils.MISSING
        await interaction.response.send_message(
            reply.text, view=view, ephemeral=True, allowed_mentions=NO_MENTIONS
        )


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
        """The chat's reply to the vote: thanks, or the menu of sections after 👎."""
        reply = await asyncio.to_thread(
            _chat(interaction).vote,
            self.answer_id,
            self.vote == "up",
            discord_asker(interaction),
            menu_size=MENU_CHOICES,
        )
        await show(interaction, reply)


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
        """The chat keeps the pick; what was kept takes the place of the menu."""
        picked = (_selected(interaction) or [NONE_CHOICE])[0]
        chat = _chat(interaction)
        reply = await asyncio.to_thread(
            chat.pick, self.answer_id, picked, discord_asker(interaction)
        )
        await show(interaction, reply)


def teach_view(reply: Reply) -> discord.ui.View:
    """The menu of the reply's choices after 👎 (the closest sections, and "None")."""
    options = [
        discord.SelectOption(label=choice.label[:100], value=choice.value)
        for choice in reply.choices
    ]
    view = discord.ui.View(timeout=None)
    select = TeachSelect(reply.answer_id, options)
    select.item.placeholder = message(reply.language, "choose_section")
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
        """The chat stores the ticks and unticks; the message is updated for everyone, or
        the user alone is told why not."""
        reply = await asyncio.to_thread(
            _chat(interaction).select,
            self.checklist_id,
            set(_selected(interaction)),
            discord_asker(interaction),
            self.language,
            offered=MAX_OPTIONS,
        )
        await show(interaction, reply)


def reply_message(reply: Reply) -> dict[str, Any]:
    """The keyword arguments of ``send`` for a conversation's reply: the answer's embed with
    👍/👎, or its short text; nobody is ever pinged."""
    if reply.answer is not None:
        return {
            "embed": answer_embed(reply.answer, reply.understood),
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
