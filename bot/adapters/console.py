"""Terminal rendering and the interactive terminal chat."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, TextIO

from bot.core.messages import message
from bot.core.retrieval.engine import EmptyQuestion
from bot.core.team.checklists import Checklist
from bot.core.team.learning import choice_labels, taught_text
from bot.core.team.progress import ChecklistState
from bot.core.types import Answer

if TYPE_CHECKING:
    from bot.core.assistant import Asker, Assistant


BOLD, DIM, RESET = "\x1b[1m", "\x1b[2m", "\x1b[0m"
HELP = (
    "Type a question in French or English.\n"
    "  /sections        list the sections of the knowledge base\n"
    "  /good [comment]  the last answer helped (👍)\n"
    "  /bad [comment]   the last answer did not help (👎), then pick the section that answers\n"
    "  /quit            leave"
)


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


def _ask_which_section(
    assistant: Assistant, answer: Answer, asker: Asker, read: Callable[[str], str], out: TextIO
) -> None:
    """After /bad: the closest sections, numbered, and "0" for none; the choice is kept as
    what answers the question (Enter keeps nothing)."""
    choices = assistant.closest_sections(answer.question)
    lang = answer.language
    print(message(lang, "which_section"), file=out)
    for number, label in enumerate(choice_labels(choices), start=1):
        print(f"  {number}. {label}", file=out)
    print(f"  0. {message(lang, 'none_covers')}", file=out)
    try:
        picked = read("number (Enter: skip) › ").strip()
    except (EOFError, KeyboardInterrupt):
        return
    if not picked:
        return
    if not picked.isdigit() or int(picked) > len(choices):
        print(f"No choice {picked!r}; nothing kept.", file=out)
        return
    key = choices[int(picked) - 1][0] if int(picked) else None
    print(taught_text(lang, assistant.teach(answer.question, key, asker)), file=out)


def _rate(
    assistant: Assistant,
    last: Answer | None,
    asker: Asker,
    good: bool,
    comment: str,
    read: Callable[[str], str],
    out: TextIO,
) -> None:
    """``/good`` or ``/bad [comment]``: store the vote on the last answer; after ``/bad``,
    ask which section answers it."""
    if last is None:
        print("Ask a question first; /good or /bad then rates its answer.", file=out)
        return
    saved = assistant.feedback(last, 1 if good else -1, asker, comment or None)
    if saved is None:
        print("Sorry, the feedback could not be saved (the database failed).", file=out)
        return
    print("Thanks, your feedback is saved.", file=out)
    if not good:
        _ask_which_section(assistant, last, asker, read, out)


def chat(
    assistant: Assistant,
    asker: Asker,
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
    engine = assistant.engine
    last: Answer | None = None
    while True:
        try:
            line = read("\n› ").strip()
        except (EOFError, KeyboardInterrupt):
            print(file=out)
            return 0
        if not line:
            continue
        command, _, rest = line.partition(" ")
        if command in ("/quit", "/exit", "/q"):
            return 0
        if command == "/help":
            print(HELP, file=out)
        elif command == "/sections" and engine is not None:
            for citation in engine.index.sections:
                print(f"{citation.label} — {citation.link}", file=out)
        elif command in ("/good", "/bad"):
            _rate(assistant, last, asker, command == "/good", rest.strip(), read, out)
        elif command.startswith("/"):
            print(
                f"Unknown command {command!r}. Commands: /help, /sections, /good, /bad, /quit.",
                file=out,
            )
        else:
            try:
                last = assistant.ask(line, asker)
            except EmptyQuestion as exc:
                print(str(exc), file=out)
                continue
            print(render_text(last, color=color), file=out)


def render_checklist(state: ChecklistState) -> str:
    """A checklist with its progress for a terminal: ``[x]`` done (by whom, when), ``[ ]`` not,
    each item's citation, and ticks on items that no longer exist."""
    checklist = state.checklist
    lines = [
        f"{checklist.title} — {state.done_count}/{len(state.items)} done  (id: {checklist.id})"
    ]
    if checklist.description:
        lines.append(checklist.description)
    for s in state.items:
        mark = "[x]" if s.done else "[ ]"
        who = f"  ({s.tick.by}, {s.tick.at:%Y-%m-%d %H:%M} UTC)" if s.tick else ""
        lines.append(f"  {s.number}. {mark} {s.item.text}{who}")
        if s.item.citation and s.item.citation != checklist.citation:
            lines.append(f"        — {s.item.citation.label}: {s.item.citation.link}")
    if checklist.citation:
        lines.append(f"Source: {checklist.citation.label} — {checklist.citation.link}")
    if state.retired:
        lines.append("Retired — ticked on items that are no longer in the knowledge base:")
        lines += [
            f"  [x] {t.item_text}  ({t.by}, {t.at:%Y-%m-%d %H:%M} UTC)" for t in state.retired
        ]
    return "\n".join(lines)


def render_checklist_index(checklists: list[Checklist]) -> str:
    """The list of checklists: id, title, item count and source sections."""
    lines = []
    for c in checklists:
        sections = ", ".join(c.sections) or "-"
        lines.append(f"{c.id}\n    {c.title} — {len(c.items)} items ({c.source}; {sections})")
    return "\n".join(lines)
