"""Fit the close-reading and abstention weights, cross-validated over groups of pages.

    python bench/tune.py [--site DIR] [--folds 5] [--json]

Data (named here, all in the repository or ../shared):
- the bundled page (knowledge/): eval/questions.yaml, heldout.yaml, validation.yaml,
  heldout2.yaml, heldout3.yaml, near-topic.yaml. One page, so one group.
- the site (../shared/corpora/second-cerveau): ../shared/eval/site-dev.yaml and
  eval/site-business.yaml, grouped by page; out-of-scope questions are spread over the folds.

Held-out sets (eval/heldout4.yaml, eval/heldout5.yaml, eval/site-heldout.yaml) are never read.

Each question is run once through the first stages (``Retriever.pool``) with the engine's
defaults; the head of its ranking is then read once (sentence cosines, term overlaps,
coverage) and, for each passage and sentence, whether the quote the user would see holds the
answer span and whether the highlight does. Any weights are then scored offline by the
engine's own formulas (``bot.core.retrieval.scoring``: those of the close reading and of
abstention), on recorded numbers: each set of weights is a ``FusionParams``. A fold's
weights are chosen on the other folds and scored on it; the figures printed are those
held-out scores, and the weights printed last are fitted on all the data.
"""

from __future__ import annotations

import argparse
import itertools
import json
import pickle
import sys
import zlib
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TypeVar

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.config import Settings  # noqa: E402
from bot.core.knowledge.embedders import Embedder, make_embedder  # noqa: E402
from bot.core.knowledge.examples import example_key, title_key  # noqa: E402
from bot.core.language import detect_language  # noqa: E402
from bot.core.retrieval import scoring  # noqa: E402
from bot.core.retrieval.answers import make_quote  # noqa: E402
from bot.core.retrieval.engine import KnowledgeEngine  # noqa: E402
from bot.core.retrieval.evaluation import (  # noqa: E402
    EvalQuestion,
    highlights_answer,
    holds_answer,
    load_questions,
)
from bot.core.retrieval.search import FusionParams, Hit  # noqa: E402
from bot.core.types import Passage  # noqa: E402

BUNDLED_SETS = [
    "questions.yaml",
    "heldout.yaml",
    "validation.yaml",
    "heldout2.yaml",
    "heldout3.yaml",
    "near-topic.yaml",
]
SITE = ROOT.parent / "shared" / "corpora" / "second-cerveau"
SITE_SETS = [
    ROOT.parent / "shared" / "eval" / "site-dev.yaml",
    ROOT / "eval" / "site-business.yaml",
    # Paraphrases that reuse few of the pages' words (plain BM25 finds 15 % of their
    # sections): what teammates type. Its small talk is left out (the engine never searches it).
    ROOT.parent / "shared" / "eval" / "site-dev-hard.yaml",
]

SENTENCE_OVERLAP = (0.0, 0.1, 0.2, 0.4, 0.8)
PASSAGE_OVERLAP = (0.0, 0.05, 0.1, 0.2, 0.3)
COVERAGE = (0.0, 0.05, 0.1, 0.2, 0.3)
ABSTAIN = tuple(np.round(np.arange(0, 1.01, 0.1), 2))
T = TypeVar("T")
HEDGE = tuple(np.round(np.arange(0, 0.301, 0.02), 2))
# What a hedged answer costs when its section is right (the answer is there, under a warning
# that it may not be): a quarter of a right answer. An out-of-scope question hedged earns 1,
# abstained 1.5; an in-scope question abstained costs 3 (the asker gets nothing).
HEDGED_RIGHT_COST = 0.25
# The weights fitted here, in the order of the tuples below (``params_of``).
WEIGHT_NAMES = (
    "sentence_overlap_weight",
    "passage_overlap_weight",
    "coverage_weight",
    "abstain_coverage_weight",
    "abstain_least_weight",
    "min_evidence",
)


def params_of(weights: tuple[float, ...], hedge_margin: float) -> FusionParams:
    """The engine's defaults with the six ``weights`` (``WEIGHT_NAMES``) and ``hedge_margin``:
    what the engine would rank and abstain with."""
    named = dict(zip(WEIGHT_NAMES, weights, strict=True))
    return replace(FusionParams(), **named, hedge_margin=hedge_margin)


@dataclass
class Read:
    """One question's recorded head: per passage its base score, coverage, whether its
    section is right, and per sentence its cosine, overlap, and whether the quote / the
    highlight then holds the answer."""

    group: str
    in_scope: bool
    lang: str
    evidence: float
    unknown: bool
    base: np.ndarray
    cov_mean: np.ndarray
    cov_least: np.ndarray
    right_section: np.ndarray
    sims: list[np.ndarray]
    overlaps: list[np.ndarray]
    holds: list[np.ndarray]
    highlights: list[np.ndarray]


