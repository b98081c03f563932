"""The chat's front door, without any platform: what a vote, a pick, a share, ``/checklist``, a
tick, a menu selection and a reset reply, and the rows they store."""

from __future__ import annotations

import asyncio

import pytest

from bot.core.assistant import Asker, Assistant
from bot.core.chat import (
    APOLOGY,
    CHECKLIST,
    CHECKLISTS,
    MENU,
    NOTICE,
    SHARE,
    TEXT,
    Conversation,
    Reply,
)
from bot.core.knowledge.sections import digest
from bot.core.messages import message
from bot.core.team.checklists import load_checklists
from bot.core.team.learning import NONE_CHOICE, gather
from bot.core.team.lookup import ChecklistBook
from bot.core.team.store import Store
from tests.conftest import KNOWLEDGE

QUESTION = "Qu'est-ce que le modèle open core ?"
ALICE = Asker("slack", "C0CHAN", "U0ALICE", "T0TEAM", "alice")


@pytest.fixture
def chat(engine, tmp_path):
    checklists, _ = load_checklists(KNOWLEDGE)
    store = Store(f"sqlite:///{tmp_path / 'chat.db'}")
    assistant = Assistant(engine=engine, store=store, checklists=ChecklistBook(checklists))
    yield Conversation(assistant)
    engine.learn([])  # the engine is shared: what a test taught stays in it
    store.close()


def _answered(chat: Conversation, question: str = QUESTION) -> Reply:
    reply = chat.compose(question, ALICE)
    assert reply.answer is not None and reply.answer_id
    return reply


def test_a_thumbs_up_is_thanked_and_stored(chat):
    answered = _answered(chat)
    reply = chat.vote(answered.answer_id, True, ALICE)
    assert (reply.kind, reply.text) == (NOTICE, message("fr", "feedback_thanks"))
    assert chat.assistant.store.feedback_counts() == {"up": 1, "down": 0}
    assert chat.assistant.recorder.flush()  # 👍 confirms the cited section, in the background
    (example,) = gather(chat.assistant.store.taught(chat.assistant.knowledge))[0]
    assert example.section_title == answered.answer.quotes[0].citation.section


def test_a_thumbs_down_offers_the_closest_sections_then_none(chat):
    answered = _answered(chat)
    reply = chat.vote(answered.answer_id, False, ALICE, menu_size=5)
    assert reply.kind == MENU and reply.text == message("fr", "which_section")
    assert reply.answer_id == answered.answer_id
    closest = chat.assistant.closest_sections(QUESTION, 5)
    assert [c.value for c in reply.choices[:-1]] == [digest(key) for key, _c in closest]
    assert [c.label for c in reply.choices[:-1]] == [c.section for _k, c in closest]
    assert (reply.choices[-1].label, reply.choices[-1].value) == (
        message("fr", "none_covers"),
        NONE_CHOICE,
    )
    votes = chat.assistant.store.feedback_counts()
    assert votes == {"up": 0, "down": 1}
    chat.vote(answered.answer_id, True, ALICE)  # a change of mind replaces the vote
    assert chat.assistant.store.feedback_counts() == {"up": 1, "down": 0}


def test_a_button_of_an_answer_that_is_gone_says_so_and_stores_nothing(chat):
    for reply in (
        chat.vote("0123456789abcdef", True, ALICE),
        chat.pick("0123456789abcdef", NONE_CHOICE, ALICE),
        chat.share("0123456789abcdef", ALICE),
    ):
        assert (reply.kind, reply.text) == (NOTICE, message("en", "gone"))
    assert chat.assistant.store.feedback_counts() == {"up": 0, "down": 0}
    assert chat.assistant.store.taught(chat.assistant.knowledge) == []


def test_a_vote_the_database_cannot_take_gets_an_apology(chat):
    answered = _answered(chat)

    def fail(**_kwargs):
        raise OSError("read-only file system")

    chat.assistant.store.record_feedback = fail
    reply = chat.vote(answered.answer_id, False, ALICE)
    assert (reply.kind, reply.text) == (APOLOGY, message("fr", "sorry"))


def test_a_pick_after_thumbs_down_is_kept_and_said_in_place_of_the_menu(chat):
    answered = _answered(chat)
    menu = chat.vote(answered.answer_id, False, ALICE)
    picked = menu.choices[2]
    reply = chat.pick(answered.answer_id, picked.value, ALICE)
    assert reply.kind == TEXT
    assert reply.text == message("fr", "learned", section=picked.label)
    (row,) = chat.assistant.store.taught(chat.assistant.knowledge)
    assert (row.question, row.section_title) == (QUESTION, picked.label)


