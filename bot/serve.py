"""``playbook serve``: the composition root for chat platforms.

Builds settings → embedder → index → store → assistant → adapters, passing each collaborator
explicitly, and runs the configured platforms until SIGINT or SIGTERM.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys
from collections.abc import Callable

from bot.config import Settings

log = logging.getLogger("playbook")


class ServeError(Exception):
    """A configuration problem found at start-up; the message names the variable."""


def build_assistant(settings: Settings, notify: Callable[[str], None]):
    """The assistant every adapter shares: engine, store and checklists."""
    from bot.cli_team import open_checklists, open_store
    from bot.core.assistant import Assistant
    from bot.core.engine import KnowledgeEngine

    return Assistant(
        engine=KnowledgeEngine.open(settings, notify=notify),
        store=open_store(settings),
        checklists=open_checklists(settings),
        log_questions=settings.log_questions,
        rate_limit_per_minute=settings.rate_limit_per_minute,
    )


def configure_logging() -> None:
    """Log to stderr at INFO (tokens are never logged)."""
    logging.basicConfig(
        level=logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    for noisy in ("aiohttp.access", "slack_bolt.AsyncApp", "slack_sdk", "discord"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


async def run_platforms(settings: Settings, *, http: bool, host: str, port: int) -> int:
    """Run Slack and/or Discord in one event loop, sharing one assistant, until SIGINT or
    SIGTERM. Returns an exit code."""
    from bot.adapters.discord_bot import DiscordConfig, DiscordConfigError, run_discord
    from bot.adapters.slack_app import SlackBot, SlackConfig, SlackConfigError
    from bot.adapters.slack_server import serve_http, serve_socket

    slack = SlackConfig.from_env()
    discord_config = DiscordConfig.from_env()
    try:
        if slack.configured:
            slack.check(force_http=http)
        if discord_config.token:
            discord_config.check()
    except (SlackConfigError, DiscordConfigError) as exc:
        raise ServeError(str(exc)) from exc
    assistant = await asyncio.to_thread(build_assistant, settings, log.info)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    tasks = []
    if slack.configured:
        bot = SlackBot(assistant, slack, thread_followups=settings.slack_thread_followups)
        try:
            log.info("Slack: signed in as %s", await bot.verify())
        except SlackConfigError as exc:
            raise ServeError(str(exc)) from exc
        if slack.socket_mode(force_http=http):
            tasks.append(serve_socket(bot, slack.app_token, stop))
        else:
            tasks.append(serve_http(bot, host, port, stop))
    if discord_config.token:
        tasks.append(
            run_discord(
                assistant,
                discord_config,
                stop,
                message_content=settings.discord_message_content,
            )
        )
    try:
        await asyncio.gather(*tasks)
    except DiscordConfigError as exc:
        stop.set()
        raise ServeError(str(exc)) from exc
    log.info("Stopped.")
    return 0


def serve(settings: Settings, *, slack_http: bool, host: str, port: int) -> int | None:
    """Run the platforms whose credentials are set. Returns ``None`` when none is."""
    if not (os.environ.get("SLACK_BOT_TOKEN") or os.environ.get("DISCORD_TOKEN")):
        return None
    configure_logging()
    return asyncio.run(run_platforms(settings, http=slack_http, host=host, port=port))
