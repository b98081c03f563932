"""Discord adapter: discord.py application commands, mentions and DMs → core calls.

``/ask`` answers with an embed (public, or private with ``private: True``), ``/checklist`` shows a
checklist with a menu that ticks items for the whole channel, and every answer has 👍/👎
buttons that keep working after a restart. Here: the credentials (``DiscordConfig``), the client
and its application commands, publishing the commands, and the service ``serve`` runs; the
buttons and menus are in ``discord_components``, the embeds in ``discord_render``.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import discord
import yarl
from discord import app_commands

from bot.adapters.discord_components import (
    ChecklistSelect,
    FeedbackButton,
    TeachSelect,
    checklist_view,
    discord_asker,
    reply_message,
)
from bot.adapters.discord_render import NO_MENTIONS, checklist_embed, cut, escape
from bot.core import (
    APOLOGY,
    CHECKLIST,
    CHECKLISTS,
    COMMAND_LANGUAGE,
    RESTARTING,
    Admin,
    Asker,
    Assistant,
    Conversation,
    InFlight,
    Reply,
    conversation_key,
)
from bot.core.messages import message

log = logging.getLogger("playbook.discord")

DEFAULT_API_URL = "https://discord.com/api/v10"
DEFER_AFTER = 2.0  # seconds: answers slower than this are deferred (Discord's deadline is 3 s)
PERMISSIONS = discord.Permissions(
    view_channel=True,
    send_messages=True,
    send_messages_in_threads=True,
    embed_links=True,
    read_message_history=True,
)
MESSAGE_CONTENT_HELP = (
    "Discord refused the message-content intent: slash commands work, and mentions and DMs "
    "still reach the bot, but to read other messages enable it in the Developer Portal → your "
    "application → Bot → Privileged Gateway Intents → Message Content Intent."
)


class DiscordConfigError(Exception):
    """Missing or refused Discord credentials; the message names the variable."""


@dataclass(frozen=True)
class DiscordConfig:
    """The bot token and where the client connects (overridable for proxies and tests)."""

    token: str = ""
    api_url: str = DEFAULT_API_URL
    gateway_url: str = ""
    application_id: str = ""

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> DiscordConfig:
        """Read ``DISCORD_TOKEN``, ``DISCORD_API_URL``, ``DISCORD_GATEWAY_URL`` and
        ``DISCORD_APPLICATION_ID``."""
        env = os.environ if environ is None else environ
        return cls(
            token=env.get("DISCORD_TOKEN", ""),
            api_url=(env.get("DISCORD_API_URL") or DEFAULT_API_URL).rstrip("/"),
            gateway_url=env.get("DISCORD_GATEWAY_URL", ""),
            application_id=env.get("DISCORD_APPLICATION_ID", ""),
        )

    def check(self) -> None:
        """Raise ``DiscordConfigError`` when the token is missing or malformed."""
        if not self.token:
            raise DiscordConfigError("DISCORD_TOKEN is not set (Developer Portal → Bot → Token).")
        if len(self.token) < 20 or " " in self.token:
            raise DiscordConfigError("DISCORD_TOKEN does not look like a bot token.")

    def apply(self) -> None:
        """Point discord.py at ``api_url`` and ``gateway_url`` (process-wide settings)."""
        discord.http.Route.BASE = self.api_url
        if self.gateway_url:
            discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(self.gateway_url)


class PlaybookDiscord(discord.Client):
    """The Discord client: application commands, mentions, DMs, persistent buttons."""

    def __init__(
        self,
        assistant: Assistant,
        *,
        message_content: bool = True,
        inflight: InFlight | None = None,
        admin: Admin | None = None,
    ) -> None:
        intents = discord.Intents.default()
        intents.message_content = message_content
        super().__init__(intents=intents, allowed_mentions=NO_MENTIONS)
        self.assistant = assistant
        self.inflight = inflight or InFlight()
        self.conversation = Conversation(assistant, self.inflight)
        self.admin = admin
        self.tree: app_commands.CommandTree[PlaybookDiscord] = app_commands.CommandTree(self)
        self.tree.error(self.on_app_command_error)
        _register_commands(self.tree)

    async def setup_hook(self) -> None:
        """Make the buttons and menus of earlier messages work again after a restart."""
        self.add_dynamic_items(FeedbackButton, ChecklistSelect, TeachSelect)

    async def on_ready(self) -> None:
        """Log the account the bot runs as."""
        log.info("Discord: connected as %s (%s)", self.user, self.user.id if self.user else "?")

    async def on_message(self, msg: discord.Message) -> None:
        """Answer a message that mentions the bot (as a reply) or a direct message. A reply
        to the bot's message mentions it without naming it in the text: that follow-up is
        not addressed to the bot, and small talk there ("thanks 👍") gets no reply."""
        if msg.author.bot or self.user is None or msg.author.id == self.user.id:
            return
        direct = msg.guild is None
        if not direct and self.user not in msg.mentions:
            return
        named = re.compile(rf"<@!?{self.user.id}>")
        addressed = direct or bool(named.search(msg.content))
        question = " ".join(named.sub(" ", msg.content).split())
        asker = Asker("discord", str(msg.channel.id), str(msg.author.id))

        async def send(reply: Reply) -> None:
            if direct:
                await msg.channel.send(**reply_message(reply))
                return
            # Every reply (an apology and "restarting" too) points at its question, so that in
            # a busy channel each asker sees which question it is about; it still goes out if
            # the question was deleted meanwhile.
            reference = msg.to_reference(fail_if_not_exists=False)
            await msg.channel.send(
                reference=reference, mention_author=False, **reply_message(reply)
            )

        own, continues = self.conversation_keys(msg, direct)
        await self.conversation.turn(
            question, asker, send, addressed=addressed, conversation=own, continues=continues
        )

    def conversation_keys(self, msg: discord.Message, direct: bool) -> tuple[str, str]:
        """The conversation ``msg`` starts or belongs to, and the one it continues: in a direct
        message, the channel (one conversation with the bot); in a server, the message itself,
        continuing the question the bot's message it replies to answered (a reply chain). A
        reply to anyone else's message continues nothing."""
        channel = str(msg.channel.id)
        if direct:
            return conversation_key("discord", channel, ""), ""
        own = conversation_key("discord", channel, str(msg.id))
        replied = msg.reference.resolved if msg.reference else None
        if not isinstance(replied, discord.Message) or self.user is None:
            return own, ""
        if replied.author.id != self.user.id or replied.reference is None:
            return own, ""
        answered = replied.reference.message_id
        return own, conversation_key("discord", channel, str(answered)) if answered else ""

    async def on_app_command_error(
        self, interaction: discord.Interaction, error: app_commands.AppCommandError
    ) -> None:
        """Log the detail; tell the user briefly."""
        log.error("Discord command error: %s", error, exc_info=error)
        text = message(interaction.locale.value[:2] if interaction.locale else "en", "sorry")
        try:
            if interaction.response.is_done():
                await interaction.followup.send(text, ephemeral=True)
            else:
                await interaction.response.send_message(text, ephemeral=True)
        except Exception:
            log.exception("could not send the apology")


