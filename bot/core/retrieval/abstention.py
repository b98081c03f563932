"""The last stage: the ranking's hits, and whether the bot answers (abstention).

The bot abstains when the best primary (USE) score plus ``abstain_coverage_weight`` and
``abstain_least_weight`` times the best passage's mean and lowest word coverage
(``scoring.support``) is under ``min_evidence`` (fitted by bench/tune.py), or when the question
has a word the pages do not know at all (``unknown_similarity``), which the answer names: a
question about "the best CRM for a sales team" shares enough vocabulary with a page on selling
open source to score like a related one. The glossary's bonus counts as evidence in
proportion to the share of the question's words it matched, so "rotate my AWS access keys",
which shares only "AWS" with it, still abstains. The best passage is the one before any
re-ranking stage (e5, the cross-encoder) moved the order: abstention reads USE alone.

An answer whose support is within ``hedge_margin`` above the threshold is *hedged*
(``scoring.hedges``): it says the knowledge base may not answer the question before quoting
what comes closest (most out-of-scope questions that get past the threshold land there).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from bot.core.retrieval import scoring
from bot.core.retrieval.params import FusionParams
from bot.core.retrieval.pool import Pool
from bot.core.retrieval.reading import Coverage

# The answer quotes at most a few passages and suggests a few sections: the ranking's first 50
# hits are enough for both, and building every candidate's hit would cost time for nothing.
HITS_KEPT = 50


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
    fused: float = 0.0  # the score after fusion (and e5), before the close reading


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
    support: float = 0.0  # what abstention compared with ``FusionParams.min_evidence``


def ranked_hits(
    pool: Pool, fused: np.ndarray, ranking: np.ndarray, highlights: dict[int, tuple[int, int]]
) -> list[Hit]:
    """The ``HITS_KEPT`` best candidates in ``ranking`` order as hits, with their scores
    (``fused``: after the close reading) and highlights (the best sentence when unread)."""
    hits = []
    for i in ranking[:HITS_KEPT]:
        number = int(pool.cand[i])
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
                fused=float(pool.fused[i]),
            )
        )
    return hits


def conclude(
    question: str,
    lang: str,
    hits: list[Hit],
    pool: Pool,
    coverage: Coverage,
    unknown_words: Callable[[Pool], list[str]],
    p: FusionParams,
) -> SearchResult:
    """The result of a search: its ``hits``, and whether to abstain or hedge given the
    pool's evidence and the ``coverage`` of the best passage before re-ranking
    (``unknown_words``: the question's words the pages do not know, asked only when the
    support would answer)."""
    score = scoring.support(pool.evidence, coverage.mean, coverage.least, p)
    abstain = scoring.abstains(score, p)
    unknown = [] if abstain else unknown_words(pool)
    abstain = abstain or bool(unknown)
    return SearchResult(
        hits,
        lang,
        abstain,
        pool.evidence,
        p.quote_margin,
        tuple(as_asked(question, w) for w in unknown),
        twin_margin=p.twin_margin,
        # Close example questions do not lift the hedge: at the examples' floor they also
        # point near-topic questions the pages do not answer to a section (measured on the
        # bundled sets: hedged out-of-scope answers would fall from 6 of 16 to 2). Without a
        # content word nothing backs a quote but the encoder's guess: never a confident
        # answer (in-scope questions without one in the dev sets: none).
        hedged=not abstain and (scoring.hedges(score, p) or not pool.words),
        support=float(score),
    )


def as_asked(question: str, word: str) -> str:
    """``word`` (lower-cased) as the question spells it: "crm" → "CRM"."""
    found = re.search(rf"(?<!\w){re.escape(word)}(?!\w)", question, re.IGNORECASE)
    return found.group(0) if found else word
