"""The chat: the core's one front door for every platform (Slack, Discord, the terminal).

From a Slack event to the reply, for example a mention:

1. ``adapters/slack_questions.py`` decodes the event (channel, user, thread, text) into an
   ``Asker`` and a question, and asks ``memory`` through ``Conversation.first_delivery``
   whether it is a retry;
2. ``Conversation.turn`` (``conversation.py``) composes the ``Reply``: the answer
   (``Assistant.ask``, kept in ``memory`` for its buttons), small talk, a notice, "restarting"
   at shutdown, or an apology; it notes the thread as the bot's before the reply is delivered;
3. the adapter renders the ``Reply`` (``adapters/slack_render.py``) and posts it.

A click is the same path with another call: 👍/👎 → ``Conversation.vote`` (👎 returns a menu
of sections), a pick from it → ``pick``, "Share in channel" → ``share``, ``/checklist`` →
``checklist`` (or ``reset``), a checkbox → ``tick``, Discord's menu of items → ``select``
(``checklists.py``). Each returns a ``Reply`` whose kinds are listed in ``replies.py``; the
adapters decide nothing, they decode and render.

- ``conversation.py``: ``Conversation``, the calls above;
- ``checklists.py``: its checklist calls;
- ``replies.py``: ``Reply`` and its kinds;
- ``context.py``: each conversation's recent turns (a thread, a reply chain, a terminal
  session), which a follow-up is read against (``retrieval/followup.py``);
- ``memory.py``: the answers kept for their buttons, the threads answered in, the events
  already handled (in memory at once, in the database in the background).
"""

from bot.core.chat.checklists import RESET_WORDS, read_checklist_command
from bot.core.chat.context import ContextMemory, conversation_key
from bot.core.chat.conversation import Conversation, Deliver, section_choices
from bot.core.chat.memory import ChatMemory
from bot.core.chat.replies import (
    ANSWER,
    APOLOGY,
    CHECKLIST,
    CHECKLISTS,
    MENU,
    NOTICE,
    RESTARTING,
    SHARE,
    SMALLTALK,
    TEXT,
    Choice,
    Reply,
)

__all__ = [
    "ANSWER",
    "APOLOGY",
    "CHECKLIST",
    "CHECKLISTS",
    "MENU",
    "NOTICE",
    "RESET_WORDS",
    "RESTARTING",
    "SHARE",
    "SMALLTALK",
    "TEXT",
    "ChatMemory",
    "Choice",
    "ContextMemory",
    "Conversation",
    "Deliver",
    "Reply",
    "conversation_key",
    "read_checklist_command",
    "section_choices",
]
