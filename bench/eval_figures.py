"""The README's quality table: ``playbook eval --json`` on named sets, one row a set.

    python bench/eval_figures.py [--embedder use+e5] SET [SET ...]

A set is a path, read over the bundled page, or ``site:PATH``, read over the second-cerveau
site (../shared/corpora/second-cerveau). Each cell gives French and English apart:
section@1 / answer@1 / answer@3 / highlight@1, then out-of-scope questions declined
(abstained or led by "not sure", small talk apart), in-scope questions wrongly abstained and
the median first quote. Indexes are kept in .playbook/figures-* between runs.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SITE = ROOT.parent / "shared" / "corpora" / "second-cerveau"


def run_eval(path: Path, site: bool, embedder: str) -> dict:
    """``playbook eval PATH --json`` in a child process; returns its summary."""
    kb = "site" if site else "bundled"
    env = {
        **os.environ,
        "PLAYBOOK_EMBEDDER": embedder,
        "PLAYBOOK_KNOWLEDGE_DIR": str(SITE if site else ROOT / "knowledge"),
        "PLAYBOOK_INDEX_DIR": str(ROOT / ".playbook" / f"figures-{kb}-{embedder}"),
        "PLAYBOOK_DATABASE_URL": f"sqlite:///{ROOT / '.playbook' / 'figures.db'}",
    }
    done = subprocess.run(
        [sys.executable, "-m", "bot", "eval", str(path), "--json"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    found: dict = json.loads(done.stdout)
    return found


def cell(part: dict) -> str:
    """section@1 / answer@1 / answer@3 / highlight@1 of one language's summary."""
    keys = ("section@1", "answer@1", "answer@3", "highlight@1")
    if not part.get("answered_items"):
        keys = ("section@1",)
    return " / ".join(f"{part[k]:.2f}" for k in keys)


def row(name: str, summary: dict) -> str:
    """One Markdown row: FR cell, EN cell, declined, wrongly abstained, median quote."""
    langs = summary["by_language"]
    chat = summary.get("smalltalk", 0)
    oos = summary["out_of_scope"] - chat
    declined = summary.get(
        "declined_out_of_scope",
        summary["abstained_out_of_scope"] + summary.get("hedged_out_of_scope", 0),
    ) - summary.get("smalltalk_declined", 0)
    talk = f" (+ small talk {summary['smalltalk_declined']}/{chat})" if chat else ""
    return (
        f"| {name} | {cell(langs.get('fr', {}))} | {cell(langs.get('en', {}))} "
        f"| {declined}/{oos}{talk} | {summary['abstained_in_scope']} "
        f"| {summary['first_quote_chars']:.0f} |"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("sets", nargs="+")
    parser.add_argument("--embedder", default="use+e5")
    args = parser.parse_args()
    print(
        "| set | FR | EN | out of scope declined | wrongly abstained | first quote |\n"
        "| --- | --- | --- | --- | --- | --- |"
    )
    for name in args.sets:
        site = name.startswith("site:")
        path = Path(name.removeprefix("site:"))
        print(
            row(
                f"`{path.name}` ({'site' if site else 'bundled'})",
                run_eval(path, site, args.embedder),
            )
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
