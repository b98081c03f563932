"""Index build throughput (passages/s), from scratch and incremental, on the bundled page and on
a synthetic larger knowledge base made from it.
Run: python bench/bench_index.py [--copies N] [--embedder use+e5|use-multilingual|…] [--site [DIR]];
with --site, the site corpus (../shared/corpora/second-cerveau), copied to a temporary folder:
from scratch, then after a new ``PLAYBOOK_BASE_URL``, then after one page is edited. The
embedder defaults to the settings' default."""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SITE = ROOT.parent / "shared" / "corpora" / "second-cerveau"
sys.path.insert(0, str(ROOT))

from bot.config import Settings  # noqa: E402
from bot.core.knowledge.build import build_index  # noqa: E402
from bot.core.knowledge.embedders import Embedder, make_embedder  # noqa: E402


def site_figures(site: Path, embedder: Embedder) -> None:
    """The site from scratch, after a new base URL and after one page's edit."""
    with tempfile.TemporaryDirectory() as tmp:
        kb = Path(tmp) / "site"
        shutil.copytree(site, kb)
        idx = Path(tmp) / "idx"
        r = build_index(kb, idx, embedder)
        print(
            f"site from scratch: {r.passages} passages of {r.pages} pages ({r.embedded} texts "
            f"embedded) in {r.seconds:.2f} s = {r.rate:.0f} passages/s"
        )
        r = build_index(kb, idx, embedder, base_url="https://docs.example/")
        print(f"new base URL: {r.seconds:.2f} s ({r.embedded} texts embedded)")
        page = max(kb.rglob("*.md"), key=lambda p: p.stat().st_size)
        text = page.read_text(encoding="utf-8")
        page.write_text(text + "\n\nUn paragraphe ajouté pour mesurer.\n", encoding="utf-8")
        r = build_index(kb, idx, embedder, base_url="https://docs.example/")
        edited = page.relative_to(kb)
        print(f"one page edited ({edited}): {r.seconds:.2f} s ({r.embedded} texts embedded)")


def main() -> None:
    """Build the index from scratch, then again unchanged, and print the figures."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--copies", type=int, default=20, help="pages in the synthetic corpus")
    parser.add_argument("--embedder", default=None, help="PLAYBOOK_EMBEDDER value")
    parser.add_argument("--site", nargs="?", type=Path, const=SITE, default=None)
    args = parser.parse_args()
    name = args.embedder or Settings().embedder
    embedder = make_embedder(name)
    print(f"embedder: {name}")
    if args.site is not None:
        site_figures(args.site, embedder)
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
