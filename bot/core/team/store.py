"""The embedded database (SQLAlchemy Core): checklist progress, feedback and the question log.

SQLite by default (``PLAYBOOK_DATABASE_URL``, ``sqlite:///.playbook/playbook.db``); a PostgreSQL
URL serves a deployment with several replicas. The schema is created and migrated on open.
User ids are stored only as salted hashes in the question log and feedback; checklist progress
keeps the platform's user id because it shows who ticked an item.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypedDict

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
    func,
    inspect,
    select,
    text,
    update,
)
from sqlalchemy.engine import Connection, CursorResult, Engine
from sqlalchemy.engine.interfaces import DBAPIConnection
from sqlalchemy.exc import IntegrityError
from sqlalchemy.pool import ConnectionPoolEntry

from bot.core.knowledge.examples import example_key
from bot.core.serialize import AnswerData
from bot.core.team.learning import Taught

SCHEMA_VERSION = 5
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


class CitedPassage(TypedDict):
    """A passage an answer cited, as stored with the feedback on it."""

    passage_id: str
    section: str
    link: str


class LoggedQuestion(TypedDict):
    """A row of the question log."""

    id: int
    asked_at: datetime  # aware, UTC
    platform: str
    channel: str
    user_hash: str
    question: str
    abstained: bool
    top_section: str | None
    latency_ms: float
    hedged: bool  # answered with the warning that the knowledge base may not answer it


class FeedbackCounts(TypedDict):
    """How many 👍 (``up``) and 👎 (``down``)."""

    up: int
    down: int


def _inserted_id(result: CursorResult[*tuple[Any, ...]]) -> int:
    """The primary key of the row an INSERT made."""
    key = result.inserted_primary_key
    if key is None:
        raise RuntimeError("the database returned no id for the row it inserted")
    return int(key[0])


def _now() -> datetime:
    return datetime.now(UTC)


def _aware(moment: datetime) -> datetime:
    """SQLite returns naive datetimes: they were stored as UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@dataclass(frozen=True)
class Tick:
    """A done item: who ticked it and when (and its text then, to report retired items)."""

    item_id: str
    item_text: str
    by: str
    at: datetime
    name: str | None = None  # the display name the platform gave, when it gave one


def conversation_key(platform: str, workspace: str, channel: str) -> str:
    """The key progress is kept under: ``platform:workspace:channel``."""
    return f"{platform}:{workspace}:{channel}"


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


def _sqlite_file(url: str) -> Path | None:
    """The file of an SQLite URL (``None`` for other databases and in-memory ones)."""
    if not url.startswith("sqlite") or "///" not in url:
        return None
    path = url.split("///", 1)[1].split("?", 1)[0]
    return None if path in ("", ":memory:") else Path(path).resolve()


def _open_quietly(path: Path | None) -> int | None:
    """A read-only descriptor of ``path`` (``None`` when there is no such file)."""
    if path is None:
        return None
    try:
        return os.open(path, os.O_RDONLY)
    except OSError:
        return None


@contextmanager
def _brief_lock_wait(conn: Connection) -> Iterator[None]:
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


def _migrate(engine: Engine) -> None:
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


# Slack's <@U123>, <@U123|name>, <#C123|name>, <!here>; Discord's <@123>, <@!123>, <@&123>,
# <#123>: who or where a question named is not kept with it.
_MENTION = re.compile(r"<(?:@[!&]?|#|!)[A-Za-z0-9_.-]+(?:\|[^>]*)?>")


def new_answer_id() -> str:
    """A new id for an answer kept for its buttons."""
    return secrets.token_hex(8)


def question_key(text: str) -> str:
    """A question compared loosely (``examples.example_key``, mentions left out), cut to fit
    its column."""
    return example_key(strip_mentions(text))[:255]


def strip_mentions(text: str) -> str:
    """``text`` without platform mentions of people, roles or channels."""
    return " ".join(_MENTION.sub(" ", text).split())


