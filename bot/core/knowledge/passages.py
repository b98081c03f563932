"""Sections → passages: paragraph-level chunks that carry their section's citation."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Iterable

from bot.core.types import Block, Passage, Section

MAX_CHARS = 900
MIN_CHARS = 80
# No passage is longer than this: text that packing cannot cut (a paragraph of links joined
# to its neighbour) is cut here. Ordinary pages never reach it.
HARD_MAX_CHARS = 2 * MAX_CHARS

# Words are at most this long ("anticonstitutionnellement" has 25 letters); a longer run of
# characters without a space is not a word (base64, a hash, minified code, a long URL).
LONGEST_WORD = 25
# A unit is language when at least this share of its characters belong to words.
MIN_WORD_SHARE = 0.5

_URL = re.compile(r"[(<\[]?(?:https?://|www\.)", re.IGNORECASE)
_SENTENCE_END = re.compile(r"(?<=[.!?…])[\"»”)]?\s+(?=[\"«“(]?[A-ZÀ-ÖØ-Þ0-9])")


def cut_text(text: str, limit: int = MAX_CHARS) -> list[str]:
    """Cut ``text`` into pieces of at most ``limit`` characters: at the last space of each
    window when one is in its second half, else at the limit (a base64 blob, a long
    identifier). The pieces are stripped, in order; short text is returned whole."""
    if len(text) <= limit:
        return [text] if text else []
    pieces: list[str] = []
    start, end = 0, len(text)
    while start < end:
        stop = min(start + limit, end)
        if stop < end and not text[stop].isspace():
            space = text.rfind(" ", start + limit // 2, stop)
            if space > start:
                stop = space
        piece = text[start:stop].strip()
        if piece:
            pieces.append(piece)
        start = stop
    return pieces


def split_sentences(text: str) -> list[str]:
    """Split text into sentences on ``. ! ? …`` followed by a capitalised word.

    List lines (``- item``) are sentences of their own; a sentence longer than ``MAX_CHARS``
    (text without sentence ends: a log, a CSV line) is cut (``cut_text``). Returns the
    non-empty sentences in order.
    """
    sentences: list[str] = []
    for line in text.split("\n"):
        line = line.strip()
        if not line:
            continue
        for sentence in _SENTENCE_END.split(line):
            sentences.extend(cut_text(sentence.strip()))
    return sentences


def _pack(pieces: list[str], limit: int, sep: str, prefix: str = "") -> list[str]:
    """Greedily pack pieces into chunks of at most ``limit`` characters; a piece longer than
    that stays whole up to ``HARD_MAX_CHARS`` with the prefix, and is cut beyond
    (``cut_text``); a prefix of ``limit`` or more is cut into chunks of its own."""
    if len(prefix) >= limit:
        return [*cut_text(prefix.strip(), limit), *_pack(pieces, limit, sep)]
    room = HARD_MAX_CHARS - len(prefix)  # a longer piece is cut, else it stays whole
    if any(len(p) > room for p in pieces):
        pieces = [cut for p in pieces for cut in (cut_text(p, limit) if len(p) > room else [p])]
    chunks: list[str] = []
    current: list[str] = []
    size = len(prefix)
    total = sum(len(p) + len(sep) for p in pieces)
    # Balanced chunks: as many as the limit needs, each about the same size.
    count = -(-(total + len(prefix)) // limit)
    target = len(prefix) + total / count if count > 1 else float("inf")
    for piece in pieces:
        if current and (size + len(sep) + len(piece) > limit or size >= target):
            chunks.append(prefix + sep.join(current))
            current, size = [], len(prefix)
        current.append(piece)
        size += len(piece) + len(sep)
    if current:
        chunks.append(prefix + sep.join(current))
    return chunks


def _units(blocks: Iterable[Block]) -> list[str]:
    """Group blocks: a list stays with the paragraph that leads into it; long units split
    (a table's rows under its header, a code block between its lines); an aside joins the
    unit before it, else the one after it, else is left out."""
    units: list[str] = []
    pending_lead: str | None = None
    waiting: list[str] = []  # asides before any unit

    def add(new: list[str]) -> None:
        if waiting and new:
            new[0] = "\n".join([*waiting, new[0]])
            waiting.clear()
        units.extend(new)

    for block in blocks:
        if block.kind == "aside":
            if pending_lead is not None:
                pending_lead = f"{pending_lead}\n{block.text}"
            elif units:
                units[-1] = f"{units[-1]}\n{block.text}"
            else:
                waiting.append(block.text)
            continue
        if block.kind == "list":
            lines = [f"- {item.text}" for item in block.items]
            lead = f"{pending_lead}\n" if pending_lead else ""
            pending_lead = None
            add(_pack(lines, MAX_CHARS, "\n", prefix=lead))
            continue
        if pending_lead is not None:
            add(_pack(split_sentences(pending_lead), MAX_CHARS, " "))
        pending_lead = block.text if block.kind == "paragraph" else None
        if block.kind == "table":
            header, *rows = block.text.split("\n")
            add(_pack(rows, MAX_CHARS, "\n", prefix=f"{header}\n") if rows else [header])
        elif block.kind == "code":
            add(_pack(block.text.split("\n"), MAX_CHARS, "\n"))
        elif block.kind != "paragraph":
            add([block.text])
    if pending_lead is not None:
        add(_pack(split_sentences(pending_lead), MAX_CHARS, " "))
    return units


def _merge_small(units: list[str]) -> list[str]:
    """Merge fragments shorter than ``MIN_CHARS`` into the next unit (or the previous one)."""
    merged: list[str] = []
    carry = ""
    for unit in units:
        text = f"{carry}\n{unit}" if carry else unit
        carry = ""
        if len(text) < MIN_CHARS:
            carry = text
        else:
            merged.append(text)
    if carry:
        if merged and len(merged[-1]) + 1 + len(carry) <= MAX_CHARS:
            merged[-1] = f"{merged[-1]}\n{carry}"
        else:
            merged.append(carry)
    return merged


def passage_id(source: str, anchor: str, text: str) -> str:
    """A stable id for a passage: a hash of its page, section anchor and text."""
    digest = hashlib.sha256(f"{source}\0{anchor}\0{text}".encode()).hexdigest()
    return digest[:16]


def _bounded(units: list[str]) -> list[str]:
    """``units`` with any longer than ``HARD_MAX_CHARS`` cut into lines, then pieces."""
    if all(len(u) <= HARD_MAX_CHARS for u in units):
        return units
    out: list[str] = []
    for unit in units:
        out.extend(
            _pack(unit.split("\n"), MAX_CHARS, "\n") if len(unit) > HARD_MAX_CHARS else [unit]
        )
    return out


def _is_word(token: str) -> bool:
    return len(token) <= LONGEST_WORD and any(c.isalnum() for c in token)


def is_language(text: str) -> bool:
    """Whether ``text`` is written in words: at least half of its characters belong to
    tokens that could be words (a letter or digit in them, at most ``LONGEST_WORD`` characters) or
    are letters of scripts written without spaces (Chinese, Japanese, Thai); links are not
    counted either way. Pasted base64,
    hex dumps and minified code are not: a teammate never asks about them, and embedding
    them costs up to 25 times an ordinary passage of the same length."""
    tokens = [token for token in text.split() if not _URL.match(token)]
    chars = sum(len(token) for token in tokens)
    if not chars:
        return False
    in_words = sum(len(token) for token in tokens if _is_word(token))
    if in_words >= MIN_WORD_SHARE * chars:
        return True
    unspaced = sum(1 for c in text if c.isalpha() and unicodedata.category(c) == "Lo")
    return in_words + unspaced >= MIN_WORD_SHARE * chars


def section_passages(section: Section) -> list[Passage]:
    """Return the passages of one section, in reading order; a unit that is not written in
    words (``is_language``) is left out."""
    passages: list[Passage] = []
    seen: dict[str, int] = {}
    units = [unit for unit in _units(section.blocks) if is_language(unit)]
    for text in _bounded(_merge_small(units)):
        if not is_language(text):  # a piece of a long unit that was partly words
            continue
        pid = passage_id(section.source, section.anchor, text)
        repeats = seen.get(pid, 0)
        seen[pid] = repeats + 1
        if repeats:  # the same text again in this section: its count tells it apart
            pid = passage_id(section.source, section.anchor, f"{text}\0{repeats}")
        passages.append(
            Passage(id=pid, text=text, citation=section.citation, source=section.source)
        )
    return passages


def build_passages(sections: Iterable[Section]) -> list[Passage]:
    """Return the passages of all sections, in order."""
    return [p for section in sections for p in section_passages(section)]
