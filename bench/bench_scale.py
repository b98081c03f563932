"""How the bot scales: synthetic knowledge bases made of varied copies of the site, at 1×, 10×
and 100× (about 1,000, 10,000 and 107,000 passages).

For each size it prints: the index built from scratch (time, passages/s, peak RSS), one changed
page re-indexed (time), the index's size on disk, a cold ``playbook ask`` (wall time), and, in a
fresh process that only serves: peak RSS, warm answer p50/p95 over the site's labelled questions
and answer@1 on them, with the index's own search (approximate above the exact-search limit) and
with exact search over the same index.

Copy 0 is the site itself, so the labelled questions' pages are where they expect; every other
copy is the site with about one word in eight replaced by another word of the site (a fixed
random draw per copy), so no two passages are equal and the vocabulary stays the site's. The
copies compete with the original for every question (a copy's quote misses a word of the
answer span, and its page is not the labelled one), so answer@1 and section@1 fall with the
size by construction: the figure to read is the approximate search against the exact one on
the same index.

Run: python bench/bench_scale.py [--sizes 1,10,100] [--work DIR] [--site DIR]. Prints figures;
asserts nothing. Each measurement runs in its own process, so peak RSS is that step's alone.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
SITE = SHARED / "corpora" / "second-cerveau"
QUESTIONS = [SHARED / "eval" / "site-dev.yaml", ROOT / "eval" / "site-business.yaml"]
sys.path.insert(0, str(ROOT))

_WORD = re.compile(r"(?<![\w/.#:-])[^\W\d_]{4,}(?![\w/.:-])")
REPLACED = 0.125


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def vary(text: str, words: list[str], rng: random.Random) -> str:
    """``text`` with about one word in eight (outside front matter and code) replaced by a
    word drawn from ``words``."""
    out, fence, front = [], False, text.startswith(("---", "+++"))
    for number, line in enumerate(text.split("\n")):
        if front:
            if number > 0 and line.strip() in ("---", "+++"):
                front = False
            out.append(line)
            continue
        if line.lstrip().startswith(("```", "~~~")):
            fence = not fence
        if fence or line.lstrip().startswith(("|", "<", "{{")):
            out.append(line)
            continue
        out.append(
            _WORD.sub(lambda m: rng.choice(words) if rng.random() < REPLACED else m.group(0), line)
        )
    return "\n".join(out)


def make_corpus(site: Path, out: Path, copies: int) -> int:
    """Write ``copies`` copies of ``site`` into ``out`` (copy 0 as it is). Returns the pages."""
    files = sorted(p for p in site.rglob("*.md") if p.is_file())
    vocabulary = sorted({w for p in files for w in _WORD.findall(p.read_text("utf-8"))})
    for path in files:
        target = out / path.relative_to(site)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target)
    for copy in range(1, copies):
        rng = random.Random(copy)
        for path in files:
            target = out / f"copy-{copy:03d}" / path.relative_to(site)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(vary(path.read_text("utf-8"), vocabulary, rng), "utf-8")
    # As a team's pages are: written some time before they are indexed (a file modified in
    # the last seconds is always hashed again, see bot/core/index.py source_state).
    written = time.time() - 3600
    for page in out.rglob("*.md"):
        os.utime(page, (written, written))
    return len(files) * copies


def child_build(knowledge: Path, index: Path) -> dict:
    """Build (or re-build) the index in this process; its figures."""
    from bot.config import Settings
    from bot.core.knowledge.embedders import make_embedder
    from bot.core.retrieval.engine import build

    settings = Settings(knowledge_dir=knowledge, index_dir=index)
    report = build(settings, make_embedder(settings.embedder))
    return {
        "passages": report.passages,
        "seconds": report.seconds,
        "rate": report.rate,
        "embedded": report.embedded,
        "peak_rss_mb": _peak_rss_mb(),
    }


def child_serve(knowledge: Path, index: Path, rounds: int) -> dict:
    """Load the index and answer the labelled questions; latency, answer@1 and peak RSS."""
    from bot.config import Settings
    from bot.core.knowledge.vectors import VectorSearch
    from bot.core.retrieval.engine import KnowledgeEngine
    from bot.core.retrieval.evaluation import evaluate, load_questions, summarise

    engine = KnowledgeEngine.open(Settings(knowledge_dir=knowledge, index_dir=index))
    questions = [q for path in QUESTIONS if path.is_file() for q in load_questions(path)]
    for q in questions[:5]:
        engine.ask(q.question)
    times = []
    for _ in range(rounds):
        for q in questions:
            started = time.perf_counter()
            engine.ask(q.question)
            times.append((time.perf_counter() - started) * 1000)
    served = summarise(evaluate(engine, questions), by_language=False)
    rss = _peak_rss_mb()
    loaded = engine.index
    approximate = loaded.dense.approximate or loaded.vocabulary_search.approximate
    loaded.dense = VectorSearch(loaded.vectors)
    loaded.vocabulary_search = VectorSearch(loaded.vocabulary.vectors)
    engine.swap(loaded)
    exact = summarise(evaluate(engine, questions), by_language=False)
    t = np.array(times)
    return {
        "passages": len(loaded.passages),
        "approximate": approximate,
        "p50_ms": float(np.percentile(t, 50)),
        "p95_ms": float(np.percentile(t, 95)),
        "asks": len(t),
        "answer@1": served["answer@1"],
        "answer@1_exact": exact["answer@1"],
        "section@1": served["section@1"],
        "section@1_exact": exact["section@1"],
        "peak_rss_mb": rss,
    }


def _child(mode: str, knowledge: Path, index: Path, extra: list[str] | None = None) -> dict:
    command = [sys.executable, __file__, "--child", mode, str(knowledge), str(index)]
    done = subprocess.run(
        command + (extra or []), capture_output=True, text=True, check=False, cwd=ROOT
    )
    if done.returncode != 0:
        raise SystemExit(f"{mode} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def _cold_ask(knowledge: Path, index: Path, database: Path) -> float:
    playbook = Path(sys.executable).with_name("playbook")
    env = {
        **os.environ,
        "PLAYBOOK_KNOWLEDGE_DIR": str(knowledge),
        "PLAYBOOK_INDEX_DIR": str(index),
        "PLAYBOOK_DATABASE_URL": f"sqlite:///{database}",
    }
    started = time.perf_counter()
    subprocess.run(
        [str(playbook), "ask", "Qu'est-ce que le modèle open core ?"],
        env=env,
        capture_output=True,
        check=True,
    )
    return time.perf_counter() - started


def _size_mb(folder: Path) -> float:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()) / 1e6


def measure(site: Path, work: Path, copies: int, rounds: int) -> None:
    """Print one size's figures."""
    knowledge, index = work / f"kb-{copies}", work / f"index-{copies}"
    shutil.rmtree(knowledge, ignore_errors=True)
    shutil.rmtree(index, ignore_errors=True)
    pages = make_corpus(site, knowledge, copies)
    built = _child("build", knowledge, index)
    current = index / (index / "CURRENT").read_text().strip()
    size = _size_mb(current)
    files = sorted(knowledge.rglob("*.md"))
    page = next(p for p in files[len(files) // 2 :] if "draft: true" not in p.read_text("utf-8"))
    page.write_text(page.read_text("utf-8") + "\n\nUne phrase ajoutée pour la mesure.\n", "utf-8")
    again = _child("build", knowledge, index)
    cold = _cold_ask(knowledge, index, work / f"db-{copies}.sqlite")
    served = _child("serve", knowledge, index, [str(rounds)])
    print(
        f"{copies}×: {built['passages']} passages of {pages} pages\n"
        f"  index from scratch: {built['seconds']:.1f} s = {built['rate']:.0f} passages/s, "
        f"peak RSS {built['peak_rss_mb']:.0f} MB; on disk {size:.0f} MB\n"
        f"  one page changed: re-indexed in {again['seconds']:.2f} s "
        f"({again['embedded']} texts embedded), peak RSS {again['peak_rss_mb']:.0f} MB\n"
        f"  cold playbook ask: {cold:.2f} s\n"
        f"  serving ({'approximate' if served['approximate'] else 'exact'} search): "
        f"warm answer p50 {served['p50_ms']:.1f} ms, p95 {served['p95_ms']:.1f} ms "
        f"({served['asks']} asks), peak RSS {served['peak_rss_mb']:.0f} MB\n"
        f"  answer@1 {served['answer@1']:.3f} (exact search {served['answer@1_exact']:.3f}), "
        f"section@1 {served['section@1']:.3f} (exact {served['section@1_exact']:.3f})",
        flush=True,
    )


def main() -> None:
    """Parse the arguments and run the sizes (or one child step)."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="1,10,100")
    parser.add_argument("--site", type=Path, default=SITE)
    parser.add_argument("--work", type=Path, default=None)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        mode, knowledge, index, *rest = args.child
        result = (
            child_build(Path(knowledge), Path(index))
            if mode == "build"
            else child_serve(Path(knowledge), Path(index), int(rest[0]) if rest else 2)
        )
        print(json.dumps(result))
        return
    if not args.site.is_dir():
        raise SystemExit(f"The site corpus is expected at {args.site} (--site DIR)")
    work = args.work or Path(tempfile.mkdtemp(prefix="bench-scale-"))
    work.mkdir(parents=True, exist_ok=True)
    for copies in (int(s) for s in args.sizes.split(",")):
        measure(args.site, work, copies, args.rounds)
    if args.work is None:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
