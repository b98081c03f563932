"""Learning from the team: pairs of questions that ask the same thing in other words
(``eval/learning-pairs.yaml``, over the site corpus ``../shared/corpora/second-cerveau``). A
simulated team asks the first question of each pair; when its answer is wrong, one member
gives 👎 and picks the right section from the menu the chat shows (the ``--menu`` closest
sections; when the right one is not offered, nothing is taught). Then the second questions
are asked by someone else.

Prints answer@1 and section@1 (page and section) on the second questions before and after,
on those of the corrected pairs, and on the development questions of other sections
(``../shared/eval/site-dev.yaml``: no fall wanted); then the warm answer latency with no
learned example and with 1,000 (one per section title, in two phrasings). Asserts nothing.

Run: python bench/bench_learning.py [--pairs FILE] [--menu N] [--rounds N]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import yaml

ROOT = Path(__file__).resolve().parents[1]
SITE = ROOT.parent / "shared" / "corpora" / "second-cerveau"
sys.path.insert(0, str(ROOT))

from bot.cli import _params  # noqa: E402
from bot.config import Settings  # noqa: E402
from bot.core.assistant import Asker, Assistant  # noqa: E402
from bot.core.knowledge.examples import title_key  # noqa: E402
from bot.core.knowledge.sections import section_key  # noqa: E402
from bot.core.retrieval.engine import KnowledgeEngine  # noqa: E402
from bot.core.retrieval.evaluation import (  # noqa: E402
    EvalQuestion,
    load_questions,
    passage_sources,
    score_answer,
)
from bot.core.retrieval.search import FusionParams  # noqa: E402
from bot.core.team.learning import CHOSEN_WEIGHT  # noqa: E402
from bot.core.team.lookup import ChecklistBook  # noqa: E402
from bot.core.team.store import Store  # noqa: E402


def load_pairs(path: Path) -> list[tuple[EvalQuestion, EvalQuestion]]:
    """The pairs of the file, each as two labelled questions."""
    pairs = []
    for item in yaml.safe_load(path.read_text(encoding="utf-8")):
        label = {
            "sections": (item["section"],),
            "page": item["page"],
            "answers": (item["answer"],),
        }
        first_lang, _, second_lang = item.get("lang", "").partition("-")
        pairs.append(
            (
                EvalQuestion(item["first"], lang=first_lang or None, **label),
                EvalQuestion(item["second"], lang=second_lang or None, **label),
            )
        )
    return pairs


class Scorer:
    """answer@1 and section@1 of questions, asked through one assistant."""

    def __init__(self, assistant: Assistant) -> None:
        self.assistant = assistant
        self.sources = passage_sources(assistant.engine)

    def right(self, question: EvalQuestion, user: str = "U-ASKER") -> tuple[bool, bool]:
        """Whether the answer's first quote holds the answer, and cites the right section."""
        answer = self.assistant.ask(question.question, Asker("bench", "C", user))
        found = score_answer(question, answer, self.sources)
        return found["answer_rank"] == 1, found["page_rank"] == 1

    def rows(self, questions: list[EvalQuestion]) -> np.ndarray:
        """[answer@1, section@1] of each of ``questions``."""
        return np.array([self.right(q) for q in questions], dtype=float).reshape(-1, 2)


def the_section(assistant: Assistant, question: EvalQuestion, menu: int) -> str | None:
    """The key of the labelled section among the ``menu`` the chat offers, if it is there."""
    for key, citation in assistant.closest_sections(question.question, menu):
        if title_key(citation.section) == title_key(question.sections[0]) and key.startswith(
            f"{question.page}#"
        ):
            return key
    return None


@dataclass
class Outcome:
    """What one simulated team did and what it changed."""

    right_first: int = 0
    not_offered: int = 0
    corrected: list[EvalQuestion] = field(default_factory=list)
    seconds_before: np.ndarray = field(default_factory=lambda: np.zeros((0, 2)))
    seconds_after: np.ndarray = field(default_factory=lambda: np.zeros((0, 2)))
    corrected_before: np.ndarray = field(default_factory=lambda: np.zeros((0, 2)))
    corrected_after: np.ndarray = field(default_factory=lambda: np.zeros((0, 2)))
    others_before: np.ndarray = field(default_factory=lambda: np.zeros((0, 2)))
    others_after: np.ndarray = field(default_factory=lambda: np.zeros((0, 2)))


