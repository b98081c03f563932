"""Signals measured and not kept: score candidate additions to the fused ranking offline,
cross-validated over groups of pages, before writing them into the engine.

    python bench/try_signals.py [--site DIR] [--folds 5] [--cached]

Each in-scope question of the development sets (as in bench/tune.py: the bundled page's sets,
one group; ../shared/eval/site-dev.yaml and eval/site-business.yaml, grouped by page) is run
once through ``Retriever.pool`` with the engine's defaults. For each candidate this records
its fused score, its section, whether the section is the labelled one and whether its text
holds the answer span, plus what each signal below needs. A signal's weight is chosen on the
other folds and scored on each fold; the figures printed are section@1 and answer@1 (on the
passage's text) of those held-out choices beside the engine's.

- ``heading`` / ``page title``: the share of the question's terms (and of the glossary's
  expansions of them) in the section's own heading, and in its page's title: titles as fields
  of the lexical match. The breadcrumb is already in every passage's BM25 text, but diluted
  and shared by all the subsections of a heading.
- ``section``: a passage gains a share of the best other candidate of its section (a lone
  passage counts its own score less 0.1): sections that answer with several passages.
- ``examples`` (bundled page only, one set held out at a time, since the team's example
  questions exist for that page alone): the floor and weight of the example bonus, and
  counting only the closest example question.

Last run (December 2026), section@1 / answer@1, engine → cross-validated with the signal:
none gained a question anywhere. The titles lost one (site English section@1 0.738 → 0.723),
the section share none, the refitted examples three (bundled French 0.925 → 0.916, English
0.927 → 0.908); fitted on all the data, each signal's weight is the engine's (0, or the
examples' 0.45 floor, within one question of 0.4). None is in the engine. Records are kept
in .playbook/try-signals.pkl.
"""

from __future__ import annotations

import argparse
import itertools
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
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

from bot.core.knowledge.embedders import make_embedder  # noqa: E402
from bot.core.knowledge.examples import example_key  # noqa: E402
from bot.core.knowledge.lexical import analyse  # noqa: E402
from bot.core.language import detect_language  # noqa: E402
from bot.core.retrieval import scoring  # noqa: E402
from bot.core.retrieval.evaluation import load_questions  # noqa: E402
from bot.core.retrieval.search import FusionParams, Retriever  # noqa: E402


@dataclass
class Record:
    """One in-scope question's candidates (aligned arrays)."""

    group: str
    kb: str
    lang: str
    set: str
    fused: np.ndarray  # the engine's fused score (the example bonus included)
    section: np.ndarray
    right: np.ndarray
    holds: np.ndarray
    heading: np.ndarray  # share of the question's terms in the section's heading
    page: np.ndarray  # … in its page's title
    example: np.ndarray  # similarity of the section's closest team example (-1: none)
    closest: np.ndarray  # the section is the closest team example's


def _terms(title: str) -> frozenset[str]:
    return frozenset(t for lang in ("fr", "en") for t in analyse(title, lang))


def _examples(retriever: Retriever, question: str, sections: np.ndarray) -> tuple:
    """Per candidate: the similarity of its section's closest team example question (those of
    the set being scored left out) and whether its section is the closest example's."""
    bonus = retriever.examples
    queries = bonus._queries  # the bench reads the engine's example vectors as they are
    best: dict[int, float] = {}
    closest: tuple[int, ...] = ()
    if len(queries):
        sims = queries @ retriever.query_vector(question)
        for i in np.argsort(-sims).tolist():
            if bonus._keys[i] in bonus.ignored:
                continue
            closest = closest or tuple(bonus._sections[i])
            for s in bonus._sections[i]:
                best.setdefault(s, float(sims[i]))
    return (
        np.array([best.get(int(s), -1.0) for s in sections]),
        np.isin(sections, closest),
    )


def record(site: Path) -> list[Record]:
    """Run every in-scope question of the development sets through the first stages."""
    embedder = make_embedder()
    records: list[Record] = []
    for knowledge, sets, kb in development_sets(site):
        engine = open_engine(knowledge, f"tune-{kb}", embedder)
        retriever = engine.retriever
        retriever.params = FusionParams()
        index = retriever.index
        headings = [_terms(c.section) for c in index.sections]
        pages = [_terms(c.breadcrumb[0]) if c.breadcrumb else frozenset() for c in index.sections]
        for path in sets:
            questions = [q for q in load_questions(path) if q.sections]
            retriever.ignored_examples = frozenset(example_key(q.question) for q in questions)
            for q in questions:
                lang = detect_language(q.question)
                pool = retriever.pool(q.question, lang)
                sections = index.passage_section[pool.cand]
                terms = pool.analysed.get(lang, [])
                wanted = frozenset(terms) | pool.glossed
                scale = 1.0 / max(1, len(frozenset(terms)))
                example, closest = _examples(retriever, q.question, sections)
                right, holds = candidate_labels(q, [index.passages[int(n)] for n in pool.cand])
                records.append(
                    Record(
                        group=kb if kb == "bundled" else (q.page or "?"),
                        kb=kb,
                        lang=q.lang or lang,
                        set=path.name,
                        fused=pool.fused.copy(),
                        section=sections.copy(),
                        right=right,
                        holds=holds,
                        heading=np.array(
                            [min(1.0, len(wanted & headings[s]) * scale) for s in sections]
                        ),
                        page=np.array([min(1.0, len(wanted & pages[s]) * scale) for s in sections]),
                        example=example,
                        closest=closest,
                    )
                )
        retriever.ignored_examples = frozenset()
    return records


