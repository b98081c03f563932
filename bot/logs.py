"""Logging set-up: text or JSON lines (``PLAYBOOK_LOG_FORMAT``), with secrets redacted."""

from __future__ import annotations

import json
import logging
import os
import sys
import time
from urllib.parse import unquote, urlsplit

from bot.config import PLATFORM_VARIABLES, Settings

# The platforms' secrets, read from the environment (the platforms name them); the bot's own
# (the salt, the database password) come from ``Settings``.
SECRET_VARIABLES = tuple(v for v in PLATFORM_VARIABLES if "TOKEN" in v or "SECRET" in v)


class Redactor(logging.Formatter):
    """Formats with ``inner``, then replaces every configured secret value by ``****`` in the
    whole line: the message, the exception's text and the structured fields alike (defence
    in depth: no code path is meant to log a secret)."""

    def __init__(self, inner: logging.Formatter, secrets: list[str]) -> None:
        super().__init__()
        self.inner = inner
        self.secrets = sorted((s for s in secrets if len(s) >= 6), key=len, reverse=True)

    def format(self, record: logging.LogRecord) -> str:
        line = self.inner.format(record)
        for secret in self.secrets:
            line = line.replace(secret, "****")
            quoted = json.dumps(secret)[1:-1]  # as a JSON line spells it
            if quoted != secret:
                line = line.replace(quoted, "****")
        return line


def secret_values(settings: Settings, environ: dict[str, str] | None = None) -> list[str]:
    """The secrets to redact: the platforms' tokens and signing secret (from ``environ``,
    default ``os.environ``), the salt and the database password (from ``settings``)."""
    env = os.environ if environ is None else environ
    values = [env.get(v, "") for v in SECRET_VARIABLES] + [settings.user_salt]
    url = settings.database_url
    password = urlsplit(url).password if "://" in url else None
    if password:
        values += [password, unquote(password)]
    return values


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, and the record's ``fields``."""

    def format(self, record: logging.LogRecord) -> str:
        data = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
            **getattr(record, "fields", {}),
        }
        if record.exc_info:
            data["error"] = self.formatException(record.exc_info)
        return json.dumps(data, ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    """``time level logger: message key=value …``."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        fields = getattr(record, "fields", {})
        if fields:
            line += " " + " ".join(f"{k}={v}" for k, v in fields.items())
        return line


def configure_logging(settings: Settings) -> None:
    """Log INFO and above to stderr, as text or JSON (``settings.log_format``), with the
    secrets redacted."""
    handler = logging.StreamHandler(sys.stderr)
    inner = JsonFormatter() if settings.log_format == "json" else TextFormatter()
    handler.setFormatter(Redactor(inner, secret_values(settings)))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.INFO)
    for noisy in ("aiohttp.access", "slack_bolt", "slack_sdk", "discord"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
