"""``playbook eval`` and ``playbook glossary``: score the answers on a labelled question file,
try retrieval weights without editing code, and check the glossary's coverage."""

from __future__ import annotations

import argparse
import json
import textwrap
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from bot.cli_common import UserError, _stderr, telling
from bot.config import Settings

if TYPE_CHECKING:
    from bot.core.retrieval.evaluation import Summary


def fusion_params(pairs: Sequence[str]):
    """``FusionParams`` with the ``name=value`` overrides of ``--param``. Raises ``UserError``
    naming an unknown parameter or a value of the wrong type."""
    from dataclasses import fields, replace

    from bot.core.retrieval.search import FusionParams

    defaults = FusionParams()
    known = {f.name: type(getattr(defaults, f.name)) for f in fields(FusionParams)}
    changes: dict[str, object] = {}
    for pair in pairs:
        name, sep, raw = pair.partition("=")
        name = name.strip().replace("-", "_")
        if not sep or name not in known:
            raise UserError(
                f"--param {pair!r}: expected NAME=VALUE with NAME one of: {', '.join(known)}"
            )
        try:
            changes[name] = known[name](raw.strip())
        except ValueError:
            raise UserError(f"--param {name}: {raw!r} is not a {known[name].__name__}") from None
    return replace(defaults, **changes)  # type: ignore[arg-type]  # each checked above


def _summary_line(summary: Summary) -> str:
    """One line of ``playbook eval``'s figures for one group of questions."""
    in_scope = summary["questions"] - summary["out_of_scope"]
    parts = []
    if in_scope:
        parts.append(
            f"{in_scope} in scope: hit@1 {summary['hit@1']:.3f}, hit@3 {summary['hit@3']:.3f}, "
            f"MRR {summary['mrr']:.3f}, section@1 {summary['section@1']:.3f}, "
            f"section@3 {summary['section@3']:.3f}"
        )
    if summary["answered_items"]:
        parts.append(
            f"answer@1 {summary['answer@1']:.3f}, answer@3 {summary['answer@3']:.3f}, "
            f"highlight@1 {summary['highlight@1']:.3f} ({summary['answered_items']} spans), "
            f"first quote {summary['first_quote_chars']:.0f} chars"
        )
    kinds = ", ".join(
        f"{kind} {part['abstained']}/{part['questions']}"
        for kind, part in sorted(summary["out_of_scope_by_kind"].items())
        if kind != "unlabelled"
    )
    parts.append(
        f"out of scope abstained {summary['abstained_out_of_scope']}/{summary['out_of_scope']}"
        + (f" ({kinds})" if kinds else "")
        + f", hedged {summary['hedged_out_of_scope']}"
        + f", declined {summary['declined_out_of_scope']}/{summary['out_of_scope']}"
    )
    if summary["smalltalk"]:
        parts.append(
            f"smalltalk declined {summary['smalltalk_declined']}/{summary['smalltalk']}"
            f" ({summary['smalltalk_replies']} small-talk replies in all)"
        )
    parts.append(f"in scope wrongly abstained {summary['abstained_in_scope']}")
    if summary["smalltalk_in_scope"]:
        parts.append(f"in scope taken for small talk {summary['smalltalk_in_scope']}")
    parts.append(
        f"in scope hedged {summary['hedged_in_scope']} ({summary['hedged_right']} of them right)"
    )
    return "; ".join(parts) + "."


def cmd_eval(args: argparse.Namespace, settings: Settings) -> int:
    """Score the engine on a labelled question file. With a re-ranker configured
    (``PLAYBOOK_RERANKER``), the questions are also asked without it, and both summaries are
    printed (the per-question lines are those of the bot as configured, with it)."""
    from bot.core.retrieval.conversations import is_conversation_set, read_set
    from bot.core.retrieval.evaluation import evaluate, load_questions, summarise

    if is_conversation_set(read_set(Path(args.file))):
        return _eval_conversations(args, settings)
    questions = load_questions(Path(args.file))
    from bot.app import open_engine

    params = fusion_params(args.param or [])
    engine = open_engine(settings, params=params, **telling(args.json))
    baseline = (
        summarise(evaluate(engine.without_reranker(), questions)) if engine.reranker else None
    )
    outcomes = evaluate(engine, questions)
    summary = summarise(outcomes)
    if args.json:
        print(
            json.dumps(summary if baseline is None else {**summary, "without_reranker": baseline})
        )
        return 0
    for o in outcomes:
        wanted = bool(o.question.sections)
        mark = (
            ("ok " if o.rank == 1 else f"@{o.rank} " if o.rank else "MISS")
            if wanted
            else ("ok " if o.abstained else "ANSWERED")
        )
        if wanted and o.question.answers and o.rank == 1 and o.answer_rank != 1:
            mark = "PASSAGE" if o.answer_rank is None else f"P@{o.answer_rank}"
        got = "small talk" if o.smalltalk else "abstained" if o.abstained else "-"
        got = o.cited[0] if o.cited and not o.abstained else got
        got += " (hedged)" if o.hedged else ""
        print(f"{mark:8} [{o.language}] {o.question.question}  →  {got}")
    print()
    if baseline is not None and engine.reranker is not None:
        print("Without the re-ranker:")
        _print_summary(baseline)
        print(f"With the re-ranker {engine.reranker.id} (top {engine.reranker.top}):")
    _print_summary(summary)
    return 0


