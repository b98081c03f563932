"""Warm latency of first questions against follow-ups, through the chat's front door
(``Conversation.compose`` with a conversation key: the turn's context read from the database,
the reading, the answer, the turn kept): p50/p95/max of each kind of turn, and of the same
follow-ups and switches asked alone (what the context itself costs).

Run: python bench/bench_followup.py [FILE] [--rounds N] [--knowledge DIR --index DIR]
[--set NAME=VALUE ...] (``--set``: a ``FollowUpParams`` field other than its default, to time
a reading before making it the default).
FILE is a conversation set (default eval/conversations-dev.yaml); only the conversations
about pages of the knowledge base are asked (default: the bundled page). Each round asks every
conversation in a new conversation. Prints the figures; asserts nothing. On a busy machine
run it with OMP_NUM_THREADS=1 (BLAS threads fighting for the cores stall e5 for a second).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.config import Settings  # noqa: E402
from bot.core.assistant import Asker, Assistant  # noqa: E402
from bot.core.chat import Conversation, conversation_key  # noqa: E402
from bot.core.retrieval.conversations import answered_here, load_conversations  # noqa: E402
from bot.core.retrieval.engine import KnowledgeEngine  # noqa: E402
from bot.core.retrieval.evaluation import passage_sources  # noqa: E402
from bot.core.retrieval.followup import ContextReading, FollowUpParams  # noqa: E402
from bot.core.team.lookup import ChecklistBook  # noqa: E402
from bot.core.team.store import Store  # noqa: E402


def main() -> None:
    """Ask every conversation ``--rounds`` times after a warm-up; print percentiles by kind."""
    parser = argparse.ArgumentParser()
    parser.add_argument("file", nargs="?", default=str(ROOT / "eval" / "conversations-dev.yaml"))
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--knowledge", type=Path, default=ROOT / "knowledge")
    parser.add_argument("--index", type=Path, default=None)
    parser.add_argument("--set", action="append", default=[], metavar="NAME=VALUE")
    args = parser.parse_args()
    if args.set:
        use_params(args.set)
    settings = Settings(knowledge_dir=args.knowledge)
    if args.index is not None:
        settings = Settings(knowledge_dir=args.knowledge, index_dir=args.index)
    engine = KnowledgeEngine.open(settings)
    pages = set(passage_sources(engine).values())
    conversations = [c for c in load_conversations(Path(args.file)) if answered_here(c, pages)]
    with tempfile.TemporaryDirectory() as folder:
        store = Store(f"sqlite:///{folder}/bench.db", salt="bench")
        assistant = Assistant(
            engine=engine, store=store, checklists=ChecklistBook([]), log_questions=False
        )
        chat = Conversation(assistant)
        asker = Asker("bench", "C0", "U0")
        chat.compose(conversations[0].turns[0].item.question, asker)  # warm-up
        times: dict[str, list[float]] = {}
        for round_ in range(args.rounds):
            for conversation in conversations:
                key = conversation_key("bench", "C0", f"{round_}-{conversation.id}")
                for turn in conversation.turns:
                    started = time.perf_counter()
                    chat.compose(turn.item.question, asker, durable=False, conversation=key)
                    elapsed = (time.perf_counter() - started) * 1000
                    times.setdefault(turn.kind, []).append(elapsed)
                    started = time.perf_counter()  # the same message, alone
                    chat.compose(turn.item.question, asker, durable=False)
                    elapsed = (time.perf_counter() - started) * 1000
                    times.setdefault(f"{turn.kind} alone", []).append(elapsed)
        assistant.recorder.flush()
        store.close()
    print(f"{len(conversations)} conversations x {args.rounds} rounds ({engine.embedder.id})")
    for kind in ("first", "followup", "switch", "followup alone", "switch alone"):
        values = np.array(times.get(kind, [0.0]))
        print(
            f"  {kind:14} {len(values):4} turns: p50 {np.percentile(values, 50):6.1f} ms, "
            f"p95 {np.percentile(values, 95):6.1f} ms, max {values.max():6.1f} ms"
        )


def use_params(settings: list[str]) -> None:
    """Make the chat read follow-ups with these ``FollowUpParams`` fields (``NAME=VALUE``)."""
    import bot.core.chat.conversation as chat_module

    values: dict[str, object] = {}
    for setting in settings:
        name, _, value = setting.partition("=")
        kind = type(getattr(FollowUpParams(), name))
        values[name] = value == "True" if kind is bool else kind(value)
    params = FollowUpParams(**values)  # type: ignore[arg-type]
    print(f"reading: {params}")
    chat_module.ContextReading = lambda previous: ContextReading(previous, params)  # type: ignore[assignment,misc]


if __name__ == "__main__":
    main()
