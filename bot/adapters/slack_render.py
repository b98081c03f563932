"""Block Kit rendering: pure functions from core results to Slack message payloads.

Every piece of user or document text is escaped (``& < >``), so no reply can ping ``<!channel>``,
``<!here>``, ``<!everyone>`` or a user; payloads always fit Slack's limits (50 blocks, 3,000
characters a section, about 12,000 in all), whatever the knowledge base holds.
"""

from __future__ import annotations

import re

from bot.core import COMMAND_LANGUAGE, Answer, ChecklistState, Citation, ItemState, Quote, Reply
from bot.core.messages import message

MAX_BLOCKS = 50
MAX_SECTION = 3000
MAX_TOTAL = 11000  # Slack rejects messages past ~12-13k characters of blocks; keep a margin
MAX_HEADER = 150
MAX_FALLBACK = 3000
CHECKLIST_ACTION = "checklist_item"
ITEM_CHARS = 300  # a checklist item's text is cut here so that long checklists still fit
FEEDBACK_UP, FEEDBACK_DOWN, SHARE = "feedback_up", "feedback_down", "share_answer"
TEACH = "teach_section"  # the menu offered after 👎
OPTION_CHARS = 75  # Slack's limit on an option's text
_USER_ID = re.compile(r"^[UW][A-Z0-9]{2,}$")


