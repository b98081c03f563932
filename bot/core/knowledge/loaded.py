"""A loaded index (``KnowledgeIndex``) and its parts: the vocabulary and the sentences, each
sentence a slice of its passage's text (``sentence_spans`` locates them)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import overload

import numpy as np

from bot.core.knowledge.glossary import Glossary
from bot.core.knowledge.lexical import LexicalIndex
from bot.core.knowledge.manifest import Manifest, PageRecord
from bot.core.knowledge.rowfile import RowFile
from bot.core.knowledge.vectors import VectorSearch
from bot.core.types import Citation, Passage


@dataclass(frozen=True)
class Vocabulary:
    """The pages' content words, their vectors and index terms (for cross-lingual expansion)."""

    words: list[str]
    vectors: np.ndarray  # (len(words), dim) unit rows
    terms: list[list[str]]


class Sentences(Sequence[str]):
    """The sentences of every passage, in passage order, each a slice of its passage's text
    (``spans`` holds the passage and the character range): nothing is stored twice."""

    def __init__(self, passages: Sequence[Passage], spans: np.ndarray) -> None:
        self._passages = passages
        self._spans = spans  # (m, 3) int64: passage, start, stop

    def __len__(self) -> int:
        return len(self._spans)

    @property
    def spans(self) -> np.ndarray:
        """Rows of (passage, start, stop), one per sentence."""
        return self._spans

    def _one(self, number: int) -> str:
        passage, start, stop = self._spans[number]
        return self._passages[int(passage)].text[int(start) : int(stop)]

    @overload
    def __getitem__(self, key: int) -> str: ...

    @overload
    def __getitem__(self, key: slice) -> list[str]: ...

    def __getitem__(self, key: int | slice) -> str | list[str]:
        if isinstance(key, slice):
            return [self._one(i) for i in range(*key.indices(len(self)))]
        return self._one(int(key))


def sentence_spans(texts: Sequence[str], sentences: Sequence[Sequence[str]]) -> np.ndarray:
    """Where each passage's sentences lie in its text: rows of (passage, start, stop)."""
    rows: list[tuple[int, int, int]] = []
    for number, (text, group) in enumerate(zip(texts, sentences, strict=True)):
        at = 0
        for sentence in group:
            start = text.find(sentence, at)
            if start < 0:
                raise ValueError(f"sentence not found in its passage: {sentence[:40]!r}")
            at = start + len(sentence)
            rows.append((number, start, at))
    return np.array(rows, dtype=np.int64).reshape(-1, 3)


@dataclass
class KnowledgeIndex:
    """A loaded index: passages with their dense and lexical representations."""

    manifest: Manifest
    passages: list[Passage]
    languages: list[str]
    sections: list[Citation]
    vectors: RowFile  # (n, dim) unit rows, one per passage
    sentences: Sentences
    sentence_owner: np.ndarray  # (m,) passage number of each sentence
    sentence_vectors: RowFile  # (m, dim) unit rows, half precision
    lexical: LexicalIndex
    vocabulary: Vocabulary
    title_vectors: np.ndarray  # (len(sections), dim) unit rows: each section's title
    passage_section: np.ndarray  # (n,) number in ``sections`` of each passage's section
    path: Path
    # Nearest passages and vocabulary words (exact, or an inverted file on a large index).
    dense: VectorSearch = field(repr=False)
    vocabulary_search: VectorSearch = field(repr=False)
    glossary: Glossary = field(default_factory=Glossary)
    # The team's example questions (examples.yaml), the section numbers each points to, and
    # the vectors of their two query texts: every question's row, then every keywords' row.
    examples: list[str] = field(default_factory=list)
    example_sections: list[tuple[int, ...]] = field(default_factory=list)
    example_vectors: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), np.float32))
    # Each page's source, digest and how many passages and sections it has, in index order,
    # and its vocabulary words' numbers: what an incremental build reuses.
    pages: list[PageRecord] = field(default_factory=list)
    page_words: list[np.ndarray] = field(default_factory=list)
    section_sources: list[str] = field(default_factory=list)  # each section's page

    @cached_property
    def sentence_starts(self) -> np.ndarray:
        """Where each passage's sentences start: passage ``p`` owns sentences
        ``[starts[p], starts[p + 1])`` (they are stored in passage order)."""
        return np.searchsorted(self.sentence_owner, np.arange(len(self.passages) + 1))

    @property
    def built_at(self) -> float:
        """When this index was built (epoch seconds, from its build folder's name; 0 when the
        name does not say)."""
        name = self.path.name
        return int(name[2:]) / 1e9 if name[2:].isdigit() else 0.0

    @property
    def embedder_id(self) -> str:
        """The id of the embedder that built the vectors."""
        return str(self.manifest["embedder"]["id"])
