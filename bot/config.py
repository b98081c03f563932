"""Settings: every option, its environment variable and its default, read once."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, fields
from pathlib import Path

MAX_QUESTION_CHARS = 2000


@dataclass(frozen=True)
class Settings:
    """The bot's configuration. Each field maps to ``PLAYBOOK_<FIELD>`` in the environment."""

    knowledge_dir: Path = Path("knowledge")
    index_dir: Path = Path(".playbook/index")
    base_url: str = ""
    embedder: str = "use-multilingual"
    top_k: int = 3
    database_url: str = "sqlite:///.playbook/playbook.db"
    user_salt: str = ""  # secret: salts the hashes of user ids in the log and feedback
    retention_days: int = 90
    log_questions: bool = True
    rate_limit_per_minute: int = 10  # questions per user per minute; 0 for no limit
    slack_thread_followups: bool = True  # answer later messages of a thread without a mention
    discord_message_content: bool = True  # ask Discord for the privileged message-content intent

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
            elif isinstance(default, int):
                try:
                    floor = 0 if field.name == "rate_limit_per_minute" else 1
                    kwargs[field.name] = max(floor, int(raw))
                except ValueError as exc:
                    raise ValueError(
                        f"PLAYBOOK_{field.name.upper()} must be a whole number, got {raw!r}"
                    ) from exc
            else:
                kwargs[field.name] = raw
        return cls(**kwargs)  # type: ignore[arg-type]


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
