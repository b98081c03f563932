"""Building an index: pages → passages, sentences, words → vectors, BM25, inverted files.

A build is incremental by page: a page whose bytes did not change since the current build keeps
everything it contributed (its sections, passages, sentences, words, their vectors and BM25 rows),
copied from the memory-mapped arrays of the current build, never re-read; only the pages that
changed are parsed, analysed and embedded, and within a changed page a passage whose text did not
change keeps its vectors. Everything else is linear in the number of passages: array copies, the
BM25 weights, the inverted files (whose centroids and unchanged rows are kept too).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from bot.core.documents import DocumentError, KnowledgeDirError, page_files, read_page
from bot.core.embedders import Embedder, embed_groups
from bot.core.examples import EXAMPLES_FILE, ExamplesError, load_examples, resolve_sections
from bot.core.glossary import GLOSSARY_FILE, Glossary, GlossaryError, load_glossary
from bot.core.index import (
    FORMAT_VERSION,
    BuildReport,
    IndexError_,
    KnowledgeIndex,
    Progress,
    Vocabulary,
    example_texts,
    load_index,
    source_hashes,
    text_key,
    write_build,
)
from bot.core.language import detect_language
from bot.core.lexical import LexicalIndex, analyse, content_words
from bot.core.passages import build_passages, split_sentences
from bot.core.types import Citation, Passage
from bot.core.vectors import VectorSearch

GROUP_BATCH = 64  # passages embedded per call (with their sentences)


def sentence_text(sentence: str) -> str:
    """A sentence as it is embedded and shown: a list line without its ``- ``."""
    return sentence[2:] if sentence.startswith("- ") else sentence


@dataclass
class PageParts:
    """What one page contributes to an index; ``old_*`` locate it in the previous build when
    the page is unchanged (its rows are copied from there)."""

    source: str
    digest: str
    sections: list[Citation]
    passages: list[Passage]
    languages: list[str]
    sentences: list[list[str]]  # per passage
    words: list[str]
    word_languages: list[str]  # the language of the first passage that has each word
    old_passages: int = -1  # first passage number in the previous build
    old_sections: int = -1
    old_words: np.ndarray | None = None  # vocabulary rows in the previous build
    # For a changed page: the previous build's passage with the same text, per passage (-1).
    same_text: list[int] = field(default_factory=list)


@dataclass
class Previous:
    """The current build, when its vectors can be reused (same embedder, format, settings)."""

    index: KnowledgeIndex
    pages: dict[str, tuple[str, int, int, int, int, np.ndarray]]  # source → digest, ranges, words
    sentence_starts: np.ndarray

    def page_passages(self, source: str) -> dict[str, int]:
        """The passages of ``source`` in the previous build, by text key."""
        found = self.pages.get(source)
        if found is None:
            return {}
        _, start, count, _, _, _ = found
        passages = self.index.passages[start : start + count]
        return {text_key(p.embedding_text): start + i for i, p in enumerate(passages)}


def _previous(index_dir: Path, embedder: Embedder, settings: dict) -> Previous | None:
    try:
        index = load_index(index_dir)
    except IndexError_:
        return None
    if (
        index.embedder_id != embedder.id
        or index.manifest.get("format") != FORMAT_VERSION
        or index.manifest.get("settings") != settings
    ):
        return None
    pages = {}
    passage, section = 0, 0
    for entry, words in zip(index.pages, index.page_words, strict=True):
        pages[entry["source"]] = (
            entry["digest"],
            passage,
            entry["passages"],
            section,
            entry["sections"],
            words,
        )
        passage += entry["passages"]
        section += entry["sections"]
    starts = np.searchsorted(index.sentence_owner, np.arange(len(index.passages) + 1))
    return Previous(index, pages, starts)


def _reused_page(source: str, digest: str, previous: Previous) -> PageParts:
    _, start, count, section, sections, words = previous.pages[source]
    index, starts = previous.index, previous.sentence_starts
    return PageParts(
        source=source,
        digest=digest,
        sections=index.sections[section : section + sections],
        passages=index.passages[start : start + count],
        languages=index.languages[start : start + count],
        sentences=[index.sentences[starts[n] : starts[n + 1]] for n in range(start, start + count)],
        words=[index.vocabulary.words[w] for w in words],
        word_languages=[],
        old_passages=start,
        old_sections=section,
        old_words=np.asarray(words),
    )


def _new_page(page, digest: str, previous: Previous | None) -> PageParts:
    sections = list(page.sections)
    passages = build_passages(sections)
    languages = [detect_language(p.text) for p in passages]
    words: dict[str, str] = {}
    for passage, lang in zip(passages, languages, strict=True):
        for word in content_words(passage.embedding_text):
            words.setdefault(word, lang)
    known = previous.page_passages(page.source) if previous else {}
    return PageParts(
        source=page.source,
        digest=digest,
        sections=[s.citation for s in sections],
        passages=passages,
        languages=languages,
        sentences=[[sentence_text(s) for s in split_sentences(p.text)] for p in passages],
        words=list(words),
        word_languages=list(words.values()),
        same_text=[known.get(text_key(p.embedding_text), -1) for p in passages],
    )


def _read_pages(
    knowledge_dir: Path,
    hashes: dict[str, str],
    previous: Previous | None,
    base_url: str,
    root: str,
) -> tuple[list[PageParts], list[DocumentError]]:
    """Every page's parts: unchanged pages from ``previous``, the others parsed now."""
    parts: list[PageParts] = []
    errors: list[DocumentError] = []
    for path, source in page_files(knowledge_dir):
        digest = hashes.get(source, "")
        if previous and previous.pages.get(source, ("",))[0] == digest and digest:
            parts.append(_reused_page(source, digest, previous))
            continue
        page = read_page(path, source, base_url=base_url, link_root=root)
        if isinstance(page, DocumentError):
            errors.append(page)
        elif not page.draft:
            parts.append(_new_page(page, digest, previous))
    return parts, errors


