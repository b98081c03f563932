"""How fast the maintainers' pages are served with a large question log: p50/p95/max of each
page over HTTP, with the database holding 100,000 logged questions (30 days, three platforms,
answered / unsure / declined), 2,000 votes, 200 taught examples and 500 checklist ticks.

Usage:

    python bench/bench_web.py [--questions 100000] [--rounds 30] \\
        [--knowledge knowledge] [--index /tmp/bench-web-index]

The log is written straight into the tables (as ``Store.log_question`` would write each row)
so that seeding 100,000 rows takes seconds. As the server does when it starts, the figures of
past days and the gaps' vectors and sections are prepared first (``--cold``: not); the first
request of each page is reported apart, the percentiles are over the requests after it.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import yaml

from bot.config import Settings

HARD = Path(__file__).resolve().parents[2] / "shared" / "eval" / "site-dev-hard.yaml"
PAGES = ["/", "/gaps", "/feedback", "/examples", "/checklists", "/try?q=Comment+fixer+le+prix"]


def _texts(count: int) -> list[str]:
    """``count`` distinct question texts: the paraphrased dev questions, then numbered
    variants of them (a team asks the same things in many ways)."""
    base = [q["question"] for q in yaml.safe_load(HARD.read_text(encoding="utf-8"))]
    texts = list(dict.fromkeys(base))
    n = 0
    while len(texts) < count:
        texts.append(f"{base[n % len(base)]} ({n // len(base) + 2})")
        n += 1
    return texts[:count]


def seed(assistant, questions: int, rng: random.Random) -> None:
    """Fill the database: the question log, votes, taught examples and checklist ticks."""
    from bot.core.db import feedback_table, questions_table

    store = assistant.store
    texts = _texts(3000)
    gap_texts = texts[:600]  # what the bot cannot answer comes back more often
    now = datetime.now(UTC)
    rows = []
    for _ in range(questions):
        roll = rng.random()
        declined, hedged = roll < 0.1, 0.1 <= roll < 0.2
        rows.append(
            {
                "asked_at": now - timedelta(seconds=rng.uniform(0, 30 * 86400)),
                "platform": rng.choice(("slack", "slack", "discord", "cli")),
                "channel": f"C{rng.randrange(20)}",
                "user_hash": f"{rng.randrange(300):032x}",
                "question": rng.choice(gap_texts if declined or hedged else texts),
                "abstained": declined,
                "top_section": None if declined else "Le modèle SaaS",
                "latency_ms": rng.lognormvariate(3.0, 0.5),
                "hedged": hedged,
            }
        )
    passages = [
        {"passage_id": p.id, "section": p.citation.section, "link": p.citation.link}
        for p in assistant.engine.index.passages[:3]
    ]
    votes = [
        {
            "given_at": now - timedelta(seconds=rng.uniform(0, 30 * 86400)),
            "platform": "slack",
            "channel": "C1",
            "user_hash": f"{rng.randrange(300):032x}",
            "question": rng.choice(texts),
            "passages": json.dumps(passages),
            "vote": 1 if rng.random() < 0.75 else -1,
        }
        for _ in range(2000)
    ]
    with store.engine.begin() as conn:
        for start in range(0, len(rows), 10_000):
            conn.execute(questions_table.insert(), rows[start : start + 10_000])
        conn.execute(feedback_table.insert(), votes)
    keys = list(assistant.engine.retriever.section_keys.keys)
    for i in range(200):
        key = keys[i % len(keys)]
        store.teach(
            knowledge=assistant.knowledge,
            question=texts[i],
            section=key,
            section_title=key,
            weight=1.0,
            user=f"U{i}",
            platform="slack",
        )
    for checklist in list(assistant.checklists.checklists)[:5]:
        for c in range(100):
            item = checklist.items[c % len(checklist.items)]
            store.tick(f"slack:T1:C{c}", checklist.id, item.id, item.text, f"U{c}", f"User {c}")


async def measure(dashboard, rounds: int) -> dict[str, dict[str, float]]:
    """Each page requested ``rounds`` times over HTTP; its first request apart."""
    import aiohttp

    from bot.web.app import start_web

    runner = await start_web("127.0.0.1", 0, dashboard, token=None)
    port = runner.addresses[0][1]
    figures: dict[str, dict[str, float]] = {}
    try:
        async with aiohttp.ClientSession() as session:
            for page in PAGES:
                times = []
                for _ in range(rounds + 1):
                    started = time.perf_counter()
                    async with session.get(f"http://127.0.0.1:{port}{page}") as response:
                        await response.read()
                        assert response.status == 200, (page, response.status)
                    times.append((time.perf_counter() - started) * 1000)
                rest = sorted(times[1:])
                figures[page] = {
                    "first": times[0],
                    "p50": statistics.median(rest),
                    "p95": rest[max(0, round(0.95 * len(rest)) - 1)],
                    "max": rest[-1],
                }
    finally:
        await runner.cleanup()
    return figures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--questions", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--knowledge", default="knowledge")
    parser.add_argument("--index", default=None)
    parser.add_argument("--cold", action="store_true", help="skip the start-up preparation")
    args = parser.parse_args()
    from bot.app import build_assistant
    from bot.core.team.dashboard import Dashboard

    work = Path(tempfile.mkdtemp(prefix="bench-web-"))
    os.environ["PLAYBOOK_KNOWLEDGE_DIR"] = args.knowledge
    os.environ["PLAYBOOK_INDEX_DIR"] = args.index or str(work / "index")
    os.environ["PLAYBOOK_DATABASE_URL"] = f"sqlite:///{work / 'playbook.db'}"
    settings = Settings.from_env(env_file=None)
    assistant = build_assistant(settings, notify=lambda _m: None)
    started = time.perf_counter()
    seed(assistant, args.questions, random.Random(7))
    print(f"seeded {args.questions:,} questions in {time.perf_counter() - started:.1f} s")
    dashboard = Dashboard(assistant)
    if not args.cold:
        started = time.perf_counter()
        dashboard.warm()  # what the server does when it starts
        print(f"prepared past days and the gaps in {time.perf_counter() - started:.1f} s")
    figures = asyncio.run(measure(dashboard, args.rounds))
    print(f"{'page':<40} {'first':>8} {'p50':>8} {'p95':>8} {'max':>8}  (ms, {args.rounds} rounds)")
    for page, f in figures.items():
        print(f"{page:<40} {f['first']:8.1f} {f['p50']:8.1f} {f['p95']:8.1f} {f['max']:8.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
