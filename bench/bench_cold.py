"""Cold `playbook ask`: wall time and peak RSS of a fresh process answering one question
(index already built, default embedder). Run: python bench/bench_cold.py [--runs N] [--site [DIR]];
with --site, over the site corpus (../shared/corpora/second-cerveau)."""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SITE = ROOT.parent / "shared" / "corpora" / "second-cerveau"


def main() -> None:
    """Run `python -m bot ask` N times in fresh processes and print wall time and peak RSS."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--site", nargs="?", type=Path, const=SITE, default=None)
    args = parser.parse_args()
    site = args.site is not None
    env = {
        **os.environ,
        "PLAYBOOK_INDEX_DIR": str(
            ROOT / ".playbook" / ("bench-site-index" if site else "bench-index")
        ),
        "PLAYBOOK_KNOWLEDGE_DIR": str(args.site if site else ROOT / "knowledge"),
    }
    questions = {"fr": "Qu'est-ce que le modèle open core ?", "en": "What is the open core model?"}
    base = [sys.executable, "-m", "bot", "ask"]
    # The first run builds the index when it is missing or stale: reported apart.
    build_wall, build_rss = _run([*base, questions["fr"]], env)
    print(f"first run (builds the index if needed): {build_wall:.2f} s, {build_rss:.0f} MB")
    peak = 0.0
    for language, question in questions.items():  # French runs USE only, English may run e5
        walls = []
        for _ in range(args.runs):
            wall, rss = _run([*base, question], env)
            walls.append(wall)
            peak = max(peak, rss)
        print(
            f"cold `playbook ask` ({language}) over {args.runs} runs: wall median "
            f"{statistics.median(walls):.2f} s, max {max(walls):.2f} s"
        )
    print(f"peak RSS of a cold `playbook ask`: {peak:.0f} MB")


def _run(command: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Run ``command`` to completion; return its wall time (s) and its own peak RSS (MB)."""
    started = time.perf_counter()
    process = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode:
        raise SystemExit(f"{' '.join(command)} exited with {process.returncode}")
    return wall, usage.ru_maxrss / 1024


if __name__ == "__main__":
    main()