def _copy_rows(
    out: np.ndarray, source: np.ndarray, rows: np.ndarray, into: np.ndarray, batch: int = 8192
) -> None:
    """``out[into] = source[rows]``, a batch at a time (``source`` may be memory-mapped)."""
    for start in range(0, len(rows), batch):
        out[into[start : start + batch]] = source[rows[start : start + batch]]


@dataclass
class _Vectors:
    """The build's vector matrices and, per passage and word, its row in the previous build."""

    passages: np.ndarray
    sentences: np.ndarray
    passage_origin: np.ndarray  # previous passage number or -1
    embedded: int


def _passage_vectors(
    parts: list[PageParts],
    embedder: Embedder,
    previous: Previous | None,
    progress: Progress | None,
) -> _Vectors:
    """Passage and sentence vectors: copied from the previous build where the text is the
    same, the others embedded a batch of passages at a time (each with its sentences)."""
    passages = [p for page in parts for p in page.passages]
    sentences = [page.sentences[i] for page in parts for i in range(len(page.passages))]
    origin = np.full(len(passages), -1, np.int64)
    row = 0
    for page in parts:
        for i in range(len(page.passages)):
            if page.old_passages >= 0:
                origin[row] = page.old_passages + i
            elif page.same_text:
                origin[row] = page.same_text[i]
            row += 1
    counts = np.fromiter(map(len, sentences), np.int64, len(sentences))
    starts = np.zeros(len(passages) + 1, np.int64)
    np.cumsum(counts, out=starts[1:])
    dim = embedder.dim
    vectors = np.zeros((len(passages), dim), np.float32)
    sentence_vectors = np.zeros((int(starts[-1]), dim), np.float32)
    kept = np.flatnonzero(origin >= 0)
    if previous is not None and kept.size:
        old = previous.index
        _copy_rows(vectors, old.vectors, origin[kept], kept)
        old_starts = previous.sentence_starts
        rows = np.concatenate([np.arange(old_starts[o], old_starts[o + 1]) for o in origin[kept]])
        into = np.concatenate([np.arange(starts[k], starts[k + 1]) for k in kept])
        _copy_rows(sentence_vectors, old.sentence_vectors, rows, into)
    todo = np.flatnonzero(origin < 0)
    if progress:
        progress(0, len(todo))
    for done in range(0, len(todo), GROUP_BATCH):
        batch = todo[done : done + GROUP_BATCH]
        groups = [[passages[i].citation.label, *sentences[i]] for i in batch]
        wholes = [passages[i].embedding_text for i in batch]
        group_vectors, text_vectors = embed_groups(embedder, groups, wholes)
        vectors[batch] = group_vectors
        at = 0
        for i, group in zip(batch, groups, strict=True):
            at += 1  # the label's own vector is not kept
            count = len(group) - 1
            sentence_vectors[starts[i] : starts[i + 1]] = text_vectors[at : at + count]
            at += count
        if progress:
            progress(min(done + GROUP_BATCH, len(todo)), len(todo))
    return _Vectors(vectors, sentence_vectors, origin, int(todo.size))


