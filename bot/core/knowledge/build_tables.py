"""A build's tables besides the passage vectors, each kept from the previous build where it
can be: the vectors of texts by key (words, section titles, example questions), the
vocabulary (words in order, their index terms, each page's words), the BM25 rows and every
sentence's span."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from bot.core.knowledge.embedders import DualEmbedder, Embedder
from bot.core.knowledge.lexical import LexicalIndex, TermNumbering, analyse
from bot.core.knowledge.loaded import sentence_spans
from bot.core.knowledge.page_parts import PageParts
from bot.core.knowledge.previous import Previous


def embed_keyed(
    texts: Sequence[str], embedder: Embedder, old_texts: Sequence[str], old_vectors: np.ndarray
) -> tuple[np.ndarray, int]:
    """Vectors of ``texts`` by the primary encoder: a text of ``old_texts`` keeps its row of
    ``old_vectors``; the others are embedded, each distinct text once. Returns the matrix and
    how many texts were embedded."""
    row_of = {t: i for i, t in enumerate(old_texts)}
    out = np.zeros((len(texts), embedder.dim), np.float32)
    found = np.array([row_of.get(t, -1) for t in texts], np.int64)
    kept = np.flatnonzero(found >= 0)
    if kept.size:
        out[kept] = np.asarray(old_vectors)[found[kept]]
    # The new texts, each embedded once however often it comes (a heading used many times).
    first: dict[str, int] = {}
    for i in np.flatnonzero(found < 0).tolist():
        first.setdefault(texts[i], i)
    todo = np.array(list(first.values()), np.int64)
    embed = embedder.embed_primary if isinstance(embedder, DualEmbedder) else embedder.embed
    for start in range(0, len(todo), 256):
        batch = todo[start : start + 256]
        out[batch] = embed([texts[i] for i in batch])
    for i in np.flatnonzero(found < 0).tolist():
        if first[texts[i]] != i:
            out[i] = out[first[texts[i]]]
    return out, int(todo.size)


@dataclass
class Words:
    """The build's vocabulary: words in order of first appearance, their index terms, each
    page's word numbers and each word's number in the previous build (-1: new)."""

    words: list[str]
    terms: list[list[str]]
    page_words: list[np.ndarray]
    origin: np.ndarray


def build_vocabulary(parts: list[PageParts], previous: Previous | None) -> Words:
    """The build's vocabulary: an unchanged page's words renumbered from ``previous``, a new
    page's words analysed now (unless ``previous`` has them)."""
    words: list[str] = []
    terms: list[list[str]] = []
    origin: list[int] = []
    old_words: list[str] = previous.index.vocabulary.words if previous else []
    old_terms = previous.index.vocabulary.terms if previous else []
    old_row = {w: i for i, w in enumerate(old_words)}
    remap = np.full(len(old_words), -1, np.int64)  # previous number → new number
    fresh: dict[str, int] = {}  # words the previous build did not have → new number
    page_words: list[np.ndarray] = []
    for page in parts:
        if page.old_words is not None:
            ids = np.asarray(page.old_words, np.int64)
            first = ids[remap[ids] < 0]
            remap[first] = np.arange(len(words), len(words) + len(first))
            words.extend(old_words[i] for i in first.tolist())
            terms.extend(old_terms[i] for i in first.tolist())
            origin.extend(first.tolist())
            page_words.append(remap[ids].astype(np.int32))
            continue
        numbers = []
        for word, lang in zip(page.words, page.word_languages, strict=True):
            old = old_row.get(word, -1)
            number = int(remap[old]) if old >= 0 else fresh.get(word, -1)
            if number < 0:
                number = len(words)
                if old >= 0:
                    remap[old] = number
                else:
                    fresh[word] = number
                words.append(word)
                terms.append(old_terms[old] if old >= 0 else analyse(word, lang))
                origin.append(old)
            numbers.append(number)
        page_words.append(np.asarray(numbers, np.int32))
    return Words(words, terms, page_words, np.asarray(origin, np.int64))


def build_lexical(parts: list[PageParts], previous: Previous | None) -> LexicalIndex:
    """BM25 over every passage: an unchanged page's rows copied from the previous build (in
    its term numbering, which the new one extends), the others analysed now."""
    old = previous.index.lexical if previous is not None else None
    numbering = TermNumbering(old.terms if old is not None else ())
    lengths: list[np.ndarray] = []
    ids: list[np.ndarray] = []
    counts: list[np.ndarray] = []
    for page in parts:
        if page.old_passage >= 0 and old is not None:
            page_lengths, page_ids, page_counts = old.rows(page.old_passage, len(page.passages))
            lengths.append(page_lengths)
            ids.append(page_ids)
            counts.append(page_counts)
            continue
        rows: dict[tuple[str, str], tuple[np.ndarray, np.ndarray]] = {}  # repeats read once
        for passage, lang in zip(page.passages, page.languages, strict=True):
            key = (passage.embedding_text, lang)
            if key not in rows:
                rows[key] = numbering.row(analyse(passage.embedding_text, lang))
            numbers, tf = rows[key]
            lengths.append(np.array([len(numbers)], np.int64))
            ids.append(numbers)
            counts.append(tf)
    per_passage = np.concatenate(lengths) if lengths else np.zeros(0, np.int64)
    indptr = np.zeros(len(per_passage) + 1, np.int64)
    np.cumsum(per_passage, out=indptr[1:])
    return LexicalIndex.from_arrays(
        numbering.terms,
        indptr,
        np.concatenate(ids).astype(np.int32) if ids else np.zeros(0, np.int32),
        np.concatenate(counts).astype(np.float32) if counts else np.zeros(0, np.float32),
    )


def build_spans(parts: list[PageParts], previous: Previous | None) -> np.ndarray:
    """Each sentence's passage and character range, over the whole build."""
    blocks = []
    offset = 0
    for page in parts:
        if page.old_passage >= 0 and previous is not None:
            old = previous.index.sentences.spans
            block = np.array(old[page.old_sentence : page.old_sentence + sum(page.sentence_counts)])
            block[:, 0] += offset - page.old_passage
            blocks.append(block)
            offset += len(page.passages)
            continue
        groups, at = [], 0
        for count in page.sentence_counts:
            groups.append(page.sentences[at : at + count])
            at += count
        spans = sentence_spans([p.text for p in page.passages], groups)
        spans[:, 0] += offset
        blocks.append(spans)
        offset += len(page.passages)
    return np.concatenate(blocks) if blocks else np.zeros((0, 3), np.int64)
