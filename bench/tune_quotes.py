"""Choose how long quotes grow (``QuoteShape``), cross-validated over groups of pages.

    python bench/tune_quotes.py [--site DIR] [--folds 5] [--max-median 450] [--json]

Data: the site's development sets (../shared/eval/site-dev-hard.yaml, its smalltalk items left
out, and ../shared/eval/site-dev.yaml) grouped by page, and the bundled page's questions
(eval/questions.yaml, one group). Each
question is searched once; every shape then quotes the same hits as ``compose_answer`` would,
and is scored as ``playbook eval`` scores it: answer@1, answer@3, highlight@1 and the median
length of the first quote. A fold's shape is the one with the best answer@1 (then answer@3,
then highlight@1, then the shortest median) on the other folds among the shapes whose median
first quote on the site's hard set stays within ``--max-median`` characters; the figures
printed are the held-out folds', then the shape chosen on all the data.
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
from dataclasses import asdict, astuple, dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.tune import SITE, open_engine, page_folds  # noqa: E402
from bot.core.knowledge.embedders import make_embedder  # noqa: E402
from bot.core.knowledge.examples import example_key  # noqa: E402
from bot.core.knowledge.index import KnowledgeIndex  # noqa: E402
from bot.core.retrieval.answers import make_quote, select_hits  # noqa: E402
from bot.core.retrieval.evaluation import (  # noqa: E402
    EvalQuestion,
    highlights_answer,
    holds_answer,
    load_questions,
)
from bot.core.retrieval.quotes import Fill, QuoteShape  # noqa: E402
from bot.core.retrieval.search import Hit  # noqa: E402

SITE_SETS = {
    "site-hard": ROOT.parent / "shared" / "eval" / "site-dev-hard.yaml",
    "site-dev": ROOT.parent / "shared" / "eval" / "site-dev.yaml",
}
BUNDLED_SET = ROOT / "eval" / "questions.yaml"
CHARS = (400, 440, 480, 520, 560)
LIST_CHARS = (480, 560, 680)
SWITCHES = (False, True)
FILLS: tuple[Fill, ...] = ("none", "passage", "window", "passage_first")


@dataclass
class Asked:
    """One answered in-scope question with an answer span: its page group, the knowledge base
    it was asked of and the hits ``compose_answer`` quotes."""

    group: str
    base: str
    name: str
    question: EvalQuestion
    hits: list[Hit]


def ask_all(
    index_name: str, knowledge: Path, path: Path, base: str, name: str = ""
) -> tuple[KnowledgeIndex, list[Asked]]:
    """Search every question of ``path`` that has an answer span, once."""
    engine = open_engine(knowledge, index_name, make_embedder())
    questions = [q for q in load_questions(path) if q.answers]
    retriever = engine.retriever
    retriever.ignored_examples = frozenset(example_key(q.question) for q in questions)
    asked = []
    for q in questions:
        result = retriever.search(q.question)
        if result.abstain:
            hits: list[Hit] = []
        else:
            hits = select_hits(
                result.hits,
                retriever.index,
                engine.top_k,
                True,
                margin=result.margin,
                twin_margin=result.twin_margin,
            )
        group = base if base == "bundled" else (q.page or "none")
        asked.append(Asked(group, base, name or base, q, hits))
    return retriever.index, asked


@dataclass(frozen=True)
class Scored:
    """Per question: answer rank (0 when missed), highlighted, first quote length."""

    rank: np.ndarray
    lit: np.ndarray
    length: np.ndarray


def score(index: KnowledgeIndex, asked: list[Asked], shape: QuoteShape) -> Scored:
    """Quote every question's hits with ``shape`` and score the quotes."""
    ranks, lit, length = [], [], []
    for a in asked:
        quotes = [make_quote(index, h, shape) for h in a.hits]
        spans = a.question.answers
        rank = next(
            (r for r, q in enumerate(quotes, 1) if any(holds_answer(s, q.text) for s in spans)), 0
        )
        ranks.append(rank)
        lit.append(bool(quotes) and any(highlights_answer(s, quotes[0].highlight) for s in spans))
        length.append(len(quotes[0].text) if quotes else -1)
    return Scored(np.array(ranks), np.array(lit), np.array(length))