def _embed_keyed(
    texts: Sequence[str],
    embedder: Embedder,
    old_texts: Sequence[str],
    old_vectors: np.ndarray,
) -> tuple[np.ndarray, int]:
    """Vectors of ``texts`` by the primary encoder: a text of ``old_texts`` keeps its row of
    ``old_vectors``; the others are embedded. Returns the matrix and how many were embedded."""
    row_of = {t: i for i, t in enumerate(old_texts)}
    out = np.zeros((len(texts), embedder.dim), np.float32)
    found = np.array([row_of.get(t, -1) for t in texts], np.int64)
    kept = np.flatnonzero(found >= 0)
    if kept.size:
        _copy_rows(out, old_vectors, found[kept], kept)
    todo = np.flatnonzero(found < 0)
    embed = getattr(embedder, "embed_primary", embedder.embed)
    for start in range(0, len(todo), 256):
        batch = todo[start : start + 256]
        out[batch] = embed([texts[i] for i in batch])
    return out, int(todo.size)


def _vocabulary(
    parts: list[PageParts], previous: Previous | None
) -> tuple[list[str], list[list[str]], list[np.ndarray]]:
    """The pages' words in order of first appearance, each word's index terms, and each page's
    word numbers."""
    number: dict[str, int] = {}
    words: list[str] = []
    terms: list[list[str]] = []
    old_terms: dict[str, list[str]] = {}
    if previous is not None:
        vocab = previous.index.vocabulary
        old_terms = dict(zip(vocab.words, vocab.terms, strict=True))
    page_words: list[np.ndarray] = []
    for page in parts:
        ids = []
        for at, word in enumerate(page.words):
            found = number.get(word)
            if found is None:
                found = number[word] = len(words)
                words.append(word)
                known = old_terms.get(word)
                if known is None:
                    known = analyse(word, page.word_languages[at])
                terms.append(known)
            ids.append(found)
        page_words.append(np.asarray(ids, np.int32))
    return words, terms, page_words


def _lexical(parts: list[PageParts], previous: Previous | None) -> LexicalIndex:
    """BM25 over every passage: an unchanged page's rows copied from the previous build (in
    its term numbering, which the new one extends), the others analysed now."""
    if previous is None:
        rows = [
            analyse(p.embedding_text, lang)
            for page in parts
            for p, lang in zip(page.passages, page.languages, strict=True)
        ]
        return LexicalIndex.build(rows)
    old = previous.index.lexical
    terms = list(old.terms)
    row_of = {t: i for i, t in enumerate(terms)}
    ids: list[np.ndarray] = []
    counts: list[np.ndarray] = []
    for page in parts:
        for i, (passage, lang) in enumerate(zip(page.passages, page.languages, strict=True)):
            if page.old_passages >= 0:
                term_ids, tf = old.row(page.old_passages + i)
                ids.append(np.asarray(term_ids))
                counts.append(np.asarray(tf))
                continue
            doc = analyse(passage.embedding_text, lang) or ["\u2205"]
            unique, tf = np.unique(np.array(doc, dtype=object), return_counts=True)
            numbers = []
            for term in unique:
                if term not in row_of:
                    row_of[term] = len(terms)
                    terms.append(term)
                numbers.append(row_of[term])
            ids.append(np.asarray(numbers, np.int32))
            counts.append(tf.astype(np.float32))
    indptr = np.zeros(len(ids) + 1, np.int64)
    np.cumsum([len(i) for i in ids], out=indptr[1:])
    empty_i, empty_f = np.zeros(0, np.int32), np.zeros(0, np.float32)
    return LexicalIndex.from_arrays(
        terms,
        indptr,
        np.concatenate(ids).astype(np.int32) if ids else empty_i,
        np.concatenate(counts).astype(np.float32) if counts else empty_f,
    )