def escape(text: str) -> str:
    """Escape the three characters Slack's mrkdwn gives meaning to."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def cut(text: str, limit: int) -> str:
    """``text`` shortened to ``limit`` characters, ending with ``…`` when cut."""
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


_OPEN_ENTITY = re.compile(r"&[a-z]*$")


def cut_escaped(text: str, limit: int) -> str:
    """Escaped ``text`` shortened to ``limit`` characters like ``cut``, never inside an entity
    (``&amp;``): escaping after the cut would make it longer than ``limit``."""
    if len(text) <= limit:
        return text
    return _OPEN_ENTITY.sub("", text[: limit - 1]).rstrip() + "…"


def link(citation: Citation) -> str:
    """A mrkdwn link to a citation, labelled with its breadcrumb."""
    url = citation.link.replace("|", "%7C").replace(">", "%3E").replace("<", "%3C")
    return f"<{url}|{escape(citation.label)}>"


def _bold(text: str) -> str:
    """Bold each line of ``text`` (Slack's ``*bold*`` does not cross lines)."""
    lines = []
    for line in text.split("\n"):
        core = line.strip()
        lead = line[: len(line) - len(line.lstrip())]
        if core.startswith("- "):
            lead, core = lead + "- ", core[2:]
        lines.append(f"{lead}*{core}*" if core else line)
    return "\n".join(lines)


def quote_mrkdwn(quote: Quote) -> str:
    """The quote as a mrkdwn block quote with its highlighted sentence in bold."""
    parts = escape(quote.before) + _bold(escape(quote.highlight)) + escape(quote.after)
    return "\n".join(f"> {line}" if line else ">" for line in parts.split("\n"))


def _section(text: str) -> dict:
    return {"type": "section", "text": {"type": "mrkdwn", "text": cut(text, MAX_SECTION)}}


def _context(text: str) -> dict:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": cut(text, MAX_SECTION)}]}


def _button(text: str, action_id: str, value: str, style: str | None = None) -> dict:
    button = {
        "type": "button",
        "text": {"type": "plain_text", "text": text, "emoji": True},
        "action_id": action_id,
        "value": value,
    }
    if style:
        button["style"] = style
    return button


def _size(block: dict) -> int:
    return len(str(block))


def fit_blocks(blocks: list[dict], tail: list[dict], language: str) -> list[dict]:
    """Keep ``blocks`` within Slack's limits, always ending with ``tail`` (e.g. the buttons).

    Blocks that do not fit are dropped from the end and replaced by a note in ``language``.
    """
    room = MAX_BLOCKS - len(tail) - 1
    budget = MAX_TOTAL - sum(_size(b) for b in tail) - 200
    kept: list[dict] = []
    for block in blocks:
        if len(kept) >= room or _size(block) > budget:
            kept.append(_context(message(language, "too_long")))
            break
        kept.append(block)
        budget -= _size(block)
    return kept + tail


def answer_fallback(answer: Answer) -> str:
    """The plain-text version of an answer (notifications, clients without blocks)."""
    lines = [answer.lead]
    for quote in answer.quotes:
        lines.append(f"“{quote.text}” — {quote.citation.label} {quote.citation.link}")
    for citation in answer.suggestions:
        lines.append(f"• {citation.label} {citation.link}")
    return cut_escaped(escape("\n".join(lines)), MAX_FALLBACK)


def answer_payload(
    answer: Answer,
    *,
    answer_id: str | None = None,
    share: bool = False,
    shared_by: str | None = None,
    understood: str = "",
) -> dict:
    """Block Kit payload (``text`` + ``blocks``) of an answer.

    ``understood``: what a follow-up was understood as ("About “The SaaS model”:"), shown
    first.
    With ``answer_id`` the message has 👍/👎 buttons; with ``share`` also a "Share in channel"
    button (for private answers); ``shared_by`` (a user id) adds who shared it.
    """
    lang = answer.language
    body: list[dict] = [_section(f"*{escape(understood)}*")] if understood else []
    notes = "".join(f"\n_{escape(n)}_" for n in answer.notes)
    body.append(_section(f"{escape(answer.lead)}{notes}"))
    for quote in answer.quotes:
        body.append(_section(quote_mrkdwn(quote)))
        body.append(_context(f":book: {link(quote.citation)}"))
    if answer.suggestions:
        body.append(_section("\n".join(f"• {link(c)}" for c in answer.suggestions)))
    tail: list[dict] = []
    if shared_by and _USER_ID.match(shared_by):
        # A Slack user id (not user text): the mention says who shared the answer.
        tail.append(_context(message(lang, "shared_by", user=f"<@{shared_by}>")))
    if answer_id:
        buttons = [
            _button(f"👍 {message(lang, 'helpful')}", FEEDBACK_UP, answer_id),
            _button(f"👎 {message(lang, 'not_helpful')}", FEEDBACK_DOWN, answer_id),
        ]
        if share:
            buttons.insert(0, _button(message(lang, "share"), SHARE, answer_id, "primary"))
        tail.append({"type": "actions", "elements": buttons})
    fallback = answer_fallback(answer)
    if understood:
        fallback = cut_escaped(f"{escape(understood)}\n{fallback}", MAX_FALLBACK)
    return {"text": fallback, "blocks": fit_blocks(body, tail, lang)}


def reply_payload(reply: Reply, share: bool = False) -> dict:
    """The message for a conversation's reply: the answer with its buttons (and "Share in
    channel" when ``share``), or the reply's short text."""
    if reply.answer is not None:
        return answer_payload(
            reply.answer, answer_id=reply.answer_id, share=share, understood=reply.understood
        )
    return {"text": reply.text}


def item_block_id(checklist_id: str, item_id: str, language: str) -> str:
    """The block id of a checklist item's checkbox: ``checklist|item``, then ``|language``
    unless the checklist was posted in ``COMMAND_LANGUAGE`` (the messages posted before the
    language was kept have none), so a tick re-renders it in the language it was posted in."""
    block_id = f"{checklist_id}|{item_id}"
    return block_id if language == COMMAND_LANGUAGE else f"{block_id}|{language}"


def read_item_block_id(block_id: str) -> tuple[str, str, str]:
    """``(checklist id, item id, language)`` from a block id made by ``item_block_id``."""
    checklist_id, _, rest = block_id.partition("|")
    item_id, _, language = rest.partition("|")
    return checklist_id, item_id, language or COMMAND_LANGUAGE


def _checklist_head(state: ChecklistState, language: str) -> list[dict]:
    checklist = state.checklist
    progress = message(language, "progress", count=f"*{state.done_count}/{len(state.items)}*")
    line = f"{progress} · `{checklist.id}`"
    if checklist.description:
        line = f"{escape(checklist.description)}\n{line}"
    title = {"type": "plain_text", "text": cut(checklist.title, MAX_HEADER)}
    return [{"type": "header", "text": title}, _context(line)]


def _item_block(state: ChecklistState, s: ItemState, language: str) -> dict:
    """An item's section: number, text, its citation when not the checklist's, who ticked it,
    and its checkbox."""
    checklist = state.checklist
    text = f"*{s.number}.* {escape(cut(s.item.text, ITEM_CHARS))}"
    if s.item.citation and s.item.citation != checklist.citation:
        text += f"\n_{link(s.item.citation)}_"
    if s.tick:
        who = escape(s.tick.name or s.tick.by)
        text += f"\n:white_check_mark: {who} · {s.tick.at:%Y-%m-%d %H:%M} UTC"
    option = {
        "text": {"type": "plain_text", "text": message(language, "item_done")},
        "value": f"{checklist.id}|{s.item.id}",
    }
    accessory = {"type": "checkboxes", "action_id": CHECKLIST_ACTION, "options": [option]}
    if s.done:
        accessory["initial_options"] = [option]
    block_id = item_block_id(checklist.id, s.item.id, language)  # the listener reads it back
    return {**_section(text), "block_id": block_id, "accessory": accessory}


def checklist_payload(state: ChecklistState, language: str) -> dict:
    """Block Kit payload of a checklist with a checkbox per item and who ticked it, its own
    words (done, retired…) in ``language``."""
    checklist = state.checklist
    head = _checklist_head(state, language)
    items = [_item_block(state, s, language) for s in state.items]
    tail = []
    if checklist.citation:
        tail.append(_context(f":book: {link(checklist.citation)}"))
    if state.retired:
        retired = "; ".join(escape(cut(t.item_text, 80)) for t in state.retired[:5])
        tail.append(_context(message(language, "retired", items=retired)))
    count = f"{state.done_count}/{len(state.items)}"
    text = escape(
        cut(
            message(language, "checklist_summary", title=checklist.title, count=count), MAX_FALLBACK
        )
    )
    blocks = head + fit_blocks(items, tail, language)[: MAX_BLOCKS - len(head)]
    return {"text": text, "blocks": blocks}


def checklist_index_payload(checklists: list, language: str, suggestions: bool = False) -> dict:
    """The list of checklists (or of suggestions for an unknown name) as a payload."""
    lines = [
        f"• `{c.id}` — {escape(c.title)} ({message(language, 'item_count', count=len(c.items))})"
        for c in checklists
    ]
    intro = message(language, "no_checklist" if suggestions else "checklists_intro")
    text = intro + "\n" + "\n".join(lines)
    return {
        "text": escape(cut(text, MAX_FALLBACK)),
        "blocks": fit_blocks([_section(text)], [], language),
    }


def teach_menu_payload(reply: Reply) -> dict:
    """The private message after 👎: "Which section answers it?" with the menu of the reply's
    choices (Slack filters the options as the user types), each carrying the answer's id."""
    options = [
        {
            "text": {"type": "plain_text", "text": cut(choice.label, OPTION_CHARS)},
            "value": f"{reply.answer_id}|{choice.value}",
        }
        for choice in reply.choices
    ]
    menu = {
        "type": "static_select",
        "action_id": TEACH,
        "placeholder": {"type": "plain_text", "text": message(reply.language, "choose_section")},
        "options": options,
    }
    return {
        "text": reply.text,
        "blocks": [
            {"type": "section", "text": {"type": "mrkdwn", "text": reply.text}, "accessory": menu}
        ],
    }
