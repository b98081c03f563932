"""A database seeded through the bot's own code paths: questions asked on two platforms (some
the page cannot answer, one with markup), a 👎 then the section the asker picked, a checklist
item ticked. The maintainers' pages are tested over it (tests/core/test_dashboard.py, the
browser test)."""

from __future__ import annotations

from pathlib import Path

from bot.core.assistant import Asker, Assistant
from bot.core.retrieval.engine import KnowledgeEngine
from bot.core.team.checklists import load_checklists
from bot.core.team.lookup import ChecklistBook
from bot.core.team.store import Store

KNOWLEDGE = Path(__file__).resolve().parents[1] / "knowledge"
OFF_TOPIC = "Quelle est la recette de la ratatouille ?"
OFF_TOPIC_EN = "What is the recipe for ratatouille?"
ON_TOPIC = "Qu'est-ce que le modèle open core ?"
MARKUP = "<script>alert(1)</script> le modèle SaaS ?"
ALICE = Asker("slack", "C1", "U1", "T1", "Alice")
BOB = Asker("discord", "D9", "U2")


def seeded_assistant(engine: KnowledgeEngine, url: str) -> Assistant:
    """An assistant over ``engine`` and the database at ``url``, seeded: 6 questions (3 of
    them the same off-topic one, one in English, one with markup), a 👎 on the on-topic
    answer then its Open core section taught, the first checklist's first item ticked by
    Alice. Everything written (the recorder flushed)."""
    checklists, _errors = load_checklists(KNOWLEDGE)
    assistant = Assistant(engine=engine, store=Store(url), checklists=ChecklistBook(checklists))
    answer = assistant.ask(ON_TOPIC, ALICE)
    for _ in range(3):
        assistant.ask(OFF_TOPIC, ALICE)
    assistant.ask(OFF_TOPIC_EN, BOB)
    assistant.ask(MARKUP, BOB)
    assistant.feedback(answer, -1, ALICE, None, "a" * 16)
    open_core = next(
        k for k, c in assistant.closest_sections(ON_TOPIC, 20) if "Open core" in c.section
    )
    assistant.teach(ON_TOPIC, open_core, ALICE)
    assistant.board.tick(ALICE.conversation, checklists[0], "1", ALICE.user, user_name=ALICE.name)
    assert assistant.recorder.flush()
    return assistant
