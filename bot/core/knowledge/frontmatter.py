"""Hugo front matter: splitting it from a page's body and reading the options it carries.

A page opens with YAML (``---``) or TOML (``+++``) front matter; ``split_front_matter`` returns
it as the page wrote it (within a size limit, its shown fields text) and ``checklist_option``
reads its ``checklists:``.
"""

from __future__ import annotations

import re
import tomllib

from bot.core.knowledge.team_yaml import YamlRefused, load_yaml

# Front matter is a few names and values: larger is not a page's metadata (and costs parsing).
MAX_FRONT_MATTER_BYTES = 64 * 1024
# The front matter values that are shown as text: a list or a mapping there is a mistake.
_TEXT_FIELDS = ("title", "linkTitle", "description")

_FRONT_MATTER = re.compile(r"\A(---|\+\+\+)[ \t]*\r?\n(?:(.*?)\r?\n)?\1[ \t]*(?:\r?\n|\Z)", re.S)
_FRONT_MATTER_OPENS = re.compile(r"\A(---|\+\+\+)[ \t]*(?:\r?\n|\Z)")


def split_front_matter(text: str) -> tuple[dict[str, object], str]:
    """Split YAML (``---``) or TOML (``+++``) front matter from the body.

    Returns ``(metadata, body)``, the metadata as the page wrote it (any names and values);
    raises ``ValueError`` when the front matter does not parse or is never closed.
    """
    match = _FRONT_MATTER.match(text)
    if not match:
        opened = _FRONT_MATTER_OPENS.match(text)
        if opened:
            delimiter = opened.group(1)
            raise ValueError(
                f"front matter opened by {delimiter} is never closed (no {delimiter} line "
                "after it): not indexed"
            )
        return {}, text
    raw = match.group(2) or ""
    size = len(raw.encode("utf-8", errors="replace"))
    if size > MAX_FRONT_MATTER_BYTES:
        raise ValueError(
            f"front matter of {size // 1024} KB, above the limit of "
            f"{MAX_FRONT_MATTER_BYTES // 1024} KB: not indexed"
        )
    try:
        meta = load_yaml(raw) if match.group(1) == "---" else tomllib.loads(raw)
    except YamlRefused as exc:
        raise ValueError(f"front matter {exc}: not indexed") from exc
    except tomllib.TOMLDecodeError as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ValueError(f"front matter does not parse ({first})") from exc
    except RecursionError as exc:
        raise ValueError("front matter is nested too deeply: not indexed") from exc
    if meta is None:
        meta = {}
    if not isinstance(meta, dict):
        raise ValueError("front matter is not a mapping of names to values")
    for name in _TEXT_FIELDS:
        if isinstance(meta.get(name), dict | list | tuple | set):
            raise ValueError(f"front matter: {name} must be text")
    return meta, text[match.end() :]


def checklist_option(meta: dict[str, object]) -> bool | tuple[str, ...] | None:
    """The front matter's ``checklists:`` as ``Page.checklists`` has it: a yes/no, the
    headings it names (one heading or a list of them), or ``None`` (absent or not readable)."""
    value = meta.get("checklists")
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip():
        return (value.strip(),)
    if isinstance(value, list):
        return tuple(str(v).strip() for v in value if str(v).strip())
    return None
