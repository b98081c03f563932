"""A question tried on the maintainers' page: the answer as the bot would give it, and why —
each candidate passage with its score at each stage of the search (``retrieval.search``).
Nothing is logged: a maintainer's tries are not the team's questions."""

from __future__ import annotations

from bot.core.assistant import Assistant
from bot.core.language import detect_language
from bot.core.retrieval.engine import EmptyQuestion, SmallTalk
from bot.core.team.dashboard_types import CandidateView, QuoteView, TeachChoice, Trial

CHOICES = 10  # sections offered to teach
SHOWN_CHARS = 300  # of a candidate's passage


def trial(assistant: Assistant, question: str) -> Trial:
    """``question`` tried on ``assistant``'s engine (alone, not logged). Returns the
    ``Trial``: outcome, the bot's words, the quotes with their highlight, the support against
    the threshold, every candidate kept with its stage scores, and the sections to teach."""
    engine = assistant.engine
    language = detect_language(question)
    params = engine.retriever.params
    empty: Trial = {
        "question": question,
        "language": language,
        "outcome": "empty",
        "message": None,
        "quotes": [],
        "evidence": 0.0,
        "threshold": params.min_evidence,
        "hedge_below": params.min_evidence + params.hedge_margin,
        "candidates": [],
        "choices": [],
    }
    try:
        answer, result = engine.explain(question)
    except SmallTalk as exc:
        return {**empty, "outcome": "smalltalk", "message": str(exc)}
    except EmptyQuestion as exc:
        return {**empty, "message": str(exc)}
    index = engine.retriever.index
    quoted = {q.passage_id for q in answer.quotes}
    candidates: list[CandidateView] = []
    for rank, hit in enumerate(result.hits, 1):
        passage = index.passages[hit.number]
        candidates.append(
            {
                "rank": rank,
                "section": passage.citation.label,
                "link": passage.citation.link,
                "text": _short(passage.text),
                "dense": round(hit.dense, 3),
                "sentence": round(hit.sentence, 3),
                "lexical": round(hit.lexical, 3),
                "fused": round(hit.fused, 3),
                "final": round(hit.score, 3),
                "quoted": passage.id in quoted,
            }
        )
    quotes: list[QuoteView] = [
        {
            "section": q.citation.label,
            "link": q.citation.link,
            "text": q.text,
            "highlight": q.highlight,
        }
        for q in answer.quotes
    ]
    words = [answer.lead, *answer.notes]
    if answer.abstained:
        words += [f"• {c.label}" for c in answer.suggestions]
    outcome = "declined" if answer.abstained else "unsure" if answer.hedged else "answered"
    choices: list[TeachChoice] = [
        {"key": key, "label": citation.label}
        for key, citation in assistant.closest_sections(question, CHOICES)
    ]
    return {
        **empty,
        "language": answer.language,
        "outcome": outcome,
        "message": "\n".join(w for w in words if w),
        "quotes": quotes,
        "evidence": round(result.support, 3),
        "candidates": candidates,
        "choices": choices,
    }


def _short(text: str) -> str:
    return text if len(text) <= SHOWN_CHARS else text[: SHOWN_CHARS - 1].rstrip() + "…"
