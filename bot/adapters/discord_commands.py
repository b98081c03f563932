"""Publishing the application commands and building the invite link (``playbook discord
sync`` / ``invite``): a client over REST only, no gateway, that answers nothing."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

import discord
from discord import app_commands

from bot.adapters.discord_bot import (
    PERMISSIONS,
    CatalogueTranslator,
    DiscordConfig,
    DiscordConfigError,
    _register_commands,
)
from bot.adapters.discord_render import NO_MENTIONS


def invite_url(application_id: str | int) -> str:
    """The OAuth2 URL that adds the bot with exactly the scopes and permissions it needs."""
    return discord.utils.oauth_url(
        application_id, permissions=PERMISSIONS, scopes=("bot", "applications.commands")
    )


class CommandPublisher(discord.Client):
    """A client that only publishes or reads the application commands (over REST, no
    gateway): it has the command tree and answers nothing."""

    def __init__(self) -> None:
        super().__init__(intents=discord.Intents.default(), allowed_mentions=NO_MENTIONS)
        self.tree: app_commands.CommandTree[CommandPublisher] = app_commands.CommandTree(self)
        _register_commands(self.tree)

    async def setup_hook(self) -> None:
        """Publish the commands' descriptions in French too (at login, before any sync)."""
        await self.tree.set_translator(CatalogueTranslator())


@contextlib.asynccontextmanager
async def _logged_in(config: DiscordConfig) -> AsyncIterator[CommandPublisher]:
    """A client logged in over REST only (no gateway), closed on exit."""
    config.apply()
    client = CommandPublisher()
    try:
        try:
            await client.login(config.token)
        except discord.LoginFailure as exc:
            raise DiscordConfigError("DISCORD_TOKEN was refused by Discord.") from exc
        yield client
    finally:
        await client.close()


async def sync_commands(config: DiscordConfig, guild_id: int | None = None) -> list[str]:
    """Register the commands globally, or in one guild (global ones copied there first, since a
    guild sync without them would wipe that guild's commands). Returns the names synced."""
    async with _logged_in(config) as client:
        if guild_id:
            guild = discord.Object(id=guild_id)
            client.tree.copy_global_to(guild=guild)
            synced = await client.tree.sync(guild=guild)
        else:
            synced = await client.tree.sync()
        return [c.name for c in synced]


async def application_id(config: DiscordConfig) -> str:
    """The application id: ``DISCORD_APPLICATION_ID``, else asked of Discord with the token."""
    if config.application_id:
        return config.application_id
    config.check()
    async with _logged_in(config) as client:
        return str(client.application_id)
