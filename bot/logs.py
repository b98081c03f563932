"""Logging set-up: text or JSON lines (``PLAYBOOK_LOG_FORMAT``), with secrets redacted."""

from __future__ import annotations

import json
import logging
import os
import sys
import time

from bot.config import PLATFORM_VARIABLES

SECRET_VARIABLES = (
    *(v for v in PLATFORM_VARIABLES if "TOKEN" in v or "SECRET" in v),
    "PLAYBOOK_USER_SALT",
)


class Redactor(logging.Filter):
    """Replaces every configured secret value by ``****`` in log records (defence in depth)."""

    def __init__(self, secrets: list[str]) -> None:
        super().__init__()
        self.secrets = [s for s in secrets if len(s) >= 6]

    def filter(self, record: logging.LogRecord) -> bool:
        if self.secrets:
            text = record.getMessage()
            for secret in self.secrets:
                text = text.replace(secret, "****")
            record.msg, record.args = text, None
        return True


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


def configure_logging(log_format: str = "text") -> None:
    """Log INFO and above to stderr, as text or JSON, with the platform secrets redacted."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if log_format == "json" else TextFormatter())
    handler.addFilter(Redactor([os.environ.get(v, "") for v in SECRET_VARIABLES]))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.INFO)
    for noisy in ("aiohttp.access", "slack_bolt", "slack_sdk", "discord"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
