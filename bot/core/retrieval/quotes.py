"""The answering unit: which sentences around the highlight a quote shows.

A quote is cut only between sentences (or list items), never inside one. It holds the unit that
answers: the highlighted sentence's paragraph, or, when the highlight is a list's lead-in or one
of its items, the list with its lead-in. A paragraph or a list that goes on in the next passage
of the same section (passages are cut at about 900 characters, so an answer can straddle two)
is followed there; the quote never crosses into another section.

The quote grows from the highlight one sentence at a time, the sentences after it first (an
answer usually follows the sentence that announces it), then those before it, while it stays
within ``QuoteShape.chars`` (``list_chars`` for a list); a unit shorter than that is followed
by its neighbours, in the hit's passage first, then in the next one of its section
(``QuoteShape.fill``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from bot.core.knowledge.index import KnowledgeIndex
from bot.core.knowledge.passages import MAX_CHARS

Fill = Literal["none", "passage", "window", "passage_first"]
ELLIPSIS = "…"
LIST_MARK = "- "
LEADS_ON = (":", "?")
# Two lines at a passage's edge are one paragraph cut in two when together they hold at least
# this share of ``MAX_CHARS`` (the packing balances the parts; sentences make them uneven).
PARAGRAPH_SPLIT = 0.9


@dataclass(frozen=True)
class QuoteShape:
    """How long a quote may grow and where it may look. Chosen by ``bench/tune_quotes.py``
    (cross-validated over groups of pages, the median first quote on the site's hard set held
    within 450 characters; figures there). Following the unit into the next passage and
    filling the room, first in the hit's passage, lifts answer@1 on every development set;
    a room of 520 is the one where no set loses (at 480 the site's easier set falls below
    its figure before). A list's room of 560 ties with 520 on every figure and leaves room
    for a lead-in and its items."""

    chars: int = 520  # a paragraph's quote stays within this many characters
    list_chars: int = 560  # an enumeration's (its lead-in and items) within this many
    run_on: bool = True  # follow the unit into the next passage of the same section
    # a unit shorter than the room is followed by its neighbours: in the whole window
    # ("window"), in the hit's passage only ("passage"), in the passage then the window
    # ("passage_first") or not at all ("none")
    fill: Fill = "passage_first"
    after_first: bool = True  # grow after the highlight first, else one side then the other
    highlight_on: bool = True  # a highlight that announces what follows runs on into it


@dataclass(frozen=True)
class Piece:
    """One sentence of the window a quote is cut from: where it lies (passage number, start and
    stop in its text), the line it is on (a paragraph, or one list item) and whether that line
    is a list item."""

    passage: int
    start: int
    stop: int
    line: int
    item: bool


@dataclass(frozen=True)
class Cut:
    """A quote as pieces of the window: the first and last sentence shown (indices into the
    window)."""

    first: int
    last: int


def _pieces(index: KnowledgeIndex, number: int, line_offset: int) -> list[Piece]:
    """The sentences of passage ``number`` as window pieces, their lines counted from
    ``line_offset``."""
    text = index.passages[number].text
    starts = index.sentence_starts
    spans = index.sentences.spans[int(starts[number]) : int(starts[number + 1])]
    pieces = []
    for _, start, stop in spans.tolist():
        line_start = text.rfind("\n", 0, start) + 1
        item = text.startswith(LIST_MARK, line_start)
        opens = not text[line_start:start].strip(LIST_MARK.strip() + " \t")
        pieces.append(
            Piece(
                passage=number,
                start=line_start if item and opens else start,  # an item shows its mark
                stop=stop,
                line=line_offset + text.count("\n", 0, start),
                item=item,
            )
        )
    return pieces


def _same_section(index: KnowledgeIndex, a: int, b: int) -> bool:
    """Whether passages ``a`` and ``b`` belong to the same section."""
    return (
        0 <= b < len(index.passages)
        and int(index.passage_section[a]) == int(index.passage_section[b])
        and index.passages[a].citation.link == index.passages[b].citation.link
    )


def piece_text(index: KnowledgeIndex, piece: Piece) -> str:
    """The sentence a piece stands for."""
    return index.passages[piece.passage].text[piece.start : piece.stop]


def _continues(index: KnowledgeIndex, last: Piece, first: Piece) -> bool:
    """Whether the next passage's first piece ``first`` goes on with the paragraph of
    ``last``, the hit passage's last piece: a paragraph was cut in two only when its two parts
    together exceed a passage (``MAX_CHARS``), else they would have been packed into one
    passage. (A list cut in two needs no such test: its items say it goes on.)"""
    if last.item or first.item:
        return False
    before = index.passages[last.passage].text
    after = index.passages[first.passage].text
    end = after.find("\n", first.start)
    tail = len(before) - (before.rfind("\n") + 1)
    head = (end if end >= 0 else len(after)) - first.start
    return tail + 1 + head >= PARAGRAPH_SPLIT * MAX_CHARS


def window(index: KnowledgeIndex, number: int, run_on: bool) -> list[Piece]:
    """The sentences a quote of passage ``number`` may show: its own, then (``run_on``) those
    of the next passage of its section, less the list lead-in that passage repeats. The next
    passage's first line goes on with the last line of this one when a paragraph was cut at
    the passage's edge (``_continues``), else it starts a line of its own."""
    own = _pieces(index, number, 0)
    if not run_on or not own or not _same_section(index, number, number + 1):
        return own
    following = _pieces(index, number + 1, 0)
    seen = {piece_text(index, p) for p in own}
    first_item = next((i for i, p in enumerate(following) if p.item), len(following))
    kept = [
        p for i, p in enumerate(following) if i >= first_item or piece_text(index, p) not in seen
    ]
    if not kept:
        return own
    line = own[-1].line + (0 if _continues(index, own[-1], kept[0]) else 1)
    shift = line - kept[0].line
    return own + [Piece(p.passage, p.start, p.stop, p.line + shift, p.item) for p in kept]


