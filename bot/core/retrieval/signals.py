"""The signals stage: what each candidate passage scores on, one function per signal, each
with its weight in ``FusionParams`` (fusion adds them up: ``scoring.primary_score``).

- **BM25** (``lexical_signal``): the question's own terms, a bonus of ``lexical_weight`` at
  full term coverage, weighted by how many of the question's terms the pages contain at all,
  so it speaks up for French questions and fades for English ones (on an English question
  over French pages BM25 matches only loan words: reciprocal-rank fusion, which gives its
  ranking as much say as the dense one, scored hit@1 0.50 against 0.60 dense-only on English
  questions). Plus the team's glossary (``knowledge/glossary.yaml``: "funnel" is also
  searched as "entonnoir"), ``glossary_weight`` times the share of the question's words its
  entries matched.
- **word expansion** (``expansion_signal``): weaker (``expansion_weight``), each question
  word's nearest words of the pages' vocabulary in the multilingual embedding space, searched
  with BM25.
- **dense** and **sentences** (``passage_cosines``, ``best_per_passage``): the passage's
  cosine with the query vector and its best sentence's; **titles** (``title_weight``): the
  question's cosine with the section's title.
- **example questions** (``example_bonus.py``, ``example_weight``): the team's questions
  already answered, and those taught in the chat; they rank, they do not count as evidence.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from bot.core.knowledge.glossary import analyse_all
from bot.core.knowledge.index import KnowledgeIndex
from bot.core.knowledge.lexical import Postings, analyse
from bot.core.retrieval.params import FusionParams
from bot.core.retrieval.space import PrimarySpace
from bot.core.retrieval.words import Neighbours, PageWords


@dataclass(frozen=True)
class Lexical:
    """The BM25 signal of one question: per passage, BM25 of its own terms (``scores``) and
    the weighted bonus (``bonus``: term coverage and glossary); the question's terms in each
    language; its stems the glossary matched and the stems it expands them to."""

    scores: Postings
    bonus: Postings
    analysed: dict[str, list[str]]
    covered: frozenset[str]
    glossed: frozenset[str]


def lexical_signal(index: KnowledgeIndex, question: str, lang: str, p: FusionParams) -> Lexical:
    """BM25 of ``question`` over ``index`` and its bonus (see the module docstring)."""
    analysed = analyse_all(question)  # the glossary matches terms in either language
    terms = analysed[lang] if lang in analysed else analyse(question, lang)
    lexical = index.lexical.postings(terms)
    coverage = index.lexical.coverage(terms)
    glossary = index.glossary.expand(question, analysed)
    # The glossary speaks as loud as the share of the question's words it understood.
    glossary_share = sum(t in glossary.covered for t in terms) / len(terms) if terms else 0.0
    glossed = (
        index.lexical.postings(glossary.stems()).unit().scaled(p.glossary_weight * glossary_share)
    )
    bonus = lexical.unit().scaled(p.lexical_weight * coverage).plus(glossed)
    return Lexical(lexical, bonus, analysed, glossary.covered, frozenset(glossary.stems()))


def expansion_signal(
    index: KnowledgeIndex,
    pages: PageWords,
    words: list[str],
    vectors: np.ndarray | None,
    p: FusionParams,
) -> tuple[Postings, Neighbours | None]:
    """The BM25 bonus of the pages' words nearest to the question's ``words`` (``vectors``
    are the words' vectors, embedded now when ``None``), and the nearest rows it read (None
    when it read none), which the unknown-word check reads again."""
    if p.expansion_weight <= 0 or not words:
        return Postings.empty(), None
    if vectors is None:
        vectors = pages.vectors_of(words)
    found = pages.nearest(vectors, p.expansion_per_word + 1)
    terms = pages.expansion_terms(
        words, vectors, p.expansion_min_similarity, p.expansion_per_word, found
    )
    if not terms:
        return Postings.empty(), found
    return index.lexical.postings(terms).unit().scaled(p.expansion_weight), found


def passage_cosines(
    space: PrimarySpace, index: KnowledgeIndex, cand: np.ndarray, query: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Per candidate: the primary cosine of its passage and of its section's title."""
    dense = space.rows(index.vectors, cand) @ query
    titles = space.rows(index.title_vectors, index.passage_section[cand]) @ query
    return dense, titles


def sentence_rows(starts: np.ndarray, cand: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The sentence numbers of the candidates, in order, and where each one's start
    (``starts``: each passage's first sentence, ``KnowledgeIndex.sentence_starts``)."""
    first, stop = starts[cand], starts[cand + 1]
    lengths = stop - first
    offsets = np.zeros(len(cand) + 1, np.int64)
    np.cumsum(lengths, out=offsets[1:])
    rows = np.repeat(first - offsets[:-1], lengths) + np.arange(offsets[-1])
    return rows.astype(np.int64), offsets


def best_per_passage(
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


def example_at(sections: np.ndarray, example: dict[int, float]) -> np.ndarray:
    """Per candidate (``sections``: each one's section), its section's example bonus."""
    return np.array([example.get(int(s), 0.0) for s in sections], np.float32)
