"""What the bot says back, whatever the platform: a ``Reply`` of one kind, which each adapter
renders its own way (``slack_render``, ``discord_render``, the terminal) and never decides.

The kinds:

- ``answer``: an answer (``answer``) with the ``answer_id`` its buttons carry, and
  ``understood`` when it was read in the conversation's context (shown first);
- ``smalltalk``: the invitation to ask that answers a message asking nothing;
- ``notice``: a short word to the person alone (how to ask, slow down, this answer is gone,
  shared already, thanks for the vote, that checklist or item is gone);
- ``restarting``: the process is shutting down; ask again in a moment;
- ``apology``: something failed (the log has the detail), or the database could not take a
  vote or a tick;
- ``menu``: a menu of ``choices`` after 👎 (the closest sections, then "none"), for the answer
  ``answer_id``;
- ``checklists``: a list of ``checklists`` to choose from: all of them, or the closest ones to
  a name not found (``asked``);
- ``checklist``: a checklist with the channel's progress (``state``), with ``text`` to tell the
  person alone when there is something to tell (an item that is gone);
- ``text``: a short text that takes the place of the message acted on (what a pick from the
  menu kept);
- ``share``: the answer to post publicly in ``channel``.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.core.messages import message
from bot.core.team.checklists import Checklist
from bot.core.team.progress import ChecklistState
from bot.core.types import Answer

ANSWER, SMALLTALK, NOTICE = "answer", "smalltalk", "notice"
RESTARTING, APOLOGY = "restarting", "apology"
MENU, CHECKLISTS, CHECKLIST, TEXT, SHARE = "menu", "checklists", "checklist", "text", "share"


@dataclass(frozen=True)
class Choice:
    """An option of a menu: what it says, and the value a pick sends back."""

    label: str
    value: str


@dataclass(frozen=True)
class Reply:
    """What the bot says back: its ``kind`` (see the module) and what that kind carries."""

    kind: str
    language: str
    text: str = ""
    answer: Answer | None = None
    answer_id: str = ""
    choices: tuple[Choice, ...] = ()
    checklists: tuple[Checklist, ...] = ()
    asked: str = ""
    state: ChecklistState | None = None
    channel: str = ""
    # An answer read in the conversation's context: the short line that says what the bot
    # understood ("About “The SaaS model”:"), which adapters show first.
    understood: str = ""

    @classmethod
    def saying(cls, kind: str, language: str, key: str) -> Reply:
        """A reply of ``kind`` with the catalogue's sentence ``key``."""
        return cls(kind, language, message(language, key))

    @property
    def speaks(self) -> bool:
        """Whether the bot says something in the conversation itself (an answer, a notice,
        small talk), so that a thread it says it in is the bot's."""
        return self.kind in (ANSWER, NOTICE, SMALLTALK)


def gone() -> Reply:
    """The answer a button belongs to has expired (in English: its language went with it)."""
    return Reply.saying(NOTICE, "en", "gone")


def sorry(language: str) -> Reply:
    """The apology for what could not be done."""
    return Reply.saying(APOLOGY, language, "sorry")
