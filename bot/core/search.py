"""Hybrid retrieval: dense (passage and sentence vectors) fused with BM25, and abstention.

Score of a passage with the primary encoder (USE): mean of its dense and best-sentence cosine,
plus ``title_weight`` times the question's cosine with its section title, plus the three BM25
bonuses below. The query vector is the mean of the question's embedding and that of its content
words alone.

With the default dual embedder (USE + multilingual-e5-small), a question in another language than
the pages is ranked by e5 instead: the mean of e5's passage and best-sentence cosines, plus a
sixth of the same title and BM25 bonuses (e5's similarities are compressed into a narrower
range). A question in the pages' language keeps the USE score, which is as good there and skips
e5's time. Abstention always reads the USE score (see ``evidence`` below).

Why not reciprocal-rank fusion: RRF gives BM25's ranking as much say as the dense one, and on an
English question over French pages BM25 matches only loan words ("open source", "fit"), so its
ranking is mostly noise that drags good dense rankings down (measured: hit@1 0.50 with RRF against
0.60 dense-only on English questions; see README "Retrieval"). Here the dense score leads and BM25
adds a bounded bonus weighted by how many of the question's terms the pages contain at all, so it
speaks up for French questions and fades for English ones. Two expansions give BM25 something to
match across languages: the team's glossary (``knowledge/glossary.yaml``: "funnel" is also searched
as "entonnoir"), weighted by the share of the question's words that its entries matched, and,
weaker, each question word's nearest words of the pages' vocabulary in the multilingual
embedding space. The glossary's bonus ranks but is not counted as evidence for abstention.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from bot.core.embedders import Embedder, normalise
from bot.core.glossary import analyse_all
from bot.core.index import KnowledgeIndex
from bot.core.language import detect_language
from bot.core.lexical import analyse, content_words


@dataclass(frozen=True)
class FusionParams:
    """Weights of the fused score and the abstention threshold (see the module docstring)."""

    lexical_weight: float = 0.15  # BM25 bonus at full term coverage
    expansion_weight: float = 0.05  # BM25 bonus from cross-lingual expansion terms
    title_weight: float = 0.15  # similarity of the question to the section's title
    expansion_min_similarity: float = 0.6
    expansion_per_word: int = 1
    min_evidence: float = 0.26  # below this fused score of the best passage, abstain
    candidate_pool: int = 64
    glossary_weight: float = 0.3  # BM25 bonus from the glossary's terms, at full glossary coverage
    ranker_bonus: float = 1 / 6  # with the dual embedder: share of the bonuses added to e5's score
    quote_margin: float = 0.15  # a further quote scores within this of the best (USE scale)
    ranker_quote_margin: float = 0.05  # the same on the dual embedder's (narrower) scale


@dataclass(frozen=True)
class Hit:
    """One retrieved passage: its number in the index and its scores."""

    number: int
    score: float
    dense: float
    sentence: float
    lexical: float
    best_sentence: int  # index into ``KnowledgeIndex.sentences``


@dataclass(frozen=True)
class SearchResult:
    """Ranked hits (best first), the question's language and whether the evidence is weak."""

    hits: list[Hit]
    language: str
    abstain: bool
    evidence: float
    margin: float  # how far below the best hit a further quote may score, on this scale


SQRT2 = float(np.sqrt(2))


