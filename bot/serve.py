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
    for noisy in ("aiohttp.access", "slack_bolt.AsyncApp", "slack_sdk"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


async def run_slack(settings: Settings, *, http: bool, host: str, port: int) -> int:
    """Run the Slack app until SIGINT/SIGTERM. Returns an exit code."""
    from bot.adapters.slack_app import SlackBot, SlackConfig, SlackConfigError
    from bot.adapters.slack_server import serve_http, serve_socket

    config = SlackConfig.from_env()
    try:
        config.check(force_http=http)
    except SlackConfigError as exc:
        raise ServeError(str(exc)) from exc
    assistant = await asyncio.to_thread(build_assistant, settings, log.info)
    bot = SlackBot(assistant, config, thread_followups=settings.slack_thread_followups)
    try:
        bot_user = await bot.verify()
    except SlackConfigError as exc:
        raise ServeError(str(exc)) from exc
    log.info("Slack: signed in as %s", bot_user)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    if config.socket_mode(force_http=http):
        await serve_socket(bot, config.app_token, stop)
    else:
        await serve_http(bot, host, port, stop)
    log.info("Stopped.")
    return 0


def serve(settings: Settings, *, slack_http: bool, host: str, port: int) -> int | None:
    """Run the platforms whose credentials are set. Returns ``None`` when none is."""
    if os.environ.get("DISCORD_TOKEN"):
        raise ServeError(
            "DISCORD_TOKEN is set, but this version has no Discord adapter yet; unset it."
        )
    if not os.environ.get("SLACK_BOT_TOKEN"):
        return None
    configure_logging()
    return asyncio.run(run_slack(settings, http=slack_http, host=host, port=port))
