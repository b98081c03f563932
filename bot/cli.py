"""The ``playbook`` command: index, ask, chat, sections, eval, serve.

Heavy modules are imported inside the commands, so ``playbook --help`` answers at once. Errors a
user can cause reach them as one clear line and an exit code, never as a traceback.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import textwrap
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from bot import __version__
from bot.app import say
from bot.cli_discord import DiscordCommandError, add_discord_commands
from bot.cli_team import TeamCommandError, add_team_commands
from bot.config import Settings, load_dotenv, parse_port

if TYPE_CHECKING:
    from bot.core.retrieval.evaluation import Summary

EXIT_USAGE = 2


class UserError(Exception):
    """A problem the user can fix; shown as one line, exit code 2."""


_stderr = say


class ProgressBar:
    """A one-line progress bar on stderr (redrawn in place on a terminal)."""

    def __init__(self, label: str, stream=None) -> None:
        self.label = label
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty()
        self._last = -1

    def __call__(self, done: int, total: int) -> None:
        """Show ``done`` of ``total``."""
        if total == 0:
            return
        width = 30
        filled = width * done // total
        line = f"{self.label} [{'#' * filled}{'.' * (width - filled)}] {done}/{total}"
        if self.tty:
            print(f"\r{line}", end="" if done < total else "\n", file=self.stream, flush=True)
        elif done == total and self._last != done:
            print(line, file=self.stream, flush=True)
        self._last = done


def _telling(quiet: bool) -> dict:
    """What building an engine tells the terminal: nothing when ``quiet`` (``--json``)."""
    if quiet:
        return {"notify": lambda _m: None, "progress": None}
    return {"notify": _stderr, "progress": ProgressBar("Embedding")}


def _engine(settings: Settings, *, quiet: bool = False, params=None):
    from bot.app import open_engine

    return open_engine(settings, params=params, **_telling(quiet))


def _assistant(settings: Settings, *, quiet: bool = False):
    """An assistant for ``ask`` and ``chat``: one person at the terminal."""
    from bot.app import build_assistant

    return build_assistant(settings, shared=False, **_telling(quiet))


def _cli_asker():
    from bot.cli_team import cli_user
    from bot.core.assistant import Asker

    return Asker(platform="cli", channel="terminal", user=cli_user())


def cmd_index(args: argparse.Namespace, settings: Settings) -> int:
    """Build or refresh the index and print its figures."""
    from bot.app import open_embedder
    from bot.core.retrieval.engine import build, clean_abandoned_builds

    clean_abandoned_builds(settings, _stderr)
    started = time.perf_counter()
    embedder = open_embedder(settings)
    loaded = time.perf_counter() - started
    report = build(settings, embedder, progress=ProgressBar("Embedding"))
    for error in report.errors:
        _stderr(f"Skipped {error}")
    from bot.app import read_checklists

    checklists, found = read_checklists(settings)
    checklist_errors = [e for e in found if e not in report.errors]
    for error in checklist_errors:
        _stderr(f"Checklist error: {error}")
    print(
        f"Indexed {report.passages} passages from {report.sections} sections of "
        f"{report.pages} page(s) in {report.seconds:.2f} s ({report.rate:.0f} passages/s; "
        f"{report.embedded} texts embedded, {report.reused} reused; "
        f"embedder {embedder.id} loaded in {loaded:.2f} s)."
    )
    print(f"Index: {report.path}")
    print(f"Checklists: {len(checklists)} ({len(checklist_errors)} file(s) with errors).")
    return 1 if report.errors or checklist_errors else 0


def cmd_ask(args: argparse.Namespace, settings: Settings) -> int:
    """Answer one question."""
    from bot.adapters.console import render_text
    from bot.core.retrieval.engine import EmptyQuestion, SmallTalk
    from bot.core.serialize import answer_to_dict

    question = " ".join(args.question)
    if not question.strip():
        args.parser.print_usage(sys.stderr)
        _stderr("playbook ask: give a question, e.g. playbook ask \"Qu'est-ce que l'open core ?\"")
        return EXIT_USAGE
    assistant = _assistant(settings, quiet=args.json)
    try:
        answer = assistant.ask(question, _cli_asker(), k=args.k, per_section=not args.all_passages)
    except SmallTalk as exc:  # a reply, not a usage error
        if args.json:
            said = {"question": question, "language": exc.language, "smalltalk": exc.act}
            print(json.dumps({**said, "reply": str(exc)}, ensure_ascii=False, indent=2))
        else:
            print(str(exc))
        return 0
    except EmptyQuestion as exc:
        _stderr(str(exc))
        return EXIT_USAGE
    if args.json:
        print(json.dumps(answer_to_dict(answer), ensure_ascii=False, indent=2))
    else:
        print(render_text(answer, color=sys.stdout.isatty()))
    return 0


def cmd_chat(args: argparse.Namespace, settings: Settings) -> int:
    """Run the terminal chat."""
    from bot.adapters.console import chat

    return chat(_assistant(settings), _cli_asker())


def cmd_sections(args: argparse.Namespace, settings: Settings) -> int:
    """Print the table of contents with anchors and links."""
    from bot.core.knowledge.documents import load_pages

    pages, errors = load_pages(
        settings.knowledge_dir,
        base_url=settings.base_url,
        link_root=settings.link_root,
        max_bytes=settings.max_page_bytes,
    )
    count = 0
    for page in pages:
        # Every page has its row (pages without headings, branch pages and bundles too),
        # named with the site's sections above it; its headings follow, indented.
        print(f"{' › '.join((*page.trail, page.title))}  (page)  {page.link}")
        for section in page.sections:
            if section.anchor:  # the text before the first heading is the page's own row
                count += 1
                indent = "  " * max(1, section.level - 1)
                print(f"{indent}{section.title}  #{section.anchor}  {section.link}")
    print(f"{len(pages)} page(s), {count} heading(s).")
    for error in errors:
        _stderr(f"Skipped {error}")
    return 0


def _params(pairs: Sequence[str]):
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
    from bot.core.retrieval.evaluation import evaluate, load_questions, summarise

    questions = load_questions(Path(args.file))
    engine = _engine(settings, quiet=args.json, params=_params(args.param or []))
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
    if baseline is not None:
        print("Without the re-ranker:")
        _print_summary(baseline)
        print(f"With the re-ranker {engine.reranker.id} (top {engine.reranker.top}):")
    _print_summary(summary)
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


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    """Run the bot on the platforms whose credentials are set; without any, the terminal chat."""
    from bot.serve import ServeError, serve

    try:
        code = serve(
            settings,
            slack_http=args.slack_http,
            host=args.host,
            port=args.port,
            health_port=args.health_port,
        )
    except ServeError as exc:
        raise UserError(str(exc)) from exc
    if code is not None:
        return code
    _stderr(
        "No chat platform configured (set SLACK_BOT_TOKEN for Slack, DISCORD_TOKEN for "
        "Discord). Starting the terminal chat."
    )
    return cmd_chat(args, settings)


def cmd_config(args: argparse.Namespace, settings: Settings) -> int:
    """Print the effective configuration, secrets masked."""
    from bot.config import effective_config

    rows = effective_config(settings)
    width = max(len(name) for name, _ in rows)
    for name, value in rows:
        print(f"{name:<{width}}  {value if value != '' else '(unset)'}")
    return 0


def _health_port(raw: str) -> int:
    try:
        return parse_port(raw, "--health-port")
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``playbook`` command."""
    parser = argparse.ArgumentParser(
        prog="playbook",
        description="Answers questions about commercialising open source from your knowledge "
        "base, quoting and citing its passages.",
    )
    parser.add_argument("--version", action="version", version=f"playbook {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("index", help="build or refresh the index of the knowledge base")
    p.set_defaults(func=cmd_index)

    p = sub.add_parser("ask", help="answer one question")
    p.add_argument("question", nargs="*", help="the question, in French or English")
    p.add_argument("--json", action="store_true", help="print the answer as JSON")
    p.add_argument("-k", type=int, default=None, help="how many passages (default 3)")
    p.add_argument(
        "--all-passages",
        action="store_true",
        help="allow several passages of the same section",
    )
    p.set_defaults(func=cmd_ask, parser=p)

    p = sub.add_parser("chat", help="ask questions in an interactive terminal chat")
    p.set_defaults(func=cmd_chat)

    p = sub.add_parser("sections", help="list the sections with their anchors and links")
    p.set_defaults(func=cmd_sections)

    p = sub.add_parser(
        "eval",
        help="score the answers on a labelled question file (with PLAYBOOK_RERANKER set: "
        "with and without the re-ranker)",
    )
    p.add_argument(
        "file", help="YAML list of {question, sections} (or section, page, answer, kind)"
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

    p = sub.add_parser("serve", help="run the bot (terminal chat when no token is set)")
    p.add_argument(
        "--slack-http",
        action="store_true",
        help="Slack over HTTP (Events API) even when SLACK_APP_TOKEN is set",
    )
    p.add_argument("--host", default=os.environ.get("PLAYBOOK_HOST", "127.0.0.1"))
    p.add_argument(
        "--port",
        type=int,
        default=int(os.environ.get("PLAYBOOK_PORT", "3000")),
        help="port of --slack-http (default PLAYBOOK_PORT, 3000; 0: a free port, logged)",
    )
    p.add_argument(
        "--health-port",
        type=_health_port,
        default=None,
        help="port of /healthz and /metrics (default PLAYBOOK_HEALTH_PORT, 9090; 0: off; "
        "auto: a free port, logged)",
    )
    p.set_defaults(func=cmd_serve)
    add_team_commands(sub)
    add_discord_commands(sub)
    p = sub.add_parser("config", help="print the effective configuration (secrets masked)")
    p.set_defaults(func=cmd_config)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``playbook``. Returns the process exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return EXIT_USAGE
    if args.command == "ask" and args.k is not None and args.k < 1:
        parser.error("-k must be at least 1")
    from bot.app import RerankerUnavailable, StoreUnavailable
    from bot.core.knowledge.documents import KnowledgeDirError
    from bot.core.knowledge.embedders import EmbedderError
    from bot.core.retrieval.evaluation import EvalFileError
    from bot.core.team.progress import ItemNotFound
    from bot.core.team.report import ReportError

    try:
        load_dotenv()  # platform variables (SLACK_*, DISCORD_*) may come from .env too
        settings = Settings.from_env()
        return int(args.func(args, settings))
    except StoreUnavailable as exc:
        _stderr(f"playbook: {exc}")
        return 1
    except (
        UserError,
        TeamCommandError,
        DiscordCommandError,
        KnowledgeDirError,
        EmbedderError,
        RerankerUnavailable,
        EvalFileError,
        ItemNotFound,
        ReportError,
        ValueError,
    ) as exc:
        _stderr(f"playbook: {exc}")
        return EXIT_USAGE
    except KeyboardInterrupt:
        _stderr("")
        return 130
    except Exception as exc:  # the last line of defence: no traceback for users
        if os.environ.get("PLAYBOOK_DEBUG"):
            raise
        _stderr(
            f"playbook: unexpected error ({type(exc).__name__}: {exc}). "
            "Run again with PLAYBOOK_DEBUG=1 to see the details."
        )
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