def simulate(
    engine: KnowledgeEngine,
    pairs: list[tuple[EvalQuestion, EvalQuestion]],
    others: list[EvalQuestion],
    menu: int,
    params: FusionParams,
) -> tuple[Outcome, Assistant]:
    """A new team (an empty database) corrects the first questions of ``pairs`` it gets
    wrong; returns the figures (rows of [answer@1, section@1]) and its assistant."""
    engine.params = params
    engine.swap(engine.index)  # a retriever with these weights
    engine.learn([])
    folder = Path(tempfile.mkdtemp(prefix="playbook-learning-"))
    store = Store(f"sqlite:///{folder / 'learning.db'}")
    assistant = Assistant(engine=engine, store=store, checklists=ChecklistBook([]))
    scorer = Scorer(assistant)
    out = Outcome()
    seconds = [second for _first, second in pairs]
    out.seconds_before = scorer.rows(seconds)
    before = dict(zip(map(id, others), scorer.rows(others), strict=True))
    for n, (first, second) in enumerate(pairs):
        if all(scorer.right(first, user=f"U-TEAM{n}")):
            out.right_first += 1
            continue
        key = the_section(assistant, first, menu)
        if key is None:
            out.not_offered += 1
            continue
        out.corrected_before = np.vstack([out.corrected_before, _plain_row(engine, second)])
        assistant.teach(first.question, key, Asker("bench", "C", f"U-TEAM{n}"))
        out.corrected.append(second)
    taught = {(q.page, title_key(q.sections[0])) for q in out.corrected}
    untouched = [q for q in others if (q.page, title_key(q.sections[0])) not in taught]
    out.seconds_after = scorer.rows(seconds)
    out.corrected_after = scorer.rows(out.corrected)
    out.others_before = np.array([before[id(q)] for q in untouched]).reshape(-1, 2)
    out.others_after = scorer.rows(untouched)
    return out, assistant


def _plain_row(engine: KnowledgeEngine, question: EvalQuestion) -> np.ndarray:
    """[answer@1, section@1] of ``question`` asked now, without the learned examples."""
    in_use = list(engine.learned)
    engine.learn([])
    try:
        found = score_answer(question, engine.ask(question.question), passage_sources(engine))
    finally:
        engine.learn(in_use)
    return np.array([[found["answer_rank"] == 1, found["page_rank"] == 1]], dtype=float)


def _figures(rows: np.ndarray) -> str:
    if not len(rows):
        return "(none)"
    answer, section = rows.mean(axis=0)
    return f"answer@1 {answer:.3f}, section@1 {section:.3f} ({len(rows)})"


def report(out: Outcome, menu: int) -> None:
    """Print one simulation's figures."""
    print(f"second questions, no correction yet: {_figures(out.seconds_before)}")
    print(
        f"first questions: {out.right_first} right, {len(out.corrected)} corrected from the "
        f"menu, {out.not_offered} whose section the menu of {menu} did not offer"
    )
    print(f"second questions, after:             {_figures(out.seconds_after)}")
    print(f"  of the corrected pairs, before:    {_figures(out.corrected_before)}")
    print(f"  of the corrected pairs, after:     {_figures(out.corrected_after)}")
    print(f"other questions (sections not taught), before: {_figures(out.others_before)}")
    print(f"                                       after:  {_figures(out.others_after)}")


GRID = {"learned_floor": (0.2, 0.3, 0.4, 0.5), "learned_weight": (0.75, 1.5, 3.0)}


