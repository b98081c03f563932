"""The chat's front door: one turn of a chat (a question in, one thing said back) and every
other interaction (a vote, a pick from the menu after 👎, a share, ``/checklist``, a tick, a
menu selection, a reset), each decided here once and returned as a ``Reply``.

A turn is the same on every platform: a question comes in, the bot says one thing back. While
the process shuts down that thing is "I am restarting"; otherwise the assistant answers (and
remembers the answer for its buttons), or says why it will not (no question, too many
questions), or answers small talk ("merci !", "ok 👍") with a short invitation to ask; when
answering or delivering fails, the user gets an apology and the log the detail. Adapters give
``turn`` a way to deliver a ``Reply`` and only render it: no question goes unanswered without a
word, whichever platform it came from. The one silence: small talk in a conversation the user
did not address to the bot (a "thanks 👍" in a thread the bot answered in, without a mention),
where a reply would only be noise."""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Awaitable, Callable

from bot.core.assistant import Asker, Assistant, SlowDown
from bot.core.chat.checklists import ChecklistActions
from bot.core.chat.context import ContextMemory
from bot.core.chat.memory import ChatMemory
from bot.core.chat.replies import (
    ANSWER,
    MENU,
    NOTICE,
    RESTARTING,
    SHARE,
    SMALLTALK,
    TEXT,
    Choice,
    Reply,
    gone,
    sorry,
)
from bot.core.inflight import InFlight
from bot.core.knowledge.sections import digest
from bot.core.language import detect_language
from bot.core.messages import message
from bot.core.retrieval.engine import EmptyQuestion, SmallTalk
from bot.core.retrieval.followup import ContextReading, turn_of
from bot.core.team.learning import NONE_CHOICE, choice_labels, taught_text
from bot.core.types import Citation

log = logging.getLogger("playbook")

Deliver = Callable[[Reply], Awaitable[None]]


