"""The candidate pool, the first stage: the passages every later stage reads, and ``Pool``,
what the first stages (pool, signals, fusion, e5) hand on.

The candidates are the ``candidate_pool`` passages nearest to the query vector, the best of
each BM25 bonus (the question's terms with the glossary, the word expansion) and the passages
of the sections an example question points to. Each list is at most ``candidate_pool`` long,
whatever the size of the index, so nothing after the pool grows with the knowledge base.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from bot.core.knowledge.lexical import Postings
from bot.core.retrieval.words import Neighbours


def candidates(
    nearest: np.ndarray, lexical: Sequence[Postings], examples: Iterable[int], size: int
) -> np.ndarray:
    """The candidates, sorted: the ``nearest`` passages, the ``size`` best of each ``lexical``
    bonus and the passages ``examples`` (those of the sections example questions point to)."""
    pool = set(nearest.tolist())
    for bonus in lexical:
        pool.update(bonus.top(size).tolist())
    pool.update(examples)
    return np.array(sorted(pool), dtype=np.int64)


@dataclass
class Pool:
    """The first stages' result for one question: the candidates (passage numbers) with their
    fused score, and what the later stages read. Every array is over the candidates only
    (aligned with ``cand``), ``sentence_sims`` over their sentences (candidate ``i``'s are
    ``sentence_sims[sentence_offsets[i]:sentence_offsets[i + 1]]``), so nothing after the pool
    grows with the knowledge base. The later stages read it and leave it as it is."""

    words: list[str]
    word_vectors: np.ndarray
    analysed: dict[str, list[str]]
    covered: frozenset[str]  # the question's stems the glossary matched
    glossed: frozenset[str]  # the stems the glossary expands them to
    cand: np.ndarray
    fused: np.ndarray
    dense: np.ndarray
    lexical: np.ndarray
    sentence: np.ndarray  # each candidate's best-sentence cosine
    best_sent: np.ndarray  # that sentence's number in ``KnowledgeIndex.sentences``
    sentence_sims: np.ndarray
    sentence_offsets: np.ndarray
    evidence: float
    # The best passage before a re-ranking stage (e5, the cross-encoder) moved the order
    # (None: none ran): abstention reads its coverage, as it reads the primary evidence.
    before_rerank: int | None = None
    neighbours: Neighbours | None = None  # the words' nearest vocabulary rows, if searched

    def head(self, depth: int) -> np.ndarray:
        """Positions in ``cand`` of the ``depth`` best candidates, best first."""
        return np.argsort(-self.fused, kind="stable")[:depth]

    def local(self, position: int) -> np.ndarray:
        """The sentence cosines of the candidate at ``position`` in ``cand``, in order."""
        return self.sentence_sims[
            self.sentence_offsets[position] : self.sentence_offsets[position + 1]
        ]
