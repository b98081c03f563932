"""The primary encoder's space, as the stages read it.

With the dual embedder (``use+e5``) the stored vectors are ``[USE, e5] / √2``: the USE half,
scaled back, gives the primary scores (passages, sentences, titles, word expansion, evidence),
and the e5 half serves the e5 stage alone (``e5.py``). With one encoder the stored vectors are
its own.
"""

from __future__ import annotations

import numpy as np

from bot.core.knowledge.embedders import DualEmbedder, Embedder, normalise
from bot.core.knowledge.examples import query_texts
from bot.core.knowledge.rowfile import Matrix
from bot.core.retrieval.words import SQRT2, PageWords


class PrimarySpace:
    """The primary half of an index's stored vectors, and questions embedded into it."""

    def __init__(self, embedder: Embedder, stored_dim: int) -> None:
        self.dual = embedder if isinstance(embedder, DualEmbedder) else None
        self.split: int | None = self.dual.split if self.dual else None
        self.embedder: Embedder = self.dual.primary if self.dual else embedder
        self.ranker_dim = stored_dim - (self.split or stored_dim)

    def half(self, matrix: np.ndarray) -> np.ndarray:
        """``matrix``'s primary half, scaled back (itself with one encoder)."""
        if self.split is None:
            return matrix
        return np.ascontiguousarray(matrix[:, : self.split] * SQRT2, dtype=np.float32)

    def rows(self, matrix: Matrix, numbers: np.ndarray) -> np.ndarray:
        """Rows ``numbers`` of a stored matrix, their primary half (see ``half``)."""
        rows = np.asarray(matrix[numbers], dtype=np.float32)
        return rows if self.split is None else rows[:, : self.split] * SQRT2

    def stored_query(self, query: np.ndarray) -> np.ndarray:
        """A primary query vector in the stored matrices' space (a zero e5 half): its inner
        product with a stored row is that row's primary cosine divided by √2."""
        if self.split is None:
            return query
        return np.concatenate([query, np.zeros(self.ranker_dim, np.float32)])

    def embed_question(
        self, question: str, words: list[str], pages: PageWords | None
    ) -> tuple[np.ndarray, np.ndarray | None]:
        """The primary query vector and, when ``pages`` is given, the vectors of ``words``.

        The query is the mean of the question's embedding and that of its content words alone,
        which keeps the question's meaning but weighs its topic more than its framing ("What
        is…", "Qu'est-ce que…"). The words' vectors come in the same call: one call to the
        encoder costs less than two (measured: English p95 29-30 ms with two calls, 26-28 ms
        with one).
        """
        new_words = pages.new(words) if pages is not None else []
        vectors = self.embedder.embed([*query_texts(question), *new_words])
        query = normalise(vectors[0] + vectors[1])[0]
        if pages is None:
            return query, None
        return query, pages.vectors_of(words, vectors[2:])
