"""One turn of a chat, the same on every platform: a question comes in, the bot says one
thing back. While the process shuts down that thing is "I am restarting"; otherwise the
assistant answers (and remembers the answer for its buttons), or says why it will not (no
question, too many questions), or answers small talk ("merci !", "ok 👍") with a short
invitation to ask; when answering or delivering fails, the user gets an apology and the log the
detail. Adapters give ``turn`` a way to deliver a ``Reply`` and only render it: no question goes
unanswered without a word, whichever platform it came from. The one silence: small talk in a
conversation the user did not address to the bot (a "thanks 👍" in a thread the bot answered
in, without a mention), where a reply would only be noise."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from bot.core.assistant import Asker, Assistant, SlowDown
from bot.core.inflight import InFlight
from bot.core.language import detect_language
from bot.core.messages import message
from bot.core.retrieval.engine import EmptyQuestion, SmallTalk
from bot.core.types import Answer

log = logging.getLogger("playbook")

ANSWER, NOTICE, RESTARTING, APOLOGY = "answer", "notice", "restarting", "apology"
SMALLTALK = "smalltalk"


@dataclass(frozen=True)
class Reply:
    """What the bot says back. ``kind`` is ``answer`` (``answer`` and the ``answer_id`` its
    buttons carry), ``notice`` (a short word to the asker: how to ask, slow down),
    ``smalltalk`` (the invitation to ask that answers a message asking nothing), ``restarting``
    or ``apology``; all but ``answer`` carry ``text`` only (no buttons)."""

    kind: str
    language: str
    text: str = ""
    answer: Answer | None = None
    answer_id: str = ""

    @classmethod
    def saying(cls, kind: str, language: str, key: str) -> Reply:
        """A reply of ``kind`` with the catalogue's sentence ``key``."""
        return cls(kind, language, message(language, key))


Deliver = Callable[[Reply], Awaitable[None]]


class Conversation:
    """The turns of every chat one process serves, counted in flight for a clean shutdown."""

    def __init__(self, assistant: Assistant, inflight: InFlight) -> None:
        self.assistant = assistant
        self.inflight = inflight

    def compose(self, question: str, asker: Asker) -> Reply:
        """The reply to ``question`` (blocking: run it in a thread). Raises what answering
        raises beyond an empty question and the rate limit."""
        language = detect_language(question)
        try:
            answer = self.assistant.ask(question, asker)
        except SmallTalk as exc:
            return Reply(SMALLTALK, exc.language, str(exc))
        except EmptyQuestion as exc:
            return Reply(NOTICE, language, str(exc))
        except SlowDown:
            return Reply.saying(NOTICE, language, "slow_down")
        answer_id = self.assistant.remember(answer, asker)
        return Reply(ANSWER, answer.language, answer=answer, answer_id=answer_id)

    async def turn(
        self,
        question: str,
        asker: Asker,
        deliver: Deliver,
        *,
        on_slow: Callable[[], Awaitable[None]] | None = None,
        slow_after: float = 2.0,
        addressed: bool = True,
    ) -> Reply | None:
        """Answer ``question`` through ``deliver``, counted in flight. ``on_slow`` runs
        once when the reply takes longer than ``slow_after`` seconds (a platform that wants
        an early acknowledgement). ``addressed``: the user spoke to the bot (a mention, a
        direct message, a command); when not (a follow-up in a thread), small talk gets no
        reply. Returns what was delivered, ``None`` when nothing was (small talk not
        addressed to the bot) or even the apology could not be."""
        language = detect_language(question)
        async with self.inflight.track():  # the "restarting" reply is counted too
            if self.inflight.closing:
                return await self._say(deliver, Reply.saying(RESTARTING, language, "restarting"))
            try:
                reply = await self._before_deadline(
                    self._compose(question, asker, on_slow, slow_after)
                )
                if reply is None:  # the drain time ran out before the answer was ready
                    return await self._say(
                        deliver, Reply.saying(RESTARTING, language, "restarting")
                    )
                if reply.kind == SMALLTALK and not addressed:
                    return None
                await deliver(reply)
                return reply
            except Exception:
                log.exception("answering on %s in %s failed", asker.platform, asker.channel)
                return await self._say(deliver, Reply.saying(APOLOGY, language, "sorry"))

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
    ) -> Reply:
        task = asyncio.ensure_future(asyncio.to_thread(self.compose, question, asker))
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
