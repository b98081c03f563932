"""The team's rows in the database (``bot.core.db``): checklist progress, feedback, the question
log and the examples taught in the chat.

SQLite by default (``PLAYBOOK_DATABASE_URL``, ``sqlite:///.playbook/playbook.db``); a PostgreSQL
URL serves a deployment with several replicas. The schema is created and migrated on open.
User ids are stored only as salted hashes in the question log and feedback; checklist progress
keeps the platform's user id because it shows who ticked an item.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import secrets
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TypedDict

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError

from bot.core.db import (
    Database,
    aware,
    feedback_table,
    inserted_id,
    learned_table,
    meta_table,
    now,
    progress_table,
    questions_table,
)
from bot.core.knowledge.examples import example_key
from bot.core.team.learning import Taught


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


# Slack's <@U123>, <@U123|name>, <#C123|name>, <!here>; Discord's <@123>, <@!123>, <@&123>,
# <#123>: who or where a question named is not kept with it.
_MENTION = re.compile(r"<(?:@[!&]?|#|!)[A-Za-z0-9_.-]+(?:\|[^>]*)?>")


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
        self.database = Database(url)  # the chat memory writes to it too
        self.engine = self.database.engine
        self.retention_days = retention_days
        self.warnings: list[str] = []  # what the operator should know (said once at start)
        self._salt = self._user_salt(salt, salt_file)

    def close(self) -> None:
        """Release the database connections."""
        self.database.close()

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
        """Whether the SQLite file was deleted or replaced since it was opened."""
        return self.database.replaced()

    def recreate(self) -> None:
        """After ``replaced()``: create the tables in a new file (what the old one held is
        gone)."""
        self.database.recreate()

    def probe(self) -> None:
        """Write one row and remove it: raises when the database cannot be written."""
        self.database.probe()

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
            "done_at": now(),
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
            r.item_id: Tick(r.item_id, r.item_text, r.done_by, aware(r.done_at), r.done_by_name)
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
                    asked_at=at or now(),
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
                    given_at=at or now(),
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
        return int(inserted_id(result))

    def purge(self, now: datetime | None = None) -> int:
        """Delete log, feedback, stored answers and event records older than the retention
        period. Returns how many rows went."""
        return self.database.purge(self.retention_days, now)

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
                    taught_at=at or now(),
                )
            )
        return int(inserted_id(result))

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
                    taught_at=aware(row.taught_at),
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
                    asked_at=aware(row.asked_at),
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