def figures(s: Scored, mask: np.ndarray) -> dict[str, float]:
    """answer@1, answer@3, highlight@1 and the median first quote over the masked questions."""
    rank, lit, length = s.rank[mask], s.lit[mask], s.length[mask]
    shown = length[length >= 0]
    return {
        "answer@1": round(float(np.mean(rank == 1)), 3),
        "answer@3": round(float(np.mean((rank >= 1) & (rank <= 3))), 3),
        "highlight@1": round(float(np.mean(lit)), 3),
        "first_quote_chars": float(np.median(shown)) if len(shown) else 0.0,
        "questions": int(mask.sum()),
    }


def shapes() -> list[QuoteShape]:
    """The shapes tried."""
    return [
        QuoteShape(chars=c, list_chars=max(c, lc), run_on=r, fill=f, highlight_on=h, after_first=a)
        for c, lc, r, f, h, a in itertools.product(
            CHARS, LIST_CHARS, SWITCHES, FILLS, (True,), SWITCHES
        )
    ]


def choose(
    results: dict[QuoteShape, Scored], mask: np.ndarray, site: np.ndarray, max_median: float
) -> QuoteShape:
    """The best shape on the masked questions whose median first quote over the ``site``
    questions among them is within ``max_median``."""

    def key(shape: QuoteShape) -> tuple[float, ...]:
        f = figures(results[shape], mask)
        return (f["answer@1"], f["answer@3"], f["highlight@1"], -f["first_quote_chars"])

    allowed = [
        s for s, r in results.items() if figures(r, mask & site)["first_quote_chars"] <= max_median
    ]
    return max(allowed or list(results), key=key)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--site", type=Path, default=SITE)
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--max-median", type=float, default=450)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--table", type=Path, help="write every shape's figures there (JSON)")
    args = parser.parse_args()
    site_asked: list[Asked] = []
    for name, path in SITE_SETS.items():
        site_index, part = ask_all("tune-site", args.site, path, "site", name)
        site_asked += part
    bundled_index, bundled_asked = ask_all(
        "tune-bundled", ROOT / "knowledge", BUNDLED_SET, "bundled"
    )
    asked = site_asked + bundled_asked
    is_hard = np.array([a.name == "site-hard" for a in asked])
    masks = {n: np.array([a.name == n for a in asked]) for n in [*SITE_SETS, "bundled"]}
    results: dict[QuoteShape, Scored] = {}
    for shape in [*dict.fromkeys(shapes()), QuoteShape()]:
        if shape in results:
            continue
        one = score(site_index, site_asked, shape)
        two = score(bundled_index, bundled_asked, shape)
        results[shape] = Scored(
            *(np.concatenate(p) for p in zip(astuple(one), astuple(two), strict=True))
        )

    def per_set(scored: Scored) -> dict[str, dict[str, float]]:
        return {n: figures(scored, m) for n, m in masks.items()}

    if args.table:
        rows = [{**asdict(k), **per_set(v)} for k, v in results.items()]
        args.table.write_text(json.dumps(rows, indent=1), encoding="utf-8")
    groups = [a.group for a in asked]
    fold_of = page_folds(sorted(set(groups)), args.folds)
    folds = np.array([fold_of[g] for g in groups])
    held = {
        k: np.zeros(len(asked), dtype=v.dtype) for k, v in asdict(results[QuoteShape()]).items()
    }
    for fold in sorted(set(folds.tolist())):
        test = folds == fold
        chosen = choose(results, ~test, is_hard, args.max_median)
        print(f"fold {fold}: {chosen}", file=sys.stderr)
        for name in held:
            held[name][test] = getattr(results[chosen], name)[test]
    final = choose(results, np.ones(len(asked), bool), is_hard, args.max_median)
    report = {
        "held_out": per_set(Scored(held["rank"], held["lit"], held["length"])),
        "chosen": asdict(final),
        "chosen_figures": per_set(results[final]),
        "default": asdict(QuoteShape()),
        "default_figures": per_set(results[QuoteShape()]),
    }
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        for name, part in report.items():
            print(f"{name}: {part}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
