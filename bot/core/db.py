"""The database both the team store and the chat memory write to: its schema (every table),
the migrations applied on open, and the engine (SQLite in WAL mode by default, PostgreSQL for a
deployment with several replicas).

``Database`` is the open database: the engine, whether its SQLite file was deleted or replaced
under the bot (and creating it again), a probe write, and the purge of rows past the retention
period. ``team.store`` (checklist progress, question log, feedback, taught examples) and
``chat.memory`` (answers kept for their buttons, threads answered in, events handled) each read
and write their own tables through it; neither imports the other.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    Float,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    create_engine,
    delete,
    event,
    false,
    inspect,
    select,
    text,
    update,
)
from sqlalchemy.engine import Connection, CursorResult, Engine
from sqlalchemy.engine.interfaces import DBAPIConnection
from sqlalchemy.pool import ConnectionPoolEntry

SCHEMA_VERSION = 7
LOCK_WAIT_MS = 30_000  # how long a background write waits for another process's lock
BRIEF_WAIT_MS = 2_000  # the same, for a write an answer waits on

metadata = MetaData()

meta_table = Table(
    "playbook_meta",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("value", Text, nullable=False),
)

progress_table = Table(
    "checklist_progress",
    metadata,
    Column("conversation", String(255), primary_key=True),
    Column("checklist_id", String(128), primary_key=True),
    Column("item_id", String(32), primary_key=True),
    Column("item_text", Text, nullable=False),
    Column("done_by", String(255), nullable=False),
    Column("done_at", DateTime(timezone=True), nullable=False),
    Column("done_by_name", String(255)),  # version 2: the name shown, as the platform gave it
)

questions_table = Table(
    "question_log",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("asked_at", DateTime(timezone=True), nullable=False, index=True),
    Column("platform", String(32), nullable=False),
    Column("channel", String(255), nullable=False),
    Column("user_hash", String(64), nullable=False),
    Column("question", Text, nullable=False),
    Column("abstained", Boolean, nullable=False),
    Column("top_section", Text),
    Column("latency_ms", Float, nullable=False),
    # version 5: answered, but led by "I am not sure the knowledge base answers this"
    Column("hedged", Boolean, nullable=False, server_default=false()),
)

feedback_table = Table(
    "feedback",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("given_at", DateTime(timezone=True), nullable=False, index=True),
    Column("platform", String(32), nullable=False),
    Column("channel", String(255), nullable=False),
    Column("user_hash", String(64), nullable=False),
    Column("question", Text, nullable=False),
    Column("passages", Text, nullable=False),  # JSON list of cited passages
    Column("vote", Integer, nullable=False),  # +1 or -1
    Column("comment", Text),
    # Version 3: the answer voted on; one vote per user and answer, the latest.
    Column("answer_id", String(32), index=True),
)


# Version 2: answers (so buttons can find the answer they belong to), the threads the bot
# answered in (follow-ups without a mention), and the events already handled (retries).
answers_table = Table(
    "answers",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("created_at", DateTime(timezone=True), nullable=False, index=True),
    Column("platform", String(32), nullable=False),
    Column("channel", String(255), nullable=False),
    Column("payload", Text, nullable=False),  # JSON of the answer
)

threads_table = Table(
    "answered_threads",
    metadata,
    Column("platform", String(32), primary_key=True),
    Column("channel", String(255), primary_key=True),
    Column("thread", String(64), primary_key=True),
    Column("created_at", DateTime(timezone=True), nullable=False, index=True),
)

events_table = Table(
    "processed_events",
    metadata,
    Column("platform", String(32), primary_key=True),
    Column("event_id", String(128), primary_key=True),
    Column("created_at", DateTime(timezone=True), nullable=False, index=True),
)


# Version 4: what the team taught in the chat. A row is one user's word on one question: the
# section that answers it (``weight`` 1 when chosen after 👎, less when 👍 confirmed the cited
# one), or none (``section`` empty: the knowledge base does not cover it). One row per user,
# knowledge base and question: a user's latest word replaces the earlier one.
learned_table = Table(
    "learned_examples",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("knowledge", String(255), nullable=False),
    Column("question_key", String(255), nullable=False),
    Column("question", Text, nullable=False),
    Column("section", Text, nullable=False),  # ``learning.section_key``, or "" for none
    Column("section_title", Text, nullable=False),
    Column("weight", Float, nullable=False),
    Column("user_hash", String(64), nullable=False),
    Column("platform", String(32), nullable=False),
    Column("taught_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("knowledge", "question_key", "user_hash", name="uq_learned_user"),
)


# Version 6: the recent turns of each conversation (a Slack thread, a Discord reply chain or
# DM, a terminal session): a follow-up is read in the context of the turn before, on every
# replica and after a restart. ``cited`` is the JSON list of the sections the answer cited.
turns_table = Table(
    "conversation_turns",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("conversation", String(255), nullable=False, index=True),
    Column("asked_at", DateTime(timezone=True), nullable=False, index=True),
    Column("question", Text, nullable=False),
    Column("language", String(8), nullable=False),
    Column("cited", Text, nullable=False),
)


# Version 7: the knowledge gaps a maintainer marked handled on the web page (by the question's
# ``taught_rows.question_key``); a gap asked again after ``handled_at`` shows again.
handled_table = Table(
    "gaps_handled",
    metadata,
    Column("question_key", String(255), primary_key=True),
    Column("handled_at", DateTime(timezone=True), nullable=False, index=True),
)


def inserted_id(result: CursorResult[*tuple[Any, ...]]) -> int:
    """The primary key of the row an INSERT made."""
    key = result.inserted_primary_key
    if key is None:
        raise RuntimeError("the database returned no id for the row it inserted")
    return int(key[0])


def now() -> datetime:
    """The current moment, aware, in UTC."""
    return datetime.now(UTC)


def aware(moment: datetime) -> datetime:
    """SQLite returns naive datetimes: they were stored as UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _sqlite_pragmas(dbapi_connection: DBAPIConnection, _record: ConnectionPoolEntry) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")  # safe with WAL; no fsync on every answer
    cursor.execute(f"PRAGMA busy_timeout={LOCK_WAIT_MS}")
    cursor.close()


