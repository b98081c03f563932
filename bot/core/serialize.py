"""Answers to and from plain data (JSON output, stored answers behind chat buttons)."""

from __future__ import annotations

from typing import NotRequired, TypedDict

from bot.core.types import Answer, Citation, Quote


class CitationData(TypedDict):
    """A citation as plain data."""

    section: str
    breadcrumb: list[str]
    link: str
    trail: NotRequired[list[str]]  # the site's sections above the page; absent from old rows


class QuoteData(CitationData):
    """A quote as plain data: its text, the highlight and what surrounds it, its citation."""

    passage_id: str
    text: str
    before: str
    highlight: str
    after: str
    score: float


class AnswerData(TypedDict):
    """An answer as plain data (``playbook ask --json``; kept in the database)."""

    question: str
    language: str
    lead: str
    abstained: bool
    quotes: list[QuoteData]
    suggestions: list[CitationData]
    notes: list[str]
    scores: dict[str, float]
    hedged: NotRequired[bool]  # absent from answers stored before it existed


def _citation(data: CitationData) -> Citation:
    return Citation(
        data["section"], tuple(data["breadcrumb"]), data["link"], tuple(data.get("trail", ()))
    )


def answer_to_dict(answer: Answer) -> AnswerData:
    """The answer as plain data (what ``playbook ask --json`` prints)."""
    return {
        "question": answer.question,
        "language": answer.language,
        "lead": answer.lead,
        "abstained": answer.abstained,
        "quotes": [
            {
                "passage_id": q.passage_id,
                "text": q.text,
                "before": q.before,
                "highlight": q.highlight,
                "after": q.after,
                "section": q.citation.section,
                "breadcrumb": list(q.citation.breadcrumb),
                "trail": list(q.citation.trail),
                "link": q.citation.link,
                "score": q.score,
            }
            for q in answer.quotes
        ],
        "suggestions": [
            {
                "section": c.section,
                "breadcrumb": list(c.breadcrumb),
                "trail": list(c.trail),
                "link": c.link,
            }
            for c in answer.suggestions
        ],
        "notes": list(answer.notes),
        "scores": answer.scores,
        "hedged": answer.hedged,
    }


def answer_from_dict(data: AnswerData) -> Answer:
    """Rebuild an ``Answer`` from ``answer_to_dict``'s output."""
    return Answer(
        question=data["question"],
        language=data["language"],
        lead=data["lead"],
        quotes=tuple(
            Quote(
                passage_id=q["passage_id"],
                before=q["before"],
                highlight=q["highlight"],
                after=q["after"],
                citation=_citation(q),
                score=q["score"],
            )
            for q in data["quotes"]
        ),
        abstained=data["abstained"],
        suggestions=tuple(_citation(c) for c in data["suggestions"]),
        notes=tuple(data["notes"]),
        scores=dict(data["scores"]),
        hedged=bool(data.get("hedged", False)),
    )
