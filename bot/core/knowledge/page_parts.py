"""What each page contributes to a build (``PageParts``): an unchanged page's rows located in
the previous build, a changed page parsed into passages, sentences and content words (each
repeated text read once); ``read_pages`` reads them all, one failing page never failing the
others."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from bot.core.knowledge.documents import (
    DocumentError,
    Page,
    page_trail,
    read_page,
    section_titles,
    unexpected_error,
)
from bot.core.knowledge.lexical import content_words
from bot.core.knowledge.manifest import text_key
from bot.core.knowledge.passages import build_passages, split_sentences
from bot.core.knowledge.previous import Previous
from bot.core.language import detect_language
from bot.core.types import Citation, Passage


def sentence_text(sentence: str) -> str:
    """A sentence as it is embedded and shown: a list line without its ``- ``."""
    return sentence[2:] if sentence.startswith("- ") else sentence


@dataclass
class PageParts:
    """What one page contributes to an index. ``old_passage`` (≥ 0) locates an unchanged page
    in the previous build, whose rows are copied from there."""

    source: str
    digest: str
    sections: list[Citation]
    passages: list[Passage]
    languages: list[str]
    sentences: list[str]  # every passage's sentences, in order (a new page's only)
    sentence_counts: list[int]  # per passage
    words: list[str]  # a new page's distinct content words, in order of appearance
    word_languages: list[str] = field(default_factory=list)  # for a new page: each word's
    old_passage: int = -1
    old_sentence: int = -1
    old_words: np.ndarray | None = None  # an unchanged page's words, as previous numbers
    # For a changed page: the previous build's passage with the same text, per passage (-1).
    same_text: list[int] = field(default_factory=list)


def reused_page(source: str, digest: str, previous: Previous) -> PageParts:
    """An unchanged page's parts, located in ``previous`` (its rows are copied from there)."""
    rows = previous.pages[source]
    start, count = rows.passage, rows.passages
    index, starts = previous.index, previous.sentence_starts
    first = int(starts[start])
    words = index.page_words[rows.number]
    return PageParts(
        source=source,
        digest=digest,
        sections=index.sections[rows.section : rows.section + rows.sections],
        passages=index.passages[start : start + count],
        languages=index.languages[start : start + count],
        sentences=[],  # not needed: the vectors and spans are copied
        sentence_counts=np.diff(starts[start : start + count + 1]).tolist(),
        words=[],  # not needed: ``old_words`` numbers them in the previous vocabulary
        old_passage=start,
        old_sentence=first,
        old_words=words,
    )


def new_page(page: Page, digest: str, previous: Previous | None) -> PageParts:
    """A changed page's parts: its passages, their languages, sentences and content words;
    a passage whose text is in ``previous`` is noted to keep its vectors."""
    passages = build_passages(page.sections)
    language_of: dict[str, str] = {}  # a text repeated on the page is read once
    for passage in passages:
        if passage.text not in language_of:
            language_of[passage.text] = detect_language(passage.text)
    languages = [language_of[p.text] for p in passages]
    words: dict[str, str] = {}
    read: set[str] = set()
    for passage, lang in zip(passages, languages, strict=True):
        if passage.embedding_text in read:
            continue
        read.add(passage.embedding_text)
        for word in content_words(passage.embedding_text):
            words.setdefault(word, lang)
    groups = [[sentence_text(s) for s in split_sentences(p.text)] for p in passages]
    known = previous.passage_rows if previous else {}
    return PageParts(
        source=page.source,
        digest=digest,
        sections=[s.citation for s in page.sections],
        passages=passages,
        languages=languages,
        sentences=[s for group in groups for s in group],
        sentence_counts=[len(group) for group in groups],
        words=list(words),
        word_languages=list(words.values()),
        same_text=[known.get(text_key(p.embedding_text), -1) for p in passages],
    )


def page_digest(file_hash: str, trail: tuple[str, ...]) -> str:
    """What tells an unchanged page: its file's hash and, when it has one, the site's
    sections above it (a parent ``_index.md`` retitled changes its citations too)."""
    if not file_hash or not trail:
        return file_hash
    return f"{file_hash}:{text_key(chr(31).join(trail))}"


def read_pages(
    files: list[tuple[Path, str]],
    hashes: dict[str, str],
    previous: Previous | None,
    base_url: str,
    root: str,
    max_bytes: int,
    check: Callable[[], None] = lambda: None,
) -> tuple[list[PageParts], list[DocumentError]]:
    """Every page's parts: unchanged pages from ``previous``, the others parsed now."""
    parts: list[PageParts] = []
    errors: list[DocumentError] = []
    titles = section_titles(files)
    for path, source in files:
        check()
        trail = page_trail(source, titles)
        digest = page_digest(hashes.get(source, ""), trail)
        if previous is not None and previous.unchanged(source, digest):
            parts.append(reused_page(source, digest, previous))
            continue
        page = read_page(
            path, source, base_url=base_url, link_root=root, max_bytes=max_bytes, trail=trail
        )
        if isinstance(page, DocumentError):
            errors.append(_keep_last_good(page, previous, parts))
        elif not page.draft:
            try:
                parts.append(new_page(page, digest, previous))
            except Exception as exc:  # one page never fails the others
                errors.append(_keep_last_good(unexpected_error(source, exc), previous, parts))
    return parts, errors


def _keep_last_good(
    error: DocumentError, previous: Previous | None, parts: list[PageParts]
) -> DocumentError:
    """A page that no longer reads (an edit broke it) keeps the version of the previous
    build, if it had one, so that one bad edit does not take a page's answers away: its
    parts are copied from there (under their old digest, so the next build reads the file
    again) and the error says so."""
    rows = previous.pages.get(error.path) if previous is not None and not previous.relink else None
    if previous is None or rows is None:
        return error
    parts.append(reused_page(error.path, rows.digest, previous))
    return DocumentError(error.path, f"{error.reason}; its last good version is kept")
