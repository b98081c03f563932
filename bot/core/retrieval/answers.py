"""Answer composition: pick passages, quote them with the best sentence highlighted, cite them."""

from __future__ import annotations

from bot.core.knowledge.index import KnowledgeIndex
from bot.core.messages import message
from bot.core.retrieval.search import Hit, SearchResult
from bot.core.types import Answer, Citation, Quote

QUOTE_CHARS = 480
ELLIPSIS = "…"


def trim_around(text: str, start: int, end: int, limit: int = QUOTE_CHARS) -> tuple[str, str, str]:
    """Split ``text`` into (before, highlight, after) around ``text[start:end]``, trimmed.

    The context on each side is cut at a word boundary so that the whole stays near ``limit``
    characters; a cut is marked with ``…``. The highlight itself is never cut unless it alone
    exceeds the limit.
    """
    highlight = text[start:end]
    if len(highlight) > limit:
        cut = highlight[:limit].rsplit(" ", 1)[0]
        return "", cut + ELLIPSIS, ""
    room = limit - len(highlight)
    before, after = text[:start], text[end:]
    take_before = min(len(before), room // 3 if len(after) > room // 2 else room - len(after))
    take_after = room - take_before
    if len(before) > take_before:
        piece = before[len(before) - take_before :]
        piece = piece.split(" ", 1)[1] if " " in piece else ""
        before = ELLIPSIS + piece
    if len(after) > take_after:
        piece = after[:take_after]
        piece = piece.rsplit(" ", 1)[0] if " " in piece else ""
        after = piece + ELLIPSIS
    return before, highlight, after


def make_quote(index: KnowledgeIndex, hit: Hit) -> Quote:
    """Quote the passage of ``hit`` with its most relevant sentence highlighted."""
    passage = index.passages[hit.number]
    sentence = index.sentences[hit.best_sentence] if hit.best_sentence >= 0 else ""
    start = passage.text.find(sentence) if sentence else -1
    if start < 0:
        start, end = 0, 0
    else:
        end = start + len(sentence)
        if hit.last_sentence > hit.best_sentence:  # the highlight runs on to a later sentence
            last = index.sentences[hit.last_sentence]
            found = passage.text.find(last, end)
            end = found + len(last) if found >= 0 else end
    before, highlight, after = trim_around(passage.text, start, end)
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
