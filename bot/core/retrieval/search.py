"""Hybrid retrieval as named stages: ``Retriever.search`` runs them in order.

1. **pool** (``pool.py``): the candidate passages (nearest by the query vector, best by BM25
   and by the word expansion, those of the sections example questions point to);
2. **signals** (``signals.py``, ``example_bonus.py``): what each candidate scores on (passage,
   best-sentence and title cosines, BM25 with the glossary, the word expansion, example
   questions), each with its weight in ``FusionParams`` (``params.py``);
3. **fusion** (``scoring.py``): the primary score (mean of the dense and best-sentence cosine,
   plus the weighted title cosine and BM25 bonuses), plus the expansion and example bonuses;
   and the evidence abstention reads;
4. **e5** (``e5.py``, optional): with the dual embedder, e5 re-ranks when USE hesitates;
5. **cross-encoder** (``rerank.py``, optional, off unless the team names a model): re-orders
   the head of the fused ranking;
6. **close reading** (``head.py``, with ``reading.py``): the head is read sentence by
   sentence: the highlight, and the overlap and coverage bonuses when weighted;
7. **abstention** (``abstention.py``): the hits, and whether to answer, hedge or abstain.

Every weighted formula is a function of ``scoring.py``, which the tuning scripts
(bench/tune*.py, bench/try_signals.py) call too: a weight changed in ``FusionParams`` or a
formula changed there is seen by the engine and the scripts alike.

Why the dense score leads and BM25 only adds a bounded bonus (not reciprocal-rank fusion):
see ``signals.py``. Why abstention reads USE alone: see ``e5.py`` and ``abstention.py``.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cached_property

import numpy as np

from bot.core.knowledge.embedders import DualEmbedder, Embedder, normalise
from bot.core.knowledge.examples import example_key, query_texts
from bot.core.knowledge.index import KnowledgeIndex
from bot.core.knowledge.lexical import content_words
from bot.core.knowledge.sections import SectionKeys
from bot.core.language import detect_language
from bot.core.retrieval import scoring
from bot.core.retrieval.abstention import HITS_KEPT, Hit, SearchResult, conclude, ranked_hits
from bot.core.retrieval.e5 import E5Stage
from bot.core.retrieval.example_bonus import ExampleBonus
from bot.core.retrieval.head import highlight, read_head
from bot.core.retrieval.params import FusionParams
from bot.core.retrieval.pool import Pool, candidates
from bot.core.retrieval.reading import PassageReader, QuestionWords
from bot.core.retrieval.rerank import Reranker, cross_rerank
from bot.core.retrieval.scoring import section_lead
from bot.core.retrieval.signals import (
    best_per_passage,
    example_at,
    expansion_signal,
    lexical_signal,
    passage_cosines,
    sentence_rows,
)
from bot.core.retrieval.space import PrimarySpace
from bot.core.retrieval.words import Neighbours, PageWords

# Where these names were defined before the stages had modules of their own: callers import
# them from here.
__all__ = [
    "HITS_KEPT",
    "FusionParams",
    "Hit",
    "Pool",
    "Retriever",
    "SearchResult",
    "section_lead",
]


class Retriever:
    """Searches a loaded ``KnowledgeIndex`` with the embedder that built it."""

    def __init__(
        self,
        index: KnowledgeIndex,
        embedder: Embedder,
        params: FusionParams | None = None,
        *,
        reranker: Reranker | None = None,
    ) -> None:
        self.index = index
        self.embedder = embedder
        self.params = params or FusionParams()
        self.reranker = reranker  # the optional cross-encoder stage (None: off)
        self.space = PrimarySpace(embedder, index.vectors.shape[1])
        # The optional e5 stage: with the dual embedder only.
        self.e5 = E5Stage(embedder, index) if isinstance(embedder, DualEmbedder) else None
        space = self.space
        self.words = PageWords(
            index, space.half(index.vocabulary.vectors), space.embedder, space.ranker_dim
        )
        self.reader = PassageReader(index, self.words.vectors, self.words.row)
        # Sections' passages are consecutive: section s owns [starts[s], starts[s + 1]).
        self._section_starts = np.searchsorted(
            index.passage_section, np.arange(len(index.sections) + 1)
        )
        self.examples = ExampleBonus(
            self._example_queries(index),
            [example_key(q) for q in index.examples],
            index.example_sections,
        )

    @property
    def ignored_examples(self) -> frozenset[str]:
        """The example questions left out of the ranking (``example_key`` form): an
        evaluation leaves out the set it scores, so its figures are those of new questions."""
        return self.examples.ignored

    @ignored_examples.setter
    def ignored_examples(self, keys: frozenset[str]) -> None:
        self.examples.ignored = keys

    def use_learned(
        self, vectors: np.ndarray, sections: Sequence[int], strengths: Sequence[float]
    ) -> None:
        """Rank with these taught examples from now on (``vectors``: their questions' query
        vectors, as ``query_vector`` makes them; ``sections``: the numbers of the sections
        they point to; ``strengths``: their weights, 0-1). Replaces the earlier ones."""
        weights = np.asarray(strengths, np.float32) * self.params.learned_weight
        self.examples.teach(vectors, sections, weights)

    def sections_by_title(self, question: str, count: int) -> list[int]:
        """The ``count`` sections whose titles are closest to ``question`` (best first)."""
        titles = self.index.title_vectors
        if not len(titles):
            return []
        scores = self.space.rows(titles, np.arange(len(titles))) @ self.query_vector(question)
        best = np.argsort(-scores, kind="stable")[:count]
        return [int(s) for s in best]

    @cached_property
    def section_keys(self) -> SectionKeys:
        """This index's sections by ``learning.section_key`` (made on first use)."""
        return SectionKeys(self.index)

    def query_vector(self, question: str) -> np.ndarray:
        """The primary query vector of ``question``, as a search makes it."""
        return self.space.embed_question(question, [], None)[0]

    def query_vectors(self, questions: Sequence[str]) -> np.ndarray:
        """``query_vector`` of each question, in one call to the encoder: (n, dim) rows."""
        if not questions:
            return np.zeros((0, 1), np.float32)
        texts = [t for q in questions for t in query_texts(q)]
        halves = self.space.embedder.embed(texts)
        return normalise(halves[0::2] + halves[1::2])

    def _example_queries(self, index: KnowledgeIndex) -> np.ndarray:
        """Each example's query vector, as ``PrimarySpace.embed_question`` makes a
        question's."""
        count = len(index.examples)
        if not count:
            return np.zeros((0, 1), np.float32)
        halves = self.space.half(index.example_vectors)
        return normalise(halves[:count] + halves[count:])

    def example_bonus(self, query: np.ndarray) -> dict[int, float]:
        """By section number: the bonus from the example questions closest to the question
        (``ExampleBonus.bonus`` with this retriever's weights)."""
        p = self.params
        return self.examples.bonus(query, p.example_weight, p.example_floor, p.learned_floor)

    def _section_passages(self, sections: dict[int, float]) -> list[int]:
        """The passages of ``sections``."""
        starts = self._section_starts
        return [n for s in sections for n in range(int(starts[s]), int(starts[s + 1]))]

    def search(
        self, question: str, language: str | None = None, *, quick: bool = False
    ) -> SearchResult:
        """Rank the passages for ``question``. Returns a ``SearchResult``, best hits first.

        The stages, in order (see the module docstring): ``pool`` (pool, signals, fusion,
        e5), ``cross_rerank``, the close reading (``head.read_head``), abstention
        (``abstention.conclude``) on the evidence and the coverage of the best passage
        before re-ranking. ``quick``: without e5 (for lists of sections, not answers; and a
        message read after a turn, where the previous turn's context decides more than e5
        would: ``followup``).
        """
        p = self.params
        lang = language or detect_language(question)
        if not len(self.index.passages):
            return SearchResult([], lang, True, 0.0, p.quote_margin)
        pool = self.cross_rerank(question, self.pool(question, lang, quick=quick))
        reading = self.reading(pool)
        fused, highlights, coverage = read_head(pool, reading, self.reader, self.index, p)
        ranking = np.argsort(-fused, kind="stable")
        # Abstention reads USE's best passage, as it reads USE's evidence.
        top = int(pool.cand[ranking[0]]) if pool.before_rerank is None else pool.before_rerank
        top_coverage = coverage[top] if top in coverage else self.reader.coverage(top, reading)
        hits = ranked_hits(pool, fused, ranking, highlights)
        return conclude(question, lang, hits, pool, top_coverage, self.pool_unknown_words, p)

    def pool(self, question: str, lang: str, *, quick: bool = False) -> Pool:
        """The first stages: the candidate pool, its signals, their fusion and, with the dual
        embedder, e5 (the slow part, only when USE hesitates: ``e5.py``; never when
        ``quick``)."""
        index, p = self.index, self.params
        words = content_words(question)
        pages = self.words if p.expansion_weight > 0 else None
        query, word_vectors = self.space.embed_question(question, words, pages)
        found, _ = index.dense.search(self.space.stored_query(query), p.candidate_pool)
        lexical = lexical_signal(index, question, lang, p)
        expanded, neighbours = expansion_signal(index, self.words, words, word_vectors, p)
        example = self.example_bonus(query)
        passages = self._section_passages(example)
        cand = candidates(found, (lexical.bonus, expanded), passages, p.candidate_pool)
        rows, offsets = sentence_rows(index.sentence_starts, cand)
        sentence_sims = self.space.rows(index.sentence_vectors, rows) @ query
        sentence, best_sent = best_per_passage(sentence_sims, rows, offsets)
        dense, titles = passage_cosines(self.space, index, cand, query)
        primary = scoring.primary_score(dense, sentence, titles, lexical.bonus.at(cand), p)
        expanded_at = expanded.at(cand)
        examples_at = example_at(index.passage_section[cand], example)
        fused = scoring.fused_score(primary, expanded_at, examples_at)
        before_e5 = None
        if self.e5 is not None and not quick:
            fused, before_e5 = self.e5.rerank(question, cand, fused, example, p)
        return Pool(
            words=words,
            word_vectors=self.words.vectors_of(words) if word_vectors is None else word_vectors,
            analysed=lexical.analysed,
            covered=lexical.covered,
            glossed=lexical.glossed,
            cand=cand,
            fused=fused,
            dense=dense,
            lexical=lexical.scores.at(cand),
            sentence=sentence,
            best_sent=best_sent,
            sentence_sims=sentence_sims,
            sentence_offsets=offsets,
            evidence=scoring.evidence(primary, expanded_at),
            before_rerank=before_e5,
            neighbours=neighbours,
        )

    def cross_rerank(self, question: str, pool: Pool) -> Pool:
        """The cross-encoder stage (``rerank.cross_rerank``): ``pool`` itself when none is
        configured."""
        return cross_rerank(self.reranker, self.index.passages, question, pool)

    def reading(self, pool: Pool) -> QuestionWords:
        """The question as the close-reading stage needs it."""
        return QuestionWords(
            pool.words, pool.word_vectors, pool.analysed, pool.covered, pool.glossed
        )

    def highlight(self, number: int, local: np.ndarray, best: int | None = None) -> tuple[int, int]:
        """The first and last sentence of passage ``number``'s highlight, given its sentences'
        scores ``local`` (``head.highlight``)."""
        return highlight(self.index, self.reader.sentences(number), local, self.params, best)

    def unknown_words(
        self,
        words: list[str],
        covered: frozenset[str],
        vectors: np.ndarray | None,
        found: Neighbours | None = None,
    ) -> list[str]:
        """The ``words`` the pages do not know (``PageWords.unknown`` at
        ``unknown_similarity``; ``found``: their nearest vocabulary rows, when searched)."""
        return self.words.unknown(words, covered, vectors, self.params.unknown_similarity, found)

    def pool_unknown_words(self, pool: Pool) -> list[str]:
        """The words of ``pool``'s question the pages do not know."""
        return self.unknown_words(pool.words, pool.covered, pool.word_vectors, pool.neighbours)
