"""``playbook serve``: the composition root for chat platforms.

Builds settings → embedder → index → store → assistant → adapters, passing each collaborator
explicitly, and runs every platform whose credentials are set in one event loop, with the
health endpoint and the knowledge watcher, until SIGINT or SIGTERM.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
from collections.abc import Awaitable, Callable

from bot.config import Settings
from bot.core.language import command_language
from bot.core.messages import message

log = logging.getLogger("playbook")


class ServeError(Exception):
    """A configuration problem found at start-up; the message names the variable."""


def _built_at(assistant) -> float:
    """When the loaded index was built (epoch seconds), from its build folder's name."""
    name = assistant.engine.index.path.name
    return int(name[2:]) / 1e9 if name[2:].isdigit() else 0.0


async def watch(watcher, stop: asyncio.Event, every: float, lock: asyncio.Lock) -> None:
    """Look for knowledge changes every ``every`` seconds and reload them."""
    while not stop.is_set():
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), every)
            return
        try:
            reason = await asyncio.to_thread(watcher.changed)
            if reason:
                async with lock:
                    await asyncio.to_thread(watcher.reload, reason)
        except Exception:
            log.exception("checking the knowledge base for changes failed")


async def _abandon_builds_on_stop(watcher, stop: asyncio.Event) -> None:
    """On shutdown, tell a re-index in progress to stop (it removes its temporary folder)."""
    await stop.wait()
    watcher.cancel.set()


async def probe_database(assistant, stop: asyncio.Event, every: float = 5.0) -> None:
    """Every ``every`` seconds, ``assistant.check_database()``: a deleted SQLite file is
    created again, and ``/healthz`` recovers by itself once the database can be written."""
    while not stop.is_set():
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), every)
            return
        await asyncio.to_thread(assistant.check_database)


ADMIN_ACTIONS = ("reindex", "examples")


def admin_commands(
    settings: Settings, assistant, reindex: Callable[[str, str], Awaitable[str]]
) -> Callable[[str, str, str], Awaitable[str]]:
    """The admins' chat commands (``/playbook reindex``, ``/playbook examples``): each
    checks ``PLAYBOOK_ADMINS``, then says what happened, for the admin alone to see."""

    async def admin(platform: str, user: str, action: str) -> str:
        language = command_language(action)
        if action not in ADMIN_ACTIONS:
            return message(language, "admin_usage")
        if not settings.is_admin(platform, user):
            return message(language, "admins_only", action=action)
        if action == "examples":
            return await asyncio.to_thread(assistant.examples_summary)
        return await reindex(platform, user)

    return admin


async def run_platforms(
    settings: Settings, *, http: bool, host: str, port: int, health_port: int
) -> int:
    """Run Slack and/or Discord in one event loop, sharing one assistant, until SIGINT or
    SIGTERM. Returns an exit code."""
    from bot.adapters.discord_bot import DiscordConfig, DiscordConfigError, DiscordService
    from bot.adapters.slack_app import SlackBot, SlackConfig, SlackConfigError
    from bot.adapters.slack_server import serve_http, serve_socket
    from bot.core.inflight import InFlight
    from bot.core.metrics import Metrics
    from bot.core.reload import KnowledgeWatcher
    from bot.health import start_health

    slack = SlackConfig.from_env()
    discord_config = DiscordConfig.from_env()
    try:
        if slack.configured:
            slack.check(force_http=http)
        if discord_config.token:
            discord_config.check()
    except (SlackConfigError, DiscordConfigError) as exc:
        raise ServeError(str(exc)) from exc
    metrics = Metrics()
    from bot.app import build_assistant

    assistant = await asyncio.to_thread(
        lambda: build_assistant(settings, notify=log.info, metrics=metrics)
    )
    metrics.track_index(lambda: len(assistant.engine.index.passages), lambda: _built_at(assistant))
    watcher = KnowledgeWatcher(settings, assistant, metrics)
    reload_lock = asyncio.Lock()
    inflight = InFlight()

    async def reindex(platform: str, user: str) -> str:
        async with reload_lock:
            result = await asyncio.to_thread(watcher.reload, f"requested by {platform}:{user}")
        return result.describe()

    admin = admin_commands(settings, assistant, reindex)

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    platforms: dict[str, Callable[[], bool]] = {}
    tasks = []
    drain = settings.drain_seconds
    if slack.configured:
        bot = SlackBot(
            assistant,
            slack,
            thread_followups=settings.slack_thread_followups,
            inflight=inflight,
            admin=admin,
        )
        try:
            log.info("Slack: signed in as %s", await bot.verify())
        except SlackConfigError as exc:
            raise ServeError(str(exc)) from exc
        platforms["slack"] = bot.connected
        if slack.socket_mode(force_http=http):
            tasks.append(serve_socket(bot, slack.app_token, stop, drain))
        else:
            tasks.append(serve_http(bot, host, port, stop, drain))
    if discord_config.token:
        service = DiscordService(
            assistant,
            discord_config,
            message_content=settings.discord_message_content,
            inflight=inflight,
            admin=admin,
        )
        platforms["discord"] = service.connected
        tasks.append(service.run(stop, drain))

    def problems() -> list[str]:
        found = [] if assistant.engine.index.passages else ["the index is empty"]
        if assistant.recorder.problem:
            found.append(assistant.recorder.problem)
        stale = watcher.stale_problem()
        if stale:
            found.append(stale)
        for name, connected in platforms.items():
            up = connected()
            metrics.connected.labels(name).set(1 if up else 0)
            if not up:
                found.append(f"{name} is not connected")
        return found

    health = None
    if health_port:
        health = await start_health(settings.health_host, health_port, problems, metrics)
    if settings.watch_seconds:
        tasks.append(watch(watcher, stop, settings.watch_seconds, reload_lock))
    tasks.append(probe_database(assistant, stop))
    tasks.append(_abandon_builds_on_stop(watcher, stop))
    try:
        await asyncio.gather(*tasks)
    except DiscordConfigError as exc:
        stop.set()
        raise ServeError(str(exc)) from exc
    finally:
        if health is not None:
            await health.cleanup()
    log.info("Stopped.")
    return 0


def serve(
    settings: Settings, *, slack_http: bool, host: str, port: int, health_port: int | None = None
) -> int | None:
    """Run the platforms whose credentials are set. Returns ``None`` when none is."""
    from bot.logs import configure_logging

    if not (os.environ.get("SLACK_BOT_TOKEN") or os.environ.get("DISCORD_TOKEN")):
        return None
    configure_logging(settings.log_format)
    port_for_health = settings.health_port if health_port is None else health_port
    return asyncio.run(
        run_platforms(settings, http=slack_http, host=host, port=port, health_port=port_for_health)
    )
