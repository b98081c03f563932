"""Evaluation: score the engine on a YAML list of labelled questions.

File format: a list of items, each with ``question`` and either

- ``sections: [section title, ...]`` (the project's format; an empty list marks a question
  outside the knowledge base), or
- ``section: title`` (``null`` when out of scope), as in the shared site set,

and, optionally:

- ``page``: the page's path relative to the knowledge directory; the section must then be one
  of that page's (titles repeat across pages of a site);
- ``answer``: a verbatim span of the section's text that answers the question (or a list of
  such spans, any of which answers);
- ``kind``: ``near-topic``, ``unrelated`` or ``smalltalk`` (thanks, greetings, no real
  question) for out-of-scope items;
- ``lang``: ``fr`` or ``en`` (else detected from the question).

Section-level figures (``hit@k``): a question hits at rank r when the r-th distinct cited
section's title equals one of its titles (case- and whitespace-insensitive); ``section@k`` asks
the page to match too. Passage-level figures read the quotes as the user sees them, trimming
included: ``answer@k`` when the span, or a contiguous run of at least 3/4 of its words, is inside
the text of one of the first k quotes; ``highlight@1`` when the first quote's highlighted
sentence holds a contiguous run of more than half of the span's words.

A message the engine takes for small talk (``SmallTalk``: the invitation to ask, no quote)
counts as declined, as an abstention does: right for an out-of-scope item (``smalltalk`` items
must be declined), wrong for an in-scope one (``smalltalk_in_scope`` counts those).
"""

from __future__ import annotations

import re
import time
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import NotRequired, TypedDict, TypeVar

import numpy as np
import yaml

from bot.core.knowledge.examples import example_key, title_key
from bot.core.language import detect_language
from bot.core.retrieval.engine import KnowledgeEngine, SmallTalk
from bot.core.types import Answer

T = TypeVar("T")
KINDS = ("near-topic", "unrelated", "smalltalk")
ANSWER_RUN = 0.75  # answer@k: share of the span's words that must appear as one run
HIGHLIGHT_RUN = 0.5  # highlight@1: the highlighted run must hold more than this share


class EvalFileError(ValueError):
    """The evaluation file is missing or not of the expected shape."""


@dataclass(frozen=True)
class EvalQuestion:
    """A labelled question; ``sections`` is empty when it is out of scope."""

    question: str
    sections: tuple[str, ...]
    page: str | None = None
    answers: tuple[str, ...] = ()
    kind: str | None = None
    lang: str | None = None


@dataclass(frozen=True)
class EvalOutcome:
    """How the engine did on one question.

    ``rank`` is the 1-based rank of the first cited section whose title is right, ``page_rank``
    the same when the page must match too, ``answer_rank`` that of the first quote holding the
    answer span; each is None when missed (or not labelled).
    """

    question: EvalQuestion
    language: str
    rank: int | None
    abstained: bool
    cited: tuple[str, ...]
    latency_ms: float
    page_rank: int | None = None
    answer_rank: int | None = None
    highlighted: bool = False
    first_quote_chars: int | None = None
    hedged: bool = False  # answered with the lead that says it may not answer
    smalltalk: bool = False  # taken for small talk: the invitation to ask (``abstained`` too)


class AnswerScore(TypedDict):
    """Where an answer puts the right section and the answer span (see ``EvalOutcome``)."""

    rank: int | None
    page_rank: int | None
    answer_rank: int | None
    highlighted: bool
    first_quote_chars: int | None


class KindCount(TypedDict):
    """Out-of-scope questions of one kind, and how many the engine abstained on."""

    questions: int
    abstained: int


class Latency(TypedDict):
    """Answer latency percentiles, in milliseconds."""

    p50: float
    p95: float
    max: float


# What ``summarise`` returns (``playbook eval --json``); its keys are not all identifiers.
Summary = TypedDict(
    "Summary",
    {
        "questions": int,
        "hit@1": float,
        "hit@3": float,
        "mrr": float,
        "section@1": float,
        "section@3": float,
        "answered_items": int,
        "answer@1": float,
        "answer@3": float,
        "highlight@1": float,
        "first_quote_chars": float,
        "out_of_scope": int,
        "abstained_out_of_scope": int,
        "out_of_scope_by_kind": dict[str, KindCount],
        "abstained_in_scope": int,
        "hedged_out_of_scope": int,
        "declined_out_of_scope": int,
        "hedged_in_scope": int,
        "hedged_right": int,
        "smalltalk": int,
        "smalltalk_declined": int,
        "smalltalk_replies": int,
        "smalltalk_in_scope": int,
        "latency_ms": Latency,
        "by_language": NotRequired[dict[str, "Summary"]],
    },
)


