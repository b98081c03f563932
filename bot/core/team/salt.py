"""The salt of the user hashes (the question log and feedback keep a salted hash of a user id,
never the id): never kept in the database beside them."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from sqlalchemy import delete, select

from bot.core.db import Database, meta_table


def user_salt(database: Database, configured: str, salt_file: Path | None) -> tuple[str, list[str]]:
    """The salt, and what the operator should know about it: the configured secret; else the
    salt file (made, readable by this user only, on first use); else a salt for this process
    only. A salt an older version kept in the database moves to the file (or is dropped when
    a secret is configured)."""
    legacy = _take_legacy_salt(database)
    if configured:
        if legacy:
            return configured, [
                "Removed the user-id salt an older version kept in the database "
                "(PLAYBOOK_USER_SALT is set)."
            ]
        return configured, []
    if salt_file is None:
        return legacy or secrets.token_hex(16), []
    if salt_file.is_file():
        return salt_file.read_text(encoding="utf-8").strip(), []
    salt = legacy or secrets.token_hex(16)
    salt_file.parent.mkdir(parents=True, exist_ok=True)
    handle = os.open(salt_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(handle, "w", encoding="utf-8") as out:
        out.write(salt + "\n")
    return salt, [
        f"PLAYBOOK_USER_SALT is not set: user ids are hashed with a salt kept in {salt_file} "
        "(readable by this user only). Set PLAYBOOK_USER_SALT to a secret of your own."
    ]


def _take_legacy_salt(database: Database) -> str | None:
    """The salt an older version stored in the database, removed from it."""
    with database.engine.begin() as conn:
        row = conn.execute(select(meta_table.c.value).where(meta_table.c.key == "salt")).first()
        if row is None:
            return None
        conn.execute(delete(meta_table).where(meta_table.c.key == "salt"))
        return str(row[0])
