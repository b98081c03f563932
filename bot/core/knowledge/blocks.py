"""The Markdown block reader: a page body → a flat run of headings and blocks.

Read as Hugo publishes the page: shortcodes keep the text they show, raw HTML keeps its text,
an image is its alt text (nothing for a placeholder), lists keep their items (a bold prefix
as the item's title), tables become "cell — cell" lines, code stays as written, and markup
residue (links only, a figure's caption) becomes an aside that goes with the text around it.
"""

from __future__ import annotations

import re

from markdown_it import MarkdownIt
from markdown_it.token import Token

from bot.core.knowledge.links import short_title
from bot.core.knowledge.markup import (
    html_text,
    is_placeholder_alt,
    markup_residue,
    strip_shortcodes,
)
from bot.core.types import Block, ListItem

_SPACES = re.compile(r"\s+")


def _image_alt(token: Token) -> str:
    """An image's alt text as a reader would read it, or ``""`` for a placeholder."""
    alt = "".join(c.content for c in token.children or [] if c.type in ("text", "code_inline"))
    alt = _SPACES.sub(" ", alt or token.content).strip()
    return "" if is_placeholder_alt(alt, str(token.attrs.get("src") or "")) else alt


def _inline_text(token: Token) -> str:
    parts: list[str] = []
    for child in token.children or []:
        if child.type in ("text", "code_inline"):
            parts.append(child.content)
        elif child.type in ("softbreak", "hardbreak"):
            parts.append(" ")
        elif child.type == "image":
            parts.append(_image_alt(child))
        elif child.type == "html_inline":  # a tag or a comment: its text is around it
            parts.append(" " if _LINE_BREAK_TAG.match(child.content) else "")
    return _SPACES.sub(" ", "".join(parts)).strip()


_LINE_BREAK_TAG = re.compile(r"<br\b", re.I)
_NOT_TEXT = frozenset({"link_open", "link_close", "softbreak", "hardbreak", "html_inline"})


def _only_images(token: Token) -> bool:
    """Whether an inline holds images and nothing else to read (links, breaks, tags aside)."""
    children = token.children or []
    return any(c.type == "image" for c in children) and all(
        c.type in _NOT_TEXT or c.type == "image" or (c.type == "text" and not c.content.strip())
        for c in children
    )


def _item_title(token: Token) -> tuple[str | None, str]:
    """Split a bold prefix (``**Title** : rest``) from an item's first paragraph."""
    children = [c for c in token.children or [] if not (c.type == "text" and not c.content.strip())]
    if len(children) < 3 or children[0].type != "strong_open":
        return None, _inline_text(token)
    title_parts = []
    rest_start = len(children)
    for i, child in enumerate(children[1:], start=1):
        if child.type == "strong_close":
            rest_start = i + 1
            break
        if child.type in ("text", "code_inline"):
            title_parts.append(child.content)
    title = _SPACES.sub(" ", "".join(title_parts)).strip()
    rest = Token("inline", "", 0, children=children[rest_start:])
    body = _inline_text(rest).lstrip(" :–—-").strip()
    return (title or None), body


def _closing(tokens: list[Token], start: int) -> int:
    """Index of the token closing the one that opens at ``start``."""
    depth = 0
    for i in range(start, len(tokens)):
        depth += tokens[i].nesting
        if depth == 0:
            return i
    return len(tokens) - 1


def _list_block(tokens: list[Token]) -> Block:
    items: list[ListItem] = []
    depth = 0
    current: list[str] = []
    title: str | None = None
    for token in tokens[1:-1]:
        if token.type == "list_item_open":
            depth += 1
            if depth == 1:
                current, title = [], None
        elif token.type == "list_item_close":
            depth -= 1
            if depth == 0:
                text = " ".join(c for c in current if c).strip()
                if text and markup_residue(text) != "empty":
                    items.append(ListItem(text=text, title=title))
        elif token.type == "inline" and depth >= 1:
            if not current and depth == 1:
                title, body = _item_title(token)
                current.append(f"{title} : {body}" if title and body else (title or body))
            else:
                current.append(_inline_text(token))
        elif token.type in ("fence", "code_block") and depth >= 1:
            current.append(token.content.strip())
    text = "\n".join(f"- {item.text}" for item in items)
    return Block(kind="list", text=text, items=tuple(items))


def _table_block(tokens: list[Token]) -> Block | None:
    """A table as lines of ``cell — cell``, the header row first; ``None`` when empty."""
    rows: list[str] = []
    cells: list[str] = []
    for t in tokens:
        if t.type == "inline":
            cells.append(_inline_text(t))
        elif t.type == "tr_close":
            line = " — ".join(c for c in cells if c)
            if line:
                rows.append(line)
            cells = []
    return Block(kind="table", text="\n".join(rows)) if rows else None


def _text_block(text: str) -> Block | None:
    """A paragraph of ``text``; an aside when it holds links only (it goes with the text
    around it), ``None`` when nothing is left to read."""
    residue = markup_residue(text)
    if residue == "empty":
        return None
    return Block(kind="aside" if residue else "paragraph", text=text)


def blocks_and_headings(body: str) -> list[tuple[int, str] | Block]:
    """Parse a page body into a flat sequence of headings ``(level, title)`` and blocks."""
    tokens = MarkdownIt("commonmark").enable("table").parse(strip_shortcodes(body))
    out: list[tuple[int, str] | Block] = []
    found: Block | None
    i = 0
    while i < len(tokens):
        token = tokens[i]
        if token.type == "heading_open" and token.level == 0:
            out.append((int(token.tag[1]), short_title(_inline_text(tokens[i + 1]))))
            i = _closing(tokens, i) + 1
        elif token.type in ("bullet_list_open", "ordered_list_open"):
            end = _closing(tokens, i)
            found = _list_block(tokens[i : end + 1])
            if found.items:  # a list of links only goes with the text around it
                out.append(
                    Block(kind="aside", text=found.text) if markup_residue(found.text) else found
                )
            i = end + 1
        elif token.type == "table_open":
            end = _closing(tokens, i)
            found = _table_block(tokens[i:end])
            if found:
                out.append(found)
            i = end + 1
        elif token.type == "inline":
            text = _inline_text(token)
            found = _text_block(text) if text else None
            if found and _only_images(token):  # a figure: its caption goes with the text
                found = Block(kind="aside", text=text)
            if found:
                out.append(found)
            i += 1
        elif token.type == "html_block":
            out.extend(b for b in map(_text_block, html_text(token.content)) if b)
            i += 1
        elif token.type in ("fence", "code_block"):
            if token.content.strip():
                out.append(Block(kind="code", text=token.content.rstrip()))
            i += 1
        else:
            i += 1
    return out