def test_picking_none_notes_a_gap_and_a_lost_section_is_said_gone(chat):
    answered = _answered(chat)
    reply = chat.pick(answered.answer_id, NONE_CHOICE, ALICE)
    assert (reply.kind, reply.text) == (TEXT, message("fr", "gap_noted"))
    (row,) = chat.assistant.store.taught(chat.assistant.knowledge)
    assert row.section == ""
    gone = chat.pick(answered.answer_id, "ffffffffffffffff", ALICE)
    assert (gone.kind, gone.text) == (TEXT, message("fr", "section_gone"))


def test_a_private_answer_is_shared_once_where_it_was_given(chat):
    answered = _answered(chat)
    elsewhere = Asker("slack", "C0OTHER", "U0BOB")
    reply = chat.share(answered.answer_id, elsewhere)
    assert (reply.kind, reply.channel, reply.answer) == (SHARE, "C0CHAN", answered.answer)
    again = chat.share(answered.answer_id, ALICE)
    assert (again.kind, again.text) == (NOTICE, message("fr", "already_shared"))


def test_checklist_lists_suggests_or_shows_with_the_channel_progress(chat):
    listed = chat.checklist("", ALICE)
    assert listed.kind == CHECKLISTS and not listed.asked
    assert "product-market-fit" in [c.id for c in listed.checklists]
    unknown = chat.checklist("zzzz qqqq", ALICE)
    assert (unknown.kind, unknown.asked) == (CHECKLISTS, "zzzz qqqq")
    shown = chat.checklist("pmf", ALICE)
    assert shown.kind == CHECKLIST and shown.state.checklist.id == "product-market-fit"
    assert shown.state.done_count == 0


def test_a_tick_is_stored_for_the_channel_with_who_ticked(chat):
    reply = chat.tick("product-market-fit", "2", True, ALICE, "fr")
    assert reply.kind == CHECKLIST and not reply.text
    assert [s.done for s in reply.state.items] == [False, True, False]
    progress = chat.assistant.store.progress("slack:T0TEAM:C0CHAN", "product-market-fit")
    (tick,) = progress.values()
    assert (tick.by, tick.name) == ("U0ALICE", "alice")
    other_channel = Asker("slack", "C0ELSE", "U0ALICE", "T0TEAM")
    assert chat.checklist("pmf", other_channel).state.done_count == 0
    undone = chat.tick("product-market-fit", "2", False, ALICE, "fr")
    assert undone.state.done_count == 0


def test_a_tick_on_what_is_gone_tells_the_clicker(chat):
    item = chat.tick("product-market-fit", "no-such-item", True, ALICE, "en")
    assert (item.kind, item.text) == (CHECKLIST, message("en", "item_gone"))
    assert item.state.done_count == 0
    checklist = chat.tick("no-such-checklist", "1", True, ALICE, "en")
    assert (checklist.kind, checklist.text) == (NOTICE, message("en", "checklist_gone"))


def test_a_tick_the_database_cannot_save_gets_a_private_apology(chat):
    def fail(*_args, **_kwargs):
        raise OSError("read-only file system")

    chat.assistant.store.tick = fail
    reply = chat.tick("product-market-fit", "1", True, ALICE, "fr")
    assert (reply.kind, reply.text, reply.state) == (APOLOGY, message("fr", "sorry"), None)


def test_a_menu_selection_makes_the_selected_items_the_done_ones(chat):
    checklist = chat.checklist("pmf", ALICE).state.checklist
    first, second, third = (item.id for item in checklist.items)
    chat.tick("product-market-fit", first, True, ALICE, "fr")
    reply = chat.select("product-market-fit", {second, third}, ALICE, "fr")
    assert reply.kind == CHECKLIST
    assert [s.done for s in reply.state.items] == [False, True, True]


def test_reset_clears_the_channel_progress(chat):
    chat.tick("product-market-fit", "1", True, ALICE, "fr")
    reply = chat.reset("pmf", ALICE)
    assert reply.kind == CHECKLIST and reply.state.done_count == 0
    chat.tick("product-market-fit", "1", True, ALICE, "fr")
    assert chat.checklist("pmf reset", ALICE).state.done_count == 0  # Slack's form of it


def test_a_turn_notes_its_thread_before_the_reply_is_delivered(chat):
    seen: list[bool] = []

    async def deliver(reply: Reply) -> None:
        seen.append(chat.is_bot_thread("slack", "C0CHAN", "1700000000.0001"))

    asyncio.run(chat.turn(QUESTION, ALICE, deliver, thread="1700000000.0001"))
    assert seen == [True]
    assert not chat.is_bot_thread("slack", "C0CHAN", "1700000000.0002")
