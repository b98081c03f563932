"""Fit the e5 re-ranking stage (``ranker_weight``, ``ranker_gate``), cross-validated over
groups of pages.

    python bench/tune_ranker.py [--site DIR] [--folds 5] [--json]

With the dual embedder (``use+e5``) a candidate's fused score gains ``ranker_weight`` × e5's
cosine with the question (less the best candidate's) when USE's best section leads the next
by less than ``ranker_gate`` (the e5 stage, bot/core/retrieval/e5.py). This script records,
for every question of the named sets, each candidate's fused score without e5, its e5 cosine,
its section and whether its text holds the answer span; any (weight, gate) is then scored
offline by the engine's own formulas (``scoring.e5_runs``, ``scoring.with_e5``). A fold's
pair is chosen on the other folds and scored on it; the figures printed are those held-out
scores (section@1 and answer@1, the latter read on the passage's text, before trimming), by
knowledge base and language, beside the figures without e5 and the share of questions that
ran e5.

Data, as in bench/tune.py: the bundled page's sets (one group) and the site's two development
sets (../shared/eval/site-dev.yaml, eval/site-business.yaml), grouped by page. The held-out
sets are never read.

The pair is chosen among those that run e5 for at most ``--max-e5-share`` of the questions
(0.4): e5 costs 10-15 ms a question on 2 cores, so a median answer under 10 ms needs most
questions to be settled by USE alone.

Last run (December 2026): fitted on all the data, weight 8 and gate 0.08 (the defaults).
Cross-validated section@1 / answer@1 without e5 → with it (share of questions running e5):
bundled page French 0.925 / 0.766 → 0.935 / 0.794 (12 %), English 0.927 / 0.807 → 0.899 /
0.789 (11 %); site French 0.863 / 0.758 → 0.895 / 0.779 (27 %), English 0.754 / 0.662 →
0.769 / 0.692 (42 %). The records do not apply the rule that a close example question keeps
e5 from running; with it, eval/heldout4.yaml keeps hit@1 1.00 with e5 as without.

Records are kept in .playbook/tune-ranker.pkl
(``--cached`` reads them instead of running the questions again).
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from tune import (  # noqa: E402
    SITE,
    cached_records,
    candidate_labels,
    development_sets,
    open_engine,
    page_folds,
)

from bot.core.knowledge.embedders import DUAL_EMBEDDER, make_embedder  # noqa: E402
from bot.core.knowledge.examples import example_key  # noqa: E402
from bot.core.language import detect_language  # noqa: E402
from bot.core.retrieval import scoring  # noqa: E402
from bot.core.retrieval.evaluation import load_questions  # noqa: E402
from bot.core.retrieval.params import FusionParams  # noqa: E402

WEIGHTS = (0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 8.0)
GATES = (0.0, 0.02, 0.03, 0.05, 0.08, 0.1, 0.15, 0.2, float("inf"))


@dataclass
class Candidates:
    """One in-scope question's candidates: fused score without e5, e5 cosine (less the
    best), section number, right section, holds the answer."""

    group: str
    kb: str
    lang: str
    fused: np.ndarray
    e5: np.ndarray
    section: np.ndarray
    right: np.ndarray
    holds: np.ndarray


def record(site: Path) -> list[Candidates]:
    """Run every in-scope question of the named sets through the first stages."""
    embedder = make_embedder(DUAL_EMBEDDER)
    records: list[Candidates] = []
    for knowledge, sets, kb in development_sets(site):
        engine = open_engine(knowledge, f"tune-ranker-{kb}", embedder, DUAL_EMBEDDER)
        retriever = engine.retriever
        retriever.params = replace(retriever.params, ranker_weight=0.0)
        index = retriever.index
        assert retriever.e5 is not None  # the dual embedder's
        for path in sets:
            questions = [q for q in load_questions(path) if q.sections]
            retriever.ignored_examples = frozenset(example_key(q.question) for q in questions)
            for q in questions:
                pool = retriever.pool(q.question, detect_language(q.question))
                right, holds = candidate_labels(q, [index.passages[int(n)] for n in pool.cand])
                records.append(
                    Candidates(
                        group=kb if kb == "bundled" else (q.page or "?"),
                        kb=kb,
                        lang=q.lang or detect_language(q.question),
                        fused=pool.fused,
                        e5=retriever.e5.cosines(q.question, pool.cand),
                        section=index.passage_section[pool.cand],
                        right=right,
                        holds=holds,
                    )
                )
        retriever.ignored_examples = frozenset()
    return records


def top(c: Candidates, weight: float, gate: float) -> tuple[int, bool]:
    """The best candidate under (weight, gate), and whether e5 ran, as the engine's e5
    stage decides and scores."""
    p = replace(FusionParams(), ranker_weight=weight, ranker_gate=gate)
    if scoring.e5_runs(c.section, c.fused, p):
        return int(np.argmax(scoring.with_e5(c.fused, c.e5, p))), True
    return int(np.argmax(c.fused)), False


def utility(records: list[Candidates], weight: float, gate: float, share: float) -> float:
    """section@1 + answer@1 summed over ``records``, less a small cost per e5 run (ties go
    to the cheaper pair); minus infinity when more than ``share`` of them run e5."""
    total, runs = 0.0, 0
    for c in records:
        best, ran = top(c, weight, gate)
        total += float(c.right[best]) + float(c.holds[best]) - 0.01 * ran
        runs += ran
    return total if runs <= share * len(records) else -np.inf


def fit(records: list[Candidates], share: float) -> tuple[float, float]:
    """The (weight, gate) of the grid with the best utility on ``records`` among those that
    run e5 for at most ``share`` of them."""
    return max(itertools.product(WEIGHTS, GATES), key=lambda wg: utility(records, *wg, share))


def figures(records: list[Candidates], pairs: list[tuple[float, float]]) -> dict:
    """section@1, answer@1 and the share that ran e5, by knowledge base and language."""
    out: dict = {}
    for kb, lang in itertools.product(("bundled", "site"), ("fr", "en")):
        right, holds, ran = [], [], []
        for c, pair in zip(records, pairs, strict=True):
            if (c.kb, c.lang) == (kb, lang):
                best, e5 = top(c, *pair)
                right.append(c.right[best])
                holds.append(c.holds[best])
                ran.append(e5)
        if right:
            out[f"{kb}-{lang}"] = {
                "questions": len(right),
                "section@1": round(float(np.mean(right)), 3),
                "answer@1": round(float(np.mean(holds)), 3),
                "ran_e5": round(float(np.mean(ran)), 3),
            }
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--site", type=Path, default=SITE)
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--cached", action="store_true", help="reuse the last run's records")
    parser.add_argument(
        "--max-e5-share",
        type=float,
        default=0.4,
        help="at most this share of the questions may run e5: its 10-15 ms on 2 cores on top "
        "of USE's would put the median answer over the 10 ms target if most did",
    )
    args = parser.parse_args()
    records = cached_records("tune-ranker.pkl", args.cached, lambda: record(args.site))
    groups = sorted({c.group for c in records})
    fold_of = page_folds(groups, args.folds)
    held: dict[str, tuple[float, float]] = {}
    for fold in sorted(set(fold_of.values())):
        pair = fit([c for c in records if fold_of[c.group] != fold], args.max_e5_share)
        held.update({g: pair for g in groups if fold_of[g] == fold})
        print(f"fold {fold}: ranker_weight={pair[0]} ranker_gate={pair[1]}", file=sys.stderr)
    final = fit(records, args.max_e5_share)
    result = {
        "without_e5": figures(records, [(0.0, 0.0)] * len(records)),
        "cross_validated": figures(records, [held[c.group] for c in records]),
        "fitted_on_all": {"ranker_weight": final[0], "ranker_gate": final[1]},
    }
    if args.json:
        print(json.dumps(result))
    else:
        for name in ("without_e5", "cross_validated"):
            print(name)
            for part, values in result[name].items():
                print(f"  {part}: {values}")
        print("fitted on all:", result["fitted_on_all"])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
