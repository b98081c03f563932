"""What the maintainers' web pages read and change (``DashboardData``): the overview, the gaps,
the 👎, the taught examples, a question tried with its stages and scores, and the checklists.

It reads the database the bot writes (``dashboard_rows``: aggregates, so a page costs the same
with 100,000 logged questions) and the index the bot answers from (through the assistant, so a
reload is seen at once). Slow parts are kept: a gap question's vector and closest sections are
computed once per index.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime, time, timedelta
from typing import Any, TypeVar, cast

import numpy as np
from sqlalchemy.engine import Engine

from bot.core.assistant import Asker, Assistant
from bot.core.knowledge.loaded import KnowledgeIndex
from bot.core.team import dashboard_rows as rows
from bot.core.team.dashboard_trial import trial
from bot.core.team.dashboard_types import (
    ChecklistProgress,
    ExampleView,
    FeedbackView,
    GapView,
    IndexInfo,
    Overview,
    QuotedView,
    SectionLink,
    TickView,
    Trial,
)
from bot.core.team.learning import export_yaml, gather, taught_text
from bot.core.team.recording import Noted
from bot.core.team.report import GapEntry, group_gaps
from bot.core.team.taught_rows import question_key

T = TypeVar("T")
GAP_QUESTIONS = 300  # the most asked gap questions grouped (the rest are rarer than these)
CLOSEST = 3  # sections named per gap
WEB_USER = "web"  # who teaches from the web page (stored as a salted hash, as every user)


class Dashboard:
    """The pages' data (``dashboard_types.DashboardData``) over ``assistant``'s database and
    index; ``skipped``: the files the loaded knowledge base left out (``FILE: reason``)."""

    def __init__(self, assistant: Assistant, skipped: Callable[[], list[str]] = list) -> None:
        self.assistant = assistant
        self.skipped = skipped
        self._vectors: Noted[tuple[str, str], np.ndarray] = Noted(4 * GAP_QUESTIONS)
        self._closest: Noted[tuple[str, str], list[SectionLink]] = Noted(4 * GAP_QUESTIONS)
        self._past = PastDays()
        self._texts: tuple[KnowledgeIndex, dict[str, str]] | None = None

    @property
    def _engine(self) -> Engine:
        return self.assistant.store.engine

    def overview(self, days: int = 30) -> Overview:
        """The overview over the last ``days`` days (see ``Overview``)."""
        first, live = _period(days)
        engine, past = self._engine, self._past
        per_day = past.get("days", first, live, lambda: rows.day_counts(engine, first, live))
        per_day = per_day + rows.day_counts(engine, live)
        kept = past.get("latency", first, live, lambda: rows.latencies(engine, first, live))
        latency = rows.percentiles(np.concatenate([kept, rows.latencies(engine, live)]))
        up, down = rows.vote_counts(engine, first)
        answered = sum(d.answered for d in per_day)
        unsure = sum(d.unsure for d in per_day)
        declined = sum(d.declined for d in per_day)
        return {
            "days": days,
            "first_day": first.date().isoformat(),
            "last_day": datetime.now(UTC).date().isoformat(),
            "questions": answered + unsure + declined,
            "answered": answered,
            "unsure": unsure,
            "declined": declined,
            "platforms": sorted({d.platform for d in per_day}),
            "per_day": [
                {
                    "day": d.day,
                    "platform": d.platform,
                    "answered": d.answered,
                    "unsure": d.unsure,
                    "declined": d.declined,
                }
                for d in per_day
            ],
            "latency_ms": {
                "p50": latency[0] if latency else None,
                "p95": latency[1] if latency else None,
                "max": latency[2] if latency else None,
            },
            "up": up,
            "down": down,
            "index": self._index_info(),
        }

    def _index_info(self) -> IndexInfo:
        index = self.assistant.engine.index
        built = index.built_at
        return {
            "pages": len(index.pages),
            "passages": len(index.passages),
            "built_at": datetime.fromtimestamp(built, UTC).isoformat(timespec="seconds")
            if built
            else None,
            "age_seconds": max(0.0, datetime.now(UTC).timestamp() - built) if built else None,
            "skipped": list(self.skipped()),
        }

    def gaps(self, days: int = 30, limit: int = 50) -> list[GapView]:
        """The gaps of the last ``days`` days not marked handled since last asked, grouped
        across phrasings and languages, most asked first (see ``GapView``)."""
        first, live = _period(days)
        engine = self._engine
        handled = rows.handled(engine)
        kept = self._past.get("gaps", first, live, lambda: rows.gap_questions(engine, first, live))
        asked = rows.merged_gaps([kept, rows.gap_questions(engine, live)])
        entries = [
            _entry(g.question, g.declined + g.unsure, g.unsure, 0, g.last_asked)
            for g in asked
            if handled.get(question_key(g.question), first) < g.last_asked
        ][:GAP_QUESTIONS]
        taught = self.assistant.store.taught(self.assistant.knowledge)
        for gap in gather(taught)[1]:
            if handled.get(gap.question_key, first) < gap.last:
                entries.append(_entry(gap.question, gap.votes, 0, gap.votes, gap.last))
        groups = group_gaps(entries, embed=self._embed)[:limit]
        return [
            {
                "question": g["question"],
                "count": g["count"],
                "declined": g["count"] - g["unsure"] - g["not_covered"],
                "unsure": g["unsure"],
                "not_covered": g["not_covered"],
                "last_asked": g["last_asked"],
                "asked_as": g["asked_as"],
                "closest": self._closest_sections(g["question"]),
            }
            for g in groups
        ]

    def _index_key(self) -> str:
        return str(self.assistant.engine.index.path)

    def _embed(self, texts: list[str]) -> np.ndarray:
        """Unit query vectors of ``texts`` (each computed once per index, in one batch)."""
        retriever, key = self.assistant.engine.retriever, self._index_key()
        found = {t: self._vectors.get((key, t)) for t in texts}
        missing = [t for t, v in found.items() if v is None]
        for text, vector in zip(missing, retriever.query_vectors(missing), strict=True):
            self._vectors.put((key, text), vector)
            found[text] = vector
        return np.array([found[t] for t in texts])

    def _closest_sections(self, question: str) -> list[SectionLink]:
        key = (self._index_key(), question)
        found = self._closest.get(key)
        if found is None:
            found = [
                {"section": c.label, "link": c.link}
                for _k, c in self.assistant.closest_sections(question, CLOSEST, quick=True)
            ]
            self._closest.put(key, found)
        return found

    def warm(self) -> None:
        """Read the pages' slow parts once (past days' figures, the gaps' vectors and closest
        sections), so that the first visit is as fast as the next ones."""
        self.overview()
        self.gaps()

    def mark_handled(self, questions: list[str]) -> int:
        """Mark these questions handled: their gap leaves the page until asked again."""
        return rows.mark_handled(self._engine, questions)

    def feedback(self, limit: int = 100) -> list[FeedbackView]:
        """The latest ``limit`` 👎, newest first, with the passages quoted and the section the
        asker then picked (see ``FeedbackView``)."""
        votes = rows.down_votes(self._engine, limit)
        picked = rows.picks(
            self._engine, self.assistant.knowledge, [(v.question, v.user_hash) for v in votes]
        )
        texts = self._passage_texts()
        views: list[FeedbackView] = []
        for v in votes:
            pick = picked.get((v.question, v.user_hash))
            quotes: list[QuotedView] = [
                {
                    "section": str(p.get("section", "")),
                    "link": str(p.get("link", "")),
                    "text": texts.get(str(p.get("passage_id", ""))),
                }
                for p in v.passages
            ]
            views.append(
                {
                    "given_at": v.given_at.isoformat(timespec="seconds"),
                    "platform": v.platform,
                    "question": v.question,
                    "quotes": quotes,
                    "picked": pick or None,
                    "picked_none": pick == "",
                    "comment": v.comment,
                }
            )
        return views

    def _passage_texts(self) -> dict[str, str]:
        """The loaded index's passage texts by passage id (made once per index)."""
        index = self.assistant.engine.index
        if self._texts is None or self._texts[0] is not index:
            self._texts = (index, {p.id: p.text for p in index.passages})
        return self._texts[1]

    def examples(self) -> list[ExampleView]:
        """The taught examples, most recent first (see ``ExampleView``)."""
        examples = gather(self.assistant.store.taught(self.assistant.knowledge))[0]
        views: list[ExampleView] = []
        for e in examples:
            citation = self.assistant.section(e.section)
            views.append(
                {
                    "id": e.ids[0],
                    "question": e.question,
                    "section": citation.label if citation else e.section_title,
                    "link": citation.link if citation else None,
                    "votes": e.votes,
                    "weight": e.weight,
                    "platforms": list(e.platforms),
                    "first": e.first.isoformat(timespec="seconds"),
                    "last": e.last.isoformat(timespec="seconds"),
                    "set_aside": citation is None,
                }
            )
        return views

    def remove_example(self, example_id: int) -> bool:
        """Forget the taught example ``example_id`` (every vote for it). Returns whether it
        existed."""
        store = self.assistant.store
        for e in gather(store.taught(self.assistant.knowledge))[0]:
            if e.ids[0] == example_id:
                store.forget_rows(list(e.ids))
                self.assistant.refresh_learned(now=True)
                return True
        return False

    def export_examples(self) -> str:
        """The taught examples in the ``examples.yaml`` format."""
        return export_yaml(gather(self.assistant.store.taught(self.assistant.knowledge))[0])

    def try_question(self, question: str) -> Trial:
        """``question`` answered as the bot would answer it, not logged, with each candidate's
        stages and scores (see ``Trial``), with what the team taught on any replica."""
        self.assistant.refresh_learned()
        return trial(self.assistant, question)

    def teach(self, question: str, section_key: str, language: str = "en", who: str = "web") -> str:
        """Teach that ``section_key`` answers ``question``, as a 👎 then a pick in the chat
        would, as the maintainer ``who`` (stored as a salted hash, as every user). Returns
        what came of it, in ``language``."""
        asker = Asker(platform="web", channel="web", user=f"{WEB_USER}:{who}")
        taught = self.assistant.teach(question, section_key or None, asker)
        return taught_text(language, taught)

    def checklists(self) -> list[ChecklistProgress]:
        """Every checklist's progress in every conversation that ticked one of its items."""
        book = self.assistant.checklists
        found: dict[tuple[str, str], ChecklistProgress] = {}
        for tick in rows.ticks(self._engine):
            checklist = book.get(tick.checklist_id)
            items = {i.id for i in checklist.items} if checklist else set()
            progress = found.setdefault(
                (tick.checklist_id, tick.conversation),
                {
                    "checklist": tick.checklist_id,
                    "title": checklist.title if checklist else tick.checklist_id,
                    "place": _place(tick.conversation),
                    "done": 0,
                    "total": len(items),
                    "ticks": [],
                },
            )
            view: TickView = {
                "item": tick.item_text,
                "by": tick.name,
                "at": tick.at.isoformat(timespec="seconds"),
            }
            progress["ticks"].append(view)
            progress["done"] += int(tick.item_id in items)
        return list(found.values())