def record(engine: KnowledgeEngine, q: EvalQuestion, group: str) -> Read:
    """Run ``q`` through the first stages and read its head once. Each sentence's quote is
    made as ``Retriever.highlight`` makes it with that sentence first, so the recorded answers
    and highlights are what a user sees (exactly while ``sentence_overlap_weight`` is 0; with
    overlaps the window rule compares other scores)."""
    retriever = engine.retriever
    index = retriever.index
    lang = detect_language(q.question)  # as the engine does: the label's lang is for figures
    pool = retriever.pool(q.question, lang)
    reading = retriever.reading(pool)
    wanted = {title_key(s) for s in q.sections}
    base, mean, least, right = [], [], [], []
    sims, overlaps, holds, lights = [], [], [], []
    for i in pool.head(retriever.params.reading_depth):
        number = int(pool.cand[i])
        passage = index.passages[number]
        span = retriever.reader.sentences(number)
        cover = retriever.reader.coverage(number, reading)
        base.append(pool.fused[i])
        mean.append(cover.mean)
        least.append(cover.least)
        right.append(
            title_key(passage.citation.section) in wanted and q.page in (None, passage.source)
        )
        local = pool.local(int(i))
        sims.append(np.asarray(local) if len(span) else np.zeros(1))
        overlaps.append(retriever.reader.overlaps(number, reading) if len(span) else np.zeros(1))
        quotes = []
        for j in range(len(span)) or [-1]:
            first, last = (-1, -1) if j < 0 else retriever.highlight(number, local, j)
            quotes.append(make_quote(index, Hit(number, 0.0, 0.0, 0.0, 0.0, first, last)))
        holds.append(np.array([any(holds_answer(a, x.text) for a in q.answers) for x in quotes]))
        lights.append(
            np.array([any(highlights_answer(a, x.highlight) for a in q.answers) for x in quotes])
        )
    return Read(
        group=group,
        in_scope=bool(q.sections),
        lang=q.lang or lang,
        evidence=pool.evidence,
        unknown=bool(retriever.unknown_words(pool.words, pool.covered, pool.word_vectors)),
        base=np.array(base),
        cov_mean=np.array(mean),
        cov_least=np.array(least),
        right_section=np.array(right),
        sims=sims,
        overlaps=overlaps,
        holds=holds,
        highlights=lights,
    )


def rank(read: Read, p: FusionParams) -> tuple[int, int]:
    """The top passage (position in the head) and its highlighted sentence under the
    close-reading weights of ``p``, scored as the engine's close reading scores them."""
    best_score, top, top_sentence = -np.inf, 0, 0
    for k in range(len(read.base)):
        local = scoring.sentence_scores(read.sims[k], read.overlaps[k], p)
        j = int(np.argmax(local))
        score = (
            read.base[k]
            + scoring.overlap_bonus(read.overlaps[k][j], p)
            + scoring.coverage_bonus(read.cov_mean[k], p)
        )
        if score > best_score:
            best_score, top, top_sentence = score, k, j
    return top, top_sentence


@dataclass
class Ranked:
    """Every question's top passage under some ranking weights, as arrays over the reads."""

    answer: np.ndarray
    highlight: np.ndarray
    section: np.ndarray
    evidence: np.ndarray
    cov_mean: np.ndarray
    cov_least: np.ndarray
    unknown: np.ndarray
    in_scope: np.ndarray


def ranked(reads: list[Read], p: FusionParams) -> Ranked:
    """Rank every read under the close-reading weights of ``p``."""
    rows = []
    for read in reads:
        top, j = rank(read, p)
        rows.append(
            (
                read.holds[top][j],
                read.highlights[top][j],
                read.right_section[top],
                read.evidence,
                read.cov_mean[top],
                read.cov_least[top],
                read.unknown,
                read.in_scope,
            )
        )
    columns = [np.array(c) for c in zip(*rows, strict=True)]
    return Ranked(*columns)


def supports(r: Ranked, p: FusionParams) -> np.ndarray:
    """Per read: the support abstention compares with ``min_evidence``, as the engine's."""
    return scoring.support(r.evidence, r.cov_mean, r.cov_least, p)


def outcomes(r: Ranked, p: FusionParams) -> dict[str, np.ndarray]:
    """Per read: abstained, and right section / answer / highlight when answered, under the
    abstention weights of ``p``."""
    abstained = scoring.abstains(supports(r, p), p) | r.unknown
    answered = ~abstained
    return {
        "abstained": abstained,
        "section": r.section & answered,
        "answer": r.answer & answered,
        "highlight": r.highlight & answered,
    }


