"""Index build throughput (passages/s), from scratch and incremental, on the bundled page and on
a synthetic larger knowledge base made from it.
Run: python bench/bench_index.py [--copies N] [--embedder use-multilingual|use+e5|…] [--site [DIR]];
with --site, the site corpus (../shared/corpora/second-cerveau) from scratch instead."""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SITE = ROOT.parent / "shared" / "corpora" / "second-cerveau"
sys.path.insert(0, str(ROOT))

from bot.core.knowledge.build import build_index  # noqa: E402
from bot.core.knowledge.embedders import make_embedder  # noqa: E402


def main() -> None:
    """Build the index from scratch, then again unchanged, and print the figures."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--copies", type=int, default=20, help="pages in the synthetic corpus")
    parser.add_argument("--embedder", default="use-multilingual", help="PLAYBOOK_EMBEDDER value")
    parser.add_argument("--site", nargs="?", type=Path, const=SITE, default=None)
    args = parser.parse_args()
    embedder = make_embedder(args.embedder)
    if args.site is not None:
        with tempfile.TemporaryDirectory() as tmp:
            r = build_index(args.site, Path(tmp) / "idx", embedder)
            print(
                f"site from scratch: {r.passages} passages of {r.pages} pages ({r.embedded} texts "
                f"embedded) in {r.seconds:.2f} s = {r.rate:.0f} passages/s"
            )
        return
    page = (ROOT / "knowledge" / "commercialisation.md").read_text(encoding="utf-8")
    with tempfile.TemporaryDirectory() as tmp:
        kb = Path(tmp) / "kb"
        kb.mkdir()
        for i in range(args.copies):
            # Vary every copy so that no passage text repeats (no free cache hits).
            varied = page.replace("open source", f"open source {i}").replace(
                "clients", f"clients {i}"
            )
            (kb / f"page-{i}.md").write_text(varied, encoding="utf-8")
        for label in ("from scratch", "unchanged (incremental)"):
            r = build_index(kb, Path(tmp) / "idx", embedder)
            print(
                f"{label}: {r.passages} passages ({r.embedded} texts embedded, {r.reused} reused) "
                f"in {r.seconds:.2f} s = {r.rate:.0f} passages/s"
            )
        shutil.rmtree(kb)


if __name__ == "__main__":
    main()
