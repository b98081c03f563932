"""Terminal rendering and the interactive terminal chat."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import TextIO

from bot.core.engine import EmptyQuestion, KnowledgeEngine
from bot.core.types import Answer

BOLD, DIM, RESET = "\x1b[1m", "\x1b[2m", "\x1b[0m"


def answer_to_dict(answer: Answer) -> dict:
    """The answer as plain data (what ``playbook ask --json`` prints)."""
    return {
        "question": answer.question,
        "language": answer.language,
        "lead": answer.lead,
        "abstained": answer.abstained,
        "quotes": [
            {
                "text": q.text,
                "highlight": q.highlight,
                "section": q.citation.section,
                "breadcrumb": list(q.citation.breadcrumb),
                "link": q.citation.link,
                "score": q.score,
            }
            for q in answer.quotes
        ],
        "suggestions": [
            {"section": c.section, "breadcrumb": list(c.breadcrumb), "link": c.link}
            for c in answer.suggestions
        ],
        "notes": list(answer.notes),
        "scores": answer.scores,
    }


def render_text(answer: Answer, *, color: bool = False) -> str:
    """Render an answer for a terminal: lead line, numbered quotes with the highlighted sentence
    (bold when ``color``, else between ``**``), and each citation with its link."""
    bold, dim, reset = (BOLD, DIM, RESET) if color else ("**", "", "**")
    lines = [f"({note})" for note in answer.notes]
    lines.append(answer.lead)
    for number, quote in enumerate(answer.quotes, start=1):
        text = f"{quote.before}{bold}{quote.highlight}{reset}{quote.after}"
        text = text.replace("****", "")  # an empty highlight in plain mode
        body = "\n   ".join(text.splitlines())
        lines.append("")
        lines.append(f"{number}. « {body} »")
        lines.append(f"   — {quote.citation.label}")
        lines.append(f"   {dim}{quote.citation.link}{RESET if color else ''}")
    for citation in answer.suggestions:
        lines.append(f"  • {citation.label} — {citation.link}")
    return "\n".join(lines)


def chat(
    engine: KnowledgeEngine,
    *,
    read: Callable[[str], str] = input,
    out: TextIO = sys.stdout,
    color: bool | None = None,
) -> int:
    """Run the interactive terminal chat until ``/quit`` or end of input. Returns an exit code."""
    color = out.isatty() if color is None else color
    print(
        "playbook chat — ask a question about commercialising open source "
        "(/help for commands, /quit to leave).",
        file=out,
    )
    while True:
        try:
            line = read("\n› ").strip()
        except EOFError:
            print(file=out)
            return 0
        except KeyboardInterrupt:
            print(file=out)
            return 0
        if not line:
            continue
        if line in ("/quit", "/exit", "/q"):
            return 0
        if line == "/help":
            print(
                "Type a question in French or English. /sections lists the sections; /quit leaves.",
                file=out,
            )
            continue
        if line == "/sections":
            for citation in engine.index.sections:
                print(f"{citation.label} — {citation.link}", file=out)
            continue
        if line.startswith("/"):
            print(
                f"Unknown command {line.split()[0]!r}. Commands: /help, /sections, /quit.", file=out
            )
            continue
        try:
            answer = engine.ask(line)
        except EmptyQuestion as exc:
            print(str(exc), file=out)
            continue
        print(render_text(answer, color=color), file=out)
