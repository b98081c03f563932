"""The scoring formulas of retrieval, one small function per weighted signal, each reading its
weights from ``FusionParams``.

The stages call these, and so do the tuning scripts (bench/tune.py, tune_ranker.py,
try_signals.py) on recorded numbers: a change to a formula or a weight is made here once and
both see it. Each function computes in the order the engine always has, so that scores are
the same to the last bit (the engine's arrays are float32, the scripts' float64: each keeps
its own precision, the formula is the same).

In the order the stages apply them:

- ``primary_score``: the primary (USE) score of a passage (fusion);
- ``fused_score``, ``evidence``: the fused ranking score and the evidence abstention reads;
- ``example_bonus``: the bonus of example questions (fusion);
- ``e5_runs``, ``with_e5``: the optional e5 stage;
- ``sentence_scores``, ``overlap_bonus``, ``coverage_bonus``: the close reading of the head;
- ``support``, ``abstains``, ``hedges``: abstention.
"""

from __future__ import annotations

from typing import TypeVar, overload

import numpy as np

from bot.core.retrieval.params import FusionParams

# A score: one number (the engine, one passage) or an array of them (the engine over its
# candidates, the tuning scripts over recorded questions).
Score = TypeVar("Score", float, np.ndarray)


def primary_score(
    dense: np.ndarray, sentence: np.ndarray, titles: np.ndarray, bonus: np.ndarray, p: FusionParams
) -> np.ndarray:
    """Per candidate, the primary encoder's score: the mean of its passage cosine (``dense``)
    and best-sentence cosine (``sentence``), plus ``title_weight`` × the question's cosine
    with its section title (``titles``), plus the BM25 bonuses (``bonus``, see ``signals``)."""
    score: np.ndarray = (dense + sentence) / 2 + p.title_weight * titles + bonus
    return score


def fused_score(primary: np.ndarray, expansion: np.ndarray, example: np.ndarray) -> np.ndarray:
    """Per candidate, the score the ranking sorts by before e5: the primary score, the word
    expansion's bonus and the example questions' bonus (each already weighted)."""
    fused: np.ndarray = primary + expansion + example
    return fused


def evidence(primary: np.ndarray, expansion: np.ndarray) -> float:
    """What the pages hold for the question, as abstention reads it: the best primary score
    with the word expansion. Examples steer the ranking, not the evidence: being like a
    question the pages answer is no evidence that they answer this one."""
    return float((primary + expansion).max())


def example_bonus(similarity: np.ndarray, weight: float, floor: float) -> np.ndarray:
    """``weight`` × how far each example question's ``similarity`` to the question is above
    ``floor`` (0 below it), in float64."""
    above = np.maximum(0.0, similarity - floor).astype(np.float64)
    bonus: np.ndarray = weight * above
    return bonus


def section_lead(sections: np.ndarray, scores: np.ndarray) -> float:
    """How far the best-scoring candidate leads the best one of another section (``sections``:
    each candidate's section; infinity when all are of one section)."""
    order = np.argsort(-scores, kind="stable")
    ranked = sections[order]
    others = scores[order][ranked != ranked[0]]
    return float(scores[order[0]] - others[0]) if others.size else float("inf")


def e5_runs(sections: np.ndarray, fused: np.ndarray, p: FusionParams) -> bool:
    """Whether the e5 stage runs on these candidates (with the dual embedder, when no example
    question settles it): a ``ranker_weight``, and USE's best section leads the next one by
    less than ``ranker_gate``."""
    return p.ranker_weight > 0 and section_lead(sections, fused) < p.ranker_gate


def with_e5(fused: np.ndarray, cosines: np.ndarray, p: FusionParams) -> np.ndarray:
    """The fused scores with e5's: plus ``ranker_weight`` × e5's cosines (less the best's)."""
    scores: np.ndarray = fused + p.ranker_weight * cosines
    return scores


def sentence_scores(cosines: np.ndarray, overlaps: np.ndarray, p: FusionParams) -> np.ndarray:
    """A passage's sentences' scores when choosing its highlight: their cosine with the
    question plus ``sentence_overlap_weight`` × their term overlap."""
    scores: np.ndarray = cosines + p.sentence_overlap_weight * overlaps
    return scores


def overlap_bonus(overlap: Score, p: FusionParams) -> Score:
    """A passage's bonus from its highlighted sentence's term overlap."""
    return p.passage_overlap_weight * overlap


def coverage_bonus(coverage: Score, p: FusionParams) -> Score:
    """A passage's bonus from its (mean) coverage of the question's words."""
    return p.coverage_weight * coverage


def support(evidence: Score, mean: Score, least: Score, p: FusionParams) -> Score:
    """The score abstention compares with ``min_evidence``: the evidence plus the weighted
    coverage (``mean``, ``least``) of the best passage."""
    return evidence + p.abstain_coverage_weight * mean + p.abstain_least_weight * least


@overload
def abstains(support: float, p: FusionParams) -> bool: ...
@overload
def abstains(support: np.ndarray, p: FusionParams) -> np.ndarray: ...
def abstains(support: float | np.ndarray, p: FusionParams) -> bool | np.ndarray:
    """Whether (one, or per element) the support is under ``min_evidence``."""
    return support < p.min_evidence


@overload
def hedges(support: float, p: FusionParams) -> bool: ...
@overload
def hedges(support: np.ndarray, p: FusionParams) -> np.ndarray: ...
def hedges(support: float | np.ndarray, p: FusionParams) -> bool | np.ndarray:
    """Whether (one, or per element) the support is under ``min_evidence + hedge_margin``: an
    answer there says the pages may not answer the question."""
    return support < p.min_evidence + p.hedge_margin