class Store:
    """Checklist progress, feedback and question log in one database."""

    def __init__(
        self,
        url: str,
        *,
        salt: str = "",
        retention_days: int = 90,
        salt_file: Path | None = None,
    ) -> None:
        self.engine = make_engine(url)
        _migrate(self.engine)
        self._file = _sqlite_file(url)
        self._opened = _open_quietly(self._file)  # to tell when that file is deleted
        self.retention_days = retention_days
        self.warnings: list[str] = []  # what the operator should know (said once at start)
        self._salt = self._user_salt(salt, salt_file)

    def close(self) -> None:
        """Release the database connections."""
        self.engine.dispose()
        if self._opened is not None:
            os.close(self._opened)
            self._opened = None

    # --- privacy -------------------------------------------------------------------------
    def _user_salt(self, configured: str, salt_file: Path | None) -> str:
        """The salt of the user hashes, never kept in the database beside them: the
        configured secret; else the salt file (made, readable by this user only, on first
        use); else a salt for this process only. A salt an older version kept in the
        database moves to the file (or is dropped when a secret is configured)."""
        legacy = self._take_legacy_salt()
        if configured:
            if legacy:
                self.warnings.append(
                    "Removed the user-id salt an older version kept in the database "
                    "(PLAYBOOK_USER_SALT is set)."
                )
            return configured
        if salt_file is None:
            return legacy or secrets.token_hex(16)
        if salt_file.is_file():
            return salt_file.read_text(encoding="utf-8").strip()
        salt = legacy or secrets.token_hex(16)
        salt_file.parent.mkdir(parents=True, exist_ok=True)
        handle = os.open(salt_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(salt + "\n")
        self.warnings.append(
            f"PLAYBOOK_USER_SALT is not set: user ids are hashed with a salt kept in {salt_file} "
            "(readable by this user only). Set PLAYBOOK_USER_SALT to a secret of your own."
        )
        return salt

    def _take_legacy_salt(self) -> str | None:
        """The salt an older version stored in the database, removed from it."""
        with self.engine.begin() as conn:
            row = conn.execute(select(meta_table.c.value).where(meta_table.c.key == "salt")).first()
            if row is None:
                return None
            conn.execute(delete(meta_table).where(meta_table.c.key == "salt"))
            return str(row[0])

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
        _migrate(self.engine)
        if self._opened is not None:
            os.close(self._opened)
        self._opened = _open_quietly(self._file)

    def probe(self) -> None:
        """Write one row and remove it: raises when the database cannot be written."""
        with self.engine.begin() as conn:
            conn.execute(delete(meta_table).where(meta_table.c.key == "probe"))
            conn.execute(meta_table.insert().values(key="probe", value=_now().isoformat()))

    def user_hash(self, user: str) -> str:
        """The salted hash that stands for ``user`` in the log and feedback."""
        return hashlib.sha256(f"{self._salt}\0{user}".encode()).hexdigest()[:32]

    # --- checklist progress ---------------------------------------------------------------
    def tick(
        self,
        conversation: str,
        checklist_id: str,
        item_id: str,
        item_text: str,
        user: str,
        user_name: str | None = None,
    ) -> Tick:
        """Mark an item done. Ticking a done item again keeps the first tick. Returns the tick."""
        values = {
            "conversation": conversation,
            "checklist_id": checklist_id,
            "item_id": item_id,
            "item_text": item_text,
            "done_by": user,
            "done_at": _now(),
            "done_by_name": user_name,
        }
        try:
            with self.engine.begin() as conn:
                conn.execute(progress_table.insert().values(**values))
        except IntegrityError:
            pass  # already done: the first tick stands
        return self.progress(conversation, checklist_id)[item_id]

    def untick(self, conversation: str, checklist_id: str, item_id: str) -> bool:
        """Mark an item not done. Returns whether it was done."""
        with self.engine.begin() as conn:
            result = conn.execute(
                delete(progress_table).where(
                    progress_table.c.conversation == conversation,
                    progress_table.c.checklist_id == checklist_id,
                    progress_table.c.item_id == item_id,
                )
            )
        return result.rowcount > 0

    def reset(self, conversation: str, checklist_id: str) -> int:
        """Clear a checklist's progress in a conversation. Returns how many items were done."""
        with self.engine.begin() as conn:
            result = conn.execute(
                delete(progress_table).where(
                    progress_table.c.conversation == conversation,
                    progress_table.c.checklist_id == checklist_id,
                )
            )
        return result.rowcount

    def progress(self, conversation: str, checklist_id: str) -> dict[str, Tick]:
        """The done items of a checklist in a conversation, by item id."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(progress_table).where(
                    progress_table.c.conversation == conversation,
                    progress_table.c.checklist_id == checklist_id,
                )
            ).all()
        return {
            r.item_id: Tick(r.item_id, r.item_text, r.done_by, _aware(r.done_at), r.done_by_name)
            for r in rows
        }

    def checklists_with_progress(self) -> set[str]:
        """The ids of the checklists any conversation has ticked an item of."""
        with self.engine.connect() as conn:
            rows = conn.execute(select(progress_table.c.checklist_id).distinct()).all()
        return {r.checklist_id for r in rows}

    # --- question log and feedback --------------------------------------------------------
    def log_question(
        self,
        *,
        platform: str,
        channel: str,
        user: str,
        question: str,
        abstained: bool,
        top_section: str | None,
        latency_ms: float,
        at: datetime | None = None,
        hedged: bool = False,
    ) -> None:
        """Record one question (the user as a salted hash, never the raw id; mentions of
        people, roles and channels taken out of the text; ``hedged``: answered with the
        warning that the knowledge base may not answer it)."""
        with self.engine.begin() as conn:
            conn.execute(
                questions_table.insert().values(
                    asked_at=at or _now(),
                    platform=platform,
                    channel=channel,
                    user_hash=self.user_hash(user),
                    question=strip_mentions(question),
                    abstained=abstained,
                    top_section=top_section,
                    latency_ms=latency_ms,
                    hedged=hedged,
                )
            )

    def record_feedback(
        self,
        *,
        platform: str,
        channel: str,
        user: str,
        question: str,
        passages: list[CitedPassage],
        vote: int,
        comment: str | None = None,
        at: datetime | None = None,
        answer_id: str | None = None,
    ) -> int:
        """Store a 👍 (``vote=1``) or 👎 (``vote=-1``) on an answer. With ``answer_id``, a
        user's earlier vote on the same answer is replaced: each user counts once per answer,
        with their latest vote. Returns the feedback id."""
        if vote not in (1, -1):
            raise ValueError("vote must be 1 (👍) or -1 (👎)")
        user_hash = self.user_hash(user)
        with self.engine.begin() as conn:
            if answer_id:
                conn.execute(
                    delete(feedback_table).where(
                        feedback_table.c.answer_id == answer_id,
                        feedback_table.c.user_hash == user_hash,
                    )
                )
            result = conn.execute(
                feedback_table.insert().values(
                    given_at=at or _now(),
                    platform=platform,
                    channel=channel,
                    user_hash=user_hash,
                    question=strip_mentions(question),
                    passages=json.dumps(passages, ensure_ascii=False),
                    vote=vote,
                    comment=comment,
                    answer_id=answer_id,
                )
            )
        return int(_inserted_id(result))

    def purge(self, now: datetime | None = None) -> int:
        """Delete log, feedback, stored answers and event records older than the retention
        period. Returns how many rows went."""
        cutoff = (now or _now()) - timedelta(days=self.retention_days)
        dated = (
            (questions_table, questions_table.c.asked_at),
            (feedback_table, feedback_table.c.given_at),
            (answers_table, answers_table.c.created_at),
            (threads_table, threads_table.c.created_at),
            (events_table, events_table.c.created_at),
        )
        with self.engine.begin() as conn:
            return sum(conn.execute(delete(t).where(c < cutoff)).rowcount for t, c in dated)

    # --- answers, threads and events (for chat platforms) ---------------------------------
    def save_answer(
        self, platform: str, channel: str, payload: AnswerData, answer_id: str | None = None
    ) -> str:
        """Keep an answer (under ``answer_id``, else a new id) so that its buttons (share,
        feedback) can find it. Returns its id."""
        answer_id = answer_id or new_answer_id()
        with self.engine.begin() as conn:
            conn.execute(
                answers_table.insert().values(
                    id=answer_id,
                    created_at=_now(),
                    platform=platform,
                    channel=channel,
                    payload=json.dumps(payload, ensure_ascii=False),
                )
            )
        return answer_id

    def load_answer(self, answer_id: str) -> AnswerData | None:
        """The payload saved under ``answer_id``, or ``None``."""
        with self.engine.connect() as conn:
            value = conn.execute(
                select(answers_table.c.payload).where(answers_table.c.id == answer_id)
            ).scalar()
        if not value:
            return None
        payload: AnswerData = json.loads(value)  # as ``save_answer`` wrote it
        return payload

    def answer_channel(self, answer_id: str) -> str | None:
        """The channel where the answer saved under ``answer_id`` was given, or ``None``."""
        with self.engine.connect() as conn:
            value = conn.execute(
                select(answers_table.c.channel).where(answers_table.c.id == answer_id)
            ).scalar()
        return None if value is None else str(value)

    def remember_thread(self, platform: str, channel: str, thread: str) -> None:
        """Note that the bot answered in this thread."""
        with contextlib.suppress(IntegrityError), self.engine.begin() as conn:
            conn.execute(
                threads_table.insert().values(
                    platform=platform, channel=channel, thread=thread, created_at=_now()
                )
            )

    def is_bot_thread(self, platform: str, channel: str, thread: str) -> bool:
        """Whether the bot answered in this thread."""
        with self.engine.connect() as conn:
            row = conn.execute(
                select(threads_table.c.thread).where(
                    threads_table.c.platform == platform,
                    threads_table.c.channel == channel,
                    threads_table.c.thread == thread,
                )
            ).first()
        return row is not None

    def first_delivery(self, platform: str, event_id: str) -> bool:
        """True the first time an event id is seen (across processes); False for a retry."""
        try:
            with self.engine.begin() as conn, _brief_lock_wait(conn):  # an answer waits on it
                conn.execute(
                    events_table.insert().values(
                        platform=platform, event_id=event_id, created_at=_now()
                    )
                )
        except IntegrityError:
            return False
        return True

    # --- learned examples ----------------------------------------------------------------
    def teach(
        self,
        *,
        knowledge: str,
        question: str,
        section: str,
        section_title: str,
        weight: float,
        user: str,
        platform: str,
        at: datetime | None = None,
    ) -> int:
        """Store ``user``'s word on ``question``: ``section`` answers it (``""``: nothing in
        the knowledge base does). Replaces the same user's earlier word on the same question.
        Returns the row's id."""
        text = strip_mentions(question)
        key = question_key(text)
        user_hash = self.user_hash(user)
        with self.engine.begin() as conn:
            conn.execute(
                delete(learned_table).where(
                    learned_table.c.knowledge == knowledge,
                    learned_table.c.question_key == key,
                    learned_table.c.user_hash == user_hash,
                )
            )
            result = conn.execute(
                learned_table.insert().values(
                    knowledge=knowledge,
                    question_key=key,
                    question=text,
                    section=section,
                    section_title=section_title,
                    weight=weight,
                    user_hash=user_hash,
                    platform=platform,
                    taught_at=at or _now(),
                )
            )
        return int(_inserted_id(result))

    def taught(self, knowledge: str) -> list[Taught]:
        """Every row taught for ``knowledge``, oldest first."""
        query = (
            select(learned_table)
            .where(learned_table.c.knowledge == knowledge)
            .order_by(learned_table.c.id)
        )
        with self.engine.connect() as conn:
            return [
                Taught(
                    id=row.id,
                    question=row.question,
                    question_key=row.question_key,
                    section=row.section,
                    section_title=row.section_title,
                    weight=float(row.weight),
                    user_hash=row.user_hash,
                    platform=row.platform,
                    taught_at=_aware(row.taught_at),
                )
                for row in conn.execute(query)
            ]

    def taught_version(self, knowledge: str) -> tuple[int, int]:
        """``(rows, highest id)`` taught for ``knowledge``: changes whenever a row is added
        or removed, so a replica knows when to read them again."""
        query = select(func.count(), func.max(learned_table.c.id)).where(
            learned_table.c.knowledge == knowledge
        )
        with self.engine.connect() as conn:
            count, top = conn.execute(query).one()
        return int(count), int(top or 0)

    def forget_rows(self, ids: list[int]) -> int:
        """Remove the taught rows ``ids``. Returns how many went."""
        if not ids:
            return 0
        with self.engine.begin() as conn:
            result = conn.execute(delete(learned_table).where(learned_table.c.id.in_(ids)))
        return int(result.rowcount or 0)

    def questions(self, since: datetime | None = None) -> list[LoggedQuestion]:
        """Logged questions (oldest first), each a dict of the table's columns."""
        query = select(questions_table).order_by(questions_table.c.asked_at)
        if since is not None:
            query = query.where(questions_table.c.asked_at >= since)
        with self.engine.connect() as conn:
            return [
                LoggedQuestion(
                    id=row.id,
                    asked_at=_aware(row.asked_at),
                    platform=row.platform,
                    channel=row.channel,
                    user_hash=row.user_hash,
                    question=row.question,
                    abstained=row.abstained,
                    top_section=row.top_section,
                    latency_ms=row.latency_ms,
                    hedged=bool(row.hedged),
                )
                for row in conn.execute(query)
            ]

    def abstained_count(self) -> int:
        """How many logged questions the bot could not answer."""
        query = select(func.count()).where(questions_table.c.abstained.is_(True))
        with self.engine.connect() as conn:
            return int(conn.execute(query).scalar() or 0)

    def feedback_counts(self, since: datetime | None = None) -> FeedbackCounts:
        """``{"up": n, "down": m}`` over the feedback since ``since``."""
        query = select(feedback_table.c.vote, func.count()).group_by(feedback_table.c.vote)
        if since is not None:
            query = query.where(feedback_table.c.given_at >= since)
        with self.engine.connect() as conn:
            counts: dict[int, int] = {int(v): int(n) for v, n in conn.execute(query).all()}
        return {"up": counts.get(1, 0), "down": counts.get(-1, 0)}