def _text_field(item: Mapping[str, object], name: str) -> str | None:
    value = item.get(name)
    return value.strip() if isinstance(value, str) and value.strip() else None


def _item(path: Path, number: int, item: object) -> EvalQuestion:
    """One item of an evaluation file, or ``EvalFileError`` naming what is wrong with it."""
    where = f"{path}, item {number}"
    if not isinstance(item, dict) or not _text_field(item, "question"):
        raise EvalFileError(f"{where}: expected a question (text)")
    if "sections" in item:
        if not isinstance(item["sections"], list | type(None)):
            raise EvalFileError(f"{where}: sections must be a list of section titles")
        sections = tuple(str(s) for s in item["sections"] or [])
    else:
        section = item.get("section")
        if section is not None and not isinstance(section, str):
            raise EvalFileError(f"{where}: section must be a title (text) or null")
        sections = (section.strip(),) if section and section.strip() else ()
    raw = item.get("answer")
    spans = raw if isinstance(raw, list) else [] if raw is None else [raw]
    if not all(isinstance(s, str) and s.strip() for s in spans):
        raise EvalFileError(f"{where}: answer must be a text span (or a list of them) or null")
    kind = _text_field(item, "kind")
    if kind is not None and kind not in KINDS:
        raise EvalFileError(f"{where}: kind must be one of {', '.join(KINDS)}, got {kind!r}")
    lang = _text_field(item, "lang")
    if lang is not None and lang not in ("fr", "en"):
        raise EvalFileError(f"{where}: lang must be fr or en, got {lang!r}")
    return EvalQuestion(
        question=str(item["question"]).strip(),
        sections=sections,
        page=_text_field(item, "page") if sections else None,
        answers=tuple(s.strip() for s in spans) if sections else (),
        kind=kind if not sections else None,
        lang=lang,
    )


def read_yaml(path: Path) -> object:
    """The YAML data of an evaluation file. Raises ``EvalFileError`` naming the problem."""
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise EvalFileError(f"Cannot read {path}: {exc.strerror}") from exc
    except yaml.YAMLError as exc:
        raise EvalFileError(f"{path} is not valid YAML: {exc}") from exc


def load_questions(path: Path) -> list[EvalQuestion]:
    """Read an evaluation file. Raises ``EvalFileError`` naming the problem."""
    data = read_yaml(path)
    if not isinstance(data, list):
        raise EvalFileError(f"{path} must hold a list of {{question, sections}} items")
    return [_item(path, number, item) for number, item in enumerate(data, start=1)]


_MARKUP = re.compile(r"\*+|`")
_WORD = re.compile(r"[^\W_]+", re.UNICODE)


def words_of(text: str) -> list[str]:
    """The words of ``text`` as the answer check compares them: Markdown emphasis dropped,
    lower-cased, accents and apostrophe styles ignored."""
    text = unicodedata.normalize("NFKD", _MARKUP.sub("", text).casefold())
    text = "".join(c for c in text if not unicodedata.combining(c))
    return _WORD.findall(text)


def longest_run(span: Sequence[str], text: Sequence[str]) -> int:
    """Length of the longest run of consecutive words of ``span`` found consecutively in
    ``text`` (a longest common substring over words)."""
    best = 0
    previous = [0] * (len(text) + 1)
    for word in span:
        current = [0] * (len(text) + 1)
        for j, other in enumerate(text, start=1):
            if word == other:
                current[j] = previous[j - 1] + 1
                best = max(best, current[j])
        previous = current
    return best


def answer_share(span: str, text: str) -> float:
    """The longest run of ``span``'s words that ``text`` holds, as a share of them (0 for a span
    without words)."""
    wanted = words_of(span)
    return longest_run(wanted, words_of(text)) / len(wanted) if wanted else 0.0


def holds_answer(span: str, text: str, share: float = ANSWER_RUN) -> bool:
    """Whether ``text`` holds ``span``: a run of at least ``share`` of its words."""
    return answer_share(span, text) >= share


