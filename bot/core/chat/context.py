"""The recent turns of each conversation, so that a follow-up is read in context.

A conversation is named by a key the adapter gives (``conversation_key``: the platform, the
channel and the thread, reply chain or terminal session). Each turn that cited something is
kept: the question as it was read, its language, the sections cited (page, title, link). It is
noted in this process at once and written to the database (``bot.core.db.turns_table``) later,
on the recorder's thread, like the rest of the chat's memory; a turn's start reads the
database, so that a conversation survives a restart and is shared by the replicas. Only the
last ``turns`` turns asked within ``minutes`` count.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select

from bot.core.db import Database, aware, now, turns_table
from bot.core.retrieval.followup import CitedSection, PreviousTurn
from bot.core.team.recording import Noted, Recorder

DEFAULT_TURNS = 3
DEFAULT_MINUTES = 30


def conversation_key(platform: str, channel: str, thread: str) -> str:
    """The key a conversation's turns are kept under: the platform, the channel and the
    thread (a Slack ``thread_ts``, the bot's message a Discord reply chain started from, a
    terminal session; empty for a direct-message channel as a whole)."""
    return f"{platform}:{channel}:{thread}"


@dataclass(frozen=True)
class KeptTurn:
    """A turn as kept: when it was asked, and what the next message's reading needs."""

    asked_at: datetime
    turn: PreviousTurn


class ContextMemory:
    """The recent turns of every conversation: in memory at once, in the database (shared
    by every replica, kept over a restart) in the background."""

    def __init__(
        self,
        database: Database,
        recorder: Recorder,
        *,
        turns: int = DEFAULT_TURNS,
        minutes: int = DEFAULT_MINUTES,
    ) -> None:
        self.database = database
        self.recorder = recorder
        self.turns = turns
        self.window = timedelta(minutes=minutes)
        self._noted: Noted[str, tuple[KeptTurn, ...]] = Noted()

    def recent(self, key: str, moment: datetime | None = None) -> list[PreviousTurn]:
        """The conversation's last turns within the time limit, oldest first (none when
        context is off, the key empty, or nothing is kept)."""
        if not key or self.turns <= 0:
            return []
        moment = moment or now()
        since = moment - self.window
        local = self._noted.get(key) or ()
        stored = self.recorder.run(
            "reading a conversation", lambda: self._load(key, since), None, write=False
        )
        kept = {(k.asked_at, k.turn.question): k for k in (*(stored or ()), *local)}
        recent = sorted((k for k in kept.values() if k.asked_at >= since), key=lambda k: k.asked_at)
        return [k.turn for k in recent[-self.turns :]]

    def last(self, key: str, moment: datetime | None = None) -> PreviousTurn | None:
        """The conversation's latest turn within the limits, or ``None``."""
        turns = self.recent(key, moment)
        return turns[-1] if turns else None

    def note(self, key: str, turn: PreviousTurn, moment: datetime | None = None) -> None:
        """Keep ``turn`` as the conversation's latest: known to this process at once, written
        to the database in the background."""
        if not key or self.turns <= 0:
            return
        kept = KeptTurn(moment or now(), turn)
        self._noted.put(key, (*(self._noted.get(key) or ()), kept)[-self.turns :])
        self.recorder.later("keeping a conversation's turn", lambda: self._save(key, kept))

    # --- the rows -------------------------------------------------------------------------
    def _save(self, key: str, kept: KeptTurn) -> None:
        cited = [{"page": c.page, "section": c.section, "link": c.link} for c in kept.turn.cited]
        with self.database.engine.begin() as conn:
            conn.execute(
                turns_table.insert().values(
                    conversation=key,
                    asked_at=kept.asked_at,
                    question=kept.turn.question,
                    language=kept.turn.language,
                    cited=json.dumps(cited, ensure_ascii=False),
                )
            )
            # Older turns than the window will never be read again for this conversation.
            conn.execute(
                delete(turns_table).where(
                    turns_table.c.conversation == key,
                    turns_table.c.asked_at < kept.asked_at - self.window,
                )
            )

    def _load(self, key: str, since: datetime) -> list[KeptTurn]:
        with self.database.engine.connect() as conn:
            rows = conn.execute(
                select(
                    turns_table.c.asked_at,
                    turns_table.c.question,
                    turns_table.c.language,
                    turns_table.c.cited,
                )
                .where(turns_table.c.conversation == key, turns_table.c.asked_at >= since)
                .order_by(turns_table.c.asked_at.desc(), turns_table.c.id.desc())
                .limit(self.turns)
            ).all()
        kept = []
        for asked_at, question, language, cited in rows:
            sections = tuple(
                CitedSection(str(c["page"]), str(c["section"]), str(c["link"]))
                for c in json.loads(cited)
            )
            kept.append(KeptTurn(aware(asked_at), PreviousTurn(question, language, sections)))
        return kept