def _register_commands(tree: app_commands.CommandTree[Any]) -> None:
    """Put the application commands on ``tree``: ``/ask``, ``/checklist`` (its names
    autocompleted) and ``/playbook reindex`` / ``/playbook examples``."""
    tree.add_command(_command("ask", "ask_description", on_ask))
    shown = _command("checklist", "checklist_description", on_checklist)
    shown.autocomplete("name")(complete_checklist_name)
    tree.add_command(shown)
    admin = app_commands.Group(name="playbook", description=described("admin_description"))
    admin.add_command(_command("reindex", "reindex_description", on_reindex))
    admin.add_command(_command("examples", "examples_description", on_examples))
    tree.add_command(admin)


def described(key: str) -> app_commands.locale_str:
    """The catalogue's sentence ``key`` as the description of a command or an option: in
    English, the commands' language, and in French for Discord clients in French (Discord
    gets both when the commands are published; see ``CatalogueTranslator``)."""
    return app_commands.locale_str(message(COMMAND_LANGUAGE, key), key=key)


class CatalogueTranslator(app_commands.Translator):
    """The French descriptions of the commands and their options, from the catalogue."""

    async def translate(
        self,
        string: app_commands.locale_str,
        locale: discord.Locale,
        context: app_commands.TranslationContextTypes,
    ) -> str | None:
        """The French sentence of a ``described`` text for French clients, else ``None``
        (Discord shows the English one)."""
        key = string.extras.get("key")
        if key is None or locale != discord.Locale.french:
            return None
        return message("fr", key)


def _command(name: str, key: str, callback: Any) -> app_commands.Command[Any, ..., None]:
    """An application command calling ``callback``, described by the catalogue's ``key``
    (a module function: each tree gets its own command objects, the functions are shared)."""
    return app_commands.Command(name=name, description=described(key), callback=callback)


@app_commands.describe(question=described("ask_question"), private=described("ask_private"))
async def on_ask(interaction: discord.Interaction, question: str, private: bool = False) -> None:
    """``/ask``: the conversation's turn, in the channel or to the asker alone; Discord is
    told "thinking" when the answer takes longer than ``DEFER_AFTER``."""
    client: PlaybookDiscord = interaction.client  # type: ignore[assignment]
    asker = discord_asker(interaction)

    async def think() -> None:  # Discord wants a first word within 3 s
        await interaction.response.defer(ephemeral=private, thinking=True)

    async def send(reply: Reply) -> None:
        hidden = private or reply.kind in (RESTARTING, APOLOGY)
        if interaction.response.is_done():
            await interaction.followup.send(ephemeral=hidden, **reply_message(reply))
        else:
            await interaction.response.send_message(ephemeral=hidden, **reply_message(reply))

    await client.conversation.turn(question, asker, send, on_slow=think, slow_after=DEFER_AFTER)