def make_engine(url: str) -> Engine:
    """An SQLAlchemy engine for ``url``; for SQLite, the folder is created and WAL is on."""
    if url.startswith("sqlite"):
        path = url.split("///", 1)[1] if "///" in url else ""
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url, connect_args={"timeout": LOCK_WAIT_MS / 1000, "check_same_thread": False}
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True)


def sqlite_file(url: str) -> Path | None:
    """The file of an SQLite URL (``None`` for other databases and in-memory ones)."""
    if not url.startswith("sqlite") or "///" not in url:
        return None
    path = url.split("///", 1)[1].split("?", 1)[0]
    return None if path in ("", ":memory:") else Path(path).resolve()


def open_quietly(path: Path | None) -> int | None:
    """A read-only descriptor of ``path`` (``None`` when there is no such file)."""
    if path is None:
        return None
    try:
        return os.open(path, os.O_RDONLY)
    except OSError:
        return None


@contextmanager
def brief_lock_wait(conn: Connection) -> Iterator[None]:
    """Within this block, wait at most ``BRIEF_WAIT_MS`` for a lock another process holds
    (instead of ``LOCK_WAIT_MS``): for the writes an answer waits on."""
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql(f"SET LOCAL lock_timeout = {BRIEF_WAIT_MS}")  # this transaction
    if conn.dialect.name != "sqlite":
        yield
        return
    conn.exec_driver_sql(f"PRAGMA busy_timeout={BRIEF_WAIT_MS}")
    try:
        yield
    finally:
        conn.exec_driver_sql(f"PRAGMA busy_timeout={LOCK_WAIT_MS}")


