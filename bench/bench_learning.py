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
from pathlib import Path

import numpy as np
import yaml

ROOT = Path(__file__).resolve().parents[1]
SITE = ROOT.parent / "shared" / "corpora" / "second-cerveau"
sys.path.insert(0, str(ROOT))

from bot.config import Settings  # noqa: E402
from bot.core.assistant import Asker, Assistant  # noqa: E402
from bot.core.engine import KnowledgeEngine  # noqa: E402
from bot.core.evaluation import (  # noqa: E402
    EvalQuestion,
    load_questions,
    passage_sources,
    score_answer,
)
from bot.core.examples import title_key  # noqa: E402
from bot.core.learning import CHOSEN_WEIGHT, gather, section_key  # noqa: E402
from bot.core.lookup import ChecklistBook  # noqa: E402
from bot.core.store import Store  # noqa: E402


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

    def figures(self, questions: list[EvalQuestion]) -> str:
        """``answer@1 a, section@1 s (n)`` over ``questions``."""
        if not questions:
            return "(none)"
        results = np.array([self.right(q) for q in questions], dtype=float)
        answer, section = results.mean(axis=0)
        return f"answer@1 {answer:.3f}, section@1 {section:.3f} ({len(questions)})"


def the_section(assistant: Assistant, question: EvalQuestion, menu: int) -> str | None:
    """The key of the labelled section among the ``menu`` the chat offers, if it is there."""
    for key, citation in assistant.closest_sections(question.question, menu):
        if title_key(citation.section) == title_key(question.sections[0]) and key.startswith(
            f"{question.page}#"
        ):
            return key
    return None


def main() -> None:
    """Simulate the team's corrections and print the figures."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--pairs", type=Path, default=ROOT / "eval" / "learning-pairs.yaml")
    parser.add_argument("--others", type=Path, default=ROOT.parent / "shared/eval/site-dev.yaml")
    parser.add_argument("--site", type=Path, default=SITE)
    parser.add_argument("--menu", type=int, default=10, help="sections the menu offers")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of the latency test")
    args = parser.parse_args()
    settings = Settings(knowledge_dir=args.site, index_dir=ROOT / ".playbook" / "bench-site-index")
    engine = KnowledgeEngine.open(settings)
    folder = Path(tempfile.mkdtemp(prefix="playbook-learning-"))
    store = Store(f"sqlite:///{folder / 'learning.db'}")
    assistant = Assistant(engine=engine, store=store, checklists=ChecklistBook([]))
    scorer = Scorer(assistant)
    pairs = load_pairs(args.pairs)
    seconds = [second for _first, second in pairs]
    others = [q for q in load_questions(args.others) if q.sections]
    print(f"{len(pairs)} pairs over {len({f.page for f, _s in pairs})} pages; {engine.embedder.id}")
    print(f"before: second questions {scorer.figures(seconds)}")
    print(f"before: other questions  {scorer.figures(others)}")

    corrected, not_offered, right_first = [], 0, 0
    for n, (first, second) in enumerate(pairs):
        if all(scorer.right(first, user=f"U-TEAM{n}")):
            right_first += 1
            continue
        key = the_section(assistant, first, args.menu)
        if key is None:
            not_offered += 1
            continue
        assistant.teach(first.question, key, Asker("bench", "C", f"U-TEAM{n}"))
        corrected.append(second)
    print(
        f"first questions: {right_first} right, {len(corrected)} corrected from the menu, "
        f"{not_offered} whose section the menu of {args.menu} did not offer"
    )
    taught = {(q.page, title_key(q.sections[0])) for q in corrected}
    untouched = [q for q in others if (q.page, title_key(q.sections[0])) not in taught]
    before_corrected = _without_learned(assistant, corrected)
    print(f"after:  second questions {scorer.figures(seconds)}")
    print(f"        corrected pairs' second questions: before {before_corrected}")
    print(f"                                           after  {scorer.figures(corrected)}")
    print(f"after:  other questions  {scorer.figures(untouched)} (sections not taught)")
    latency(assistant, engine, [q.question for q in others + seconds], args.rounds)


def _without_learned(assistant: Assistant, questions: list[EvalQuestion]) -> str:
    """The figures of ``questions`` with the learned examples switched off for a moment."""
    engine = assistant.engine
    rows = assistant.store.taught(assistant.knowledge)
    engine.learn([])
    try:
        if not questions:
            return "(none)"
        sources = passage_sources(engine)
        results = []
        for q in questions:
            found = score_answer(q, engine.ask(q.question), sources)
            results.append((found["answer_rank"] == 1, found["page_rank"] == 1))
        answer, section = np.array(results, dtype=float).mean(axis=0)
        return f"answer@1 {answer:.3f}, section@1 {section:.3f} ({len(questions)})"
    finally:
        engine.learn(gather(rows)[0])


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
