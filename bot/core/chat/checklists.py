"""The chat's checklist interactions, the same on every platform: ``/checklist`` (the list,
the closest names to one not found, or a checklist with the channel's progress, cleared first
on ``reset``), a tick or untick of one item (Slack's checkboxes, the terminal), and a menu
selection that sets which items are done (Discord). ``Conversation`` has them all; each
returns the ``Reply`` to render. Progress is kept per conversation (``Asker.conversation``)."""

from __future__ import annotations

from collections.abc import Collection

from bot.core.assistant import Asker, Assistant
from bot.core.chat.replies import CHECKLIST, CHECKLISTS, NOTICE, Reply, sorry
from bot.core.language import command_language
from bot.core.messages import message
from bot.core.team.checklists import Checklist
from bot.core.team.progress import ItemNotFound, ProgressNotSaved

RESET_WORDS = ("reset", "réinitialiser", "reinitialiser")  # ``/checklist <name> reset``


def read_checklist_command(text: str) -> tuple[str, bool]:
    """``(name, reset)`` from what follows ``/checklist``: the name, and whether it ends with
    a reset word (``/checklist onboarding reset``)."""
    words = text.split()
    reset = len(words) > 1 and words[-1].lower() in RESET_WORDS
    return " ".join(words[:-1] if reset else words), reset


class ChecklistActions:
    """``/checklist``, ticks and menu selections (mixed into ``Conversation``)."""

    assistant: Assistant

    def checklist(self, text: str, who: Asker, *, reset: bool = False) -> Reply:
        """``/checklist`` followed by ``text``: no name lists the checklists; a name not found
        lists the closest ones; else the checklist with the channel's progress, cleared first
        when ``reset`` (or ``text`` ends with a reset word). In the language of ``text``;
        blocking (run it in a thread)."""
        language = command_language(" ".join(text.split()))
        name, said_reset = read_checklist_command(text)
        if not name:
            return Reply(
                CHECKLISTS, language, checklists=tuple(self.assistant.checklists.checklists)
            )
        found = self.assistant.board.find(name)
        if found.checklist is None:
            return Reply(CHECKLISTS, language, checklists=tuple(found.suggestions), asked=name)
        return self._shown(found.checklist, who, language, reset=reset or said_reset)

    def reset(self, text: str, who: Asker) -> Reply:
        """``/checklist NAME reset``: the checklist with the channel's progress cleared."""
        return self.checklist(text, who, reset=True)

    def checklist_names(self, typed: str) -> list[Checklist]:
        """The checklists whose names match what is typed so far (an autocomplete box)."""
        return self.assistant.checklists.complete(typed)

    def tick(self, checklist_id: str, item: str, done: bool, who: Asker, language: str) -> Reply:
        """Tick (``done``) or untick ``item`` (its id or number) of a posted checklist for the
        whole channel: the updated checklist; an item no longer there leaves it as it is and
        tells the person alone; a tick the database cannot take gets a private apology."""
        checklist = self.assistant.checklists.get(checklist_id)
        if checklist is None:
            return Reply.saying(NOTICE, language, "checklist_gone")
        board = self.assistant.board
        try:
            state = board.tick(who.conversation, checklist, item, who.user, done, who.name)
        except ItemNotFound:
            state = board.state(who.conversation, checklist)
            return Reply(CHECKLIST, language, message(language, "item_gone"), state=state)
        except ProgressNotSaved:  # logged once by the board
            return sorry(language)
        return Reply(CHECKLIST, language, state=state)

    def select(
        self,
        checklist_id: str,
        selected: Collection[str],
        who: Asker,
        language: str,
        *,
        offered: int | None = None,
    ) -> Reply:
        """A menu of a posted checklist's items: the ``selected`` item ids are the done ones
        (items past the first ``offered``, not in the menu, stay as they are). The updated
        checklist, or a private word when it is gone or the database cannot take it."""
        checklist = self.assistant.checklists.get(checklist_id)
        if checklist is None:
            return Reply.saying(NOTICE, language, "checklist_gone")
        board = self.assistant.board
        try:
            state = board.select(
                who.conversation, checklist, selected, who.user, who.name, offered=offered
            )
        except ProgressNotSaved:  # logged once by the board
            return sorry(language)
        return Reply(CHECKLIST, language, state=state)

    def _shown(self, checklist: Checklist, who: Asker, language: str, *, reset: bool) -> Reply:
        """The checklist with the channel's progress (cleared first when ``reset``)."""
        board = self.assistant.board
        try:
            if reset:
                state = board.reset(who.conversation, checklist)
            else:
                state = board.state(who.conversation, checklist)
        except ProgressNotSaved:  # logged once by the board; the asker is told
            return sorry(language)
        return Reply(CHECKLIST, language, state=state)
