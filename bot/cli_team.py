"""``playbook checklist`` and ``playbook report``: team checklists and usage figures."""

from __future__ import annotations

import argparse
import getpass
import json
import sys
from pathlib import Path

from bot.app import open_board, open_checklists, open_engine, open_store
from bot.config import Settings


class TeamCommandError(Exception):
    """A checklist or report request that cannot be served; shown as one line."""


def cli_user() -> str:
    """Who runs the command: the login name, or ``local``."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "local"


def cmd_checklist(args: argparse.Namespace, settings: Settings) -> int:
    """List the checklists, or show one with the channel's progress and change it."""
    from bot.adapters.console import render_checklist, render_checklist_index
    from bot.core.team.store import conversation_key

    book = open_checklists(settings)
    if not args.name:
        if args.json:
            print(json.dumps([_summary(c) for c in book.checklists], ensure_ascii=False, indent=2))
        else:
            print(render_checklist_index(book.checklists))
        _note_progress_without_checklist(settings, book)
        return 0
    found = book.find(" ".join(args.name))
    if found.checklist is None:
        names = "; ".join(f"{c.id} ({c.title})" for c in found.suggestions)
        raise TeamCommandError(f"No checklist called {' '.join(args.name)!r}. Closest: {names}.")
    board = open_board(settings, book)
    conversation = conversation_key("cli", "local", args.channel)
    user = args.user or cli_user()
    checklist = found.checklist
    if args.reset:
        state = board.reset(conversation, checklist)
    else:
        state = board.state(conversation, checklist)
        for ref in args.tick or []:
            state = board.tick(conversation, checklist, ref, user)
        for ref in args.untick or []:
            state = board.tick(conversation, checklist, ref, user, done=False)
    if args.json:
        from bot.core.team.progress import state_to_dict

        print(json.dumps(state_to_dict(state), ensure_ascii=False, indent=2))
    else:
        print(render_checklist(state))
    return 0


def _note_progress_without_checklist(settings: Settings, book) -> None:
    """Name, on stderr, the checklists that have stored progress but are no longer in the
    book (a list the pages no longer hold, or no longer make a checklist): their ticks are
    kept, and come back with the checklist."""
    from bot.app import StoreUnavailable

    try:
        stored = open_store(settings).checklists_with_progress()
    except StoreUnavailable:
        return  # the list needs no database; without one there is no progress to speak of
    gone = sorted(stored - {c.id for c in book.checklists})
    if gone:
        print(
            f"Progress is stored for {len(gone)} checklist(s) the knowledge base no longer has: "
            f"{', '.join(gone)}. It is kept: a list comes back as a checklist with "
            "'checklists: true' (or its heading) in its page's front matter, or with its id "
            "in checklists/aliases.yaml.",
            file=sys.stderr,
        )


def _summary(checklist) -> dict:
    return {
        "id": checklist.id,
        "title": checklist.title,
        "items": len(checklist.items),
        "source": checklist.source,
        "sections": checklist.sections,
    }


def cmd_report(args: argparse.Namespace, settings: Settings) -> int:
    """Print the usage report; ``--plot`` also draws it as a PNG, ``--csv`` writes its gaps."""
    from bot.core.team.report import ReportError, build_report, gaps_csv, plot_report, render_report

    store = open_store(settings)
    report = build_report(store, days=args.days, **_gap_helpers(settings, store))
    if args.csv:
        text = gaps_csv(report)
        if args.csv == "-":
            print(text, end="")
            return 0
        Path(args.csv).write_text(text, encoding="utf-8")
    if args.plot:
        try:
            plot_report(report, Path(args.plot))
        except ReportError as exc:
            raise TeamCommandError(str(exc)) from exc
    if args.json:
        print(json.dumps(report, ensure_ascii=False, indent=2))
    else:
        print(render_report(report))
        if args.plot:
            print(f"\nChart written to {args.plot}")
        if args.csv:
            print(f"Gaps written to {args.csv}")
    return 0


def _gap_helpers(settings: Settings, store) -> dict:
    """What the report needs to group its gaps and name their closest sections: the questions
    marked "none" in the chat, and the engine's query vectors and ranking (the engine is
    opened only when there are gaps to group)."""
    from bot.core.team.learning import gather, knowledge_key

    not_covered = gather(store.taught(knowledge_key(settings.knowledge_dir)))[1]
    if not not_covered and not store.abstained_count():
        return {"not_covered": not_covered}
    engine = open_engine(settings)

    def embed(texts: list[str]):
        return engine.retriever.query_vectors(texts)

    def closest(question: str) -> list[str]:
        return [c.section for _k, c in engine.closest_sections(question, 3)]

    return {"not_covered": not_covered, "embed": embed, "closest": closest}


