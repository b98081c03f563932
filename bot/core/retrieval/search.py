"""Hybrid retrieval: dense (passage and sentence vectors) fused with BM25, and abstention.

Score of a passage with the primary encoder (USE): mean of its dense and best-sentence cosine,
plus ``title_weight`` times the question's cosine with its section title, plus the three BM25
bonuses below. The query vector is the mean of the question's embedding and that of its content
words alone.

With the dual embedder (``use+e5``: USE + multilingual-e5-small, a model trained for
retrieval), e5 re-ranks when USE hesitates (its best section leads the next by less than
``ranker_gate``), in any language: each candidate gains ``ranker_weight`` times e5's cosine
between the question and the passage (less the best candidate's). USE's scores stay in the sum:
each encoder is right where the other is not. Where USE leads clearly e5 rarely changes the
first section, so its time is saved. Abstention always reads the USE score (see ``evidence``
below).

Why not reciprocal-rank fusion: RRF gives BM25's ranking as much say as the dense one, and on an
English question over French pages BM25 matches only loan words ("open source", "fit"), so its
ranking is mostly noise that drags good dense rankings down (measured: hit@1 0.50 with RRF against
0.60 dense-only on English questions; see README "Retrieval"). Here the dense score leads and BM25
adds a bounded bonus weighted by how many of the question's terms the pages contain at all, so it
speaks up for French questions and fades for English ones. Two expansions give BM25 something to
match across languages: the team's glossary (``knowledge/glossary.yaml``: "funnel" is also searched
as "entonnoir"), weighted by the share of the question's words that its entries matched, and,
weaker, each question word's nearest words of the pages' vocabulary in the multilingual
embedding space.

Example questions (the team's ``examples.yaml``: questions already asked, with the sections
that answer them): each section gains ``example_weight`` times how far its closest example is
above ``example_floor`` in similarity to the question. This is the one signal that the
encoders do not already carry: a learned re-weighting of the scores above gained nothing under
leave-one-set-out cross-validation, the examples 14 of 216 questions at hit@1 (README). They
rank, they do not count as evidence.

Cross-encoder (``cross_rerank``, bot/core/retrieval/rerank.py; off unless the team names a
model): a model that reads the question and each passage together re-orders the head of the
fused ranking (after e5), handing the head's fused scores out again in its order. Abstention
does not read it.

Close reading (``_read_head``, bot/core/reading.py): the ``reading_depth`` best candidates
are read sentence by sentence: the highlight, a second passage of a quoted section, and each
passage's coverage of the question's words.

Abstention (``support``): the bot abstains when the best primary (USE) score plus
``abstain_least_weight`` times the best passage's lowest word coverage is under
``min_evidence`` (both fitted by bench/tune.py), or when the question has a word the pages do
not know at all (``unknown_similarity``), which the answer names: a question about "the best
CRM for a sales team" shares enough vocabulary with a page on selling open source to score
like a related one. The glossary's bonus counts as evidence in proportion to the share of the
question's words it matched, so "rotate my AWS access keys", which shares only "AWS" with it,
still abstains. An answer whose support is within ``hedge_margin`` above the threshold is
*hedged*: it says the knowledge base may not answer the question before quoting what comes
closest (most out-of-scope questions that get past the threshold land there).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from functools import cached_property

import numpy as np

from bot.core.knowledge.embedders import DualEmbedder, Embedder, normalise
from bot.core.knowledge.examples import example_key, query_texts
from bot.core.knowledge.glossary import analyse_all
from bot.core.knowledge.index import KnowledgeIndex
from bot.core.knowledge.lexical import Postings, analyse, content_words
from bot.core.knowledge.rowfile import Matrix
from bot.core.knowledge.sections import SectionKeys
from bot.core.language import detect_language
from bot.core.retrieval.example_bonus import ExampleBonus
from bot.core.retrieval.reading import Coverage, PassageReader, QuestionWords
from bot.core.retrieval.rerank import Reranker
from bot.core.retrieval.words import Neighbours, PageWords


@dataclass(frozen=True)
class FusionParams:
    """Weights of the fused score and the abstention threshold (see the module docstring)."""

    lexical_weight: float = 0.15  # BM25 bonus at full term coverage
    expansion_weight: float = 0.05  # BM25 bonus from cross-lingual expansion terms
    title_weight: float = 0.15  # similarity of the question to the section's title
    expansion_min_similarity: float = 0.6
    expansion_per_word: int = 1
    # Abstain when evidence + abstain_coverage_weight × coverage + abstain_least_weight × least
    # coverage of the best passage (bot/core/reading.py) is under this. Fitted with the hedge
    # band below by bench/tune.py over the bundled page's sets and the site's three development
    # sets (paraphrases included), folds over groups of pages: cross-validated, in scope
    # wrongly abstained 14 → 3 of 486 and out of scope declined (abstained or hedged) 78 → 75
    # of 93 against the former threshold of 0.616 and band of 0.1.
    min_evidence: float = 0.577
    # A question word that the pages do not know (no shared stem, no glossary entry, and no
    # page word at least this close in the primary encoder's space: "CRM", "Windows") means
    # the question is about something else: abstain and name it. At 0.45 no in-scope question
    # of the sets has such a word; at 0.5, two do ("wrote", "s'adresse").
    unknown_similarity: float = 0.45
    candidate_pool: int = 64
    glossary_weight: float = 0.3  # BM25 bonus from the glossary's terms, at full glossary coverage
    # With the dual embedder (use+e5): when USE's best section leads the next one by less
    # than ``ranker_gate``, each candidate gains ``ranker_weight`` times e5's cosine with the
    # question (less the best candidate's), in any language. Fitted by bench/tune_ranker.py,
    # cross-validated over groups of pages (see its docstring for the figures).
    ranker_weight: float = 8.0
    ranker_gate: float = 0.08
    quote_margin: float = 0.15  # a further quote scores within this of the best
    # Example questions (examples.yaml): a section gains ``example_weight`` times how far its
    # closest example question is above ``example_floor`` in similarity to the question.
    # Chosen by leave-one-set-out cross-validation over the five evaluation sets.
    example_weight: float = 0.8
    example_floor: float = 0.4
    # Examples the team taught in the chat (bot/core/learning.py): the same bonus, with this
    # weight and floor, times their strength (their section's share of the votes, a lone 👍
    # half). Fitted by bench/bench_learning.py --fit, cross-validated over three groups of
    # the pages of eval/learning-pairs.yaml (chosen in two folds of three; held-out
    # section@1 of the corrected pairs' second questions 0.24 → 0.48, others unchanged).
    learned_weight: float = 0.75
    learned_floor: float = 0.2
    # Close reading of the ranking's head (bot/core/reading.py): how many passages are read,
    # how much a sentence's term overlap counts beside its cosine when choosing the highlight,
    # and the bonuses a passage gets from its best sentence's overlap and from its coverage.
    # Off: fitted by bench/tune.py --ranking they did not carry over between folds of pages
    # (cross-validated answer@1 0.742 without them, 0.729 with them).
    reading_depth: int = 12
    sentence_overlap_weight: float = 0.0
    passage_overlap_weight: float = 0.0
    coverage_weight: float = 0.0
    # Abstention reads evidence + these weights × the best passage's coverage (mean, least)
    # against ``min_evidence`` (fitted together by bench/tune.py).
    abstain_coverage_weight: float = 0.1
    abstain_least_weight: float = 0.7
    # An answer whose support is under ``min_evidence + hedge_margin`` says that the knowledge
    # base may not answer the question (it still quotes what comes closest). Fitted with the
    # threshold by bench/tune.py (a hedged right answer costs a quarter of a right answer, an
    # out-of-scope question hedged earns two thirds of one abstained). Cross-validated, it
    # hedged 37 of the 55 out-of-scope questions answered, 35 of 89 wrong answers and 32 of
    # 394 right ones.
    hedge_margin: float = 0.22
    # The highlight takes in the next sentence too when the best one leads into it (ends with
    # ":" or "?") or when the next one's score is within this of its own (0: only the lead-in).
    highlight_window: float = 0.05
    # A second passage of an already quoted section is shown when it scores within this of
    # the best hit (0: one passage per section).
    twin_margin: float = 0.05


@dataclass(frozen=True)
class Hit:
    """One retrieved passage: its number in the index and its scores."""

    number: int
    score: float
    dense: float
    sentence: float
    lexical: float
    best_sentence: int  # index into ``KnowledgeIndex.sentences``
    last_sentence: int = -1  # the highlight runs from best_sentence to this one (-1: itself)


@dataclass(frozen=True)
class SearchResult:
    """Ranked hits (best first), the question's language and whether the evidence is weak."""

    hits: list[Hit]
    language: str
    abstain: bool
    evidence: float
    margin: float  # how far below the best hit a further quote may score
    unknown: tuple[str, ...] = ()  # question words the pages do not know, as asked
    twin_margin: float = 0.0  # a second passage of a quoted section scores within this
    hedged: bool = False  # answered, but with support close to the abstention threshold


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