@app_commands.describe(name=described("checklist_name"), reset=described("checklist_reset"))
async def on_checklist(
    interaction: discord.Interaction, name: str | None = None, reset: bool = False
) -> None:
    """``/checklist``: the list of checklists (no name), the closest ones (a name not found),
    or the checklist with the channel's progress (cleared first with ``reset``) and its menu,
    in the language of the name typed."""
    client: PlaybookDiscord = interaction.client  # type: ignore[assignment]
    chat = client.conversation
    reply = await asyncio.to_thread(
        chat.checklist, name or "", discord_asker(interaction), reset=reset
    )
    if reply.kind == CHECKLIST and reply.state is not None:
        await interaction.response.send_message(
            embed=checklist_embed(reply.state, reply.language),
            view=checklist_view(reply.state, reply.language),
            allowed_mentions=NO_MENTIONS,
        )
        return
    text = checklists_text(reply) if reply.kind == CHECKLISTS else reply.text
    await interaction.response.send_message(cut(text, 2000), ephemeral=True)


def checklists_text(reply: Reply) -> str:
    """A list of checklists: all of them, or the closest ones to the name asked for."""
    if reply.asked:
        closest = ", ".join(f"`{c.id}` ({escape(c.title)})" for c in reply.checklists)
        return message(
            reply.language, "no_checklist_named", name=escape(reply.asked), closest=closest
        )
    lines = [f"`{c.id}` — {escape(c.title)}" for c in reply.checklists]
    return message(reply.language, "checklists_heading") + "\n" + "\n".join(lines)


async def complete_checklist_name(
    interaction: discord.Interaction, current: str
) -> list[app_commands.Choice[str]]:
    """The checklists whose names match what is typed so far (``/checklist name:``)."""
    client: PlaybookDiscord = interaction.client  # type: ignore[assignment]
    return [
        app_commands.Choice(name=cut(c.title, 100), value=c.id)
        for c in client.conversation.checklist_names(current)
    ]


async def on_reindex(interaction: discord.Interaction) -> None:
    """``/playbook reindex``: reload the knowledge base now."""
    await _run_admin(interaction, "reindex")


async def on_examples(interaction: discord.Interaction) -> None:
    """``/playbook examples``: the examples the team taught."""
    await _run_admin(interaction, "examples")


async def _run_admin(interaction: discord.Interaction, action: str) -> None:
    """Run an admin command (which checks the user is an admin) and show its result to the
    user alone."""
    client: PlaybookDiscord = interaction.client  # type: ignore[assignment]
    if client.admin is None:
        text = message(COMMAND_LANGUAGE, "admin_unavailable")  # nothing typed to go by
        await interaction.response.send_message(text, ephemeral=True)
        return
    await interaction.response.defer(ephemeral=True, thinking=True)
    result = await client.admin("discord", str(interaction.user.id), action)
    await interaction.followup.send(
        cut(escape(result), 2000), ephemeral=True, allowed_mentions=NO_MENTIONS
    )


class DiscordService:
    """Runs the client until asked to stop: reconnects without the message-content intent when
    Discord refuses it, lets answers in flight finish on stop, and reports its connection."""

    def __init__(
        self,
        assistant: Assistant,
        config: DiscordConfig,
        *,
        message_content: bool = True,
        inflight: InFlight | None = None,
        admin: Admin | None = None,
    ) -> None:
        self.assistant = assistant
        self.config = config
        self.message_content = message_content
        self.inflight = inflight or InFlight()
        self.admin = admin
        self.client: PlaybookDiscord | None = None

    def connected(self) -> bool:
        """Whether the gateway session is up."""
        client = self.client
        return bool(client and client.is_ready() and not client.is_closed())

    async def run(self, stop: asyncio.Event, drain_seconds: float = 10) -> None:
        """Connect and serve until ``stop`` is set."""
        self.config.apply()
        while not stop.is_set():
            client = PlaybookDiscord(
                self.assistant,
                message_content=self.message_content,
                inflight=self.inflight,
                admin=self.admin,
            )
            self.client = client
            runner = asyncio.create_task(client.start(self.config.token))
            waiter = asyncio.create_task(stop.wait())
            done, _ = await asyncio.wait({runner, waiter}, return_when=asyncio.FIRST_COMPLETED)
            if waiter in done:
                if not await self.inflight.drain(drain_seconds):
                    log.warning("Discord: answers still in flight after %s s", drain_seconds)
                await client.close()
                runner.cancel()
                return
            waiter.cancel()
            error = runner.exception()
            await client.close()
            if isinstance(error, discord.PrivilegedIntentsRequired) and self.message_content:
                log.warning(MESSAGE_CONTENT_HELP)
                self.message_content = False
                continue
            if isinstance(error, discord.LoginFailure):
                raise DiscordConfigError("DISCORD_TOKEN was refused by Discord.") from error
            if error is not None:
                raise error
            return


async def run_discord(
    assistant: Assistant, config: DiscordConfig, stop: asyncio.Event, *, message_content: bool
) -> None:
    """Serve Discord until ``stop`` is set (see ``DiscordService``)."""
    await DiscordService(assistant, config, message_content=message_content).run(stop)
