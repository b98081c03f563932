"""Fit the follow-up reading (``retrieval.followup.FollowUpParams``) on a conversation set,
cross-validated over groups of pages, and print the figures per kind of turn.

Usage (both knowledge bases at once; each conversation is asked on the one that has its
pages):

    python bench/tune_followup.py eval/conversations-dev.yaml \\
        --index knowledge=.playbook/index \\
        --index /work/shared/corpora/second-cerveau=/tmp/site-idx [--folds 5]

``--grid NAME=V1,V2`` replaces an axis of ``GRID`` (one value: that field fixed). Every search
is cached by its text, so a grid costs the reading's arithmetic, not searches (288 readings
of the 90 dev turns: about a minute on a busy machine).
Groups: conversations are grouped by the page of their first turn; on a knowledge base of one
page, by the section of their first turn. A fold's weights are those that score best on the
other folds (section@1 + answer@1 over all their turns); the held-out fold is scored with
them. The weights printed last are those fitted on every conversation (the defaults).
"""

from __future__ import annotations

import argparse
import itertools
import sys
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.config import Settings
from bot.core.retrieval.conversations import (
    answered_here,
    evaluate_conversations,
    load_conversations,
    summarise_kinds,
)
from bot.core.retrieval.engine import KnowledgeEngine
from bot.core.retrieval.evaluation import passage_sources
from bot.core.retrieval.followup import FollowUpParams

# The gate by length (``short_words`` 0-3) was fitted off on a grid of 5760 readings; the gate
# by evidence alone (``short_words`` 99) ties with no gate on the dev set from 0.8 to 0.9 and
# is kept on (see ``FollowUpParams``); ties go to the first reading in grid order. Pass
# ``--grid gate=True,False --grid short_words=0,1,2,3,99 ...`` to read them again.
# e5 is off after a turn (``joined_e5``, ``alone_e5_words`` 99) for the speed target (a
# follow-up at most 5 ms over a first question at p95); ``--grid joined_e5=True,False --grid
# alone_e5_words=0,99`` measures what e5 would add.
GRID = {
    "gate": [True, False],
    "short_words": [99],
    "standalone_evidence": [0.85],
    "page_prior": [0.1, 0.2, 0.3, 0.4],
    "section_prior": [0.0, 0.1, 0.2],
    "reach": ["page", "section", "auto"],
    "joined_words": [0, 2, 4, 99],
    "joined_e5": [False],
    "alone_e5_words": [99],
}


def canonical(params: FollowUpParams) -> FollowUpParams:
    """``params`` with the fields that do not change its reading set to the defaults (so that
    the grid reads each distinct reading once)."""
    default = FollowUpParams()
    if not params.gate:
        params = replace(
            params,
            short_words=default.short_words,
            standalone_evidence=default.standalone_evidence,
            unsure_in_context=default.unsure_in_context,
        )
    return params


def grid(overrides: list[str]) -> list[FollowUpParams]:
    """The distinct readings of ``GRID`` (with ``NAME=V1,V2`` overrides), in grid order."""
    axes = dict(GRID)
    for override in overrides:
        name, _, values = override.partition("=")
        kind = type(getattr(FollowUpParams(), name))
        parse = (lambda v: v == "True") if kind is bool else kind
        axes[name] = [parse(v) for v in values.split(",")]
    configs = [
        canonical(replace(FollowUpParams(), **dict(zip(axes, values, strict=True))))
        for values in itertools.product(*axes.values())
    ]
    return list(dict.fromkeys(configs))


class CachedRetriever:
    """A retriever whose searches are remembered by text (the rest is the retriever's)."""

    def __init__(self, retriever):
        self._retriever = retriever
        self._results = {}

    def search(self, question, language=None, *, quick=False):
        key = (question, language, quick)
        if key not in self._results:
            self._results[key] = self._retriever.search(question, language, quick=quick)
        return self._results[key]

    def __getattr__(self, name):
        return getattr(self._retriever, name)