def fit(engine, pairs, others, menu, base: FusionParams, folds: int = 3) -> None:
    """Choose ``learned_floor`` and ``learned_weight`` on the pairs of all pages but one
    fold's, score the choice on that fold; print each fold's choice and its held-out
    figures. The objective: section@1 gained on the corrected pairs' second questions, less
    twice any fall on the other questions."""
    pages = sorted({first.page for first, _second in pairs})
    group = {page: n % folds for n, page in enumerate(pages)}
    grid = [
        replace(base, learned_floor=f, learned_weight=w)
        for f in GRID["learned_floor"]
        for w in GRID["learned_weight"]
    ]
    results = {}
    for params in grid:
        for fold in range(folds):
            part = [pair for pair in pairs if group[pair[0].page] == fold]
            results[(params, fold)] = simulate(engine, part, others, menu, params)[0]
    for fold in range(folds):
        train = [f for f in range(folds) if f != fold]
        best = max(grid, key=lambda p: sum(_objective(results[(p, f)]) for f in train))
        out = results[(best, fold)]
        print(
            f"fold {fold}: chose learned_floor {best.learned_floor}, learned_weight "
            f"{best.learned_weight}; held out: corrected {_figures(out.corrected_before)} → "
            f"{_figures(out.corrected_after)}; others {_figures(out.others_before)} → "
            f"{_figures(out.others_after)}"
        )
    for params in grid:
        gain = np.mean([_objective(results[(params, f)]) for f in range(folds)])
        print(f"  floor {params.learned_floor}, weight {params.learned_weight}: {gain:+.4f}")


def _objective(out: Outcome) -> float:
    gained = out.corrected_after[:, 1].sum() - out.corrected_before[:, 1].sum()
    fall = out.others_before[:, 1].sum() - out.others_after[:, 1].sum()
    return float(gained - 2 * max(0.0, fall)) / max(1, len(out.corrected) + len(out.others_after))


def main() -> None:
    """Simulate the team's corrections and print the figures."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--pairs", type=Path, default=ROOT / "eval" / "learning-pairs.yaml")
    parser.add_argument("--others", type=Path, default=ROOT.parent / "shared/eval/site-dev.yaml")
    parser.add_argument("--site", type=Path, default=SITE)
    parser.add_argument("--menu", type=int, default=10, help="sections the menu offers")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of the latency test")
    parser.add_argument("--param", action="append", default=[], metavar="NAME=VALUE")
    parser.add_argument("--fit", action="store_true", help="fit the learned examples' weights")
    parser.add_argument("--no-latency", action="store_true", help="skip the latency test")
    args = parser.parse_args()
    settings = Settings(knowledge_dir=args.site, index_dir=ROOT / ".playbook" / "bench-site-index")
    params = _params(args.param)
    engine = KnowledgeEngine.open(settings, params=params)
    pairs = load_pairs(args.pairs)
    others = [q for q in load_questions(args.others) if q.sections]
    print(f"{len(pairs)} pairs over {len({f.page for f, _s in pairs})} pages; {engine.embedder.id}")
    if args.fit:
        fit(engine, pairs, others, args.menu, params)
        return
    out, assistant = simulate(engine, pairs, others, args.menu, params)
    report(out, args.menu)
    if not args.no_latency:
        questions = [q.question for q in others] + [s.question for _f, s in pairs]
        latency(assistant, engine, questions, args.rounds)


def latency(assistant: Assistant, engine: KnowledgeEngine, questions: list[str], rounds: int):
    """Warm answer latency with no learned example, then with 1,000 (each section title in
    two phrasings, one user each)."""
    index = engine.index
    phrasings = ("Que dit la base sur « {} » ?", "What should we know about {}?")
    seen: set[str] = set()
    for n in range(1000):
        section = (n // 2) % len(index.sections)
        title = index.sections[section].section
        question = phrasings[n % 2].format(title)
        question = question if question not in seen else f"{question} ({n})"
        seen.add(question)
        assistant.store.teach(
            knowledge=assistant.knowledge,
            question=question,
            section=section_key(index, section),
            section_title=title,
            weight=CHOSEN_WEIGHT,
            user=f"U-LOAD{n}",
            platform="bench",
        )
    for label in ("no learned example", "1,000 learned examples"):
        if label.startswith("no"):
            engine.learn([])
        else:
            assistant.refresh_learned(now=True)
        times = []
        for _ in range(rounds):
            for q in questions:
                started = time.perf_counter()
                engine.ask(q)
                times.append((time.perf_counter() - started) * 1000)
        t = np.array(times)
        print(
            f"warm answer latency, {label} ({engine.learned_count} in use, {len(t)} asks): "
            f"p50 {np.percentile(t, 50):.2f} ms, p95 {np.percentile(t, 95):.2f} ms"
        )


if __name__ == "__main__":
    main()