def build_index(
    knowledge_dir: Path,
    index_dir: Path,
    embedder: Embedder,
    *,
    base_url: str = "",
    link_root: str | None = None,
    progress: Progress | None = None,
) -> BuildReport:
    """Index every page under ``knowledge_dir`` into a new build folder of ``index_dir``.

    Unchanged pages and passages keep their vectors from the current build. Pages that fail to
    parse are reported in the result and left out. Raises ``KnowledgeDirError`` when no page
    can be read.
    """
    started = time.perf_counter()
    settings = {"base_url": base_url, "link_root": link_root}
    hashes = source_hashes(knowledge_dir)
    previous = _previous(index_dir, embedder, settings)
    root = str(knowledge_dir) if link_root is None else link_root
    parts, errors = _read_pages(knowledge_dir, hashes, previous, base_url, root)
    if not parts:
        detail = "; ".join(str(e) for e in errors) or "no *.md file"
        raise KnowledgeDirError(f"Nothing to index in {knowledge_dir}: {detail}")
    try:
        glossary = load_glossary(knowledge_dir)
    except GlossaryError as exc:
        glossary = Glossary()
        errors = [*errors, DocumentError(GLOSSARY_FILE, str(exc))]
    citations = [c for page in parts for c in page.sections]
    try:
        examples, problems = resolve_sections(
            load_examples(knowledge_dir), [c.section for c in citations]
        )
    except ExamplesError as exc:
        examples, problems = [], [str(exc)]
    errors = [*errors, *(DocumentError(EXAMPLES_FILE, p) for p in problems)]

    vectors = _passage_vectors(parts, embedder, previous, progress)
    words, word_terms, page_words = _vocabulary(parts, previous)
    old = previous.index if previous is not None else None
    word_vectors, words_embedded = _embed_keyed(
        words,
        embedder,
        old.vocabulary.words if old else [],
        old.vocabulary.vectors if old else np.zeros((0, embedder.dim), np.float32),
    )
    title_vectors, titles_embedded = _embed_keyed(
        [c.section for c in citations],
        embedder,
        [c.section for c in old.sections] if old else [],
        old.title_vectors if old else np.zeros((0, embedder.dim), np.float32),
    )
    question_texts = example_texts([q for q, _ in examples])
    example_vectors, examples_embedded = _embed_keyed(
        question_texts,
        embedder,
        example_texts(old.examples) if old else [],
        old.example_vectors if old else np.zeros((0, embedder.dim), np.float32),
    )
    word_origin = np.full(len(words), -1, np.int64)
    if old is not None:
        old_row = {w: i for i, w in enumerate(old.vocabulary.words)}
        word_origin = np.array([old_row.get(w, -1) for w in words], np.int64)
    passage_search = VectorSearch.build(
        vectors.passages, old.dense.ivf if old else None, vectors.passage_origin
    )
    word_search = VectorSearch.build(
        word_vectors, old.vocabulary_search.ivf if old else None, word_origin
    )
    passages = [p for page in parts for p in page.passages]
    sentences = [s for page in parts for group in page.sentences for s in group]
    owner = np.repeat(
        np.arange(len(passages), dtype=np.int64),
        [len(group) for page in parts for group in page.sentences],
    )
    section_number = {c.link: n for n, c in enumerate(citations)}
    build = write_build(
        index_dir,
        passages=passages,
        languages=[lang for page in parts for lang in page.languages],
        sections=citations,
        passage_section=[section_number[p.citation.link] for p in passages],
        vectors=vectors.passages,
        passage_search=passage_search,
        sentences=sentences,
        sentence_owner=owner,
        sentence_vectors=vectors.sentences,
        vocabulary=Vocabulary(words, word_vectors, word_terms),
        vocabulary_search=word_search,
        title_vectors=title_vectors,
        lexical=_lexical(parts, previous),
        glossary=glossary,
        examples=examples,
        example_vectors=example_vectors,
        pages=[
            {
                "source": p.source,
                "digest": p.digest,
                "passages": len(p.passages),
                "sections": len(p.sections),
            }
            for p in parts
        ],
        page_words=page_words,
        manifest_extra={
            "embedder": {"id": embedder.id, "dim": embedder.dim},
            "sources": hashes,
            "settings": settings,
            "errors": [str(e) for e in errors],
        },
    )
    embedded = vectors.embedded + words_embedded + titles_embedded + examples_embedded
    total = len(passages) + len(words) + len(citations) + len(question_texts)
    return BuildReport(
        passages=len(passages),
        sections=len(citations),
        pages=len(parts),
        embedded=embedded,
        reused=total - embedded,
        seconds=time.perf_counter() - started,
        errors=tuple(errors),
        path=build,
    )
