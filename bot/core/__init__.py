"""The core: everything the bot knows and does, with no platform library imported.

Three layers, each importing only the ones before it:

- ``knowledge``: pages → passages → the index (dense vectors and the lexical index).
- ``retrieval``: a question → the quoted answer (``engine``, ``search``, ``answers``).
- ``team``: the database, checklists and their progress, learning from votes, the report.

Beside them, used by all: ``types`` (Answer, Citation, Quote), ``language`` (French or
English: a question's, and the one to answer a command in), ``messages`` (every sentence
users read, in both), ``smalltalk`` (a message that asks nothing, such as "merci !" or
"ok 👍": the engine answers it with an invitation to ask before searching; it reads the
stop words of ``knowledge.lexical``). On top of them: ``db`` (the
schema and migrations of the one database), ``assistant`` (ask, feedback, teach, checklists),
``chat`` (the front door: a turn of a chat, votes, picks, shares, checklists and ticks, each
returning a ``Reply``; see its docstring for the path from a Slack event to the reply),
``reload`` (re-indexing while serving), ``inflight`` (answers in flight at shutdown),
``metrics``, ``serialize``.

This module is the core's face: the adapters import from the core only the names below (and
the sentences of ``bot.core.messages``). They are loaded on first use, so that importing a
small part of the core (``bot.core.types``) does not load the engine.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.core.assistant import (
        Asker,
        Assistant,
    )
    from bot.core.chat import (
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
        ChatMemory,
        Choice,
        Conversation,
        Deliver,
        Reply,
        conversation_key,
    )
    from bot.core.inflight import (
        InFlight,
    )
    from bot.core.language import (
        COMMAND_LANGUAGE,
        command_language,
    )
    from bot.core.serialize import (
        answer_to_dict,
    )
    from bot.core.team.checklists import (
        Checklist,
    )
    from bot.core.team.learning import (
        NONE_CHOICE,
    )
    from bot.core.team.progress import (
        ChecklistState,
        ItemState,
    )
    from bot.core.types import (
        Admin,
        Answer,
        Citation,
        Quote,
    )

_HOMES = {
    "Asker": "bot.core.assistant",
    "Assistant": "bot.core.assistant",
    "ANSWER": "bot.core.chat",
    "APOLOGY": "bot.core.chat",
    "CHECKLIST": "bot.core.chat",
    "CHECKLISTS": "bot.core.chat",
    "MENU": "bot.core.chat",
    "NOTICE": "bot.core.chat",
    "RESTARTING": "bot.core.chat",
    "SHARE": "bot.core.chat",
    "SMALLTALK": "bot.core.chat",
    "TEXT": "bot.core.chat",
    "ChatMemory": "bot.core.chat",
    "Choice": "bot.core.chat",
    "Conversation": "bot.core.chat",
    "Deliver": "bot.core.chat",
    "Reply": "bot.core.chat",
    "conversation_key": "bot.core.chat",
    "InFlight": "bot.core.inflight",
    "COMMAND_LANGUAGE": "bot.core.language",
    "command_language": "bot.core.language",
    "answer_to_dict": "bot.core.serialize",
    "Checklist": "bot.core.team.checklists",
    "NONE_CHOICE": "bot.core.team.learning",
    "ChecklistState": "bot.core.team.progress",
    "ItemState": "bot.core.team.progress",
    "Admin": "bot.core.types",
    "Answer": "bot.core.types",
    "Citation": "bot.core.types",
    "Quote": "bot.core.types",
}
__all__ = [
    "ANSWER",
    "APOLOGY",
    "CHECKLIST",
    "CHECKLISTS",
    "COMMAND_LANGUAGE",
    "MENU",
    "NONE_CHOICE",
    "NOTICE",
    "RESTARTING",
    "SHARE",
    "SMALLTALK",
    "TEXT",
    "Admin",
    "Answer",
    "Asker",
    "Assistant",
    "ChatMemory",
    "Checklist",
    "ChecklistState",
    "Choice",
    "Citation",
    "Conversation",
    "Deliver",
    "InFlight",
    "ItemState",
    "Quote",
    "Reply",
    "answer_to_dict",
    "command_language",
    "conversation_key",
]


def __getattr__(name: str) -> object:
    """The face's ``name``, imported from its module on first use."""
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(home), name)