def _period(days: int) -> tuple[datetime, datetime]:
    """The start (UTC) of the period's first day, and of the days read live: yesterday and
    today (a question is written a moment after it is asked, a backlog later still)."""
    today = datetime.combine(datetime.now(UTC).date(), time.min, tzinfo=UTC)
    first = today - timedelta(days=days - 1)
    return first, max(first, today - timedelta(days=1))


class PastDays:
    """What the question log gives for the days before yesterday, kept until the day
    changes: a row is written a moment after its question is asked, so those days no longer
    change (but for the retention purge, which the next day's figures show); a page then
    asks the database for yesterday's and today's rows only. One entry per period asked
    (the pages offer four)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._today: datetime | None = None
        self._kept: dict[tuple[str, datetime], Any] = {}

    def get(self, name: str, first: datetime, live: datetime, compute: Callable[[], T]) -> T:
        """``compute()``'s value for the query ``name`` over ``[first, live)``, kept until
        ``live`` (the start of the days read live) moves on."""
        with self._lock:
            if live != self._today:
                self._kept, self._today = {}, live
            if (name, first) in self._kept:
                return cast(T, self._kept[(name, first)])
        value = compute()
        with self._lock:
            if live == self._today:
                self._kept[(name, first)] = value
        return value


def _entry(question: str, count: int, unsure: int, not_covered: int, last: datetime) -> GapEntry:
    return {
        "question": question,
        "count": count,
        "not_covered": not_covered,
        "unsure": unsure,
        "last_asked": last.isoformat(timespec="seconds"),
    }


def _place(conversation: str) -> str:
    """A conversation key (``platform:workspace:channel``) as a place: ``platform #channel``."""
    parts = conversation.split(":")
    if len(parts) < 2:
        return conversation
    return f"{parts[0]} #{parts[-1]}"
