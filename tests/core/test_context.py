"""A conversation's context: a follow-up is read against the turn before (and says so), a
complete question on another subject stands alone, the turns are kept in the database (a
restart, another replica) and bounded, and two conversations never mix."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.core.assistant import Asker, Assistant
from bot.core.chat import ANSWER, SMALLTALK, Conversation
from bot.core.chat.context import ContextMemory, conversation_key
from bot.core.db import now
from bot.core.messages import message
from bot.core.retrieval.followup import (
    CitedSection,
    ContextReading,
    FollowUpParams,
    PreviousTurn,
    turn_of,
)
from bot.core.team.lookup import ChecklistBook
from bot.core.team.store import Store

ALICE = Asker("slack", "C0CHAN", "U0ALICE", "T0TEAM", "alice")
THREAD = conversation_key("slack", "C0CHAN", "1700000000.000100")
OTHER = conversation_key("slack", "C0CHAN", "1700000000.000200")
FIRST = "Qu'est-ce que le modèle open core ?"
FOLLOWUP = "pourquoi ?"
TOPIC = "Le modèle Open core"
SWITCH = "Qu'est-ce que le value-market fit ?"


def _assistant(engine, url: str) -> Assistant:
    return Assistant(engine=engine, store=Store(url), checklists=ChecklistBook([]))


@pytest.fixture
def url(tmp_path):
    return f"sqlite:///{tmp_path / 'context.db'}"


@pytest.fixture
def chat(engine, url):
    assistant = _assistant(engine, url)
    yield Conversation(assistant)
    assistant.store.close()


def _first(reply) -> str:
    assert reply.kind == ANSWER and reply.answer is not None and reply.answer.quotes
    return reply.answer.quotes[0].citation.section


def test_a_followup_is_read_in_context_and_says_what_it_understood(chat):
    assert chat.compose(FOLLOWUP, ALICE).kind == SMALLTALK  # alone it asks nothing
    assert _first(chat.compose(FIRST, ALICE, conversation=THREAD)) == TOPIC
    reply = chat.compose(FOLLOWUP, ALICE, conversation=THREAD)
    assert _first(reply) == TOPIC
    assert reply.understood == message("fr", "understood", topic=TOPIC)
    assert reply.understood == "Sur « Le modèle Open core » :"


def test_a_complete_question_on_another_subject_stands_alone(chat):
    chat.compose("Qu'est-ce que le modèle SaaS ?", ALICE, conversation=THREAD)
    reply = chat.compose(SWITCH, ALICE, conversation=THREAD)
    assert _first(reply) == "Value-market fit" and reply.understood == ""


def test_the_prior_on_the_previous_sections_decides_a_short_followup(engine):
    first = engine.ask(FIRST)
    previous = turn_of(first, FIRST)
    question = "et son principal problème ?"
    alone = engine.ask(question)
    assert alone.cited_sections[0] != TOPIC  # read alone, another section comes first
    strong = ContextReading(previous, FollowUpParams(section_prior=1.0))
    assert engine.ask(question, context=strong).cited_sections[0] == TOPIC
    assert strong.used and strong.changed
    assert "forker votre projet" in engine.ask(question, context=strong).quotes[0].text
    # without a prior, and with the page for the gate (one page: always reached), it is alone
    none = ContextReading(previous, FollowUpParams(page_prior=0.0, section_prior=0.0, reach="page"))
    assert engine.ask(question, context=none).cited_sections[0] == alone.cited_sections[0]
    assert not none.changed
    # with the gate on the sections ("auto" on one page), the joined search decides
    joined = ContextReading(
        previous, FollowUpParams(page_prior=0.0, section_prior=0.0, reach="auto")
    )
    assert engine.ask(question, context=joined).cited_sections[0] == TOPIC
    assert joined.changed


def test_the_context_survives_a_restart_and_two_threads_do_not_mix(chat, engine, url):
    chat.compose(FIRST, ALICE, conversation=THREAD)
    chat.compose("Qu'est-ce que le modèle SaaS ?", ALICE, conversation=OTHER)
    assert chat.assistant.recorder.flush()
    restarted = Conversation(_assistant(engine, url))  # a new process on the same database
    try:
        reply = restarted.compose(FOLLOWUP, ALICE, conversation=THREAD)
        assert _first(reply) == TOPIC and TOPIC in reply.understood
        other = restarted.compose(FOLLOWUP, ALICE, conversation=OTHER)
        assert other.understood == "Sur « Le modèle SaaS » :"
    finally:
        restarted.assistant.store.close()


def _turn(question: str) -> PreviousTurn:
    return PreviousTurn(question, "fr", (CitedSection("p", "S", "p#s"),))


def test_the_turns_kept_are_bounded_in_number_and_time(chat):
    memory = ContextMemory(
        chat.assistant.store.database, chat.assistant.recorder, turns=2, minutes=30
    )
    start = now()
    for n in range(4):
        memory.note(THREAD, _turn(f"q{n}"), start + timedelta(minutes=n))
    assert chat.assistant.recorder.flush()
    assert [t.question for t in memory.recent(THREAD, start + timedelta(minutes=4))] == ["q2", "q3"]
    assert memory.recent(THREAD, start + timedelta(minutes=40)) == []  # too old: read alone
    fresh = ContextMemory(
        chat.assistant.store.database, chat.assistant.recorder, turns=2, minutes=30
    )
    assert [t.question for t in fresh.recent(THREAD, start + timedelta(minutes=4))] == ["q2", "q3"]
    off = ContextMemory(chat.assistant.store.database, chat.assistant.recorder, turns=0)
    assert off.recent(THREAD) == []


def test_chat_json_keeps_the_conversation_across_lines_and_new_starts_another(chat):
    import io
    import json

    from bot.adapters.console import chat_json

    out = io.StringIO()
    lines = [FIRST, FOLLOWUP, "/new", FOLLOWUP, "", "merci !"]
    assert chat_json(chat.assistant, ALICE, lines, out) == 0
    first, followup, fresh, thanks = (json.loads(line) for line in out.getvalue().splitlines())
    assert first["quotes"][0]["section"] == TOPIC and first["context"]["used"] is False
    assert followup["quotes"][0]["section"] == TOPIC
    assert followup["context"] == {"used": True, "understood": "Sur « Le modèle Open core » :"}
    assert fresh["question"] == FOLLOWUP and fresh["context"]["used"] is False
    assert fresh["kind"] == "smalltalk"  # a new conversation: nothing to read it against
    assert thanks["kind"] == "smalltalk" and thanks["reply"] and not thanks["context"]["used"]


def test_the_bounds_are_settings_and_zero_turns_turns_context_off(engine, url):
    from bot.config import Settings

    settings = Settings.from_env(
        {"PLAYBOOK_CONTEXT_TURNS": "0", "PLAYBOOK_CONTEXT_MINUTES": "5"}, env_file=None
    )
    assert (settings.context_turns, settings.context_minutes) == (0, 5)
    assert (Settings().context_turns, Settings().context_minutes) == (3, 30)
    assistant = Assistant(
        engine=engine, store=Store(url), checklists=ChecklistBook([]), context_turns=0
    )
    try:
        chat = Conversation(assistant)
        chat.compose(FIRST, ALICE, conversation=THREAD)
        assert chat.compose(FOLLOWUP, ALICE, conversation=THREAD).kind == SMALLTALK
    finally:
        assistant.store.close()
