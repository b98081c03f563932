"""The checklist board: what a menu of a checklist's items turns into (ticks and unticks)."""

from __future__ import annotations

import pytest

from bot.core.team.checklists import load_checklists
from bot.core.team.lookup import ChecklistBook
from bot.core.team.progress import ChecklistBoard
from bot.core.team.store import Store
from tests.conftest import KNOWLEDGE


@pytest.fixture
def board(tmp_path):
    checklists, _ = load_checklists(KNOWLEDGE)
    store = Store(f"sqlite:///{tmp_path / 'board.db'}")
    yield ChecklistBoard(ChecklistBook(checklists), store)
    store.close()


def test_a_selection_ticks_what_is_selected_and_unticks_the_rest(board):
    funnel = board.find("walk-the-funnel").checklist
    first, second, third = (item.id for item in funnel.items[:3])
    board.tick("C1", funnel, first, "alice", user_name="Alice")

    state = board.select("C1", funnel, {first, third}, "bob", "Bob")

    done = {s.item.id: s.tick for s in state.items if s.done}
    assert set(done) == {first, third}
    assert done[first].by == "alice"  # an item that stays ticked keeps who ticked it
    assert done[third].by == "bob" and done[third].name == "Bob"

    state = board.select("C1", funnel, {second}, "carol")
    assert [s.item.id for s in state.items if s.done] == [second]
    assert board.state("C2", funnel).done_count == 0  # another conversation is untouched


def test_items_the_menu_did_not_offer_keep_their_state(board):
    funnel = board.find("walk-the-funnel").checklist
    last = funnel.items[-1].id
    board.tick("C1", funnel, last, "alice")

    state = board.select("C1", funnel, set(), "bob", offered=2)

    assert [s.item.id for s in state.items if s.done] == [last]
    unknown = board.select("C1", funnel, {"i-not-an-item"}, "bob")
    assert unknown.done_count == 0 and unknown.retired == ()
