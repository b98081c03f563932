"""Settings: every option, its environment variable and its default, read once."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, MutableMapping
from dataclasses import dataclass, fields
from pathlib import Path

MAX_QUESTION_CHARS = 2000
_ZERO_ALLOWED = {"context_turns", "rate_limit_per_minute", "port", "watch_seconds", "drain_seconds"}
MAX_PORT = 65535
# PLAYBOOK_HEALTH_PORT=auto (or --health-port auto): a free port that the system picks when
# the endpoint starts, named in the log line "Health: http://HOST:PORT/healthz". For several
# bots on one machine, and for tests, which must not guess a free port before the bot binds it.
AUTO_PORT = -1
# Variables read outside ``Settings`` (the platforms name them); shown by ``playbook config``.
PLATFORM_VARIABLES = (
    "SLACK_BOT_TOKEN",
    "SLACK_APP_TOKEN",
    "SLACK_SIGNING_SECRET",
    "SLACK_API_URL",
    "DISCORD_TOKEN",
    "DISCORD_APPLICATION_ID",
    "DISCORD_API_URL",
    "DISCORD_GATEWAY_URL",
)
_SECRET_WORDS = ("TOKEN", "SECRET", "SALT", "PASSWORD")


@dataclass(frozen=True)
class Settings:
    """The bot's configuration. Each field maps to ``PLAYBOOK_<FIELD>`` in the environment."""

    knowledge_dir: Path = Path("knowledge")
    index_dir: Path = Path(".playbook/index")
    base_url: str = ""
    embedder: str = "use+e5"
    # A sentence-transformers CrossEncoder (Hugging Face name or local folder) that re-orders
    # the ``rerank_top`` best passages after fusion; empty: no re-ranking (the default).
    reranker: str = ""
    rerank_top: int = 20  # how many of the best passages the re-ranker reads per question
    top_k: int = 3
    database_url: str = "sqlite:///.playbook/playbook.db"
    user_salt: str = ""  # secret: salts the hashes of user ids in the log and feedback
    user_salt_file: Path = Path(".playbook/user-salt")  # made (mode 600) when no salt is set
    retention_days: int = 90
    log_questions: bool = True
    rate_limit_per_minute: int = 10  # questions per user per minute; 0 for no limit
    # A conversation (thread, reply chain, terminal session) is read in the context of its
    # last ``context_turns`` turns asked within ``context_minutes``; 0 turns: every message alone.
    context_turns: int = 3
    context_minutes: int = 30
    slack_thread_followups: bool = True  # answer later messages of a thread without a mention
    discord_message_content: bool = True  # ask Discord for the privileged message-content intent
    log_format: str = "text"  # or "json": one JSON object per log line
    # Address and port of Slack's HTTP endpoint (``serve --slack-http``); ``--host`` and
    # ``--port`` win over them. Port 0: a free port the system picks, named in the log.
    host: str = "127.0.0.1"
    port: int = 3000
    health_host: str = "127.0.0.1"
    health_port: int = 9090  # /healthz and /metrics while serving; 0: off; AUTO_PORT: any
    # The maintainers' web pages (``playbook web``; ``serve`` serves them too when the port is
    # set). A host other than a loopback address needs the token, which visitors sign in with.
    web_host: str = "127.0.0.1"
    web_port: int = 0  # 0: serve does not serve the pages, ``playbook web`` uses 8080
    web_token: str = ""  # secret
    web_secure_cookie: bool = False  # the session cookie only over HTTPS (behind a TLS proxy)
    watch_seconds: int = 5  # how often serve looks for knowledge changes; 0 turns it off
    # on SIGTERM, how long answers in flight may take to finish; then each still waiting is
    # told "I am restarting" (posting those notices may take up to 5 s more)
    drain_seconds: int = 10
    # How long the HTTP servers (Slack's endpoint, /healthz) wait for a request's headers, and
    # keep an idle connection open: a client that never finishes its headers is cut off.
    header_timeout_seconds: int = 10
    admins: str = ""  # comma-separated user ids allowed to /playbook reindex
    max_page_kb: int = 4096  # a page larger than this is skipped (and named) when indexing
    debug: bool = False  # an unexpected error shows its traceback instead of one line

    @property
    def link_root(self) -> str:
        """What section links start with when no base URL is set: the knowledge directory."""
        return self.knowledge_dir.as_posix()

    @property
    def max_page_bytes(self) -> int:
        """The largest page indexed, in bytes."""
        return self.max_page_kb * 1024

    @property
    def admin_ids(self) -> frozenset[str]:
        """The user ids (``U123``, or ``slack:U123`` / ``discord:42``) allowed to reindex."""
        return frozenset(a.strip() for a in self.admins.split(",") if a.strip())

    def is_admin(self, platform: str, user_id: str) -> bool:
        """Whether ``user_id`` on ``platform`` is listed in ``PLAYBOOK_ADMINS``."""
        return bool({user_id, f"{platform}:{user_id}"} & self.admin_ids)

    @classmethod
    def from_env(
        cls, environ: Mapping[str, str] | None = None, env_file: Path | None = Path(".env")
    ) -> Settings:
        """Build settings from ``environ`` (default ``os.environ``) over an optional ``.env`` file.

        Variables already in the environment win over the file. Returns a ``Settings``.
        """
        values: dict[str, str] = {}
        if env_file is not None and env_file.is_file():
            values.update(read_env_file(env_file))
        values.update(os.environ if environ is None else environ)
        kwargs: dict[str, object] = {}
        for field in fields(cls):
            raw = values.get(f"PLAYBOOK_{field.name.upper()}")
            if raw is None or raw == "":
                continue
            default = getattr(cls, field.name)
            if isinstance(default, bool):
                kwargs[field.name] = _boolean(raw, f"PLAYBOOK_{field.name.upper()}")
            elif isinstance(default, Path):
                kwargs[field.name] = Path(raw)
            elif field.name in ("health_port", "web_port"):
                kwargs[field.name] = parse_port(raw, f"PLAYBOOK_{field.name.upper()}")
            elif isinstance(default, int):
                kwargs[field.name] = _whole_number(field.name, raw)
            else:
                kwargs[field.name] = raw
        return cls(**kwargs)  # type: ignore[arg-type]


