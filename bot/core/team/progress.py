"""A checklist with a conversation's progress: what adapters show and the CLI prints."""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import TypedDict

from bot.core.team.checklists import Checklist, ChecklistItem
from bot.core.team.lookup import ChecklistBook, Lookup
from bot.core.team.recording import Recorder
from bot.core.team.store import Store, Tick


class ItemNotFound(ValueError):
    """An item reference (number or id) that the checklist does not have."""


class ProgressNotSaved(RuntimeError):
    """A tick, an untick or a reset the database could not take (the failure is logged once
    and named for ``/healthz`` by the board's recorder); the user is to be told."""


@dataclass(frozen=True)
class ItemState:
    """An item, its 1-based number, and its tick when done."""

    number: int
    item: ChecklistItem
    tick: Tick | None

    @property
    def done(self) -> bool:
        """Whether the item is ticked."""
        return self.tick is not None


@dataclass(frozen=True)
class ChecklistState:
    """A checklist's items with their progress, and ticks on items that no longer exist."""

    checklist: Checklist
    items: tuple[ItemState, ...]
    retired: tuple[Tick, ...]

    @property
    def done_count(self) -> int:
        """How many current items are done."""
        return sum(state.done for state in self.items)


def checklist_state(store: Store, conversation: str, checklist: Checklist) -> ChecklistState:
    """Join a checklist with the conversation's stored progress."""
    ticks = store.progress(conversation, checklist.id)
    items = tuple(
        ItemState(number, item, ticks.get(item.id))
        for number, item in enumerate(checklist.items, start=1)
    )
    current = {item.id for item in checklist.items}
    retired = tuple(
        sorted((t for t in ticks.values() if t.item_id not in current), key=lambda t: t.at)
    )
    return ChecklistState(checklist, items, retired)


def resolve_item(checklist: Checklist, ref: str) -> ChecklistItem:
    """The item a user means by ``ref``: its number (1-based) or its id."""
    ref = ref.strip()
    if ref.isdigit() and 1 <= int(ref) <= len(checklist.items):
        return checklist.items[int(ref) - 1]
    for item in checklist.items:
        if item.id == ref:
            return item
    raise ItemNotFound(
        f"{checklist.title!r} has no item {ref!r}: give a number from 1 to {len(checklist.items)}."
    )


class ChecklistBoard:
    """The team's checklists and the progress each conversation stores: what ``/checklist``
    shows and changes, on every platform and in the CLI."""

    def __init__(self, book: ChecklistBook, store: Store, recorder: Recorder | None = None) -> None:
        self.book = book
        self.store = store
        self.recorder = recorder or Recorder()

    def _write(self, what: str, action: Callable[[], object]) -> None:
        """Run the write ``action``; raise ``ProgressNotSaved`` when the database fails."""

        def done() -> bool:
            action()
            return True

        if not self.recorder.run(what, done, False):
            raise ProgressNotSaved(f"{what}: {self.recorder.problem or 'the database failed'}")

    def find(self, name: str) -> Lookup:
        """Look a checklist up by any of its names (see ``ChecklistBook.find``)."""
        return self.book.find(name)

    def state(self, conversation: str, checklist: Checklist) -> ChecklistState:
        """The checklist with the conversation's progress."""
        return checklist_state(self.store, conversation, checklist)

    def tick(
        self,
        conversation: str,
        checklist: Checklist,
        ref: str,
        user: str,
        done: bool = True,
        user_name: str | None = None,
    ) -> ChecklistState:
        """Tick (or untick) item ``ref`` (number or id). Returns the updated state."""
        self._set(conversation, checklist, resolve_item(checklist, ref), done, user, user_name)
        return self.state(conversation, checklist)

    def _set(
        self,
        conversation: str,
        checklist: Checklist,
        item: ChecklistItem,
        done: bool,
        user: str,
        user_name: str | None,
    ) -> None:
        """Store ``item`` as done (by ``user``) or not done (``ProgressNotSaved`` when the
        database cannot take it)."""
        if done:
            self._write(
                "ticking a checklist item",
                lambda: self.store.tick(
                    conversation, checklist.id, item.id, item.text, user, user_name
                ),
            )
        else:
            self._write(
                "unticking a checklist item",
                lambda: self.store.untick(conversation, checklist.id, item.id),
            )

    def select(
        self,
        conversation: str,
        checklist: Checklist,
        selected: Collection[str],
        user: str,
        user_name: str | None = None,
        *,
        offered: int | None = None,
    ) -> ChecklistState:
        """Make the items whose ids are in ``selected`` the done ones, as a menu of the
        checklist's items says: the others are unticked, except those past the first
        ``offered`` items (a menu that shows only some of them leaves the rest as they are).
        Ticks already there keep who ticked and when. Returns the updated state."""
        state = self.state(conversation, checklist)
        shown = state.items if offered is None else state.items[:offered]
        changed = [s for s in shown if (s.item.id in selected) != s.done]
        for s in changed:
            self._set(conversation, checklist, s.item, not s.done, user, user_name)
        return self.state(conversation, checklist) if changed else state

    def reset(self, conversation: str, checklist: Checklist) -> ChecklistState:
        """Clear the checklist's progress in the conversation. Returns the (empty) state
        (``ProgressNotSaved`` when the database cannot take it)."""
        self._write("resetting a checklist", lambda: self.store.reset(conversation, checklist.id))
        return self.state(conversation, checklist)


class ItemCitation(TypedDict):
    """The section an item cites."""

    section: str
    link: str


class ItemData(TypedDict):
    """A checklist item with its progress; ``by`` and ``at`` (ISO 8601) are ``None`` until
    it is ticked."""

    id: str
    text: str
    done: bool
    by: str | None
    at: str | None
    citation: ItemCitation | None


class RetiredData(TypedDict):
    """A ticked item that left the knowledge base."""

    id: str
    text: str
    by: str
    at: str | None


class ChecklistData(TypedDict):
    """A checklist with its progress, as ``playbook checklist NAME --json`` prints it."""

    id: str
    title: str
    description: str
    items: list[ItemData]
    retired: list[RetiredData]


def _when(tick: Tick | None) -> str | None:
    return tick.at.isoformat(timespec="seconds") if tick else None


def state_to_dict(state: ChecklistState) -> ChecklistData:
    """The public JSON shape of a checklist with progress (``playbook checklist NAME --json``)."""
    return {
        "id": state.checklist.id,
        "title": state.checklist.title,
        "description": state.checklist.description,
        "items": [
            {
                "id": s.item.id,
                "text": s.item.text,
                "done": s.done,
                "by": s.tick.by if s.tick else None,
                "at": _when(s.tick),
                "citation": (
                    {"section": s.item.citation.section, "link": s.item.citation.link}
                    if s.item.citation
                    else None
                ),
            }
            for s in state.items
        ],
        "retired": [
            {"id": t.item_id, "text": t.item_text, "by": t.by, "at": _when(t)}
            for t in state.retired
        ],
    }