def utility(r: Ranked, p: FusionParams) -> float:
    """What the fit maximises: per in-scope question answer@1 + 0.5 highlight@1 + 0.5
    section@1, minus 3 when wrongly abstained and ``HEDGED_RIGHT_COST`` when its right
    section is hedged; per out-of-scope question 1.5 when abstained, 1 when hedged (the
    asker is told the pages may not answer), under the abstention weights and hedge band
    of ``p``."""
    o = outcomes(r, p)
    ins = r.in_scope
    hedge = hedged(r, p)
    gain = (
        o["answer"]
        + 0.5 * o["highlight"]
        + 0.5 * o["section"]
        - 3.0 * o["abstained"]
        - HEDGED_RIGHT_COST * (hedge & o["section"])
    )
    return float(gain[ins].sum() + (1.5 * o["abstained"] + 1.0 * hedge)[~ins].sum())


def fit(
    reads: list[Read], defaults: tuple[float, ...], ranking: bool
) -> tuple[tuple[float, ...], float]:
    """With ``ranking``, the ranking weights by grid search (abstention as in ``defaults``);
    then the abstention weights, threshold and hedge band together by grid search with those
    ranking weights. Returns the six weights (``WEIGHT_NAMES``) and the hedge band."""
    so0, po0, cw0, a0, b0, t0 = defaults
    grid = (
        list(itertools.product(SENTENCE_OVERLAP, PASSAGE_OVERLAP, COVERAGE))
        if ranking
        else [(so0, po0, cw0)]
    )
    tables = {w: ranked(reads, params_of((*w, a0, b0, t0), 0.0)) for w in grid}
    weights = max(grid, key=lambda w: utility(tables[w], params_of((*w, a0, b0, t0), 0.0)))
    table = tables[weights]
    best, best_weights, best_margin = -np.inf, (*weights, a0, b0, t0), 0.0
    for a, b in itertools.product(ABSTAIN, ABSTAIN):
        tried = params_of((*weights, a, b, t0), 0.0)
        for threshold in np.quantile(supports(table, tried), np.linspace(0.0, 0.5, 51)):
            for margin in HEDGE:
                weights_now = replace(tried, min_evidence=float(threshold), hedge_margin=margin)
                score = utility(table, weights_now)
                if score > best:
                    best, best_weights, best_margin = (
                        score,
                        (*weights, float(a), float(b), round(float(threshold), 3)),
                        margin,
                    )
    return best_weights, best_margin


def hedged(r: Ranked, p: FusionParams) -> np.ndarray:
    """Per read: answered, with a support under ``min_evidence + hedge_margin``."""
    return ~outcomes(r, p)["abstained"] & scoring.hedges(supports(r, p), p)


def figures(
    reads: list[Read],
    weights_of: dict[str, tuple[float, ...]],
    hedge_of: dict[str, float] | None = None,
) -> dict:
    """section@1, answer@1, highlight@1, abstentions and hedged answers, per language, each
    question scored with the weights of its fold (``weights_of[group]``, ``hedge_of[group]``:
    the hedge band, the engine's when not given)."""
    got: list[dict[str, bool]] = []
    for read in reads:
        margin = FusionParams().hedge_margin if hedge_of is None else hedge_of[read.group]
        p = params_of(weights_of[read.group], margin)
        table = ranked([read], p)
        o = outcomes(table, p)
        got.append({k: bool(v[0]) for k, v in o.items()} | {"hedged": bool(hedged(table, p)[0])})
    out: dict = {}
    for lang in ("fr", "en", "all"):
        ins = [g for g, r in zip(got, reads, strict=True) if r.in_scope and lang in ("all", r.lang)]
        oos = [
            g for g, r in zip(got, reads, strict=True) if not r.in_scope and lang in ("all", r.lang)
        ]
        out[lang] = {
            "in_scope": len(ins),
            **{
                f"{k}@1": round(float(np.mean([g[k] for g in ins])), 3) if ins else 0.0
                for k in ("section", "answer", "highlight")
            },
            "wrongly_abstained": sum(g["abstained"] for g in ins),
            "out_of_scope_abstained": f"{sum(g['abstained'] for g in oos)}/{len(oos)}",
            "out_of_scope_hedged": f"{sum(g['hedged'] for g in oos)}/"
            f"{sum(not g['abstained'] for g in oos)} answered",
            "right_hedged": f"{sum(g['hedged'] and g['section'] for g in ins)}/"
            f"{sum(g['section'] for g in ins)}",
            "wrong_hedged": f"{sum(g['hedged'] and not g['section'] for g in ins)}/"
            f"{sum(not g['section'] and not g['abstained'] for g in ins)}",
        }
    return out