class Conversation(ChecklistActions):
    """The front door of the core: every chat interaction of one process, each returning the
    ``Reply`` to render. Turns are counted in flight for a clean shutdown."""

    def __init__(
        self,
        assistant: Assistant,
        inflight: InFlight | None = None,
        memory: ChatMemory | None = None,
    ) -> None:
        self.assistant = assistant
        self.inflight = inflight or InFlight()
        self._memory = memory
        self._memory_lock = threading.Lock()
        self._context: ContextMemory | None = None

    @property
    def memory(self) -> ChatMemory:
        """What the chat remembers (made on first use, writing through the assistant's
        database and recorder)."""
        with self._memory_lock:
            if self._memory is None:
                store, recorder = self.assistant.store, self.assistant.recorder
                self._memory = ChatMemory(store.database, recorder)
            return self._memory

    @property
    def context(self) -> ContextMemory:
        """The conversations' recent turns (made on first use, in the assistant's database,
        bounded by its ``context_turns`` and ``context_minutes``)."""
        with self._memory_lock:
            if self._context is None:
                assistant = self.assistant
                self._context = ContextMemory(
                    assistant.store.database,
                    assistant.recorder,
                    turns=assistant.context_turns,
                    minutes=assistant.context_minutes,
                )
            return self._context

    def compose(
        self,
        question: str,
        asker: Asker,
        *,
        durable: bool = True,
        conversation: str = "",
        continues: str = "",
    ) -> Reply:
        """The reply to ``question`` (blocking: run it in a thread); the answer is kept for its
        buttons (in this process only unless ``durable``). ``conversation``: the key of the
        conversation it belongs to (``chat.context.conversation_key``), whose latest turn the
        question is read against when it needs it; the reply then says what it understood.
        ``continues``: the key of the conversation this message continues when its own has no
        turn yet (a Discord reply to the bot's answer continues the question it answered).
        Raises what answering raises beyond an empty question, small talk and the rate limit."""
        language = detect_language(question)
        previous = self.context.last(conversation) if conversation else None
        if previous is None and continues:
            previous = self.context.last(continues)
        reading = ContextReading(previous)
        try:
            answer = self.assistant.ask(question, asker, context=reading)
        except SmallTalk as exc:
            return Reply(SMALLTALK, exc.language, str(exc))
        except EmptyQuestion as exc:
            return Reply(NOTICE, language, str(exc))
        except SlowDown:
            return Reply.saying(NOTICE, language, "slow_down")
        answer_id = self.memory.remember(answer, asker.platform, asker.channel, durable=durable)
        understood = ""
        if reading.changed and reading.previous is not None:
            understood = message(answer.language, "understood", topic=reading.previous.topic)
        if conversation and answer.quotes:
            self.context.note(conversation, turn_of(answer, reading.read_as))
        return Reply(
            ANSWER, answer.language, answer=answer, answer_id=answer_id, understood=understood
        )

    async def turn(
        self,
        question: str,
        asker: Asker,
        deliver: Deliver,
        *,
        on_slow: Callable[[], Awaitable[None]] | None = None,
        slow_after: float = 2.0,
        addressed: bool = True,
        thread: str = "",
        conversation: str = "",
        continues: str = "",
    ) -> Reply | None:
        """Answer ``question`` through ``deliver``, counted in flight. ``on_slow`` runs
        once when the reply takes longer than ``slow_after`` seconds (a platform that wants
        an early acknowledgement). ``addressed``: the user spoke to the bot (a mention, a
        direct message, a command); when not (a follow-up in a thread), small talk gets no
        reply. ``thread``: the thread the reply goes in, noted as the bot's before the reply
        is delivered (the user may answer the moment it shows). ``conversation``: the key of
        the conversation (``chat.context.conversation_key``: platform, channel and thread,
        reply chain or terminal session) whose recent turns give a follow-up its context;
        ``continues``: see ``compose``. Returns what was delivered,
        ``None`` when nothing was (small talk not addressed to the bot) or even the apology
        could not be."""
        language = detect_language(question)
        async with self.inflight.track():  # the "restarting" reply is counted too
            if self.inflight.closing:
                return await self._say(deliver, Reply.saying(RESTARTING, language, "restarting"))
            try:
                reply = await self._before_deadline(
                    self._compose(question, asker, on_slow, slow_after, (conversation, continues))
                )
                if reply is None:  # the drain time ran out before the answer was ready
                    return await self._say(
                        deliver, Reply.saying(RESTARTING, language, "restarting")
                    )
                if reply.kind == SMALLTALK and not addressed:
                    return None
                if thread and reply.speaks:
                    self.memory.remember_thread(asker.platform, asker.channel, thread)
                await deliver(reply)
                return reply
            except Exception:
                log.exception("answering on %s in %s failed", asker.platform, asker.channel)
                return await self._say(deliver, sorry(language))

    async def _before_deadline(self, work: Awaitable[Reply]) -> Reply | None:
        """``work``'s reply, or ``None`` (``work`` cancelled) when the drain time runs out
        first."""
        task = asyncio.ensure_future(work)
        deadline = asyncio.ensure_future(self.inflight.deadline())
        try:
            await asyncio.wait({task, deadline}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            deadline.cancel()
            if not task.done():
                task.cancel()
        return task.result() if task.done() and not task.cancelled() else None

    async def _compose(
        self,
        question: str,
        asker: Asker,
        on_slow: Callable[[], Awaitable[None]] | None,
        slow_after: float,
        keys: tuple[str, str] = ("", ""),
    ) -> Reply:
        conversation, continues = keys
        task = asyncio.ensure_future(
            asyncio.to_thread(
                self.compose, question, asker, conversation=conversation, continues=continues
            )
        )
        try:
            if on_slow is None:
                return await task
            try:
                return await asyncio.wait_for(asyncio.shield(task), slow_after)
            except TimeoutError:
                await on_slow()
                return await task
        finally:
            task.cancel()  # given up (shutdown): a question still queued for a thread is not run

    async def _say(self, deliver: Deliver, reply: Reply) -> Reply | None:
        try:
            await deliver(reply)
        except Exception:
            log.exception("could not deliver the %s", reply.kind)
            return None
        return reply

    # --- what the platforms receive besides questions ------------------------------------
    def first_delivery(self, platform: str, event_id: str) -> bool:
        """Whether a platform event is new (blocking); a retry of one already handled is not."""
        return self.memory.first_delivery(platform, event_id)

    def is_bot_thread(self, platform: str, channel: str, thread: str) -> bool:
        """Whether the bot answered in this thread (blocking): its follow-ups are questions."""
        return self.memory.is_bot_thread(platform, channel, thread)

    # --- an answer's buttons (blocking: run them in a thread) -----------------------------
    def vote(
        self,
        answer_id: str,
        up: bool,
        who: Asker,
        *,
        menu_size: int = 10,
        comment: str | None = None,
    ) -> Reply:
        """👍 (``up``) or 👎 on the answer kept under ``answer_id``, stored (a user's latest vote
        on an answer replaces the earlier one): 👍 is thanked; 👎 gets the menu of the
        ``menu_size`` closest sections and "none" (see ``pick``)."""
        answer = self.memory.recall(answer_id)
        if answer is None:
            return gone()
        lang = answer.language
        saved = self.assistant.feedback(answer, 1 if up else -1, who, comment, answer_id)
        if saved is None:
            return sorry(lang)
        if up:
            return Reply(NOTICE, lang, message(lang, "feedback_thanks"), answer_id=answer_id)
        closest = self.assistant.closest_sections(answer.question, menu_size)
        choices = section_choices(lang, closest)
        return Reply(
            MENU, lang, message(lang, "which_section"), answer_id=answer_id, choices=choices
        )

    def pick(self, answer_id: str, value: str, who: Asker) -> Reply:
        """The choice ``value`` picked from the menu after 👎: the section that answers the
        question (used from the next question on), or ``NONE_CHOICE`` (the knowledge base does
        not cover it). The reply says what was kept, in place of the menu."""
        answer = self.memory.recall(answer_id)
        if answer is None:
            return gone()
        lang = answer.language
        key = None if value == NONE_CHOICE else self.assistant.section_key(value)
        if value != NONE_CHOICE and key is None:
            return Reply.saying(TEXT, lang, "section_gone")
        taught = self.assistant.teach(answer.question, key, who)
        return Reply(TEXT, lang, taught_text(lang, taught))

    def share(self, answer_id: str, who: Asker) -> Reply:
        """ "Share in channel" on a private answer: the answer to post publicly, once, in the
        channel where it was given (whatever channel the click names); a later share is told
        it was shared already."""
        answer = self.memory.recall(answer_id)
        if answer is None:
            return gone()
        channel = self.memory.claim_share(who.platform, answer_id)
        if channel is None:
            return Reply.saying(NOTICE, answer.language, "already_shared")
        return Reply(SHARE, answer.language, answer=answer, answer_id=answer_id, channel=channel)


def section_choices(language: str, closest: list[tuple[str, Citation]]) -> tuple[Choice, ...]:
    """The menu after 👎: each section offered (its value a digest of its key), then "none"."""
    labels = choice_labels(closest)
    offered = [Choice(label, digest(key)) for label, (key, _c) in zip(labels, closest, strict=True)]
    return (*offered, Choice(message(language, "none_covers"), NONE_CHOICE))
