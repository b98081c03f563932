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
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from bot.config import AUTO_PORT, Settings
from bot.core.language import command_language
from bot.core.messages import message
from bot.core.types import Admin

if TYPE_CHECKING:  # the adapters and the core load when serving starts, not on import
    from aiohttp import web

    from bot.adapters.discord_bot import DiscordConfig
    from bot.adapters.slack_app import SlackConfig
    from bot.core.assistant import Assistant
    from bot.core.inflight import InFlight
    from bot.core.metrics import Metrics
    from bot.core.reload import KnowledgeWatcher
    from bot.core.team.dashboard import Dashboard

log = logging.getLogger("playbook")


class ServeError(Exception):
    """A configuration problem found at start-up; the message names the variable."""


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
    settings: Settings, assistant: Assistant, reindex: Callable[[str, str], Awaitable[str]]
) -> Admin:
    """The admins' chat commands (``/playbook reindex``, ``/playbook examples``): each
    checks ``PLAYBOOK_ADMINS``, then says what happened, for the admin alone to see."""

    async def admin(platform: str, user: str, action: str) -> str:
        language = command_language(action)
        if action not in ADMIN_ACTIONS:
            return message(language, "admin_usage")
        if not settings.is_admin(platform, user):
            return message(language, "admins_only", action=action)
        if action == "examples":
            return await asyncio.to_thread(assistant.examples_summary, language=language)
        return await reindex(platform, user)

    return admin


@dataclass
class Serving:
    """What the platforms of one process share: the assistant, its metrics, the knowledge
    watcher and the lock that keeps reloads one at a time, the answers in flight, and the
    admin commands."""

    settings: Settings
    assistant: Assistant
    metrics: Metrics
    watcher: KnowledgeWatcher
    reload_lock: asyncio.Lock
    inflight: InFlight
    admin: Admin = field(init=False)
    background: set[asyncio.Task[None]] = field(default_factory=set)  # referenced while running

    def __post_init__(self) -> None:
        self.admin = admin_commands(self.settings, self.assistant, self.reindex)

    async def reindex(self, platform: str, user: str) -> str:
        """Reload the knowledge base now, for an admin. Returns what happened, in one line."""
        async with self.reload_lock:
            reason = f"requested by {platform}:{user}"
            result = await asyncio.to_thread(self.watcher.reload, reason)
        return result.describe()


# The running platforms: name → whether it is connected now (for /healthz and the metrics).
Connections = dict[str, Callable[[], bool]]


async def run_platforms(
    settings: Settings, *, http: bool, host: str, port: int, health_port: int
) -> int:
    """Run Slack and/or Discord in one event loop, sharing one assistant, until SIGINT or
    SIGTERM. Returns an exit code."""
    from bot.adapters.discord_bot import DiscordConfigError
    from bot.health import start_health

    slack, discord_config = _platform_configs(http)
    serving = await _build(settings)
    stop = _stop_on_signals()
    connections: Connections = {}
    tasks: list[Awaitable[None]] = []
    if slack.configured:
        connections["slack"], task = await _slack(
            serving, slack, stop, http=http, host=host, port=port
        )
        tasks.append(task)
    if discord_config.token:
        connections["discord"], task = _discord(serving, discord_config, stop)
        tasks.append(task)
    health = None
    if health_port:
        status = _health_problems(serving, connections)
        health = await start_health(
            settings.health_host,
            health_port,
            status,
            serving.metrics,
            settings.header_timeout_seconds,
            notes=lambda: [str(e) for e in serving.watcher.skipped],
        )
    pages = await start_pages(serving, settings.web_host, settings.web_port)
    tasks += _upkeep(serving, stop)
    try:
        await asyncio.gather(*tasks)
    except DiscordConfigError as exc:
        stop.set()
        raise ServeError(str(exc)) from exc
    finally:
        if health is not None:
            await health.cleanup()
        if pages is not None:
            await pages.cleanup()
    log.info("Stopped.")
    return 0