def _eval_conversations(args: argparse.Namespace, settings: Settings) -> int:
    """``playbook eval`` on a conversation set: each conversation asked turn by turn (as the
    chat reads a follow-up) and each turn alone; the figures per kind of turn, both ways.
    Only the conversations whose pages the knowledge base has are asked."""
    from bot.app import open_engine
    from bot.core.retrieval.conversations import (
        answered_here,
        evaluate_conversations,
        load_conversations,
        summarise_kinds,
    )
    from bot.core.retrieval.evaluation import passage_sources

    conversations = load_conversations(Path(args.file))
    engine = open_engine(settings, params=fusion_params(args.param or []), **telling(args.json))
    pages = set(passage_sources(engine).values())
    asked = [c for c in conversations if answered_here(c, pages)]
    if not asked:
        raise UserError(
            f"None of the {len(conversations)} conversations of {args.file} is about pages of "
            f"{settings.knowledge_dir}."
        )
    outcomes = evaluate_conversations(engine, asked)
    figures = summarise_kinds(outcomes)
    if args.json:
        print(json.dumps({"conversations": len(asked), "by_kind": figures}))
        return 0
    for o in outcomes:
        mark = "ok " if o.in_context.page_rank == 1 else "MISS"
        alone = "ok " if o.alone.page_rank == 1 else "MISS"
        read = "context" if o.used else "alone  "
        got = o.in_context.cited[0] if o.in_context.cited else "-"
        print(
            f"{mark:5}(alone {alone:4}) {o.kind:8} {read} [{o.in_context.language}] "
            f"{o.in_context.question.question}  →  {got}"
        )
    print(f"\n{len(asked)} of {len(conversations)} conversations (those about these pages).")
    for kind, part in figures.items():
        both = []
        for label in ("in_context", "alone"):
            s = part[label]
            both.append(
                f"{label.replace('_', ' ')}: section@1 {s['section@1']:.3f}, answer@1 "
                f"{s['answer@1']:.3f}, answer@3 {s['answer@3']:.3f}"
            )
        print(
            f"{kind:8} {part['turns']:3} turns ({part['read_in_context']} read in context); "
            + "; ".join(both)
            + f"; p95 {part['in_context']['latency_ms']['p95']} ms"
            + f" (alone {part['alone']['latency_ms']['p95']} ms)."
        )
    return 0


def _print_summary(summary: Summary) -> None:
    """The figures ``playbook eval`` ends with: overall, latency, then by language."""
    print(f"{summary['questions']} questions. " + _summary_line(summary))
    print(f"Latency p50 {summary['latency_ms']['p50']} ms, p95 {summary['latency_ms']['p95']} ms.")
    # The quality targets hold for each language: the same outcomes, split by the question's.
    for language, part in summary["by_language"].items():
        print(f"  {language}: " + _summary_line(part))


def cmd_glossary(args: argparse.Namespace, settings: Settings) -> int:
    """Show the glossary's coverage of the pages, or what it adds to one question."""
    from bot.core.knowledge.documents import load_pages
    from bot.core.knowledge.glossary import (
        GLOSSARY_FILE,
        GlossaryError,
        load_glossary,
        uncovered_words,
    )
    from bot.core.language import detect_language

    path = settings.knowledge_dir / GLOSSARY_FILE
    try:
        glossary = load_glossary(settings.knowledge_dir)
    except GlossaryError as exc:
        _stderr(f"{path}: {exc}")
        return 1
    question = " ".join(args.question).strip()
    if question:
        expansion = glossary.expand(question)
        if not expansion.terms:
            print("No glossary entry matches this question.")
            return 0
        print("Also searched: " + ", ".join(t.text for t in expansion.terms))
        return 0
    pages, errors = load_pages(
        settings.knowledge_dir,
        base_url=settings.base_url,
        link_root=settings.link_root,
        max_bytes=settings.max_page_bytes,
    )
    for error in errors:
        _stderr(f"Skipped {error}")
    texts = [(s.text, detect_language(s.text)) for p in pages for s in p.sections if s.text]
    missing = uncovered_words(glossary, texts)
    print(f"{path}: {len(glossary)} {'entry' if len(glossary) == 1 else 'entries'}.")
    if not missing:
        print("Every content word of the pages is in an entry.")
        return 0
    print(
        f"{len(missing)} words of the pages are in no entry (sections that use them, most used "
        "first); add entries for the ones your team says in other words or languages:"
    )
    print(textwrap.fill(", ".join(f"{w} ({n})" for w, n in missing), width=100))
    return 0


def add_eval_commands(sub: argparse._SubParsersAction) -> None:
    """Register ``playbook eval`` and ``playbook glossary``."""
    p = sub.add_parser(
        "eval",
        help="score the answers on a labelled question file (with PLAYBOOK_RERANKER set: "
        "with and without the re-ranker)",
    )
    p.add_argument(
        "file",
        help="YAML list of {question, sections} (or section, page, answer, kind), or of "
        "conversations {id, kb, turns: [item + kind: first|followup|switch]}",
    )
    p.add_argument("--json", action="store_true", help="print the summary as one JSON object")
    p.add_argument(
        "--param",
        action="append",
        metavar="NAME=VALUE",
        help="try a retrieval weight without editing code (repeatable)",
    )
    p.set_defaults(func=cmd_eval)

    p = sub.add_parser(
        "glossary",
        help="list the pages' words the glossary lacks, or what it adds to a question",
    )
    p.add_argument("question", nargs="*", help="a question to expand (optional)")
    p.set_defaults(func=cmd_glossary)
