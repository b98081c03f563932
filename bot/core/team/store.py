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
    now,
    progress_table,
    questions_table,
)
from bot.core.team.salt import user_salt
from bot.core.team.taught_rows import LearnedRows, strip_mentions


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


class Store(LearnedRows):
    """Checklist progress, feedback, the question log and the taught examples (``LearnedRows``)
    in one database."""

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
        # the salt of the user hashes, and what the operator should know (said once at start)
        self._salt, self.warnings = user_salt(self.database, salt, salt_file)

    def close(self) -> None:
        """Release the database connections."""
        self.database.close()

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