def check_pages(settings: Settings, host: str) -> None:
    """Refuse to serve the maintainers' pages on ``host`` when it is not a loopback address
    and no ``PLAYBOOK_WEB_TOKEN`` is set (``ServeError`` saying so)."""
    from bot.web.app import WebConfigError, check_web_host

    try:
        check_web_host(host, settings.web_token or None)
    except WebConfigError as exc:
        raise ServeError(str(exc)) from exc


async def start_pages(serving: Serving, host: str, port: int) -> web.AppRunner | None:
    """Serve the maintainers' pages (``bot.web``) on ``host:port`` over the assistant's
    database and index; ``None`` when ``port`` is 0. Logs where."""
    if not port:
        return None
    from bot.core.team.dashboard import Dashboard
    from bot.web.app import start_web

    watcher = serving.watcher
    dashboard = Dashboard(serving.assistant, skipped=lambda: [str(e) for e in watcher.skipped])
    settings = serving.settings
    runner = await start_web(
        host,
        0 if port == AUTO_PORT else port,
        dashboard,
        token=settings.web_token or None,
        header_timeout=settings.header_timeout_seconds,
        secure_cookie=settings.web_secure_cookie,
    )
    serving.background.add(asyncio.create_task(asyncio.to_thread(_warm, dashboard)))
    return runner


def _warm(dashboard: Dashboard) -> None:
    """``dashboard.warm()``; a failure is logged (the pages then compute on first visit)."""
    try:
        dashboard.warm()
    except Exception:
        log.exception("preparing the web pages' figures failed")


async def run_pages(settings: Settings, host: str, port: int) -> int:
    """``playbook web``: the maintainers' pages alone, with the knowledge watcher, until
    SIGINT or SIGTERM (the host checked by ``serve_pages``). Returns an exit code."""
    serving = await _build(settings)
    stop = _stop_on_signals()
    pages = await start_pages(serving, host, port)
    try:
        await asyncio.gather(*_upkeep(serving, stop))
    finally:
        if pages is not None:
            await pages.cleanup()
    log.info("Stopped.")
    return 0


def _platform_configs(http: bool) -> tuple[SlackConfig, DiscordConfig]:
    """Slack's and Discord's credentials from the environment, each checked when set.
    Raises ``ServeError`` naming what is missing or malformed."""
    from bot.adapters.discord_bot import DiscordConfig, DiscordConfigError
    from bot.adapters.slack_app import SlackConfig, SlackConfigError

    slack = SlackConfig.from_env()
    discord_config = DiscordConfig.from_env()
    try:
        if slack.configured:
            slack.check(force_http=http)
        if discord_config.token:
            discord_config.check()
    except (SlackConfigError, DiscordConfigError) as exc:
        raise ServeError(str(exc)) from exc
    return slack, discord_config


async def _build(settings: Settings) -> Serving:
    """The assistant (loaded in a thread: it reads the index) and what the platforms share."""
    from bot.app import build_assistant
    from bot.core.inflight import InFlight
    from bot.core.metrics import Metrics
    from bot.core.reload import KnowledgeWatcher

    metrics = Metrics()
    assistant = await asyncio.to_thread(
        lambda: build_assistant(settings, notify=log.info, metrics=metrics)
    )
    metrics.track_index(
        lambda: len(assistant.engine.index.passages), lambda: assistant.engine.index.built_at
    )
    watcher = KnowledgeWatcher(settings, assistant, metrics)
    return Serving(settings, assistant, metrics, watcher, asyncio.Lock(), InFlight())


