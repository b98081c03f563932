"""The examples the team taught in the chat, as rows of the database (``learned_examples``):
one user's word on one question, the latest replacing the earlier one."""

from __future__ import annotations

import re
from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.engine import Engine

from bot.core.db import aware, inserted_id, learned_table, now
from bot.core.knowledge.examples import example_key
from bot.core.team.learning import Taught

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


class LearnedRows:
    """Reads and writes the taught examples (part of ``Store``)."""

    engine: Engine

    def user_hash(self, user: str) -> str:
        """The salted hash that stands for ``user`` (``Store`` has the salt)."""
        raise NotImplementedError

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
