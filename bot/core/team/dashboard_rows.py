"""The queries behind the maintainers' pages: each aggregates in the database (grouped counts,
one column). The question log's queries take a period (``since``, ``until``): the pages keep
what past days give (``dashboard.PastDays``) and ask the database for today's rows only.

Every function takes the SQLAlchemy engine of the one database (``db.Database``) and returns
plain values; ``dashboard.Dashboard`` shapes them into the pages' records.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

import numpy as np
from sqlalchemy import ColumnElement, and_, case, delete, func, select
from sqlalchemy.engine import Engine

from bot.core.db import (
    aware,
    feedback_table,
    handled_table,
    learned_table,
    now,
    progress_table,
    questions_table,
)
from bot.core.team.taught_rows import question_key

q = questions_table.c


@dataclass(frozen=True)
class DayCounts:
    """One day's questions on one platform by outcome (``day``: ISO date)."""

    day: str
    platform: str
    answered: int
    unsure: int
    declined: int


def _asked_between(since: datetime, until: datetime | None) -> ColumnElement[bool]:
    """Asked at or after ``since`` and, with ``until``, before it."""
    after = q.asked_at >= since
    return after if until is None else and_(after, q.asked_at < until)


def day_counts(engine: Engine, since: datetime, until: datetime | None = None) -> list[DayCounts]:
    """The questions asked from ``since`` (until ``until``) per day (UTC) and platform, by
    outcome, oldest first."""
    day = func.date(q.asked_at)
    declined = func.sum(case((q.abstained.is_(True), 1), else_=0))
    unsure = func.sum(case(((q.abstained.is_(False)) & q.hedged.is_(True), 1), else_=0))
    query = (
        select(day, q.platform, func.count(), declined, unsure)
        .where(_asked_between(since, until))
        .group_by(day, q.platform)
        .order_by(day, q.platform)
    )
    with engine.connect() as conn:
        rows = conn.execute(query).all()
    return [
        DayCounts(
            str(d)[:10], p, int(n) - int(no or 0) - int(maybe or 0), int(maybe or 0), int(no or 0)
        )
        for d, p, n, no, maybe in rows
    ]


def latencies(engine: Engine, since: datetime, until: datetime | None = None) -> np.ndarray:
    """The answer latencies (ms) of the questions asked from ``since`` (until ``until``)."""
    query = select(q.latency_ms).where(_asked_between(since, until))
    with engine.connect() as conn:
        values = conn.execute(query).scalars().all()
    return np.fromiter(values, dtype=np.float64, count=len(values))


def percentiles(values: np.ndarray) -> tuple[float, float, float] | None:
    """The p50, p95 and max of ``values`` (rounded); ``None`` when there are none."""
    if not len(values):
        return None
    p50, p95 = np.percentile(values, [50, 95])
    return round(float(p50), 1), round(float(p95), 1), round(float(values.max()), 1)


def vote_counts(engine: Engine, since: datetime) -> tuple[int, int]:
    """How many 👍 and 👎 since ``since``."""
    query = (
        select(feedback_table.c.vote, func.count())
        .where(feedback_table.c.given_at >= since)
        .group_by(feedback_table.c.vote)
    )
    with engine.connect() as conn:
        counts = {int(v): int(n) for v, n in conn.execute(query).all()}
    return counts.get(1, 0), counts.get(-1, 0)


@dataclass(frozen=True)
class GapQuestion:
    """A question the bot declined or answered unsure of itself, as asked (same text), with
    how often each and when last."""

    question: str
    declined: int
    unsure: int
    last_asked: datetime


def gap_questions(
    engine: Engine, since: datetime, until: datetime | None = None
) -> list[GapQuestion]:
    """The declined and unsure questions asked from ``since`` (until ``until``), one row per
    text."""
    declined = func.sum(case((q.abstained.is_(True), 1), else_=0))
    count = func.count()
    query = (
        select(q.question, count, declined, func.max(q.asked_at))
        .where(_asked_between(since, until), (q.abstained.is_(True)) | (q.hedged.is_(True)))
        .group_by(q.question)
    )
    with engine.connect() as conn:
        rows = conn.execute(query).all()
    return [
        GapQuestion(text, int(no or 0), int(n) - int(no or 0), _moment(last))
        for text, n, no, last in rows
    ]


