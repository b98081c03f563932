"""A big page arrives while the bot serves: how long the live reload takes, and how fast
questions are answered meanwhile (they are answered from the previous index).

The page is ``--mb`` megabytes of one line of words without punctuation (a pasted log), or of
base64 with ``--base64`` (left out of the passages: not written in words). The bundled page is
served before it comes. Prints the reload's time and the p50/p95/max answer time of the
questions asked, one every 0.2 s, during it. Asserts nothing.

Run: python bench/bench_big_page.py [--mb 1] [--base64]
"""

from __future__ import annotations

import argparse
import base64
import random
import shutil
import tempfile
import threading
import time
from pathlib import Path

from bot.app import build_assistant
from bot.config import Settings
from bot.core.assistant import Asker
from bot.core.reload import KnowledgeWatcher

ROOT = Path(__file__).resolve().parent.parent
QUESTIONS = [
    "Qu'est-ce que l'open core ?",
    "What is the SaaS model?",
    "Comment mesurer le product-market fit ?",
]
WORDS = [
    "GET",
    "POST",
    "api",
    "user",
    "session",
    "token",
    "timeout",
    "retry",
    "error",
    "client",
    "server",
    "cache",
]


def big_text(size: int, blob: bool) -> str:
    """``size`` bytes of one line: base64, or words without punctuation."""
    rng = random.Random(1)
    if blob:
        return base64.b64encode(rng.randbytes(size * 3 // 4)).decode()
    words: list[str] = []
    length = 0
    while length < size:
        words.append(rng.choice(WORDS))
        length += len(words[-1]) + 1
    return " ".join(words)


def main() -> None:
    """Serve the bundled page, add the big page, reload live and ask meanwhile."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mb", type=float, default=1.0)
    parser.add_argument("--base64", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "kb").mkdir()
        shutil.copy(ROOT / "knowledge" / "commercialisation.md", root / "kb")
        env = {
            "PLAYBOOK_KNOWLEDGE_DIR": str(root / "kb"),
            "PLAYBOOK_INDEX_DIR": str(root / "idx"),
            "PLAYBOOK_DATABASE_URL": f"sqlite:///{root}/db.sqlite",
        }
        settings = Settings.from_env(env, env_file=None)
        assistant = build_assistant(settings, notify=lambda _text: None)
        watcher = KnowledgeWatcher(settings, assistant)
        text = big_text(int(args.mb * 1_000_000), args.base64)
        (root / "kb" / "big.md").write_text(f"# Big\n\nUne page ajoutée.\n\n{text}\n")
        done = threading.Event()
        took: list[float] = []

        def reload() -> None:
            began = time.perf_counter()
            print(watcher.reload("a big page").describe())
            took.append(time.perf_counter() - began)
            done.set()

        threading.Thread(target=reload).start()
        latencies: list[float] = []
        while not done.is_set():
            began = time.perf_counter()
            question = QUESTIONS[len(latencies) % len(QUESTIONS)]
            assistant.ask(question, Asker("bench", "c", f"u{len(latencies)}"))
            latencies.append(time.perf_counter() - began)
            done.wait(0.2)
        latencies.sort()
        n = len(latencies)
        kind = "base64" if args.base64 else "words"
        print(
            f"{args.mb:g} MB of {kind}: live reload {took[0]:.1f} s; {n} questions during it: "
            f"p50 {1000 * latencies[n // 2]:.0f} ms, p95 {1000 * latencies[int(n * 0.95)]:.0f} ms, "
            f"max {1000 * latencies[-1]:.0f} ms"
        )


if __name__ == "__main__":
    main()
