"""Terminal rendering and the interactive terminal chat."""

from __future__ import annotations

import json
import secrets
import sys
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, TextIO

from bot.core import (
    ANSWER,
    APOLOGY,
    MENU,
    NONE_CHOICE,
    Conversation,
    Reply,
    answer_to_dict,
    conversation_key,
)

if TYPE_CHECKING:
    from bot.core import Answer, Asker, Assistant, Checklist, ChecklistState


BOLD, DIM, RESET = "\x1b[1m", "\x1b[2m", "\x1b[0m"
HELP = (
    "Type a question in French or English.\n"
    "  /sections        list the sections of the knowledge base\n"
    "  /good [comment]  the last answer helped (👍)\n"
    "  /bad [comment]   the last answer did not help (👎), then pick the section that answers\n"
    "  /new             start a new conversation (follow-ups read the one before)\n"
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


def _pick_section(
    conversation: Conversation, menu: Reply, asker: Asker, read: Callable[[str], str], out: TextIO
) -> None:
    """After /bad: the menu of the closest sections, numbered, and "0" for none; the choice
    goes to the chat, which keeps it as what answers the question (Enter keeps nothing)."""
    *sections, none = menu.choices
    print(menu.text, file=out)
    for number, choice in enumerate(sections, start=1):
        print(f"  {number}. {choice.label}", file=out)
    print(f"  0. {none.label}", file=out)
    try:
        picked = read("number (Enter: skip) › ").strip()
    except (EOFError, KeyboardInterrupt):
        return
    if not picked:
        return
    if not picked.isdigit() or int(picked) > len(sections):
        print(f"No choice {picked!r}; nothing kept.", file=out)
        return
    value = sections[int(picked) - 1].value if int(picked) else NONE_CHOICE
    print(conversation.pick(menu.answer_id, value, asker).text, file=out)


def _rate(
    conversation: Conversation,
    last: str | None,
    asker: Asker,
    good: bool,
    comment: str,
    read: Callable[[str], str],
    out: TextIO,
) -> None:
    """``/good`` or ``/bad [comment]`` on the last answer (kept under ``last``): the chat
    stores the vote; after ``/bad``, it offers the sections to pick from."""
    if last is None:
        print("Ask a question first; /good or /bad then rates its answer.", file=out)
        return
    reply = conversation.vote(last, good, asker, comment=comment or None)
    if reply.kind == APOLOGY:
        print("Sorry, the feedback could not be saved (the database failed).", file=out)
        return
    if not reply.answer_id:  # not about the answer: it is gone
        print(reply.text, file=out)
        return
    print("Thanks, your feedback is saved.", file=out)
    if reply.kind == MENU:
        _pick_section(conversation, reply, asker, read, out)


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
    conversation = Conversation(assistant)
    session = new_session()  # the terminal's conversation: follow-ups read its last turn
    last: str | None = None  # the id of the last answer, for /good and /bad
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
        elif command == "/new":
            session, last = new_session(), None
            print("New conversation.", file=out)
        elif command in ("/good", "/bad"):
            _rate(conversation, last, asker, command == "/good", rest.strip(), read, out)
        elif command.startswith("/"):
            print(
                f"Unknown command {command!r}. Commands: /help, /sections, /good, /bad, /new, "
                "/quit.",
                file=out,
            )
        else:
            reply = conversation.compose(  # one person: the answers are kept in memory only
                line, asker, durable=False, conversation=_key(asker, session)
            )
            if reply.kind == ANSWER and reply.answer is not None:
                last = reply.answer_id
                if reply.understood:
                    print(reply.understood, file=out)
                print(render_text(reply.answer, color=color), file=out)
            else:
                print(reply.text, file=out)


def new_session() -> str:
    """A new terminal conversation's name."""
    return secrets.token_hex(6)


def _key(asker: Asker, session: str) -> str:
    return conversation_key(asker.platform, asker.channel, session)


def reply_json(question: str, reply: Reply) -> dict[str, object]:
    """One reply of ``playbook chat --json``: ``playbook ask --json``'s answer (or, for small
    talk and notices, the question, language, kind and reply) plus ``context``: whether the
    message was read in the conversation's context and what it was understood as."""
    context = {"used": bool(reply.understood), "understood": reply.understood}
    if reply.kind == ANSWER and reply.answer is not None:
        return {**answer_to_dict(reply.answer), "context": context}
    said = {"question": question, "language": reply.language, "kind": reply.kind}
    return {**said, "reply": reply.text, "context": context}


def chat_json(assistant: Assistant, asker: Asker, lines: Iterable[str], out: TextIO) -> int:
    """``playbook chat --json``: one message per line of ``lines``, one JSON object per reply
    on ``out`` (one line each), the conversation kept across lines; a line ``/new`` starts a
    new conversation, an empty line is skipped. Returns an exit code."""
    conversation = Conversation(assistant)
    session = new_session()
    for raw in lines:
        line = raw.strip()
        if not line:
            continue
        if line == "/new":
            session = new_session()
            continue
        reply = conversation.compose(line, asker, durable=False, conversation=_key(asker, session))
        print(json.dumps(reply_json(line, reply), ensure_ascii=False), file=out, flush=True)
    return 0


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
