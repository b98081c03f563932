"""Cold `playbook ask`: wall time and peak RSS of a fresh process answering one question
(index already built, default embedder). Run: python bench/bench_cold.py [--runs N]."""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    """Run `python -m bot ask` N times in fresh processes and print wall time and peak RSS."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    env = {
        **os.environ,
        "PLAYBOOK_INDEX_DIR": str(ROOT / ".playbook" / "bench-index"),
        "PLAYBOOK_KNOWLEDGE_DIR": str(ROOT / "knowledge"),
    }
    questions = {"fr": "Qu'est-ce que le modèle open core ?", "en": "What is the open core model?"}
    base = [sys.executable, "-m", "bot", "ask"]
    subprocess.run([*base, questions["fr"]], cwd=ROOT, env=env, capture_output=True, check=True)
    for language, question in questions.items():  # French runs USE only, English also e5
        walls = []
        for _ in range(args.runs):
            started = time.perf_counter()
            subprocess.run([*base, question], cwd=ROOT, env=env, capture_output=True, check=True)
            walls.append(time.perf_counter() - started)
        print(
            f"cold `playbook ask` ({language}) over {args.runs} runs: wall median "
            f"{statistics.median(walls):.2f} s, max {max(walls):.2f} s"
        )
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    print(f"peak RSS of any of those processes: {peak / 1024:.0f} MB")


if __name__ == "__main__":
    main()
