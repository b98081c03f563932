"""What the team teaches in the chat: kept per user, weighed by the team, carried over a
re-index, set aside when its section leaves the pages."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.core.assistant import Asker, Assistant
from bot.core.retrieval.learned import LearnedExample
from bot.core.team.learning import gather
from bot.core.team.lookup import ChecklistBook
from bot.core.team.store import Store

QUESTION = "Qu'est-ce que l'entonnoir ?"
FUNNEL = "L'open source comme en tête de l'entonnoir."
PRODUCT = "Considération - Gestion du produit"


@pytest.fixture
def assistant(engine, tmp_path):
    made = Assistant(
        engine=engine,
        store=Store(f"sqlite:///{tmp_path / 'db.sqlite'}"),
        checklists=ChecklistBook([]),
    )
    yield made
    engine.learn([])  # the engine is shared: leave it as it was
    made.store.close()


def _key(assistant: Assistant, title: str) -> str:
    return next(k for k, c in assistant.closest_sections(QUESTION, 20) if c.section == title)


def _first(assistant: Assistant, question: str = QUESTION, user: str = "U9") -> str:
    return assistant.ask(question, Asker("slack", "C1", user)).quotes[0].citation.section


def test_one_user_cannot_outvote_the_team(assistant):
    funnel, product = _key(assistant, FUNNEL), _key(assistant, PRODUCT)
    for _ in range(5):  # one user, five times: one vote
        assistant.teach(QUESTION, product, Asker("slack", "C1", "U1"))
    assert _first(assistant) == PRODUCT
    assistant.teach(QUESTION, funnel, Asker("slack", "C1", "U2"))
    assistant.teach(QUESTION, funnel, Asker("discord", "C2", "U3"))
    assert _first(assistant) == FUNNEL
    examples, gaps = gather(assistant.store.taught(assistant.knowledge))
    votes = {e.section_title: (e.votes, round(e.share, 2)) for e in examples}
    assert votes == {PRODUCT: (1, 0.33), FUNNEL: (2, 0.67)} and gaps == []


def test_a_users_latest_word_replaces_the_earlier_one(assistant):
    asker = Asker("slack", "C1", "U1")
    assistant.teach(QUESTION, _key(assistant, PRODUCT), asker)
    assistant.teach(QUESTION, None, asker)  # then: the knowledge base does not cover it
    examples, gaps = gather(assistant.store.taught(assistant.knowledge))
    assert examples == [] and [g.question for g in gaps] == [QUESTION]


def test_thumbs_up_confirms_the_cited_section_with_half_a_vote(assistant):
    question = "Qu'est-ce que le modèle open core ?"
    answer = assistant.ask(question, Asker("slack", "C1", "U1"))
    assistant.feedback(answer, 1, Asker("slack", "C1", "U1"), None, "a" * 16)
    assert assistant.recorder.flush()
    (example,) = gather(assistant.store.taught(assistant.knowledge))[0]
    assert (example.section_title, example.weight, example.strength) == (
        "Le modèle Open core",
        0.5,
        0.5,
    )


def test_an_example_whose_section_left_the_pages_is_set_aside(assistant, engine):
    now = datetime.now(UTC)
    gone = LearnedExample(
        question=QUESTION,
        question_key="x",
        section="commercialisation.md#Commercialisation > Une section disparue",
        section_title="Une section disparue",
        votes=3,
        weight=3.0,
        share=1.0,
        ids=(1,),
        first=now,
        last=now,
        platforms=("slack",),
    )
    before = _first(assistant)
    engine.learn([gone])
    assert engine.set_aside == [gone]
    assert _first(assistant) == before  # applied to no other section


def test_a_learned_example_carries_over_a_reindex(assistant, engine):
    assistant.teach(QUESTION, _key(assistant, FUNNEL), Asker("slack", "C1", "U1"))
    assert _first(assistant) == FUNNEL
    engine.swap(engine.index)  # what a live re-index does once the new build is loaded
    assert _first(assistant, user="U7") == FUNNEL