def highlights_answer(span: str, highlight: str) -> bool:
    """Whether a highlight holds ``span``: a run of more than ``HIGHLIGHT_RUN`` of its words."""
    return answer_share(span, highlight) > HIGHLIGHT_RUN


def _first_rank(items: Sequence[T], hit: Callable[[T], bool]) -> int | None:
    return next((r for r, item in enumerate(items, start=1) if hit(item)), None)


def passage_sources(engine: KnowledgeEngine) -> dict[str, str]:
    """The page of each passage of the engine's index, by passage id."""
    return {p.id: p.source for p in engine.index.passages}


def score_answer(question: EvalQuestion, answer: Answer, sources: Mapping[str, str]) -> AnswerScore:
    """Where ``answer`` puts the right section (title only, and page too) and the answer span;
    ``sources`` gives each passage's page by id (``passage_sources``).

    Returns the ``EvalOutcome`` fields ``rank``, ``page_rank``, ``answer_rank``,
    ``highlighted`` and ``first_quote_chars``.
    """
    wanted = {title_key(s) for s in question.sections}
    cited = dict.fromkeys(  # distinct (page, section title), in quote order
        (sources.get(q.passage_id, ""), q.citation.section) for q in answer.quotes
    )
    quotes = answer.quotes
    answer_rank = None
    highlighted = False
    if question.answers and quotes:
        answer_rank = _first_rank(
            quotes, lambda q: any(holds_answer(s, q.text) for s in question.answers)
        )
        highlighted = any(highlights_answer(s, quotes[0].highlight) for s in question.answers)
    return {
        "rank": _first_rank(answer.cited_sections, lambda t: title_key(t) in wanted),
        "page_rank": _first_rank(
            list(cited), lambda c: title_key(c[1]) in wanted and question.page in (None, c[0])
        ),
        "answer_rank": answer_rank,
        "highlighted": highlighted,
        "first_quote_chars": len(quotes[0].text) if quotes else None,
    }


def evaluate_one(
    engine: KnowledgeEngine, question: EvalQuestion, sources: Mapping[str, str] | None = None
) -> EvalOutcome:
    """Ask one question and record where the right section and the answer rank (``sources``:
    ``passage_sources(engine)``, read now when not given)."""
    started = time.perf_counter()
    try:
        answer = engine.ask(question.question)
    except SmallTalk:
        return declined(question, (time.perf_counter() - started) * 1000)
    latency = (time.perf_counter() - started) * 1000
    return EvalOutcome(
        question=question,
        language=question.lang or detect_language(question.question),
        abstained=answer.abstained,
        cited=tuple(answer.cited_sections),
        latency_ms=latency,
        hedged=answer.hedged,
        **score_answer(question, answer, passage_sources(engine) if sources is None else sources),
    )


def declined(question: EvalQuestion, latency_ms: float) -> EvalOutcome:
    """The outcome of a question the engine took for small talk: declined, nothing cited."""
    return EvalOutcome(
        question=question,
        language=question.lang or detect_language(question.question),
        rank=None,
        abstained=True,
        cited=(),
        latency_ms=latency_ms,
        smalltalk=True,
    )


def _share(outcomes: list[EvalOutcome], predicate: Callable[[EvalOutcome], bool]) -> float:
    return round(sum(1 for o in outcomes if predicate(o)) / len(outcomes), 4) if outcomes else 0.0


def _within(rank: int | None, k: int) -> bool:
    return rank is not None and rank <= k


def _by_kind(out_scope: list[EvalOutcome]) -> dict[str, KindCount]:
    """Out-of-scope questions and those abstained, by kind ("unlabelled" when none)."""
    kinds: dict[str, KindCount] = {}
    for o in out_scope:
        part = kinds.setdefault(o.question.kind or "unlabelled", {"questions": 0, "abstained": 0})
        part["questions"] += 1
        part["abstained"] += int(o.abstained)
    return kinds


def _latency(outcomes: list[EvalOutcome]) -> Latency:
    """The answers' latency in milliseconds: p50, p95 and max."""
    latencies = np.array([o.latency_ms for o in outcomes]) if outcomes else np.zeros(1)
    return {
        "p50": round(float(np.percentile(latencies, 50)), 2),
        "p95": round(float(np.percentile(latencies, 95)), 2),
        "max": round(float(latencies.max()), 2),
    }


