"""Evaluation of conversations: follow-ups read in the context of the turn before.

File format: a list of conversations ``{id, kb, turns}``; every turn is an evaluation item
(``question``, ``lang``, ``page``, ``section``, ``answer``: see ``evaluation``) plus ``kind``:

- ``first``: the opening, self-contained question;
- ``followup``: cannot be understood alone ("and its main risk?", "pourquoi ?");
- ``switch``: a new, self-contained question on another subject in the same conversation.

Each conversation is asked turn by turn as the chat asks it (``ContextReading`` against the
latest turn that cited something, ``chat.context.turn_of``), and every turn is also asked
alone, for comparison. The figures per kind are ``evaluation.summarise``'s (section@1,
answer@1, answer@3). Only the conversations whose pages are all in the engine's knowledge base
are asked (``kb`` is informative): one file holds the bundled page's and a site's.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TypedDict

import yaml

from bot.core.retrieval.engine import KnowledgeEngine, SmallTalk
from bot.core.retrieval.evaluation import (
    EvalFileError,
    EvalOutcome,
    EvalQuestion,
    Summary,
    declined,
    evaluate_one,
    passage_sources,
    read_yaml,
    score_answer,
    summarise,
)
from bot.core.retrieval.followup import ContextReading, FollowUpParams, PreviousTurn, turn_of

TURN_KINDS = ("first", "followup", "switch")


@dataclass(frozen=True)
class ConversationTurn:
    """A labelled turn: the item and its kind (``TURN_KINDS``)."""

    item: EvalQuestion
    kind: str


@dataclass(frozen=True)
class EvalConversation:
    """A labelled conversation."""

    id: str
    kb: str
    turns: tuple[ConversationTurn, ...]


@dataclass(frozen=True)
class TurnOutcome:
    """One turn asked in its conversation (``in_context``) and alone (``alone``), and whether
    it was read in context."""

    conversation: str
    kind: str
    in_context: EvalOutcome
    alone: EvalOutcome
    used: bool


class KindFigures(TypedDict):
    """The figures of one kind of turn: asked in the conversation, and alone."""

    turns: int
    read_in_context: int
    in_context: Summary
    alone: Summary


def is_conversation_set(data: object) -> bool:
    """Whether loaded YAML is a conversation set (a list of items with ``turns``)."""
    return (
        isinstance(data, list)
        and bool(data)
        and all(isinstance(c, dict) and "turns" in c for c in data)
    )


def _text(item: Mapping[str, object], name: str) -> str | None:
    value = item.get(name)
    return value.strip() if isinstance(value, str) and value.strip() else None


def _turn(where: str, raw: object) -> ConversationTurn:
    if not isinstance(raw, dict) or not _text(raw, "question"):
        raise EvalFileError(f"{where}: expected a question (text)")
    kind = _text(raw, "kind")
    if kind not in TURN_KINDS:
        raise EvalFileError(f"{where}: kind must be one of {', '.join(TURN_KINDS)}, got {kind!r}")
    section = _text(raw, "section")
    answer = raw.get("answer")
    spans = answer if isinstance(answer, list) else [] if answer is None else [answer]
    if not all(isinstance(s, str) and s.strip() for s in spans):
        raise EvalFileError(f"{where}: answer must be a text span (or a list of them) or null")
    lang = _text(raw, "lang")
    if lang is not None and lang not in ("fr", "en"):
        raise EvalFileError(f"{where}: lang must be fr or en, got {lang!r}")
    item = EvalQuestion(
        question=str(raw["question"]).strip(),
        sections=(section,) if section else (),
        page=_text(raw, "page") if section else None,
        answers=tuple(s.strip() for s in spans) if section else (),
        lang=lang,
    )
    return ConversationTurn(item, kind)


def parse_conversations(path: Path, data: object) -> list[EvalConversation]:
    """The conversations of a loaded set. Raises ``EvalFileError`` naming what is wrong."""
    if not is_conversation_set(data):
        raise EvalFileError(f"{path} must hold a list of {{id, kb, turns}} conversations")
    conversations = []
    assert isinstance(data, list)
    for number, raw in enumerate(data, start=1):
        turns = raw.get("turns")
        where = f"{path}, conversation {number}"
        if not isinstance(turns, list) or not turns:
            raise EvalFileError(f"{where}: turns must be a list of questions")
        parsed = tuple(_turn(f"{where}, turn {n}", t) for n, t in enumerate(turns, start=1))
        conversations.append(
            EvalConversation(str(raw.get("id") or number), str(raw.get("kb") or ""), parsed)
        )
    return conversations


def load_conversations(path: Path) -> list[EvalConversation]:
    """Read a conversation set. Raises ``EvalFileError`` naming the problem."""
    return parse_conversations(path, read_yaml(path))


def read_set(path: Path) -> object:
    """The YAML data of an evaluation file (``None`` when it cannot be read: the question
    loader then says why)."""
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError):
        return None


def answered_here(conversation: EvalConversation, pages: set[str]) -> bool:
    """Whether every labelled page of ``conversation`` is in the knowledge base."""
    return all(t.item.page in pages for t in conversation.turns if t.item.page)


def ask_in_context(
    engine: KnowledgeEngine,
    item: EvalQuestion,
    previous: PreviousTurn | None,
    sources: Mapping[str, str],
    params: FollowUpParams | None = None,
) -> tuple[EvalOutcome, PreviousTurn | None, bool]:
    """Ask ``item`` after ``previous``, as the chat does. Returns the outcome, the turn the
    next one is read against, and whether the context changed its reading (what the chat
    then says it understood)."""
    reading = ContextReading(previous, params or FollowUpParams())
    started = time.perf_counter()
    try:
        answer = engine.ask(item.question, context=reading)
    except SmallTalk:
        return declined(item, (time.perf_counter() - started) * 1000), previous, False
    latency = (time.perf_counter() - started) * 1000
    outcome = EvalOutcome(
        question=item,
        language=item.lang or answer.language,
        abstained=answer.abstained,
        cited=tuple(answer.cited_sections),
        latency_ms=latency,
        hedged=answer.hedged,
        **score_answer(item, answer, sources),
    )
    following = turn_of(answer, reading.read_as) if answer.quotes else previous
    return outcome, following, reading.changed


def evaluate_conversations(
    engine: KnowledgeEngine,
    conversations: list[EvalConversation],
    params: FollowUpParams | None = None,
    *,
    alone: bool = True,
) -> list[TurnOutcome]:
    """Ask every conversation turn by turn (and every turn alone, unless not ``alone``: then
    the alone outcome repeats the one in context). Returns the turns' outcomes in order."""
    sources = passage_sources(engine)
    if conversations:  # warm caches so latency is the steady state
        evaluate_one(engine, conversations[0].turns[0].item, sources)
    outcomes = []
    for conversation in conversations:
        previous: PreviousTurn | None = None
        for turn in conversation.turns:
            in_context, previous, used = ask_in_context(
                engine, turn.item, previous, sources, params
            )
            single = evaluate_one(engine, turn.item, sources) if alone else in_context
            outcomes.append(TurnOutcome(conversation.id, turn.kind, in_context, single, used))
    return outcomes


def summarise_kinds(outcomes: list[TurnOutcome]) -> dict[str, KindFigures]:
    """By kind of turn (and ``all``): how many turns, how many were read in context, and the
    summaries in context and alone."""
    groups = {kind: [o for o in outcomes if o.kind == kind] for kind in TURN_KINDS}
    groups["all"] = list(outcomes)
    return {
        kind: {
            "turns": len(part),
            "read_in_context": sum(o.used for o in part),
            "in_context": summarise([o.in_context for o in part], by_language=False),
            "alone": summarise([o.alone for o in part], by_language=False),
        }
        for kind, part in groups.items()
        if part
    }


def page_groups(conversations: list[EvalConversation], folds: int) -> list[int]:
    """A fold number for each conversation, by the page of its first turn: conversations on
    one page fall in one fold (cross-validation over groups of pages)."""
    pages = sorted({c.turns[0].item.page or c.id for c in conversations})
    fold_of = {page: n % folds for n, page in enumerate(pages)}
    return [fold_of[c.turns[0].item.page or c.id] for c in conversations]
