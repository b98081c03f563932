"""Discord rendering: pure functions from core results to embeds and component data.

User and document text is escaped (mentions and markdown), every message is sent with
``allowed_mentions`` none, and embeds stay within Discord's limits (description 4,096, 25
fields, 1,024 a field value, 6,000 in all), whatever the knowledge base holds.
"""

from __future__ import annotations

import discord

from bot.core import Answer, ChecklistState, Citation, Quote
from bot.core.messages import message

MAX_CONTENT = 2000
MAX_TITLE = 256
MAX_DESCRIPTION = 4096
MAX_FIELDS = 25
MAX_FIELD_NAME = 256
MAX_FIELD_VALUE = 1024
MAX_FOOTER = 2048
MAX_TOTAL = 6000
MAX_OPTIONS = 25
COLOR = 0x2C3E50
NO_MENTIONS = discord.AllowedMentions.none()  # what every message allows: nobody is pinged


def cut(text: str, limit: int) -> str:
    """``text`` shortened to ``limit`` characters, ending with ``…`` when cut."""
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def escape(text: str) -> str:
    """Neutralise mentions (@everyone, @here, <@id>, <@&role>, <#channel>) and markdown."""
    text = discord.utils.escape_mentions(text).replace("<@", "<\u200b@").replace("<#", "<\u200b#")
    return discord.utils.escape_markdown(text)


def md_link(citation: Citation) -> str:
    """A markdown link to a citation, labelled with its breadcrumb."""
    url = citation.link.replace("(", "%28").replace(")", "%29").replace(" ", "%20")
    label = escape(citation.label).replace("[", "(").replace("]", ")")
    return f"[{label}]({url})"


def quote_markdown(quote: Quote) -> str:
    """The quote as a markdown block quote with its highlighted sentence in bold."""
    lines = []
    for number, line in enumerate(quote.highlight.split("\n")):
        core = line.strip()
        lines.append(f"**{escape(core)}**" if core else "")
        if number == 0:
            lines[-1] = escape(quote.before.split("\n")[-1]) + lines[-1]
    text = escape("\n".join(quote.before.split("\n")[:-1]))
    body = (text + "\n" if text else "") + "\n".join(lines) + escape(quote.after)
    return "\n".join(f"> {line}" for line in body.split("\n"))


def embed_size(embed: discord.Embed) -> int:
    """The characters Discord counts towards the 6,000 limit."""
    return len(embed)


def answer_embed(answer: Answer, understood: str = "") -> discord.Embed:
    """An embed of the answer: what a follow-up was understood as (``understood``, first, in
    bold), the lead line, quoted passages, each citation a link field."""
    lines = [f"**{escape(understood)}**"] if understood else []
    lines.append(escape(answer.lead))
    for number, quote in enumerate(answer.quotes, start=1):
        lines.append(f"\n**{number}.** {escape(quote.citation.section)}\n{quote_markdown(quote)}")
    description = cut("\n".join(lines), MAX_DESCRIPTION - 200)
    embed = discord.Embed(description=description, color=COLOR)
    cited = [(f"{n}. {q.citation.section}", q.citation) for n, q in enumerate(answer.quotes, 1)]
    cited += [(c.section, c) for c in answer.suggestions]
    for name, citation in cited[:MAX_FIELDS]:
        embed.add_field(
            name=cut(escape(name), MAX_FIELD_NAME),
            value=cut(md_link(citation), MAX_FIELD_VALUE),
            inline=False,
        )
    if answer.notes:
        embed.set_footer(text=cut(escape(" ".join(answer.notes)), MAX_FOOTER))
    return fit(embed)


def fit(embed: discord.Embed) -> discord.Embed:
    """Bring the embed within 6,000 characters: shorten the description (down to 1,000
    characters), then drop fields from the end, then shorten the description further."""
    for floor in (1000, 1):
        if len(embed) > MAX_TOTAL and embed.description:
            excess = len(embed) - MAX_TOTAL
            embed.description = cut(embed.description, max(floor, len(embed.description) - excess))
        while floor > 1 and len(embed) > MAX_TOTAL and embed.fields:
            embed.remove_field(len(embed.fields) - 1)
    return embed


def checklist_embed(state: ChecklistState, language: str) -> discord.Embed:
    """An embed of a checklist with the channel's progress (who ticked what), its own words
    (done, retired…) in ``language``."""
    checklist = state.checklist
    done, total = state.done_count, len(state.items)
    head = f"{escape(checklist.description)}\n" if checklist.description else ""
    progress = message(language, "progress", count=f"**{done}/{total}**")
    lines = [f"{head}{progress} · `{checklist.id}`", ""]
    for s in state.items:
        mark = "✅" if s.done else "⬜"
        who = f" — {escape(s.tick.name or s.tick.by)}" if s.tick else ""
        lines.append(f"{mark} **{s.number}.** {escape(cut(s.item.text, 300))}{who}")
    if state.retired:
        retired = "; ".join(escape(cut(t.item_text, 80)) for t in state.retired[:5])
        lines.append(f"\n_{message(language, 'retired', items=retired)}_")
    embed = discord.Embed(
        title=cut(checklist.title, MAX_TITLE),
        description=cut("\n".join(lines), MAX_DESCRIPTION),
        color=COLOR,
    )
    if checklist.citation:
        embed.add_field(
            name=message(language, "source"),
            value=cut(md_link(checklist.citation), MAX_FIELD_VALUE),
        )
    if total > MAX_OPTIONS:
        embed.set_footer(text=message(language, "menu_first", count=MAX_OPTIONS))
    return fit(embed)


def checklist_options(state: ChecklistState) -> list[discord.SelectOption]:
    """One select option per item (the first 25), selected when done."""
    return [
        discord.SelectOption(
            label=cut(f"{s.number}. {s.item.text}", 100),
            value=s.item.id,
            default=s.done,
        )
        for s in state.items[:MAX_OPTIONS]
    ]


def plain(text: str) -> str:
    """Escaped message content within Discord's 2,000 characters."""
    return cut(escape(text), MAX_CONTENT)


def feedback_labels(lang: str) -> tuple[str, str]:
    """Labels of the 👍/👎 buttons in the answer's language."""
    return message(lang, "helpful"), message(lang, "not_helpful")
