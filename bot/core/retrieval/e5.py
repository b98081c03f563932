"""The e5 stage (optional): with the dual embedder (``use+e5``: USE + multilingual-e5-small, a
model trained for retrieval), e5 re-ranks when USE hesitates.

When USE's best section leads the next by less than ``ranker_gate`` (and no example question
of the team's is close to the question), each candidate gains ``ranker_weight`` times e5's
cosine between the question and the passage, less the best candidate's
(``scoring.e5_runs``, ``scoring.with_e5``; fitted by bench/tune_ranker.py). USE's scores stay
in the sum: each encoder is right where the other is not. Where USE leads clearly e5 rarely
changes the first section, so its time (10-15 ms a question on 2 cores) is saved.

Abstention never reads e5: its similarities do not tell an unrelated question from a related
one (measured: out of scope up to 0.85, in scope down to 0.81). It reads the primary evidence
and the best passage before e5 moved the order.
"""

from __future__ import annotations

import numpy as np

from bot.core.knowledge.embedders import DualEmbedder
from bot.core.knowledge.index import KnowledgeIndex
from bot.core.retrieval import scoring
from bot.core.retrieval.params import FusionParams
from bot.core.retrieval.words import SQRT2


class E5Stage:
    """e5's half of an index's stored vectors (from column ``split`` on) and its encoder."""

    def __init__(self, embedder: DualEmbedder, index: KnowledgeIndex) -> None:
        self._embedder = embedder
        self._split = embedder.split
        self._index = index

    def cosines(self, question: str, cand: np.ndarray) -> np.ndarray:
        """e5's cosine of the question with each candidate passage, less the best one's (so
        the fused score keeps the primary scale: the best passage by e5 loses nothing)."""
        query = self._embedder.ranker.embed_queries([question])[0]
        stored = np.asarray(self._index.vectors[cand], np.float32)[:, self._split :]
        cosines: np.ndarray = (stored @ query) * SQRT2
        return cosines - float(cosines.max())

    def rerank(
        self,
        question: str,
        cand: np.ndarray,
        fused: np.ndarray,
        example: dict[int, float],
        p: FusionParams,
    ) -> tuple[np.ndarray, int | None]:
        """``fused`` with e5's cosines when USE hesitates and no example question (``example``:
        bonus by section) settles it, and the best passage before e5 (None: e5 did not run)."""
        if example or not scoring.e5_runs(self._index.passage_section[cand], fused, p):
            return fused, None
        before = int(cand[int(np.argmax(fused))])
        return scoring.with_e5(fused, self.cosines(question, cand), p), before