def development_sets(site: Path) -> list[tuple[Path, list[Path], str]]:
    """The knowledge bases and their development sets, as (knowledge directory, question
    files, name): the bundled page's, and the site's when its corpus is at ``site``."""
    plans = [(ROOT / "knowledge", [ROOT / "eval" / s for s in BUNDLED_SETS], "bundled")]
    if site.is_dir():
        plans.append((site, SITE_SETS, "site"))
    else:
        print(f"(the site corpus is not at {site}: fitting on the bundled page alone)")
    return plans


def cached_records(name: str, cached: bool, make: Callable[[], T]) -> T:
    """A tuning script's records: read from ``.playbook/NAME`` when ``cached`` and there, else
    made now by ``make`` and kept there for the next ``--cached`` run."""
    path = ROOT / ".playbook" / name
    if cached and path.exists():
        found: T = pickle.loads(path.read_bytes())
        return found
    records = make()
    path.parent.mkdir(exist_ok=True)
    path.write_bytes(pickle.dumps(records))
    return records


def candidate_labels(q: EvalQuestion, passages: list[Passage]) -> tuple[np.ndarray, np.ndarray]:
    """Per candidate passage: whether its section is the labelled one (its page too, when the
    question names one), and whether its text holds the answer span."""
    wanted = {title_key(s) for s in q.sections}
    right = [
        title_key(p.citation.section) in wanted and q.page in (None, p.source) for p in passages
    ]
    holds = [any(holds_answer(a, p.text) for a in q.answers) for p in passages]
    return np.array(right, dtype=bool), np.array(holds, dtype=bool)


def open_engine(
    knowledge: Path, name: str, embedder: Embedder, embedder_name: str | None = None
) -> KnowledgeEngine:
    """The engine over ``knowledge`` with its index in ``.playbook/NAME`` (built when missing
    or stale), for a tuning script."""
    options = {"embedder": embedder_name} if embedder_name else {}
    settings = Settings(knowledge_dir=knowledge, index_dir=ROOT / ".playbook" / name, **options)
    return KnowledgeEngine.open(settings, embedder=embedder, notify=print)


def load_reads(site: Path) -> list[Read]:
    """Record every question of the named sets (examples of a set left out while it runs)."""
    embedder = make_embedder()
    reads: list[Read] = []
    for knowledge, sets, name in development_sets(site):
        engine = open_engine(knowledge, f"tune-{name}", embedder)
        for path in sets:
            questions = [q for q in load_questions(path) if q.kind != "smalltalk"]
            engine.retriever.ignored_examples = frozenset(
                example_key(q.question) for q in questions
            )
            for q in questions:
                group = (
                    name
                    if name == "bundled"
                    else (q.page or f"oos-{zlib.crc32(q.question.encode()) % 7}")
                )
                reads.append(record(engine, q, group))
        engine.retriever.ignored_examples = frozenset()
    return reads


def page_folds(groups: list[str], folds: int) -> dict[str, int]:
    """Each group's fold: the bundled page is fold 0; the site's pages are spread over folds
    1..``folds`` by a stable hash of their path."""
    return {g: 0 if g == "bundled" else 1 + zlib.crc32(g.encode()) % folds for g in groups}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--site", type=Path, default=SITE)
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--json", action="store_true")
    parser.add_argument(
        "--ranking",
        action="store_true",
        help="fit the close-reading ranking weights too (they did not carry over between "
        "knowledge bases when last measured, so by default only abstention is fitted)",
    )
    args = parser.parse_args()
    p = FusionParams()
    defaults = tuple(float(getattr(p, name)) for name in WEIGHT_NAMES)
    reads = load_reads(args.site)
    groups = sorted({r.group for r in reads})
    fold_of = page_folds(groups, args.folds)
    held: dict[str, tuple[float, ...]] = {}
    held_hedge: dict[str, float] = {}
    for fold in sorted(set(fold_of.values())):
        train = [r for r in reads if fold_of[r.group] != fold]
        weights, margin = fit(train, defaults, args.ranking)
        for g in groups:
            if fold_of[g] == fold:
                held[g] = weights
                held_hedge[g] = margin
        print(f"fold {fold}: weights {weights}, hedge_margin {margin}", file=sys.stderr)
    final, final_hedge = fit(reads, defaults, args.ranking)
    names = WEIGHT_NAMES
    report = {
        "questions": len(reads),
        "current_params_in_sample": figures(reads, dict.fromkeys(groups, defaults)),
        "cross_validated": figures(reads, held, held_hedge),
        "by_knowledge_base": {
            kb: figures(
                [r for r in reads if (r.group == "bundled") == (kb == "bundled")],
                held,
                held_hedge,
            )
            for kb in ("bundled", "site")
        },
        "fitted_on_all": dict(zip(names, final, strict=True)) | {"hedge_margin": final_hedge},
    }
    if args.json:
        print(json.dumps(report))
    else:
        print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
