"""The pages' words in the primary encoder's space: a question word's vector, its nearest
words of the pages (the word expansion's terms), and the question words the pages do not know
at all (which make the bot abstain and name them)."""

from __future__ import annotations

import numpy as np

from bot.core.knowledge.embedders import Embedder
from bot.core.knowledge.glossary import LANGUAGES
from bot.core.knowledge.index import KnowledgeIndex
from bot.core.knowledge.lexical import analyse
from bot.core.knowledge.vectors import VectorSearch

SQRT2 = float(np.sqrt(2))
# Per word, in order: its nearest vocabulary rows and their cosines, best first.
Neighbours = list[tuple[np.ndarray, np.ndarray]]


class PageWords:
    """The vocabulary of ``index``: ``vectors`` are its words' primary vectors (unit rows,
    held in memory), ``row`` each word's row. ``embedder`` embeds words the pages lack;
    ``ranker_dim`` is the size of the e5 half of the stored rows (0 without one)."""

    def __init__(
        self, index: KnowledgeIndex, vectors: np.ndarray, embedder: Embedder, ranker_dim: int
    ) -> None:
        self.index = index
        self.vectors = vectors
        self.row = {word: row for row, word in enumerate(index.vocabulary.words)}
        self._embedder = embedder
        self._ranker_dim = ranker_dim
        # With an e5 half (all zero for words), an exact search reads the primary half held
        # here rather than the stored rows: half the memory read for nothing.
        self._search = (
            VectorSearch(vectors)
            if ranker_dim and not index.vocabulary_search.approximate
            else None
        )

    def new(self, words: list[str]) -> list[str]:
        """The ``words`` that have no vector in the index (not words of the pages)."""
        return [w for w in words if w not in self.row]

    def vectors_of(self, words: list[str], fresh: np.ndarray | None = None) -> np.ndarray:
        """The primary vectors of ``words``: the index's for words of the pages, ``fresh``
        (or embedded now) for the others, in the order of ``new``."""
        if fresh is None:
            fresh = self._embedder.embed(self.new(words))
        rest = iter(fresh)
        return np.array(
            [self.vectors[self.row[w]] if w in self.row else next(rest) for w in words],
            dtype=np.float32,
        ).reshape(len(words), self.vectors.shape[1])

    def nearest(self, vectors: np.ndarray, k: int) -> Neighbours:
        """For each primary word vector, the ``k`` nearest vocabulary rows and their primary
        cosines, best first (all the words in one pass over the vocabulary)."""
        vectors = np.asarray(vectors, np.float32).reshape(len(vectors), -1)
        if self._search is not None:
            return self._search.search_many(vectors, k)
        if not self._ranker_dim:
            return self.index.vocabulary_search.search_many(vectors, k)
        stored = np.hstack([vectors, np.zeros((len(vectors), self._ranker_dim), np.float32)])
        found = self.index.vocabulary_search.search_many(stored, k)
        return [(rows, sims * SQRT2) for rows, sims in found]

    def expansion_terms(
        self,
        words: list[str],
        vectors: np.ndarray,
        min_similarity: float,
        per_word: int,
        found: Neighbours | None = None,
    ) -> list[str]:
        """Index terms of the ``per_word`` vocabulary words nearest to each of ``words``
        (``vectors``: theirs) at ``min_similarity`` or more, the word itself left out.
        ``found``: the words' ``per_word + 1`` nearest rows, when already searched."""
        vocab = self.index.vocabulary
        if not words or not len(vocab.words):
            return []
        terms: list[str] = []
        if found is None:
            found = self.nearest(vectors, per_word + 1)
        for (rows, sims), word in zip(found, words, strict=True):
            for j, sim in zip(rows, sims, strict=True):
                if sim >= min_similarity and vocab.words[j] != word:
                    terms.extend(vocab.terms[j])
        return terms

    def unknown(
        self,
        words: list[str],
        covered: frozenset[str],
        vectors: np.ndarray | None,
        min_similarity: float,
        found: Neighbours | None = None,
    ) -> list[str]:
        """The ``words`` that the pages do not know: no stem in the lexical index (in either
        language), none among the glossary's ``covered`` stems, and no page word within
        ``min_similarity`` in the primary encoder's space (``vectors``: the words', embedded
        now when None; ``found``: the words' nearest rows, when already searched)."""
        if min_similarity <= 0 or not words:
            return []
        lexical = self.index.lexical
        unmatched = [
            i
            for i, word in enumerate(words)
            if not any(
                lexical.knows(stem) or stem in covered
                for lang in LANGUAGES
                for stem in analyse(word, lang)
            )
        ]
        if not unmatched:
            return []
        picked = [words[i] for i in unmatched]
        if not len(self.vectors):
            return picked
        if found is not None:
            nearest = [float(found[i][1][0]) if len(found[i][1]) else -1.0 for i in unmatched]
        else:
            rows = vectors[unmatched] if vectors is not None else self.vectors_of(picked)
            nearest = [float(sims[0]) for _, sims in self.nearest(rows, 1)]
        return [w for w, sim in zip(picked, nearest, strict=True) if sim < min_similarity]