def score(outcomes) -> float:
    return sum((o.in_context.page_rank == 1) + (o.in_context.answer_rank == 1) for o in outcomes)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("file")
    parser.add_argument("--index", action="append", required=True, metavar="KNOWLEDGE=INDEX")
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--grid", action="append", default=[], metavar="NAME=V1,V2")
    args = parser.parse_args()
    conversations = load_conversations(Path(args.file))
    kb_of = {c.id: c.kb for c in conversations}
    runs = []  # (engine, its conversations, their group)
    for pair in args.index:
        knowledge, _, index = pair.partition("=")
        settings = Settings(knowledge_dir=Path(knowledge), index_dir=Path(index))
        engine = KnowledgeEngine.open(settings)
        engine.retriever = CachedRetriever(engine.retriever)
        pages = set(passage_sources(engine).values())
        mine = [c for c in conversations if answered_here(c, pages)]
        by_page = {c.turns[0].item.page for c in mine}
        group = (
            (lambda c: f"{c.turns[0].item.page}")
            if len(by_page) > 1
            else (lambda c: f"{c.turns[0].item.page}#{c.turns[0].item.sections[0]}")
        )
        runs.append((engine, mine, [group(c) for c in mine]))
        print(f"{knowledge}: {len(mine)} conversations, {len(set(runs[-1][2]))} groups")
    # folds: each group to one fold, in turn, across both knowledge bases
    groups = sorted({g for _e, _m, gs in runs for g in gs})
    fold_of = {g: n % args.folds for n, g in enumerate(groups)}
    configs = grid(args.grid)
    print(f"{len(configs)} readings")
    # every config's outcomes per conversation (alone asked once, by the first config)
    table = []  # per config: list of (fold, [turn outcomes])
    alone = None
    for n, params in enumerate(configs):
        rows = []
        for engine, mine, gs in runs:
            outcomes = evaluate_conversations(engine, mine, params, alone=n == 0)
            for conversation, g in zip(mine, gs, strict=True):
                part = [o for o in outcomes if o.conversation == conversation.id]
                rows.append((fold_of[g], part))
        if n == 0:
            alone = [o for _f, part in rows for o in part]
        table.append(rows)
    held = []
    for fold in range(args.folds):
        train = [score(o for f, part in rows if f != fold for o in part) for rows in table]
        best = max(range(len(configs)), key=lambda i: (train[i], -i))
        held += [o for f, part in table[best] if f == fold for o in part]
        print(f"fold {fold}: {configs[best]}")
    print("\nCross-validated (each fold read with the weights fitted on the others):")
    report(held, alone, kb_of)
    fitted = max(range(len(configs)), key=lambda i: (score(o for _f, p in table[i] for o in p), -i))
    print(f"\nFitted on all: {configs[fitted]}")
    report([o for _f, part in table[fitted] for o in part], alone, kb_of)
    return 0


def report(outcomes, alone, kb_of) -> None:
    by_alone = {(o.conversation, o.in_context.question.question): o.alone for o in alone}
    outcomes = [
        replace(o, alone=by_alone[(o.conversation, o.in_context.question.question)])
        for o in outcomes
    ]
    for kb in sorted({kb_of[o.conversation] for o in outcomes}):
        print(f" {kb}:")
        report_kinds([o for o in outcomes if kb_of[o.conversation] == kb])


def report_kinds(outcomes) -> None:
    for kind, part in summarise_kinds(outcomes).items():
        c, a = part["in_context"], part["alone"]
        print(
            f"  {kind:8} {part['turns']:3} turns ({part['read_in_context']} in context): "
            f"section@1 {c['section@1']:.3f} (alone {a['section@1']:.3f}), "
            f"answer@1 {c['answer@1']:.3f} (alone {a['answer@1']:.3f}), "
            f"answer@3 {c['answer@3']:.3f} (alone {a['answer@3']:.3f})"
        )


if __name__ == "__main__":
    raise SystemExit(main())
