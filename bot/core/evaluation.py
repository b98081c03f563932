"""Evaluation: score the engine on a YAML list of labelled questions.

File format: a list of ``{question: str, sections: [section title, ...]}``; an empty list marks
a question outside the knowledge base. A question hits at rank r when the r-th distinct cited
section's title equals one of its titles (case- and whitespace-insensitive).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import yaml

from bot.core.engine import KnowledgeEngine
from bot.core.examples import example_key, title_key
from bot.core.language import detect_language


class EvalFileError(ValueError):
    """The evaluation file is missing or not of the expected shape."""


@dataclass(frozen=True)
class EvalQuestion:
    """A labelled question; ``sections`` is empty when it is out of scope."""

    question: str
    sections: tuple[str, ...]


@dataclass(frozen=True)
class EvalOutcome:
    """How the engine did on one question."""

    question: EvalQuestion
    language: str
    rank: int | None  # 1-based rank of the first correct section, None when missed
    abstained: bool
    cited: tuple[str, ...]
    latency_ms: float


def load_questions(path: Path) -> list[EvalQuestion]:
    """Read an evaluation file. Raises ``EvalFileError`` naming the problem."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise EvalFileError(f"Cannot read {path}: {exc.strerror}") from exc
    except yaml.YAMLError as exc:
        raise EvalFileError(f"{path} is not valid YAML: {exc}") from exc
    if not isinstance(data, list):
        raise EvalFileError(f"{path} must hold a list of {{question, sections}} items")
    questions = []
    for number, item in enumerate(data, start=1):
        if (
            not isinstance(item, dict)
            or not isinstance(item.get("question"), str)
            or not item["question"].strip()
            or not isinstance(item.get("sections", []), list)
        ):
            raise EvalFileError(
                f"{path}, item {number}: expected a question (text) and sections (a list)"
            )
        sections = tuple(str(s) for s in item.get("sections") or [])
        questions.append(EvalQuestion(item["question"].strip(), sections))
    return questions


def evaluate_one(engine: KnowledgeEngine, question: EvalQuestion) -> EvalOutcome:
    """Ask one question and record where the first correct section ranks."""
    started = time.perf_counter()
    answer = engine.ask(question.question)
    latency = (time.perf_counter() - started) * 1000
    wanted = {title_key(s) for s in question.sections}
    cited = tuple(answer.cited_sections)
    rank = next((r for r, title in enumerate(cited, start=1) if title_key(title) in wanted), None)
    return EvalOutcome(
        question=question,
        language=detect_language(question.question),
        rank=rank,
        abstained=answer.abstained,
        cited=cited,
        latency_ms=latency,
    )


def summarise(outcomes: list[EvalOutcome]) -> dict:
    """The public summary: questions, hit@1, hit@3, mrr (in scope), out-of-scope abstentions,
    wrongly abstained in-scope questions, and latency percentiles in milliseconds."""
    in_scope = [o for o in outcomes if o.question.sections]
    out_scope = [o for o in outcomes if not o.question.sections]
    n = len(in_scope)

    def share(predicate) -> float:
        return round(sum(1 for o in in_scope if predicate(o)) / n, 4) if n else 0.0

    latencies = np.array([o.latency_ms for o in outcomes]) if outcomes else np.zeros(1)
    return {
        "questions": len(outcomes),
        "hit@1": share(lambda o: o.rank == 1),
        "hit@3": share(lambda o: o.rank is not None and o.rank <= 3),
        "mrr": round(sum(1 / o.rank for o in in_scope if o.rank) / n, 4) if n else 0.0,
        "out_of_scope": len(out_scope),
        "abstained_out_of_scope": sum(o.abstained for o in out_scope),
        "abstained_in_scope": sum(o.abstained for o in in_scope),
        "latency_ms": {
            "p50": round(float(np.percentile(latencies, 50)), 2),
            "p95": round(float(np.percentile(latencies, 95)), 2),
            "max": round(float(latencies.max()), 2),
        },
    }


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
        if questions:
            engine.ask(questions[0].question)  # warm caches so latency is the steady state
        return [evaluate_one(engine, q) for q in questions]
    finally:
        retriever.ignored_examples = previous
