"""The ``playbook`` command: index, ask, chat, sections, serve, web, config; ``eval`` and
``glossary`` live in ``cli_eval``, ``checklist``, ``report`` and ``examples`` in ``cli_team``,
``discord`` in ``cli_discord``.

Heavy modules are imported inside the commands, so ``playbook --help`` answers at once. Errors a
user can cause reach them as one clear line and an exit code, never as a traceback.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence

from bot import __version__
from bot.cli_common import EXIT_USAGE, ProgressBar, UserError, _stderr, telling
from bot.cli_discord import DiscordCommandError, add_discord_commands
from bot.cli_eval import add_eval_commands
from bot.cli_eval import fusion_params as _params  # noqa: F401  (bench_learning imports it)
from bot.cli_team import TeamCommandError, add_team_commands
from bot.config import Settings, load_dotenv, parse_port


def _assistant(settings: Settings, *, quiet: bool = False):
    """An assistant for ``ask`` and ``chat``: one person at the terminal."""
    from bot.app import build_assistant

    return build_assistant(settings, shared=False, **telling(quiet))


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
    """Run the terminal chat (``--json``: one message per line of stdin, one JSON reply per
    line of stdout)."""
    from bot.adapters.console import chat, chat_json

    if getattr(args, "json", False):
        return chat_json(_assistant(settings, quiet=True), _cli_asker(), sys.stdin, sys.stdout)
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


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    """Run the bot on the platforms whose credentials are set; without any, the terminal chat."""
    from bot.serve import ServeError, serve

    try:
        code = serve(
            settings,
            slack_http=args.slack_http,
            host=settings.host if args.host is None else args.host,
            port=settings.port if args.port is None else args.port,
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


DEFAULT_WEB_PORT = 8080  # ``playbook web`` without --port or PLAYBOOK_WEB_PORT


def cmd_web(args: argparse.Namespace, settings: Settings) -> int:
    """Serve the maintainers' pages (overview, gaps, feedback, taught examples, try a
    question, checklists) until interrupted."""
    from bot.serve import ServeError, serve_pages

    port = args.port if args.port is not None else settings.web_port or DEFAULT_WEB_PORT
    try:
        return serve_pages(settings, host=args.host or settings.web_host, port=port)
    except ServeError as exc:
        raise UserError(str(exc)) from exc


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


def _add_serve_command(sub: argparse._SubParsersAction) -> None:
    """Register ``playbook serve`` and ``playbook web``; their hosts and ports default to the
    settings'."""
    p = sub.add_parser("serve", help="run the bot (terminal chat when no token is set)")
    p.add_argument(
        "--slack-http",
        action="store_true",
        help="Slack over HTTP (Events API) even when SLACK_APP_TOKEN is set",
    )
    p.add_argument("--host", default=None)
    p.add_argument(
        "--port",
        type=int,
        default=None,
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

    p = sub.add_parser("web", help="the maintainers' web pages: questions, gaps, feedback, ...")
    p.add_argument("--host", default=None, help="address (default PLAYBOOK_WEB_HOST, 127.0.0.1)")
    p.add_argument(
        "--port",
        type=_health_port,
        default=None,
        help=f"port (default PLAYBOOK_WEB_PORT, else {DEFAULT_WEB_PORT}; auto: a free port)",
    )
    p.set_defaults(func=cmd_web)


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
    p.add_argument(
        "--json",
        action="store_true",
        help="read one message per line of stdin, write one JSON reply per line (/new: a new "
        "conversation)",
    )
    p.set_defaults(func=cmd_chat)

    p = sub.add_parser("sections", help="list the sections with their anchors and links")
    p.set_defaults(func=cmd_sections)

    add_eval_commands(sub)

    _add_serve_command(sub)
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

    settings: Settings | None = None
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
        if settings is not None and settings.debug:
            raise
        _stderr(
            f"playbook: unexpected error ({type(exc).__name__}: {exc}). "
            "Run again with PLAYBOOK_DEBUG=1 to see the details."
        )
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
