"""What the Slack listeners share: a word to the person who acted alone, and the error code of a
failed Web API call."""

from __future__ import annotations


async def private(respond, text: str) -> None:
    """A message only the user who acted sees, leaving the original message as it is."""
    await respond(response_type="ephemeral", replace_original=False, text=text)


def slack_error(exc: Exception) -> str | None:
    """The ``error`` code of a Slack API error (``not_in_channel``…), else ``None``."""
    data = getattr(getattr(exc, "response", None), "data", None)
    return data.get("error") if isinstance(data, dict) else None