SQRT2 = float(np.sqrt(2))
# The answer quotes at most a few passages and suggests a few sections: the ranking's first 50
# hits are enough for both, and building every candidate's hit would cost time for nothing.
HITS_KEPT = 50


def _best_per_passage(
    sims: np.ndarray, rows: np.ndarray, offsets: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Best sentence similarity of each candidate and that sentence's number, given the
    candidates' sentence similarities ``sims`` (sentence numbers ``rows``) grouped by
    ``offsets``; a passage without sentences gets -1 and -1."""
    count = len(offsets) - 1
    best = np.full(count, -1.0, dtype=np.float32)
    number = np.full(count, -1, dtype=np.int64)
    if not sims.size:
        return best, number
    owner = np.repeat(np.arange(count), np.diff(offsets))
    order = np.lexsort((sims, owner))  # by candidate, then ascending: the last is the best
    last = offsets[1:][np.diff(offsets) > 0] - 1
    has = np.diff(offsets) > 0
    best[has] = sims[order[last]]
    number[has] = rows[order[last]]
    return best, number


def section_lead(sections: np.ndarray, scores: np.ndarray) -> float:
    """How far the best-scoring candidate leads the best one of another section (``sections``:
    each candidate's section; infinity when all are of one section)."""
    order = np.argsort(-scores, kind="stable")
    ranked = sections[order]
    others = scores[order][ranked != ranked[0]]
    return float(scores[order[0]] - others[0]) if others.size else float("inf")


def _as_asked(question: str, word: str) -> str:
    """``word`` (lower-cased) as the question spells it: "crm" → "CRM"."""
    found = re.search(rf"(?<!\w){re.escape(word)}(?!\w)", question, re.IGNORECASE)
    return found.group(0) if found else word


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
        # With the dual embedder, the stored vectors are [USE, e5] / sqrt(2): the USE half,
        # scaled back, gives the primary scores (titles, sentences, word expansion, evidence).
        self._dual = embedder if isinstance(embedder, DualEmbedder) else None
        self._split: int | None = self._dual.split if self._dual else None
        self._primary_embedder: Embedder = self._dual.primary if self._dual else embedder
        self._ranker_dim = index.vectors.shape[1] - (self._split or index.vectors.shape[1])
        self.words = PageWords(
            index,
            self._primary_half(index.vocabulary.vectors),
            self._primary_embedder,
            self._ranker_dim,
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
        scores = self._rows(titles, np.arange(len(titles))) @ self.query_vector(question)
        best = np.argsort(-scores, kind="stable")[:count]
        return [int(s) for s in best]

    @cached_property
    def section_keys(self) -> SectionKeys:
        """This index's sections by ``learning.section_key`` (made on first use)."""
        return SectionKeys(self.index)

    def query_vector(self, question: str) -> np.ndarray:
        """The primary query vector of ``question``, as a search makes it."""
        return self._embed_question(question, [], False)[0]

    def _example_queries(self, index: KnowledgeIndex) -> np.ndarray:
        """Each example's query vector, as ``_embed_question`` makes a question's."""
        count = len(index.examples)
        if not count:
            return np.zeros((0, 1), np.float32)
        halves = self._primary_half(index.example_vectors)
        return normalise(halves[:count] + halves[count:])

    def _example_bonus(self, query: np.ndarray) -> dict[int, float]:
        """By section number: the bonus from the example questions closest to the question
        (``ExampleBonus.bonus`` with this retriever's weights)."""
        p = self.params
        return self.examples.bonus(query, p.example_weight, p.example_floor, p.learned_floor)

    def _section_passages(self, sections: dict[int, float]) -> list[int]:
        """The passages of ``sections``."""
        starts = self._section_starts
        return [n for s in sections for n in range(int(starts[s]), int(starts[s + 1]))]

    def _primary_half(self, matrix: np.ndarray) -> np.ndarray:
        if self._split is None:
            return matrix
        return np.ascontiguousarray(matrix[:, : self._split] * SQRT2, dtype=np.float32)

    def _rows(self, matrix: Matrix, numbers: np.ndarray) -> np.ndarray:
        """Rows ``numbers`` of a stored matrix, their primary half (see ``_primary_half``)."""
        rows = np.asarray(matrix[numbers], dtype=np.float32)
        return rows if self._split is None else rows[:, : self._split] * SQRT2

    def _stored_query(self, query: np.ndarray) -> np.ndarray:
        """A primary query vector in the stored matrices' space (a zero e5 half): its inner
        product with a stored row is that row's primary cosine divided by √2."""
        if self._split is None:
            return query
        return np.concatenate([query, np.zeros(self._ranker_dim, np.float32)])

    def _embed_question(
        self, question: str, words: list[str], with_words: bool
    ) -> tuple[np.ndarray, np.ndarray | None]:
        """The primary query vector and, when ``with_words``, the vectors of ``words``.

        The query is the mean of the question's embedding and that of its content words alone,
        which keeps the question's meaning but weighs its topic more than its framing ("What
        is…", "Qu'est-ce que…"). The words' vectors come in the same call: one call to the
        encoder costs less than two.
        """
        new_words = self.words.new(words) if with_words else []
        vectors = self._primary_embedder.embed([*query_texts(question), *new_words])
        query = normalise(vectors[0] + vectors[1])[0]
        return query, self.words.vectors_of(words, vectors[2:]) if with_words else None

    def _lexical_bonuses(
        self, question: str, lang: str
    ) -> tuple[Postings, Postings, frozenset[str], dict[str, list[str]], frozenset[str]]:
        """Per passage: BM25 scores of the question's own terms and the bonus of those terms
        (by coverage) plus the glossary's; the question's stems that the glossary matched; and
        the question's terms in each language; and the stems the glossary expands them to."""
        index, p = self.index, self.params
        analysed = analyse_all(question)  # the glossary matches terms in either language
        terms = analysed[lang] if lang in analysed else analyse(question, lang)
        lexical = index.lexical.postings(terms)
        coverage = index.lexical.coverage(terms)
        glossary = index.glossary.expand(question, analysed)
        # The glossary speaks as loud as the share of the question's words it understood.
        glossary_share = sum(t in glossary.covered for t in terms) / len(terms) if terms else 0.0
        glossed = (
            index.lexical.postings(glossary.stems())
            .unit()
            .scaled(p.glossary_weight * glossary_share)
        )
        bonus = lexical.unit().scaled(p.lexical_weight * coverage).plus(glossed)
        return lexical, bonus, glossary.covered, analysed, frozenset(glossary.stems())

    def _unknown_words(
        self,
        words: list[str],
        covered: frozenset[str],
        vectors: np.ndarray | None,
        found: Neighbours | None = None,
    ) -> list[str]:
        """The ``words`` the pages do not know (``PageWords.unknown`` at
        ``unknown_similarity``; ``found``: their nearest vocabulary rows, when searched)."""
        return self.words.unknown(words, covered, vectors, self.params.unknown_similarity, found)

    def _expansion_bonus(
        self, words: list[str], vectors: np.ndarray | None
    ) -> tuple[Postings, Neighbours | None]:
        """The BM25 bonus of the pages' words nearest to the question's words (``vectors``
        are the words' vectors, embedded now when ``None``), and the nearest rows it read
        (None when it read none), which the unknown-word check reads again."""
        if self.params.expansion_weight <= 0 or not words:
            return Postings.empty(), None
        if vectors is None:
            vectors = self.words.vectors_of(words)
        p = self.params
        found = self.words.nearest(vectors, p.expansion_per_word + 1)
        terms = self.words.expansion_terms(
            words, vectors, p.expansion_min_similarity, p.expansion_per_word, found
        )
        if not terms:
            return Postings.empty(), found
        return self.index.lexical.postings(terms).unit().scaled(p.expansion_weight), found

    def _primary_scores(
        self, cand: np.ndarray, query: np.ndarray, bonus: np.ndarray, sentence: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """For the candidates: the primary (USE) score and the passage cosine. ``bonus`` (BM25)
        and ``sentence`` (best-sentence cosine) are per candidate."""
        index, p = self.index, self.params
        dense = self._rows(index.vectors, cand) @ query
        titles = self._rows(index.title_vectors, index.passage_section[cand]) @ query
        return (dense + sentence) / 2 + p.title_weight * titles + bonus, dense

    def search(self, question: str, language: str | None = None) -> SearchResult:
        """Rank the passages for ``question``. Returns a ``SearchResult``, best hits first.

        The stages: ``pool`` (candidates, their fused score, e5), ``cross_rerank`` (the
        optional cross-encoder), ``_read_head`` (the head read closely: highlight, overlap
        and coverage), then abstention (``support``) on the evidence and the coverage of the
        best passage before re-ranking.
        """
        p = self.params
        lang = language or detect_language(question)
        if not len(self.index.passages):
            return SearchResult([], lang, True, 0.0, p.quote_margin)
        pool = self.cross_rerank(question, self.pool(question, lang))
        reading = self.reading(pool)
        fused, highlights, coverage = self._read_head(pool, reading)
        ranking = np.argsort(-fused, kind="stable")
        cand = pool.cand
        # Abstention reads USE's best passage, as it reads USE's evidence.
        top = int(cand[ranking[0]]) if pool.before_rerank is None else pool.before_rerank
        top_coverage = coverage[top] if top in coverage else self.reader.coverage(top, reading)
        hits = []
        for i in ranking[:HITS_KEPT]:
            number = int(cand[i])
            first, last = highlights.get(number, (int(pool.best_sent[i]),) * 2)
            hits.append(
                Hit(
                    number=number,
                    score=float(fused[i]),
                    dense=float(pool.dense[i]),
                    sentence=float(pool.sentence[i]),
                    lexical=float(pool.lexical[i]),
                    best_sentence=first,
                    last_sentence=last if last > first else -1,
                )
            )
        # Evidence is the primary encoder's score: e5's similarities do not tell an unrelated
        # question from a related one (measured: out of scope up to 0.85, in scope down to 0.81).
        support = self.support(pool.evidence, top_coverage)
        abstain = support < p.min_evidence
        unknown = (
            []
            if abstain
            else self._unknown_words(pool.words, pool.covered, pool.word_vectors, pool.neighbours)
        )
        abstain = abstain or bool(unknown)
        return SearchResult(
            hits,
            lang,
            abstain,
            pool.evidence,
            p.quote_margin,
            tuple(_as_asked(question, w) for w in unknown),
            twin_margin=p.twin_margin,
            # Close example questions do not lift the hedge: at the examples' floor they
            # also point near-topic questions the pages do not answer to a section (measured
            # on the bundled sets: hedged out-of-scope answers would fall from 6 of 16 to 2).
            # Without a content word nothing backs a quote but the encoder's guess: never a
            # confident answer (in-scope questions without one in the dev sets: none).
            hedged=not abstain and (support < p.min_evidence + p.hedge_margin or not pool.words),
        )

    def support(self, evidence: float, coverage: Coverage) -> float:
        """The score abstention compares with ``min_evidence``: the evidence plus the
        weighted coverage of the best passage."""
        p = self.params
        return (
            evidence
            + p.abstain_coverage_weight * coverage.mean
            + p.abstain_least_weight * coverage.least
        )

    def pool(self, question: str, lang: str) -> Pool:
        """The first stages: the candidate pool (dense, BM25, word expansion, examples) and
        each candidate's fused score. Questions are ranked in two steps with the dual
        embedder: USE first; e5 (the slow part) only when USE's best section leads the next
        by less than ``ranker_gate`` (see ``_hesitates``)."""
        index = self.index
        p = self.params
        words = content_words(question)
        # The words' vectors serve the word expansion and the unknown-word check; one call to
        # the encoder with the question costs less than a second one (measured: English p95
        # 29-30 ms with two calls, 26-28 ms with one).
        query, word_vectors = self._embed_question(question, words, p.expansion_weight > 0)
        found, _ = index.dense.search(self._stored_query(query), p.candidate_pool)
        lexical, bonus, covered, analysed, glossed = self._lexical_bonuses(question, lang)
        expanded, neighbours = self._expansion_bonus(words, word_vectors)
        example = self._example_bonus(query)
        cand = self._candidates(found, (bonus, expanded), example)
        sections = index.passage_section[cand]
        example_at = np.array([example.get(int(s), 0.0) for s in sections], np.float32)
        expanded_at = expanded.at(cand)
        rows, offsets = self._sentence_rows(cand)
        sentence_sims = self._rows(index.sentence_vectors, rows) @ query
        sentence, best_sent = _best_per_passage(sentence_sims, rows, offsets)
        primary, dense = self._primary_scores(cand, query, bonus.at(cand), sentence)
        # The evidence counts the word expansion whichever encoder ranks; examples steer the
        # ranking, not the evidence: being like a question the pages answer is no evidence
        # that they answer this one.
        evidence = float((primary + expanded_at).max())
        fused, before_e5 = self._rerank(question, cand, primary + expanded_at + example_at, example)
        if word_vectors is None:
            word_vectors = self.words.vectors_of(words)
        return Pool(
            words=words,
            word_vectors=word_vectors,
            analysed=analysed,
            covered=covered,
            glossed=glossed,
            cand=cand,
            fused=fused,
            dense=dense,
            lexical=lexical.at(cand),
            sentence=sentence,
            best_sent=best_sent,
            sentence_sims=sentence_sims,
            sentence_offsets=offsets,
            evidence=evidence,
            before_rerank=before_e5,
            neighbours=neighbours,
        )

    def _candidates(
        self, nearest: np.ndarray, lexical: Sequence[Postings], example: dict[int, float]
    ) -> np.ndarray:
        """The candidates, sorted: the ``nearest`` passages, the best of each ``lexical``
        bonus (BM25 with the glossary, the word expansion) and the passages of the sections
        an example question points to. Each list is at most ``candidate_pool`` long, whatever
        the size of the index."""
        pool = set(nearest.tolist())
        for bonus in lexical:
            pool.update(bonus.top(self.params.candidate_pool).tolist())
        pool.update(self._section_passages(example))
        return np.array(sorted(pool), dtype=np.int64)

    def _rerank(
        self, question: str, cand: np.ndarray, fused: np.ndarray, example: dict[int, float]
    ) -> tuple[np.ndarray, int | None]:
        """The re-ranking stage: ``fused`` plus ``ranker_weight`` times e5's cosines when
        USE hesitates (and no example question settles it), with the best passage before e5
        (None when e5 did not run)."""
        if not (self._reranks(example) and self._hesitates(cand, fused)):
            return fused, None
        before = int(cand[int(np.argmax(fused))])
        return fused + self.params.ranker_weight * self._ranker_cosines(question, cand), before

    def cross_rerank(self, question: str, pool: Pool) -> Pool:
        """The cross-encoder stage (when one is configured): the ``reranker.top`` best
        candidates re-ordered by the model, their fused scores handed out again in its order
        (the best to its first); the rest as it was. Returns ``pool`` itself when off, else a
        copy that remembers the best passage before it, for abstention."""
        reranker = self.reranker
        if reranker is None or len(pool.cand) < 2:
            return pool
        head = pool.head(reranker.top)
        passages = self.index.passages
        texts = [passages[int(pool.cand[i])].embedding_text for i in head]
        scores = reranker.score(question, texts)
        fused = pool.fused.copy()
        fused[head[np.argsort(-scores, kind="stable")]] = pool.fused[head]
        before = pool.before_rerank
        return replace(
            pool, fused=fused, before_rerank=int(pool.cand[head[0]]) if before is None else before
        )

    def _reranks(self, example: dict[int, float]) -> bool:
        """Whether e5 may re-rank this question: the dual embedder, a ``ranker_weight``, and
        none of the team's example questions (``example``: bonus by section) close to it."""
        return self._dual is not None and self.params.ranker_weight > 0 and not example

    def _ranker_cosines(self, question: str, cand: np.ndarray) -> np.ndarray:
        """e5's cosine of the question with each candidate passage, less the best one's (so
        the fused score keeps the primary scale: the best passage by e5 loses nothing)."""
        assert self._dual is not None and self._split is not None
        query = self._dual.ranker.embed_queries([question])[0]
        stored = np.asarray(self.index.vectors[cand], np.float32)[:, self._split :]
        cosines: np.ndarray = (stored @ query) * SQRT2
        return cosines - float(cosines.max())

    def _sentence_rows(self, cand: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The sentence numbers of the candidates, in order, and where each one's start."""
        starts = self.reader.starts
        first, stop = starts[cand], starts[cand + 1]
        lengths = stop - first
        offsets = np.zeros(len(cand) + 1, np.int64)
        np.cumsum(lengths, out=offsets[1:])
        rows = np.repeat(first - offsets[:-1], lengths) + np.arange(offsets[-1])
        return rows.astype(np.int64), offsets

    def highlight(self, number: int, local: np.ndarray, best: int | None = None) -> tuple[int, int]:
        """The first and last sentence (numbers in ``KnowledgeIndex.sentences``) of passage
        ``number``'s highlight, given its sentences' scores ``local``: the best one (or its
        sentence ``best``), and the next one too when it announces it ("…three types:", "Why
        hire seniors?") or the next scores within ``highlight_window`` of it."""
        span = self.reader.sentences(number)
        best = int(np.argmax(local)) if best is None else best
        first = span.start + best
        if best + 1 < len(span):
            window = self.params.highlight_window
            leads_on = self.index.sentences[first].rstrip().endswith((":", "?"))
            if leads_on or (window > 0 and float(local[best + 1]) >= float(local[best]) - window):
                return first, first + 1
        return first, first

    def reading(self, pool: Pool) -> QuestionWords:
        """The question as the close-reading stage needs it."""
        return QuestionWords(
            pool.words, pool.word_vectors, pool.analysed, pool.covered, pool.glossed
        )

    def _read_head(
        self, pool: Pool, reading: QuestionWords
    ) -> tuple[np.ndarray, dict[int, tuple[int, int]], dict[int, Coverage]]:
        """Read the ``reading_depth`` best candidates closely (bot/core/reading.py). Returns
        the candidates' scores with the overlap and coverage bonuses added, each passage's
        highlight (first and last sentence, by passage number), and the coverage of the
        passages it computed (only when ``coverage_weight`` asks for it). Signals whose
        weights are zero are not computed."""
        p = self.params
        fused = pool.fused.copy()
        overlapping = p.sentence_overlap_weight > 0 or p.passage_overlap_weight > 0
        highlights: dict[int, tuple[int, int]] = {}
        coverage: dict[int, Coverage] = {}
        for i in pool.head(p.reading_depth):
            number = int(pool.cand[i])
            span = self.reader.sentences(number)
            if len(span):
                local = pool.local(int(i))
                if overlapping:
                    overlap = self.reader.overlaps(number, reading)
                    local = local + p.sentence_overlap_weight * overlap
                highlights[number] = self.highlight(number, local)
                if overlapping:
                    fused[i] += p.passage_overlap_weight * float(
                        overlap[highlights[number][0] - span.start]
                    )
            if p.coverage_weight > 0:
                coverage[number] = self.reader.coverage(number, reading)
                fused[i] += p.coverage_weight * coverage[number].mean
        return fused, highlights, coverage

    def _hesitates(self, cand: np.ndarray, primary: np.ndarray) -> bool:
        """Whether USE's best section leads the next one by less than ``ranker_gate``: only
        then is e5's time (10-15 ms a question on 2 cores) spent (bench/tune_ranker.py)."""
        return section_lead(self.index.passage_section[cand], primary) < self.params.ranker_gate