def _section_keys(settings: Settings) -> set[str] | None:
    """The section keys of the current index (``None`` when there is no readable index)."""
    from bot.core.knowledge.index import IndexCorrupt, IndexMissing, load_index
    from bot.core.knowledge.sections import SectionKeys

    try:
        return set(SectionKeys(load_index(settings.index_dir)).keys)
    except (IndexMissing, IndexCorrupt):
        return None


def cmd_examples(args: argparse.Namespace, settings: Settings) -> int:
    """List the examples the team taught in the chat; remove or export them."""
    from bot.core.team.learning import export_yaml, gather, knowledge_key

    store = open_store(settings)
    examples, gaps = gather(store.taught(knowledge_key(settings.knowledge_dir)))
    if args.remove:
        chosen = [e for e in examples if str(e.ids[0]) in args.remove]
        unknown = set(args.remove) - {str(e.ids[0]) for e in chosen}
        if unknown:
            raise TeamCommandError(
                f"No learned example {', '.join(sorted(unknown))}; `playbook examples` lists them."
            )
        removed = store.forget_rows([i for e in chosen for i in e.ids])
        print(f"Removed {len(chosen)} learned example(s) ({removed} vote(s)).")
        return 0
    if args.export:
        text = export_yaml(examples)
        if args.export == "-":
            print(text, end="")
        else:
            Path(args.export).write_text(text, encoding="utf-8")
            print(f"Wrote {len(examples)} example(s) to {args.export}")
        return 0
    keys = _section_keys(settings)
    rows = [_example_row(e, keys) for e in examples]
    if args.json:
        print(json.dumps({"examples": rows, "gaps": len(gaps)}, ensure_ascii=False, indent=2))
        return 0
    if not rows:
        print("No example taught yet: after 👎, pick the section that answers in the chat.")
    for row in rows:
        aside = "  [set aside: its section is no longer in the pages]" if row["set_aside"] else ""
        print(
            f"#{row['id']}  {row['question']}\n      → {row['section']}  "
            f"({row['votes']} vote(s), {row['weight']:g}; {', '.join(row['platforms'])}; "
            f"last {row['last'][:16]}){aside}"
        )
    if gaps:
        print(f"\n{len(gaps)} question(s) marked as not covered: see `playbook report`.")
    return 0


def _example_row(example, keys: set[str] | None) -> dict:
    return {
        "id": example.ids[0],
        "question": example.question,
        "section": example.section_title,
        "page": example.section.split("#", 1)[0],
        "votes": example.votes,
        "weight": example.weight,
        "platforms": list(example.platforms),
        "first": example.first.isoformat(),
        "last": example.last.isoformat(),
        "set_aside": keys is not None and example.section not in keys,
    }


def add_team_commands(sub: argparse._SubParsersAction) -> None:
    """Add ``checklist`` and ``report`` to the ``playbook`` parser."""
    p = sub.add_parser("checklist", help="list the checklists, or show and tick one")
    p.add_argument("name", nargs="*", help="checklist id, title, alias or abbreviation")
    p.add_argument("--channel", default="default", help="whose progress (default: default)")
    p.add_argument("--json", action="store_true", help="print as JSON")
    p.add_argument("--tick", action="append", metavar="N", help="tick item N (number or id)")
    p.add_argument("--untick", action="append", metavar="N", help="untick item N")
    p.add_argument("--reset", action="store_true", help="clear the channel's progress")
    p.add_argument("--user", help="who ticks (default: your login name)")
    p.set_defaults(func=cmd_checklist)

    p = sub.add_parser("report", help="usage: questions, sections, gaps, feedback, latency")
    p.add_argument("--json", action="store_true", help="print the figures as JSON")
    p.add_argument("--plot", metavar="FILE.png", help="also draw the figures into a PNG")
    p.add_argument("--csv", metavar="FILE", help="write the gaps as CSV (- for stdout)")
    p.add_argument("--days", type=int, default=30, help="period in days (default 30)")
    p.set_defaults(func=cmd_report)

    p = sub.add_parser("examples", help="the examples the team taught in the chat")
    p.add_argument("--json", action="store_true", help="print them as JSON")
    p.add_argument("--remove", nargs="+", metavar="ID", help="remove these (ids from the list)")
    p.add_argument(
        "--export", metavar="FILE", help="write them in the examples.yaml format (- for stdout)"
    )
    p.set_defaults(func=cmd_examples)
