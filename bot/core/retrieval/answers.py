"""Answer composition: pick passages, quote them with the best sentence highlighted, cite them."""

from __future__ import annotations

from bot.core.knowledge.index import KnowledgeIndex
from bot.core.messages import message
from bot.core.retrieval.quotes import (
    ELLIPSIS,
    LEADS_ON,
    Piece,
    QuoteShape,
    cut,
    piece_text,
    window,
)
from bot.core.retrieval.search import Hit, SearchResult
from bot.core.types import Answer, Citation, Quote

HARD_LIMIT = 1000  # a single sentence longer than this is cut at a word (rare)


def _join(index: KnowledgeIndex, pieces: list[Piece], first: int, last: int) -> str:
    """The sentences ``first..last`` of the window as one text: a space between sentences of
    one line (a paragraph, or a list item), a line break between lines."""
    out = ""
    for i in range(first, last + 1):
        if i > first:
            out += _separator(pieces[i - 1], pieces[i])
        out += piece_text(index, pieces[i])
    return out


def _separator(a: Piece, b: Piece) -> str:
    """What stands between two consecutive pieces of the window."""
    return " " if a.line == b.line else "\n"


def _shorten(text: str, limit: int) -> str:
    """``text`` cut at the last word that fits in ``limit`` characters, marked with ``…``."""
    if len(text) <= limit:
        return text
    return text[:limit].rsplit(" ", 1)[0] + ELLIPSIS


def _highlight_span(
    index: KnowledgeIndex, pieces: list[Piece], hit: Hit, run_on: bool
) -> tuple[int, int]:
    """The highlight's first and last piece in the window: the hit's sentences, run on into
    the next passage when the hit's last sentence announces what follows there."""
    base = int(index.sentence_starts[hit.number])
    first = hit.best_sentence - base
    last = max(first, hit.last_sentence - base)
    own = sum(1 for p in pieces if p.passage == hit.number)
    if (
        run_on
        and last == own - 1
        and last + 1 < len(pieces)
        and piece_text(index, pieces[last]).rstrip().endswith(LEADS_ON)
    ):
        last += 1
    return first, last


def make_quote(index: KnowledgeIndex, hit: Hit, shape: QuoteShape | None = None) -> Quote:
    """Quote the answering unit of ``hit`` (bot/core/retrieval/quotes.py) with its most
    relevant sentence highlighted, cut between sentences only."""
    shape = shape or QuoteShape()
    passage = index.passages[hit.number]
    pieces = window(index, hit.number, shape.run_on)
    if hit.best_sentence < 0 or not pieces:
        before, highlight, after = "", "", _shorten(passage.text, shape.chars)
    else:
        first, last = _highlight_span(index, pieces, hit, shape.highlight_on)
        shown = cut(index, pieces, first, last, shape)
        highlight = _shorten(_join(index, pieces, first, last), HARD_LIMIT)
        before = after = ""
        if shown.first < first:
            before = _join(index, pieces, shown.first, first - 1)
            before += _separator(pieces[first - 1], pieces[first])
        if shown.last > last:
            after = _separator(pieces[last], pieces[last + 1])
            after += _join(index, pieces, last + 1, shown.last)
    return Quote(
        passage_id=passage.id,
        before=before,
        highlight=highlight,
        after=after,
        citation=passage.citation,
        score=round(hit.score, 4),
    )


def select_hits(
    hits: list[Hit],
    index: KnowledgeIndex,
    k: int,
    per_section: bool,
    margin: float | None = None,
    twin_margin: float = 0.0,
) -> list[Hit]:
    """The ``k`` best hits; with ``per_section`` at most one per section, or two when the
    second scores within ``twin_margin`` of the best hit (both passages answer); with
    ``margin`` only those scoring within ``margin`` of the best."""
    chosen: list[Hit] = []
    seen: dict[str, int] = {}
    for hit in hits:
        if margin is not None and chosen and hit.score < chosen[0].score - margin:
            break
        link = index.passages[hit.number].citation.link
        if per_section and link in seen:
            twin = (
                twin_margin > 0 and seen[link] == 1 and hit.score >= chosen[0].score - twin_margin
            )
            if not twin:
                continue
        seen[link] = seen.get(link, 0) + 1
        chosen.append(hit)
        if len(chosen) == k:
            break
    return chosen


def _abstain_lead(lang: str, unknown: tuple[str, ...]) -> str:
    """The abstention's first sentence, naming the question's words the pages do not know."""
    if not unknown:
        return message(lang, "abstain")
    quoted = [f"« {w} »" if lang == "fr" else f"“{w}”" for w in unknown]
    joiner = " et " if lang == "fr" else " and "
    words = quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + joiner + quoted[-1]
    return message(lang, "abstain_unknown", words=words)


def compose_answer(
    question: str,
    result: SearchResult,
    index: KnowledgeIndex,
    *,
    k: int = 3,
    per_section: bool = True,
    notes: tuple[str, ...] = (),
) -> Answer:
    """Turn a search result into an ``Answer``: quotes when the evidence is strong enough
    (led by a warning that the knowledge base may not answer the question when the result is
    ``hedged``), else an abstention that names the closest sections. A further quote must
    score within the result's ``margin`` of the best one: weaker passages are noise."""
    lang = result.language
    chosen = select_hits(result.hits, index, k, per_section=True)
    scores = {"evidence": round(result.evidence, 4)}
    if result.abstain or not chosen:
        suggestions: list[Citation] = [index.passages[h.number].citation for h in chosen]
        return Answer(
            question=question,
            language=lang,
            lead=_abstain_lead(lang, result.unknown),
            quotes=(),
            abstained=True,
            suggestions=tuple(suggestions),
            notes=notes,
            scores=scores,
        )
    chosen = select_hits(
        result.hits, index, k, per_section, margin=result.margin, twin_margin=result.twin_margin
    )
    quotes = tuple(make_quote(index, hit) for hit in chosen)
    return Answer(
        question=question,
        language=lang,
        lead=message(lang, "lead_hedged" if result.hedged else "lead"),
        quotes=quotes,
        abstained=False,
        notes=notes,
        scores=scores,
        hedged=result.hedged,
    )
