"""``playbook discord sync`` and ``playbook discord invite``."""

from __future__ import annotations

import argparse
import asyncio

from bot.config import Settings


class DiscordCommandError(Exception):
    """A Discord set-up command that cannot be done; shown as one line."""


def cmd_discord(args: argparse.Namespace, settings: Settings) -> int:
    """Register the application commands, or print the invite URL."""
    from bot.adapters.discord_bot import DiscordConfig, DiscordConfigError
    from bot.adapters.discord_commands import application_id, invite_url, sync_commands

    config = DiscordConfig.from_env()
    try:
        if args.action == "sync":
            config.check()
            names = asyncio.run(sync_commands(config, args.guild))
            where = f"guild {args.guild}" if args.guild else "all guilds (global; may take an hour)"
            print(f"Registered {', '.join('/' + n for n in names)} in {where}.")
        else:
            print(invite_url(asyncio.run(application_id(config))))
    except DiscordConfigError as exc:
        raise DiscordCommandError(str(exc)) from exc
    return 0


def add_discord_commands(sub: argparse._SubParsersAction) -> None:
    """Add ``discord sync`` and ``discord invite`` to the ``playbook`` parser."""
    p = sub.add_parser("discord", help="Discord set-up: register commands, print the invite URL")
    actions = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    s = actions.add_parser("sync", help="register /ask and /checklist (global, or one guild)")
    s.add_argument("--guild", type=int, help="register in this guild only (instant updates)")
    actions.add_parser("invite", help="print the OAuth2 URL that adds the bot to a server")
    p.set_defaults(func=cmd_discord)