def migrate(engine: Engine) -> None:
    """Create the tables and apply migrations up to ``SCHEMA_VERSION``."""
    metadata.create_all(engine)
    with engine.begin() as conn:
        row = conn.execute(
            select(meta_table.c.value).where(meta_table.c.key == "schema_version")
        ).first()
        current = int(row[0]) if row else 0
        if current > SCHEMA_VERSION:
            raise RuntimeError(
                f"The database schema is version {current}, newer than this playbook "
                f"({SCHEMA_VERSION}); upgrade playbook-bot."
            )
        # New tables come from create_all above; changes to existing tables are steps here.
        if 0 < current < 2:
            conn.execute(
                text("ALTER TABLE checklist_progress ADD COLUMN done_by_name VARCHAR(255)")
            )
        columns = {c["name"] for c in inspect(conn).get_columns("feedback")}
        if 0 < current < 3 and "answer_id" not in columns:
            conn.execute(text("ALTER TABLE feedback ADD COLUMN answer_id VARCHAR(32)"))
            conn.execute(text("CREATE INDEX ix_feedback_answer_id ON feedback (answer_id)"))
        logged = {c["name"] for c in inspect(conn).get_columns("question_log")}
        if 0 < current < 5 and "hedged" not in logged:
            # IF NOT EXISTS on PostgreSQL: two replicas upgrading at once both get here, and
            # the second waits for the first's ALTER, then finds the column there.
            guard = "IF NOT EXISTS " if conn.dialect.name == "postgresql" else ""
            conn.execute(
                text(
                    f"ALTER TABLE question_log ADD COLUMN {guard}hedged BOOLEAN NOT NULL "
                    "DEFAULT FALSE"
                )
            )
        if row is None:
            conn.execute(
                meta_table.insert().values(key="schema_version", value=str(SCHEMA_VERSION))
            )
        elif current < SCHEMA_VERSION:
            conn.execute(
                update(meta_table)
                .where(meta_table.c.key == "schema_version")
                .values(value=str(SCHEMA_VERSION))
            )


class Database:
    """An open database: created and migrated on open, watched for an SQLite file deleted or
    replaced while serving."""

    def __init__(self, url: str) -> None:
        self.engine = make_engine(url)
        migrate(self.engine)
        self._file = sqlite_file(url)
        self._opened = open_quietly(self._file)  # to tell when that file is deleted

    def close(self) -> None:
        """Release the connections (and the descriptor that watches the SQLite file)."""
        self.engine.dispose()
        if self._opened is not None:
            os.close(self._opened)
            self._opened = None

    def replaced(self) -> bool:
        """Whether the SQLite file was deleted or replaced since it was opened (always
        ``False`` for other databases)."""
        if self._file is None or self._opened is None:
            return False
        opened = os.fstat(self._opened)
        try:
            current = self._file.stat()
        except OSError:
            return True
        return opened.st_nlink == 0 or (opened.st_dev, opened.st_ino) != (
            current.st_dev,
            current.st_ino,
        )

    def recreate(self) -> None:
        """After ``replaced()``: drop the connections to the old file and create the tables
        in a new one (what the old file held is gone)."""
        self.engine.dispose()
        migrate(self.engine)
        if self._opened is not None:
            os.close(self._opened)
        self._opened = open_quietly(self._file)

    def probe(self) -> None:
        """Write one row and remove it: raises when the database cannot be written."""
        with self.engine.begin() as conn:
            conn.execute(delete(meta_table).where(meta_table.c.key == "probe"))
            conn.execute(meta_table.insert().values(key="probe", value=now().isoformat()))

    def purge(self, retention_days: int, moment: datetime | None = None) -> int:
        """Delete the question log, feedback, kept answers, threads, events, conversation
        turns and handled gaps older than ``retention_days``. Returns how many rows went."""
        cutoff = (moment or now()) - timedelta(days=retention_days)
        dated = (
            (questions_table, questions_table.c.asked_at),
            (feedback_table, feedback_table.c.given_at),
            (answers_table, answers_table.c.created_at),
            (threads_table, threads_table.c.created_at),
            (events_table, events_table.c.created_at),
            (turns_table, turns_table.c.asked_at),
            (handled_table, handled_table.c.handled_at),
        )
        with self.engine.begin() as conn:
            return sum(conn.execute(delete(t).where(c < cutoff)).rowcount for t, c in dated)
