"""YAML that the team writes (front matter, the glossary, example questions, curated
checklists), read with bounds.

YAML aliases (``*name``) repeat a node without copying it: a few are harmless, nested ones grow
exponentially when the value is read (an "alias bomb": an 847-byte page took a server from
200 MB to 1.6 GB), so a file may use only ``MAX_YAML_ALIASES`` of them; a document nested
thousands deep exhausts Python's recursion. Both are refused with a reason, like any YAML that
does not parse, so the caller names the file and loads the others.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from bot.core.knowledge.boundary import FileRefused, read_optional_text

# libyaml's safe loader where PyYAML was built with it (~10× faster than the pure-Python one).
LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
MAX_YAML_ALIASES = 8


class YamlRefused(ValueError):
    """YAML that does not parse, or that is refused for its aliases or its depth. Its message
    is the reason, to follow the file's name: "does not parse (…)", "uses 82 YAML aliases…"."""


def load_yaml(text: str) -> object:
    """``text`` read as Python values (None for an empty document). Raises ``YamlRefused``
    when it does not parse, uses more than ``MAX_YAML_ALIASES`` aliases or is nested too
    deeply."""
    try:
        if "*" in text:
            aliases = sum(
                isinstance(token, yaml.AliasToken) for token in yaml.scan(text, Loader=LOADER)
            )
            if aliases > MAX_YAML_ALIASES:
                raise YamlRefused(
                    f"uses {aliases} YAML aliases (*name), more than the {MAX_YAML_ALIASES} allowed"
                )
        return yaml.load(text, Loader=LOADER)
    except yaml.YAMLError as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise YamlRefused(f"does not parse ({first})") from exc
    except RecursionError as exc:
        raise YamlRefused("is nested too deeply") from exc


def read_team_file(knowledge_dir: Path, name: str) -> object:
    """The YAML file ``name`` of ``knowledge_dir`` read as Python values, None when there is no
    such file. Raises ``YamlRefused`` with the reason to show after the file's name when it must
    not be read (``boundary``: a link outside the folder, not a regular file, too large) or
    cannot be read as YAML (see ``load_yaml``)."""
    try:
        text = read_optional_text(knowledge_dir, name)
    except FileRefused as exc:
        raise YamlRefused(f"{exc}: not loaded") from None
    if text is None:
        return None
    try:
        return load_yaml(text)
    except YamlRefused as exc:
        raise YamlRefused(f"cannot be read as YAML: it {exc}") from None