def _best_per_passage(sims: np.ndarray, owner: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Best sentence similarity of each of ``n`` passages and that sentence's number."""
    best = np.full(n, -1.0, dtype=np.float32)
    number = np.full(n, -1, dtype=np.int64)
    order = np.argsort(sims)  # ascending: the last write per passage is its best
    best[owner[order]] = sims[order]
    number[owner[order]] = order
    return best, number


def _unit(scores: np.ndarray) -> np.ndarray:
    top = float(scores.max()) if scores.size else 0.0
    return scores / top if top > 0 else np.zeros_like(scores)


class Retriever:
    """Searches a loaded ``KnowledgeIndex`` with the embedder that built it."""

    def __init__(
        self, index: KnowledgeIndex, embedder: Embedder, params: FusionParams | None = None
    ) -> None:
        self.index = index
        self.embedder = embedder
        self.params = params or FusionParams()
        # With the dual embedder, the stored vectors are [USE, e5] / sqrt(2): the USE half,
        # scaled back, gives the primary scores (titles, sentences, word expansion, evidence).
        self._split: int | None = getattr(embedder, "split", None)
        self._primary_embedder = getattr(embedder, "primary", embedder)
        self._sentences = self._primary_half(index.sentence_vectors)
        self._titles = self._primary_half(index.title_vectors)
        self._vocabulary = self._primary_half(index.vocabulary.vectors)
        self._word_row = {word: row for row, word in enumerate(index.vocabulary.words)}
        self._languages = set(index.languages)
        self._ranker_dim = index.vectors.shape[1] - (self._split or index.vectors.shape[1])

    def _primary_half(self, matrix: np.ndarray) -> np.ndarray:
        if self._split is None:
            return matrix
        return np.ascontiguousarray(matrix[:, : self._split] * SQRT2, dtype=np.float32)

    def _passages(self, numbers: np.ndarray) -> np.ndarray:
        rows = self.index.vectors[numbers]
        return rows if self._split is None else rows[:, : self._split] * SQRT2

    def _expansion_terms(self, words: list[str], vectors: np.ndarray) -> list[str]:
        """Index terms of the vocabulary words nearest to each query word."""
        vocab = self.index.vocabulary
        if not words or not len(vocab.words):
            return []
        sims = vectors @ self._vocabulary.T
        p = self.params
        terms: list[str] = []
        for row, word in zip(sims, words, strict=True):
            best = np.argsort(-row)[: p.expansion_per_word + 1]
            for j in best:
                if row[j] >= p.expansion_min_similarity and vocab.words[j] != word:
                    terms.extend(vocab.terms[j])
        return terms

    def _embed_question(
        self, question: str, words: list[str], ranked: bool
    ) -> tuple[np.ndarray, list[str], np.ndarray, np.ndarray | None]:
        """The primary query vector, the words to expand and their vectors, and e5's query
        vector when e5 ranks (else ``None``)."""
        # The question is embedded twice, as asked and as its content words only; their mean
        # is the query, which keeps the question's meaning but weighs its topic more than its
        # framing ("What is…", "Qu'est-ce que…").
        keywords = " ".join(words) or question
        # Words of the pages already have their vector in the index; only new ones are embedded.
        # When e5 ranks, the word-level expansion is left out: e5 bridges the languages better
        # (measured: English hit@1 0.71 → 0.75 on eval/validation.yaml without it) and the words'
        # embeddings cost a quarter of the answer's time (English p50 11.7 → 9.6 ms).
        mapped = words if self.params.expansion_weight > 0 and not ranked else []
        known = [self._word_row.get(w) for w in mapped]
        new_words = [w for w, row in zip(mapped, known, strict=True) if row is None]
        vectors = self._primary_embedder.embed([question, keywords, *new_words])
        query = normalise(vectors[0] + vectors[1])[0]
        fresh = iter(vectors[2:])
        word_vectors = np.array(
            [self._vocabulary[row] if row is not None else next(fresh) for row in known],
            dtype=np.float32,
        ).reshape(len(known), query.shape[0])
        ranker_query = self.embedder.ranker.embed_queries([question])[0] if ranked else None
        return query, mapped, word_vectors, ranker_query

    def _lexical_bonuses(
        self, question: str, lang: str, mapped: list[str], word_vectors: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """BM25 scores of the question's own terms, the summed BM25 bonuses (own terms by
        coverage, word expansion, glossary) and the glossary's part of them, per passage."""
        index, p = self.index, self.params
        n = len(index.passages)
        analysed = analyse_all(question)  # the glossary matches terms in either language
        terms = analysed[lang] if lang in analysed else analyse(question, lang)
        lexical = index.lexical.scores(terms)
        coverage = index.lexical.coverage(terms)
        glossary = index.glossary.expand(question, analysed)
        # The glossary speaks as loud as the share of the question's words it understood.
        glossary_share = sum(t in glossary.covered for t in terms) / len(terms) if terms else 0.0
        glossed = p.glossary_weight * glossary_share * _unit(index.lexical.scores(glossary.stems()))
        expansion = self._expansion_terms(mapped, word_vectors) if mapped else []
        expanded = index.lexical.scores(expansion) if expansion else np.zeros(n, np.float32)
        bonus = (
            p.lexical_weight * coverage * _unit(lexical)
            + p.expansion_weight * _unit(expanded)
            + glossed
        )
        return lexical, bonus, glossed

    def search(self, question: str, language: str | None = None) -> SearchResult:
        """Rank the passages for ``question``. Returns a ``SearchResult``, best hits first."""
        index = self.index
        p = self.params
        lang = language or detect_language(question)
        n = len(index.passages)
        if n == 0:
            return SearchResult([], lang, True, 0.0, p.quote_margin)
        ranked = self._split is not None and self._languages != {lang}
        query, mapped, word_vectors, ranker_query = self._embed_question(
            question, content_words(question), ranked
        )
        if ranker_query is not None:
            full_query = np.concatenate([query, ranker_query]) / SQRT2
        elif self._split is not None:  # the FAISS pool by the USE half alone
            full_query = np.concatenate([query, np.zeros(self._ranker_dim, np.float32)])
        else:
            full_query = query
        _, found = index.dense.search(
            full_query.astype(np.float32)[None, :], min(n, p.candidate_pool)
        )
        lexical, bonus, glossed = self._lexical_bonuses(question, lang, mapped, word_vectors)
        # Every candidate, in the dense pool or found by BM25 alone, gets its exact scores.
        candidates = set(found[0][found[0] >= 0].tolist()) | set(np.flatnonzero(bonus).tolist())
        cand = np.array(sorted(candidates), dtype=np.int64)
        dense = self._passages(cand) @ query
        sentence, best_sent = _best_per_passage(self._sentences @ query, index.sentence_owner, n)
        titles = (self._titles @ query)[index.passage_section[cand]]
        extra = p.title_weight * titles + bonus[cand]
        primary = (dense + sentence[cand]) / 2 + extra
        if ranker_query is None:
            fused = primary
        else:  # e5 ranks; the primary encoder's bonuses refine it
            split = self._split
            dense = (index.vectors[cand, split:] @ ranker_query) * SQRT2
            sims = (index.sentence_vectors[:, split:] @ ranker_query) * SQRT2
            sentence, best_sent = _best_per_passage(sims, index.sentence_owner, n)
            fused = (dense + sentence[cand]) / 2 + p.ranker_bonus * extra
        ranking = np.argsort(-fused, kind="stable")
        hits = [
            Hit(
                number=int(cand[i]),
                score=float(fused[i]),
                dense=float(dense[i]),
                sentence=float(sentence[cand[i]]),
                lexical=float(lexical[cand[i]]),
                best_sentence=int(best_sent[cand[i]]),
            )
            for i in ranking
        ]
        # Evidence is the primary encoder's score: e5's similarities do not tell an unrelated
        # question from a related one. The glossary's bonus helps to rank but is not evidence
        # either: a question that only shares a glossary word ("AWS") is still out of scope.
        evidence = float((primary - glossed[cand]).max())
        margin = p.quote_margin if ranker_query is None else p.ranker_quote_margin
        return SearchResult(hits, lang, evidence < p.min_evidence, evidence, margin)