def merged_gaps(parts: list[list[GapQuestion]]) -> list[GapQuestion]:
    """Gap questions of several periods as one list, each text once, most asked first."""
    found: dict[str, GapQuestion] = {}
    for part in parts:
        for g in part:
            seen = found.get(g.question)
            found[g.question] = (
                g
                if seen is None
                else GapQuestion(
                    g.question,
                    seen.declined + g.declined,
                    seen.unsure + g.unsure,
                    max(seen.last_asked, g.last_asked),
                )
            )
    return sorted(found.values(), key=lambda g: (-(g.declined + g.unsure), g.question))


def _moment(value: datetime | str) -> datetime:
    """A ``max()`` over a datetime column: SQLite gives it back as text."""
    if isinstance(value, str):
        return aware(datetime.fromisoformat(value))
    return aware(value)


def handled(engine: Engine) -> dict[str, datetime]:
    """When each handled gap question (by ``question_key``) was marked handled."""
    with engine.connect() as conn:
        rows = conn.execute(select(handled_table)).all()
    return {r.question_key: aware(r.handled_at) for r in rows}


def mark_handled(engine: Engine, questions: list[str]) -> int:
    """Mark ``questions`` handled now. Returns how many distinct questions were marked."""
    keys = sorted({question_key(text) for text in questions if text.strip()})
    if not keys:
        return 0
    moment = now()
    with engine.begin() as conn:
        conn.execute(delete(handled_table).where(handled_table.c.question_key.in_(keys)))
        conn.execute(
            handled_table.insert(), [{"question_key": k, "handled_at": moment} for k in keys]
        )
    return len(keys)


@dataclass(frozen=True)
class DownVote:
    """A 👎 as stored: when, where, the question, the passages it cited, by whom (hash)."""

    given_at: datetime
    platform: str
    question: str
    passages: list[dict[str, str]]
    user_hash: str
    comment: str | None


def down_votes(engine: Engine, limit: int) -> list[DownVote]:
    """The latest ``limit`` 👎, newest first."""
    f = feedback_table.c
    query = select(feedback_table).where(f.vote == -1).order_by(f.given_at.desc()).limit(limit)
    with engine.connect() as conn:
        rows = conn.execute(query).all()
    return [
        DownVote(
            aware(r.given_at), r.platform, r.question, _passages(r.passages), r.user_hash, r.comment
        )
        for r in rows
    ]


def _passages(stored: str) -> list[dict[str, str]]:
    """The cited passages stored as JSON (an unreadable value reads as none)."""
    try:
        found = json.loads(stored)
    except ValueError:
        return []
    return [p for p in found if isinstance(p, dict)] if isinstance(found, list) else []


def picks(
    engine: Engine, knowledge: str, asked: list[tuple[str, str]]
) -> dict[tuple[str, str], str]:
    """For each ``(question, user hash)`` in ``asked``, the section title that user taught for
    that question (``""``: they said no section answers), when they taught one."""
    keys = {question_key(text) for text, _user in asked}
    if not keys:
        return {}
    lt = learned_table.c
    query = select(lt.question_key, lt.user_hash, lt.section, lt.section_title).where(
        lt.knowledge == knowledge, lt.question_key.in_(sorted(keys))
    )
    with engine.connect() as conn:
        rows = conn.execute(query).all()
    taught = {(r.question_key, r.user_hash): (r.section_title if r.section else "") for r in rows}
    found = {}
    for text, user in asked:
        title = taught.get((question_key(text), user))
        if title is not None:
            found[(text, user)] = title
    return found


@dataclass(frozen=True)
class TickRow:
    """A done checklist item in a conversation: its text, the name shown, when."""

    conversation: str
    checklist_id: str
    item_id: str
    item_text: str
    name: str | None
    at: datetime


def ticks(engine: Engine) -> list[TickRow]:
    """Every done checklist item in every conversation, by checklist, place and time."""
    p = progress_table.c
    query = select(progress_table).order_by(p.checklist_id, p.conversation, p.done_at)
    with engine.connect() as conn:
        rows = conn.execute(query).all()
    return [
        TickRow(
            r.conversation, r.checklist_id, r.item_id, r.item_text, r.done_by_name, aware(r.done_at)
        )
        for r in rows
    ]
