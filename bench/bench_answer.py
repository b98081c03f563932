"""Warm answer latency: p50/p95/max of KnowledgeEngine.ask over the evaluation questions,
overall and by the question's language (with use+e5, questions USE hesitates on also run e5).

Run: python bench/bench_answer.py [--rounds N] [--site [DIR]] [--embedder NAME]. With --site,
over the site corpus (../shared/corpora/second-cerveau) and its questions
(../shared/eval/site-dev.yaml and eval/site-business.yaml). Prints the figures; asserts
nothing.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
SITE = ROOT.parent / "shared" / "corpora" / "second-cerveau"
sys.path.insert(0, str(ROOT))

from bot.config import Settings  # noqa: E402
from bot.core.language import detect_language  # noqa: E402
from bot.core.retrieval.engine import KnowledgeEngine  # noqa: E402
from bot.core.retrieval.evaluation import load_questions  # noqa: E402


def main() -> None:
    """Ask every evaluation question ``--rounds`` times after a warm-up and print percentiles."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--site", nargs="?", type=Path, const=SITE, default=None)
    parser.add_argument(
        "--embedder",
        default=None,
        help="a PLAYBOOK_EMBEDDER value (default: the settings' default)",
    )
    args = parser.parse_args()
    embedder = args.embedder or Settings().embedder
    if args.site:
        knowledge, index = args.site, ROOT / ".playbook" / f"bench-site-index-{embedder}"
        files = [
            ROOT.parent / "shared" / "eval" / "site-dev.yaml",
            ROOT / "eval" / "site-business.yaml",
        ]
    else:
        knowledge, index = ROOT / "knowledge", ROOT / ".playbook" / f"bench-index-{embedder}"
        files = [ROOT / "eval" / "questions.yaml"]
    engine = KnowledgeEngine.open(
        Settings(knowledge_dir=knowledge, index_dir=index, embedder=embedder)
    )
    questions = [q.question for f in files for q in load_questions(f)]
    for q in questions[:5]:
        engine.ask(q)
    times: dict[str, list[float]] = {"fr": [], "en": []}
    for _ in range(args.rounds):
        for q in questions:
            started = time.perf_counter()
            engine.ask(q)
            times[detect_language(q)].append((time.perf_counter() - started) * 1000)
    print(f"embedder {engine.embedder.id}, {len(engine.index.passages)} passages")
    for label, values in (("all", times["fr"] + times["en"]), *times.items()):
        t = np.array(values)
        print(
            f"warm answer latency, {label} ({len(t)} asks): p50 {np.percentile(t, 50):.2f} ms, "
            f"p95 {np.percentile(t, 95):.2f} ms, max {t.max():.2f} ms"
        )


if __name__ == "__main__":
    main()