def _whole_number(name: str, raw: str) -> int:
    """The value of the number setting ``name``: at least 1 (0 where it means "off" or "any
    free port"), a port at most ``MAX_PORT``. Raises ``ValueError`` naming the variable."""
    variable = f"PLAYBOOK_{name.upper()}"
    try:
        value = max(0 if name in _ZERO_ALLOWED else 1, int(raw))
    except ValueError as exc:
        raise ValueError(f"{variable} must be a whole number, got {raw!r}") from exc
    if name == "port" and value > MAX_PORT:
        raise ValueError(f"{variable} must be a port number (0 to {MAX_PORT}), got {raw!r}")
    return value


def parse_port(raw: str, name: str = "the port") -> int:
    """A port setting: a number (0: off), or ``auto`` for a free port the system picks
    (``AUTO_PORT``). Raises ``ValueError`` naming ``name`` for anything else."""
    value = raw.strip().lower()
    if value == "auto":
        return AUTO_PORT
    try:
        port = max(0, int(value))
    except ValueError:
        raise ValueError(f"{name} must be a port number or auto, got {raw!r}") from None
    if port > MAX_PORT:
        raise ValueError(f"{name} must be a port number (0 to {MAX_PORT}) or auto, got {raw!r}")
    return port


def _boolean(raw: str, name: str) -> bool:
    value = raw.strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off"):
        return False
    raise ValueError(f"{name} must be true or false, got {raw!r}")


def read_env_file(path: Path) -> dict[str, str]:
    """Parse a ``.env`` file of ``NAME=value`` lines (``#`` comments, optional quotes).

    Returns a dict of the names and values it holds.
    """
    result: dict[str, str] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        name, _, value = line.partition("=")
        name = name.removeprefix("export ").strip()
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        result[name] = value
    return result


def load_dotenv(path: Path = Path(".env"), environ: MutableMapping[str, str] | None = None) -> None:
    """Copy the variables of a ``.env`` file into the environment, without overriding any."""
    target = os.environ if environ is None else environ
    if path.is_file():
        for name, value in read_env_file(path).items():
            target.setdefault(name, value)


def mask(name: str, value: str) -> str:
    """``value`` as ``playbook config`` shows it: secrets hidden, a URL's password hidden."""
    if not value:
        return value
    if any(word in name.upper() for word in _SECRET_WORDS):
        return "**** (set)"
    return re.sub(r"(//[^:/@]+:)[^@]+@", r"\1****@", value)


def effective_config(
    settings: Settings, environ: Mapping[str, str] | None = None
) -> list[tuple[str, str]]:
    """Every setting with its variable name and its effective value, secrets masked.

    Returns ``[(variable, value), ...]``.
    """
    env = os.environ if environ is None else environ
    rows: list[tuple[str, str]] = []
    for field in fields(settings):
        name = f"PLAYBOOK_{field.name.upper()}"
        value = getattr(settings, field.name)
        shown = str(value).lower() if isinstance(value, bool) else str(value)
        if field.name in ("health_port", "web_port") and value == AUTO_PORT:
            shown = "auto"
        rows.append((name, mask(name, shown)))
    for name in PLATFORM_VARIABLES:
        rows.append((name, mask(name, env.get(name, ""))))
    return rows
