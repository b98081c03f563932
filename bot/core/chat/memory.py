"""What the chat remembers between messages: the answers kept for their buttons (share, 👍/👎,
the menu of sections), the threads the bot answered in (their follow-ups need no mention) and
the platform events already handled (a retry is not answered twice).

Each is noted in this process's memory at once and written to the database (``bot.core.db``)
later, on the recorder's thread: an answer never waits on the database, and a click or a
follow-up that comes before the write still finds what it needs. A failing database is logged
once and named for ``/healthz`` by the recorder; retries are then told apart in memory.
"""

from __future__ import annotations

import contextlib
import json
import secrets

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from bot.core.db import (
    Database,
    answers_table,
    brief_lock_wait,
    events_table,
    now,
    threads_table,
)
from bot.core.serialize import AnswerData, answer_from_dict, answer_to_dict
from bot.core.team.recording import Noted, Recorder
from bot.core.types import Answer

WAIT_FOR_WRITES = 2.0  # seconds a click waits for queued writes before reading the database


def new_answer_id() -> str:
    """A new id for an answer kept for its buttons."""
    return secrets.token_hex(8)


class ChatMemory:
    """Kept answers, answered threads and handled events: in memory at once, in the database
    (shared by every replica) in the background."""

    def __init__(self, database: Database, recorder: Recorder) -> None:
        self.database = database
        self.recorder = recorder
        self._threads: Noted[tuple[str, str, str], bool] = Noted()
        self._answers: Noted[str, tuple[str, Answer]] = Noted()

    # --- answers kept for their buttons ---------------------------------------------------
    def remember(self, answer: Answer, platform: str, channel: str, *, durable: bool = True) -> str:
        """Keep ``answer`` (given in ``channel``) for its buttons. Returns its id at once; the
        answer is written in the background (its buttons say "gone" if that fails), unless
        not ``durable`` (one person at the terminal: this process's memory is enough)."""
        answer_id = new_answer_id()
        self._answers.put(answer_id, (channel, answer))
        if durable:
            payload = answer_to_dict(answer)
            self.recorder.later(
                "keeping an answer for its buttons",
                lambda: self._save_answer(answer_id, platform, channel, payload),
            )
        return answer_id

    def recall(self, answer_id: str) -> Answer | None:
        """The answer kept under ``answer_id`` (``None`` when unknown, expired, or the
        database cannot be read)."""
        noted = self._answers.get(answer_id)
        if noted is not None:
            return noted[1]
        self.recorder.flush(timeout=WAIT_FOR_WRITES)  # kept by another replica, or before a restart
        data = self.recorder.run(
            "reading a kept answer", lambda: self._load_answer(answer_id), None, write=False
        )
        return answer_from_dict(data) if data else None

    def claim_share(self, platform: str, answer_id: str) -> str | None:
        """The channel where the answer kept under ``answer_id`` was given, the first time
        it is shared; ``None`` when it was shared already (or its channel cannot be read). The
        first share wins across replicas through the database, in memory while the database
        cannot be written."""
        noted = self._answers.get(answer_id)
        channel = noted[0] if noted else None
        if channel is None:
            self.recorder.flush(timeout=WAIT_FOR_WRITES)
            channel = self.recorder.run(
                "reading a kept answer", lambda: self._answer_channel(answer_id), None, write=False
            )
        if channel is None or not self.first_delivery(platform, f"share:{answer_id}"):
            return None
        return channel

    # --- threads and events ---------------------------------------------------------------
    def remember_thread(self, platform: str, channel: str, thread: str) -> None:
        """Note a thread the bot answers in (its follow-ups need no mention): known to this
        process at once, so call it before the answer is delivered; written to the database
        in the background."""
        self._threads.put((platform, channel, thread), True)
        self.recorder.later("noting a thread", lambda: self._save_thread(platform, channel, thread))

    def is_bot_thread(self, platform: str, channel: str, thread: str) -> bool:
        """Whether the bot answered in this thread: noted by this process (even if its write
        is still queued), or in the database (``False`` when the database fails)."""
        if (platform, channel, thread) in self._threads:
            return True
        return self.recorder.run(
            "reading the threads",
            lambda: self._has_thread(platform, channel, thread),
            False,
            write=False,
        )

    def first_delivery(self, platform: str, event_id: str) -> bool:
        """Whether a platform event is seen for the first time (a retry is not): across
        processes through the database, in memory while the database cannot be written."""
        return self.recorder.first_delivery(
            f"{platform}:{event_id}", lambda: self._first_event(platform, event_id)
        )

    # --- the rows -------------------------------------------------------------------------
    def _save_answer(self, answer_id: str, platform: str, channel: str, data: AnswerData) -> None:
        with self.database.engine.begin() as conn:
            conn.execute(
                answers_table.insert().values(
                    id=answer_id,
                    created_at=now(),
                    platform=platform,
                    channel=channel,
                    payload=json.dumps(data, ensure_ascii=False),
                )
            )

    def _load_answer(self, answer_id: str) -> AnswerData | None:
        with self.database.engine.connect() as conn:
            value = conn.execute(
                select(answers_table.c.payload).where(answers_table.c.id == answer_id)
            ).scalar()
        if not value:
            return None
        data: AnswerData = json.loads(value)  # as ``_save_answer`` wrote it
        return data

    def _answer_channel(self, answer_id: str) -> str | None:
        with self.database.engine.connect() as conn:
            value = conn.execute(
                select(answers_table.c.channel).where(answers_table.c.id == answer_id)
            ).scalar()
        return None if value is None else str(value)

    def _save_thread(self, platform: str, channel: str, thread: str) -> None:
        with contextlib.suppress(IntegrityError), self.database.engine.begin() as conn:
            conn.execute(
                threads_table.insert().values(
                    platform=platform, channel=channel, thread=thread, created_at=now()
                )
            )

    def _has_thread(self, platform: str, channel: str, thread: str) -> bool:
        with self.database.engine.connect() as conn:
            row = conn.execute(
                select(threads_table.c.thread).where(
                    threads_table.c.platform == platform,
                    threads_table.c.channel == channel,
                    threads_table.c.thread == thread,
                )
            ).first()
        return row is not None

    def _first_event(self, platform: str, event_id: str) -> bool:
        try:
            with self.database.engine.begin() as conn, brief_lock_wait(conn):  # an answer waits
                conn.execute(
                    events_table.insert().values(
                        platform=platform, event_id=event_id, created_at=now()
                    )
                )
        except IntegrityError:
            return False
        return True
