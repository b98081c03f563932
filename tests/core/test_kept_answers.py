"""The answers kept for their buttons: a click that comes while the answer's database write is
still queued (a busy machine, a slow disk) finds it, and shares it once, where it was given."""

from __future__ import annotations

import threading

import pytest

from bot.core.assistant import Asker, Assistant
from bot.core.chat.memory import ChatMemory
from bot.core.team.lookup import ChecklistBook
from bot.core.team.store import Store


@pytest.fixture
def assistant(engine, tmp_path):
    made = Assistant(
        engine=engine,
        store=Store(f"sqlite:///{tmp_path / 'db.sqlite'}"),
        checklists=ChecklistBook([]),
    )
    yield made
    made.store.close()


def test_a_click_before_the_answer_is_written_finds_it_and_shares_it_once(assistant):
    answer = assistant.ask("Qu'est-ce que l'open core ?", Asker("slack", "C0CHAN", "U1"))
    memory = ChatMemory(assistant.store.database, assistant.recorder)
    busy = threading.Event()
    assistant.recorder.later("a slow write", lambda: busy.wait(30))  # the queue is held
    try:
        answer_id = memory.remember(answer, "slack", "C0CHAN")
        recalled = memory.recall(answer_id)
        assert recalled is not None
        assert recalled.quotes[0].citation.section == answer.quotes[0].citation.section
        assert memory.claim_share("slack", answer_id) == "C0CHAN"
        assert memory.claim_share("slack", answer_id) is None  # shared already
        assert memory.recall("0123456789abcdef") is None  # never kept
    finally:
        busy.set()
    assert assistant.recorder.flush()
    fresh = ChatMemory(assistant.store.database, assistant.recorder)  # another replica
    assert fresh.recall(answer_id) == recalled  # written once free