def summarise(outcomes: list[EvalOutcome], *, by_language: bool = True) -> Summary:
    """The public summary of ``outcomes`` (what ``playbook eval --json`` prints).

    Section level, in scope: ``hit@1``, ``hit@3``, ``mrr`` (title match) and ``section@1``,
    ``section@3`` (page and title). Passage level, over the in-scope items that have an answer
    span (``answered_items``): ``answer@1``, ``answer@3``, ``highlight@1``. ``first_quote_chars``:
    the median length of the first quote of answered in-scope questions. Out of scope:
    ``out_of_scope``, ``abstained_out_of_scope`` and ``out_of_scope_by_kind`` ({kind:
    {questions, abstained}}); ``abstained_in_scope`` counts wrong abstentions. Answers led by
    the warning that the knowledge base may not answer: ``hedged_out_of_scope``,
    ``hedged_in_scope`` and, of those, ``hedged_right`` (the right section first);
    ``declined_out_of_scope``: out-of-scope questions abstained or hedged (what the asker is
    told: the pages may not answer). Small talk:
    ``smalltalk`` items, ``smalltalk_declined`` (those given the small-talk reply or an
    abstention: right), ``smalltalk_replies`` (all questions given the small-talk reply) and
    ``smalltalk_in_scope`` (in-scope questions taken for small talk: wrong). ``latency_ms``:
    p50, p95, max. ``by_language``: the same figures for each language (fr, en) apart.
    """
    in_scope = [o for o in outcomes if o.question.sections]
    out_scope = [o for o in outcomes if not o.question.sections]
    chat = [o for o in out_scope if o.question.kind == "smalltalk"]
    spans = [o for o in in_scope if o.question.answers]
    n = len(in_scope)
    lengths = [o.first_quote_chars for o in in_scope if o.first_quote_chars is not None]
    summary: Summary = {
        "questions": len(outcomes),
        "hit@1": _share(in_scope, lambda o: o.rank == 1),
        "hit@3": _share(in_scope, lambda o: _within(o.rank, 3)),
        "mrr": round(sum(1 / o.rank for o in in_scope if o.rank) / n, 4) if n else 0.0,
        "section@1": _share(in_scope, lambda o: o.page_rank == 1),
        "section@3": _share(in_scope, lambda o: _within(o.page_rank, 3)),
        "answered_items": len(spans),
        "answer@1": _share(spans, lambda o: o.answer_rank == 1),
        "answer@3": _share(spans, lambda o: _within(o.answer_rank, 3)),
        "highlight@1": _share(spans, lambda o: o.highlighted),
        "first_quote_chars": float(np.median(lengths)) if lengths else 0.0,
        "out_of_scope": len(out_scope),
        "abstained_out_of_scope": sum(o.abstained for o in out_scope),
        "out_of_scope_by_kind": _by_kind(out_scope),
        "abstained_in_scope": sum(o.abstained for o in in_scope),
        "hedged_out_of_scope": sum(o.hedged for o in out_scope),
        "declined_out_of_scope": sum(o.abstained or o.hedged for o in out_scope),
        "hedged_in_scope": sum(o.hedged for o in in_scope),
        "hedged_right": sum(o.hedged and o.page_rank == 1 for o in in_scope),
        "smalltalk": len(chat),
        "smalltalk_declined": sum(o.abstained for o in chat),
        "smalltalk_replies": sum(o.smalltalk for o in outcomes),
        "smalltalk_in_scope": sum(o.smalltalk for o in in_scope),
        "latency_ms": _latency(outcomes),
    }
    if by_language:
        summary["by_language"] = {
            lang: summarise([o for o in outcomes if o.language == lang], by_language=False)
            for lang in sorted({o.language for o in outcomes})
        }
    return summary


def evaluate(engine: KnowledgeEngine, questions: list[EvalQuestion]) -> list[EvalOutcome]:
    """Ask every question once (after one warm-up question). Returns the outcomes in order.

    The team's example questions (``examples.yaml``) that are among ``questions`` are left out
    meanwhile: a set copied into the examples is then scored as new questions would be, with
    the examples of the other sets only (leave-one-set-out).
    """
    retriever = engine.retriever
    previous = retriever.ignored_examples
    retriever.ignored_examples = frozenset(example_key(q.question) for q in questions)
    try:
        if questions:  # warm caches so latency is the steady state
            evaluate_one(engine, questions[0], {})
        sources = passage_sources(engine)
        return [evaluate_one(engine, q, sources) for q in questions]
    finally:
        retriever.ignored_examples = previous