def titles(r: Record, w: tuple) -> np.ndarray:
    """The fused score plus the title fields (weights: heading, page title)."""
    return r.fused + w[0] * r.heading + w[1] * r.page


def section(r: Record, w: tuple) -> np.ndarray:
    """The fused score plus ``w[0]`` × the best other candidate of the passage's section."""
    other = r.fused - 0.1
    for s in np.unique(r.section):
        members = np.flatnonzero(r.section == s)
        if len(members) > 1:
            ranked = np.sort(r.fused[members])[::-1]
            other[members] = np.where(r.fused[members] == ranked[0], ranked[1], ranked[0])
    return r.fused + w[0] * other


def examples(r: Record, w: tuple) -> np.ndarray:
    """The fused score with the example bonus at (floor, weight, closest only) instead."""
    d = FusionParams()
    engine_bonus = scoring.example_bonus(r.example, d.example_weight, d.example_floor)
    bonus = scoring.example_bonus(r.example, w[1], w[0])
    if w[2]:
        bonus = np.where(r.closest, bonus, 0.0)
    return r.fused - engine_bonus + bonus


SIGNALS: dict[str, tuple[Callable[[Record, tuple], np.ndarray], list[tuple], tuple]] = {
    "titles": (
        titles,
        list(itertools.product((0.0, 0.025, 0.05, 0.1, 0.15, 0.2, 0.3), repeat=2)),
        (0.0, 0.0),
    ),
    "section": (section, [(x,) for x in (0.0, 0.05, 0.1, 0.2, 0.3, 0.5)], (0.0,)),
    "examples": (
        examples,
        list(
            itertools.product(
                (0.4, 0.45, 0.5, 0.55, 0.6, 0.7), (0.0, 0.4, 0.8, 1.2, 1.6, 2.4), (False, True)
            )
        ),
        (FusionParams().example_floor, FusionParams().example_weight, False),
    ),
}


def utility(records: Sequence[Record], score: Callable, w: tuple) -> float:
    """section@1 + answer@1 summed over ``records``."""
    total = 0.0
    for r in records:
        best = int(np.argmax(score(r, w)))
        total += float(r.right[best]) + float(r.holds[best])
    return total


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--site", type=Path, default=SITE)
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--cached", action="store_true", help="reuse the last run's records")
    args = parser.parse_args()
    records = cached_records("try-signals.pkl", args.cached, lambda: record(args.site))
    for name, (score, grid, engine) in SIGNALS.items():
        scored = [r for r in records if r.kb == "bundled"] if name == "examples" else records
        # Folds: groups of pages, or for the examples (one page) the bundled sets.
        by_set = name == "examples"
        if by_set:
            fold_of = {name: i for i, name in enumerate(sorted({r.set for r in scored}))}
        else:
            fold_of = page_folds(sorted({r.group for r in scored}), args.folds)

        def key(r: Record, by_set: bool = by_set) -> str:
            return r.set if by_set else r.group

        chosen: dict[str, tuple] = {}
        for fold in sorted(set(fold_of.values())):
            train = [r for r in scored if fold_of[key(r)] != fold]
            w = max(grid, key=lambda w: utility(train, score, w))
            chosen.update({g: w for g in fold_of if fold_of[g] == fold})
        print(f"{name}: fitted on all {max(grid, key=lambda w: utility(scored, score, w))}")
        for kb, lang in itertools.product(("bundled", "site"), ("fr", "en")):
            part = [r for r in scored if (r.kb, r.lang) == (kb, lang)]
            if not part:
                continue
            cells = []
            for label, weights in (
                ("engine", [engine] * len(part)),
                ("with it", [chosen[key(r)] for r in part]),
            ):
                tops = [int(np.argmax(score(r, w))) for r, w in zip(part, weights, strict=True)]
                s1 = np.mean([r.right[t] for r, t in zip(part, tops, strict=True)])
                a1 = np.mean([r.holds[t] for r, t in zip(part, tops, strict=True)])
                cells.append(f"{label} {s1:.3f} / {a1:.3f}")
            print(f"  {kb}-{lang} ({len(part)}): " + ", ".join(cells))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