def _stop_on_signals() -> asyncio.Event:
    """An event SIGINT and SIGTERM set: every task stops when it is."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    return stop


async def _slack(
    serving: Serving, config: SlackConfig, stop: asyncio.Event, *, http: bool, host: str, port: int
) -> tuple[Callable[[], bool], Awaitable[None]]:
    """The Slack bot, its token verified (``ServeError`` when refused): whether it is
    connected, and the task serving it over Socket Mode or HTTP until ``stop``."""
    from bot.adapters.slack_app import SlackBot, SlackConfigError
    from bot.adapters.slack_server import serve_http, serve_socket

    settings = serving.settings
    bot = SlackBot(
        serving.assistant,
        config,
        thread_followups=settings.slack_thread_followups,
        inflight=serving.inflight,
        admin=serving.admin,
    )
    try:
        log.info("Slack: signed in as %s", await bot.verify())
    except SlackConfigError as exc:
        raise ServeError(str(exc)) from exc
    if config.socket_mode(force_http=http):
        return bot.connected, serve_socket(bot, config.app_token, stop, settings.drain_seconds)
    return bot.connected, serve_http(
        bot, host, port, stop, settings.drain_seconds, settings.header_timeout_seconds
    )


def _discord(
    serving: Serving, config: DiscordConfig, stop: asyncio.Event
) -> tuple[Callable[[], bool], Awaitable[None]]:
    """The Discord service: whether it is connected, and the task running it until ``stop``
    (a refused token surfaces there, as ``DiscordConfigError``)."""
    from bot.adapters.discord_bot import DiscordService

    service = DiscordService(
        serving.assistant,
        config,
        message_content=serving.settings.discord_message_content,
        inflight=serving.inflight,
        admin=serving.admin,
    )
    return service.connected, service.run(stop, serving.settings.drain_seconds)


def _health_problems(serving: Serving, connections: Connections) -> Callable[[], list[str]]:
    """What ``/healthz`` reports: an empty index, a database that cannot be written, a stale
    index, a platform not connected (each platform's state also goes to the metrics)."""
    assistant, watcher, metrics = serving.assistant, serving.watcher, serving.metrics

    def problems() -> list[str]:
        found = [] if assistant.engine.index.passages else ["the index is empty"]
        if assistant.recorder.problem:
            found.append(assistant.recorder.problem)
        stale = watcher.stale_problem()
        if stale:
            found.append(stale)
        for name, connected in connections.items():
            up = connected()
            metrics.connected.labels(name).set(1 if up else 0)
            if not up:
                found.append(f"{name} is not connected")
        return found

    return problems


def _upkeep(serving: Serving, stop: asyncio.Event) -> list[Awaitable[None]]:
    """The background tasks beside the platforms: watching the knowledge base (when
    ``PLAYBOOK_WATCH_SECONDS`` is set), probing the database, abandoning a re-index on stop."""
    tasks: list[Awaitable[None]] = []
    every = serving.settings.watch_seconds
    if every:
        tasks.append(watch(serving.watcher, stop, every, serving.reload_lock))
    tasks.append(probe_database(serving.assistant, stop))
    tasks.append(_abandon_builds_on_stop(serving.watcher, stop))
    return tasks


def serve(
    settings: Settings, *, slack_http: bool, host: str, port: int, health_port: int | None = None
) -> int | None:
    """Run the platforms whose credentials are set. Returns ``None`` when none is."""
    from bot.logs import configure_logging

    if not (os.environ.get("SLACK_BOT_TOKEN") or os.environ.get("DISCORD_TOKEN")):
        return None
    configure_logging(settings)
    if settings.web_port:
        check_pages(settings, settings.web_host)  # before any platform connects
    port_for_health = settings.health_port if health_port is None else health_port
    return asyncio.run(
        run_platforms(settings, http=slack_http, host=host, port=port, health_port=port_for_health)
    )


def serve_pages(settings: Settings, *, host: str, port: int) -> int:
    """``playbook web``: serve the maintainers' pages until SIGINT or SIGTERM (``ServeError``
    for a host that needs a token). Returns an exit code."""
    from bot.logs import configure_logging

    configure_logging(settings)
    check_pages(settings, host)
    return asyncio.run(run_pages(settings, host, port))
