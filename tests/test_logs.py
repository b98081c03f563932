import json
import logging

from bot.config import Settings
from bot.logs import JsonFormatter, Redactor, TextFormatter, secret_values

TOKEN = "xoxb-1234-secret-token"
SALT = "a-salt-of-the-team"
ENV = {
    "SLACK_BOT_TOKEN": TOKEN,
    "PLAYBOOK_DATABASE_URL": "postgresql+psycopg://bot:pa%2Fss-word@db/playbook",
    "PLAYBOOK_USER_SALT": SALT,
}


def _record(message: str, *, fields: dict | None = None, error: Exception | None = None):
    record = logging.LogRecord("playbook", logging.ERROR, __file__, 1, message, None, None)
    if error is not None:
        try:
            raise error
        except Exception as exc:
            record.exc_info = (type(exc), exc, exc.__traceback__)
    if fields is not None:
        record.fields = fields
    return record


def test_secrets_are_redacted_in_exceptions_and_fields_in_both_formats():
    secrets = secret_values(Settings.from_env(ENV, env_file=None), ENV)
    assert "pa/ss-word" in secrets and "pa%2Fss-word" in secrets and SALT in secrets
    for inner in (TextFormatter(), JsonFormatter()):
        redactor = Redactor(inner, secrets)
        line = redactor.format(
            _record(
                f"calling with {TOKEN}",
                fields={"token": TOKEN, "url": ENV["PLAYBOOK_DATABASE_URL"]},
                error=RuntimeError(f"refused {TOKEN} for bot:pa/ss-word"),
            )
        )
        assert TOKEN not in line and "pa/ss-word" not in line and "pa%2Fss-word" not in line
        assert line.count("****") >= 4
        if isinstance(inner, JsonFormatter):
            assert json.loads(line)["logger"] == "playbook"