def _lead_in(index: KnowledgeIndex, pieces: list[Piece], at: int) -> bool:
    """Whether piece ``at`` announces a list: it is no item, ends with ``:`` and an item
    follows it."""
    return (
        not pieces[at].item
        and at + 1 < len(pieces)
        and pieces[at + 1].item
        and piece_text(index, pieces[at]).rstrip().endswith(":")
    )


def unit(
    index: KnowledgeIndex, pieces: list[Piece], first: int, last: int
) -> tuple[int, int, bool]:
    """The answering unit of highlight ``first..last`` (indices into ``pieces``): the first
    and last piece of its list, with the sentence that leads into it, when the highlight is
    a list's lead-in or one of its items, else of its paragraph; and whether it is a list."""
    listed = any(pieces[i].item or _lead_in(index, pieces, i) for i in range(first, last + 1))
    lo, hi = first, last
    if listed:
        while lo > 0 and pieces[lo].item and pieces[lo - 1].item:
            lo -= 1  # back to the list's first item
        if lo > 0 and pieces[lo].item and _lead_in(index, pieces, lo - 1):
            lo -= 1
        while hi + 1 < len(pieces) and pieces[hi + 1].item:
            hi += 1
        return lo, hi, True
    while lo > 0 and pieces[lo - 1].line == pieces[first].line:
        lo -= 1
    while hi + 1 < len(pieces) and pieces[hi + 1].line == pieces[last].line:
        hi += 1
    return lo, hi, False


def _grow(
    sizes: list[int], lo: int, hi: int, first: int, last: int, room: int, after_first: bool
) -> tuple[int, int]:
    """Widen ``first..last`` within ``lo..hi`` while the sentences (``sizes``: each one's
    length with its separator) fit in ``room``: the sentences after it first, then those
    before it (``after_first``), or one on each side in turn."""
    used = sum(sizes[first : last + 1])
    turn_after = True
    while True:
        after = last < hi and used + sizes[last + 1] <= room
        before = first > lo and used + sizes[first - 1] <= room
        if not (after or before):
            return first, last
        if after and (after_first or turn_after or not before):
            last += 1
            used += sizes[last]
        else:
            first -= 1
            used += sizes[first]
        turn_after = not turn_after


def cut(
    index: KnowledgeIndex, pieces: list[Piece], first: int, last: int, shape: QuoteShape
) -> Cut:
    """Where to cut the quote of highlight ``first..last`` (indices into ``pieces``): its
    unit, cut between sentences to fit the shape's room, then (``fill``) its neighbours."""
    sizes = [p.stop - p.start + 1 for p in pieces]
    lo, hi, listed = unit(index, pieces, first, last)
    room = shape.list_chars if listed else shape.chars
    start, stop = first, last
    if listed and lo < first and sum(sizes[lo : last + 1]) <= room:
        start = lo  # the lead-in first: it says what the items are
    start, stop = _grow(sizes, lo, hi, start, stop, room, shape.after_first)
    own = [i for i, p in enumerate(pieces) if p.passage == pieces[first].passage]
    areas = {
        "none": [],
        "passage": [(own[0], own[-1])],
        "window": [(0, len(pieces) - 1)],
        "passage_first": [(own[0], own[-1]), (0, len(pieces) - 1)],
    }[shape.fill]
    for lo, hi in areas:
        start, stop = _grow(
            sizes, min(lo, start), max(hi, stop), start, stop, room, shape.after_first
        )
    return Cut(start, stop)
