"""Hybrid retrieval: dense (passage and sentence vectors) fused with BM25, and abstention.

Score of a passage: mean of its dense and best-sentence cosine, plus ``title_weight`` times the
question's cosine with its section title, plus the three BM25 bonuses below. The query vector is
the mean of the question's embedding and that of its content words alone.

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

    def _expansion_terms(self, words: list[str], vectors: np.ndarray) -> list[str]:
        """Index terms of the vocabulary words nearest to each query word."""
        vocab = self.index.vocabulary
        if not words or not len(vocab.words):
            return []
        sims = vectors @ vocab.vectors.T
        p = self.params
        terms: list[str] = []
        for row, word in zip(sims, words, strict=True):
            best = np.argsort(-row)[: p.expansion_per_word + 1]
            for j in best:
                if row[j] >= p.expansion_min_similarity and vocab.words[j] != word:
                    terms.extend(vocab.terms[j])
        return terms

    def search(self, question: str, language: str | None = None) -> SearchResult:
        """Rank the passages for ``question``. Returns a ``SearchResult``, best hits first."""
        index = self.index
        p = self.params
        lang = language or detect_language(question)
        words = content_words(question)
        # The question is embedded twice, as asked and as its content words only; their mean
        # is the query, which keeps the question's meaning but weighs its topic more than its
        # framing ("What is…", "Qu'est-ce que…").
        keywords = " ".join(words) or question
        vectors = self.embedder.embed([question, keywords, *words])
        query = normalise(vectors[0] + vectors[1])[0]
        word_vectors = vectors[2:]
        n = len(index.passages)
        if n == 0:
            return SearchResult([], lang, True, 0.0)

        pool = min(n, p.candidate_pool)
        _, found = index.dense.search(query[None, :], pool)
        dense = np.full(n, -1.0, dtype=np.float32)
        ids = found[0][found[0] >= 0]
        sentence_sims = index.sentence_vectors @ query
        best_sent = np.full(n, -1, dtype=np.int64)
        sentence = np.full(n, -1.0, dtype=np.float32)
        order = np.argsort(sentence_sims)  # ascending: the last write per passage is its best
        sentence[index.sentence_owner[order]] = sentence_sims[order]
        best_sent[index.sentence_owner[order]] = order

        terms = analyse(question, lang)
        lexical = index.lexical.scores(terms)
        coverage = index.lexical.coverage(terms)
        glossary = index.glossary.expand(question)
        glossed = index.lexical.scores(glossary.stems())
        # The glossary speaks as loud as the share of the question's words it understood.
        glossary_share = sum(t in glossary.covered for t in terms) / len(terms) if terms else 0.0
        glossary_bonus = p.glossary_weight * glossary_share * _unit(glossed)
        expansion = self._expansion_terms(words, word_vectors)
        expanded = index.lexical.scores(expansion) if expansion else np.zeros(n, np.float32)
        candidates = set(ids.tolist())
        for extra in (lexical, expanded, glossed):
            candidates.update(np.flatnonzero(extra).tolist())
        cand = np.array(sorted(candidates), dtype=np.int64)
        # Every candidate, in the dense pool or found by BM25 alone, gets its exact dense score.
        dense[cand] = index.vectors[cand] @ query
        titles = (index.title_vectors @ query)[index.passage_section[cand]]
        fused = (
            (dense[cand] + sentence[cand]) / 2
            + p.title_weight * titles
            + p.lexical_weight * coverage * _unit(lexical)[cand]
            + p.expansion_weight * _unit(expanded)[cand]
            + glossary_bonus[cand]
        )
        ranking = np.argsort(-fused, kind="stable")
        hits = [
            Hit(
                number=int(cand[i]),
                score=float(fused[i]),
                dense=float(dense[cand[i]]),
                sentence=float(sentence[cand[i]]),
                lexical=float(lexical[cand[i]]),
                best_sentence=int(best_sent[cand[i]]),
            )
            for i in ranking
        ]
        # The glossary's bonus helps to rank but is not evidence: a question that only shares a
        # glossary word ("AWS") with the pages is still out of scope.
        evidence = float((fused - glossary_bonus[cand]).max()) if hits else 0.0
        return SearchResult(hits, lang, evidence < p.min_evidence, evidence)
