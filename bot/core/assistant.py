"""Answers that are logged, feedback on them, what the team teaches, and the team's
checklists: what the chat (``bot.core.chat``) and the CLI call."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from bot.core.messages import message
from bot.core.metrics import Metrics
from bot.core.retrieval.engine import EmptyQuestion, KnowledgeEngine, SmallTalk
from bot.core.retrieval.followup import ContextReading
from bot.core.team.learning import CHOSEN_WEIGHT, CONFIRMED_WEIGHT, Teaching, gather
from bot.core.team.lookup import ChecklistBook
from bot.core.team.progress import ChecklistBoard
from bot.core.team.ratelimit import RateLimiter
from bot.core.team.recording import Recorder
from bot.core.team.store import CitedPassage, Store, conversation_key
from bot.core.types import Answer, Citation

log = logging.getLogger("playbook")
TAUGHT_CHECK_SECONDS = 2.0  # how often a question checks the database for taught examples
question_log = logging.getLogger("playbook.questions")


class SlowDown(Exception):
    """The user asked more questions than the per-minute limit allows."""


@dataclass(frozen=True)
class Asker:
    """Who asks, clicks or ticks, and where: the platform, the channel (or conversation), the
    user id; for a checklist, the workspace (Slack team, Discord guild) and the name shown."""

    platform: str
    channel: str
    user: str
    workspace: str = ""
    name: str | None = None

    @property
    def conversation(self) -> str:
        """The key checklist progress is kept under in this channel."""
        return conversation_key(self.platform, self.workspace, self.channel)


def cited_passages(answer: Answer) -> list[CitedPassage]:
    """The passages an answer cites, as stored with feedback."""
    return [
        {"passage_id": q.passage_id, "section": q.citation.section, "link": q.citation.link}
        for q in answer.quotes
    ]


class Assistant:
    """Answers questions (logging each), stores feedback, and runs checklists with progress."""

    def __init__(
        self,
        *,
        engine: KnowledgeEngine,
        store: Store,
        checklists: ChecklistBook,
        log_questions: bool = True,
        rate_limit_per_minute: int = 0,
        metrics: Metrics | None = None,
        knowledge: str = "default",
        context_turns: int = 3,
        context_minutes: int = 30,
    ) -> None:
        self.engine = engine
        self.store = store
        self.recorder = Recorder()  # database writes come second to answering
        self.board = ChecklistBoard(checklists, store, self.recorder)
        self.log_questions = log_questions
        self.limiter = RateLimiter(rate_limit_per_minute)
        self.metrics = metrics
        self.knowledge = knowledge  # what taught examples are stored under
        # a conversation's turns read for context, and for how long (``chat.context``)
        self.context_turns, self.context_minutes = context_turns, context_minutes
        self._taught_version: tuple[int, int] | None = None
        self._taught_checked = float("-inf")

    @property
    def checklists(self) -> ChecklistBook:
        """The checklists of the loaded knowledge base (the board's book)."""
        return self.board.book

    @checklists.setter
    def checklists(self, book: ChecklistBook) -> None:
        self.board.book = book  # a reload swaps the book; the board reads the new one

    def ask(
        self,
        question: str,
        asker: Asker,
        *,
        k: int | None = None,
        per_section: bool = True,
        context: ContextReading | None = None,
    ) -> Answer:
        """Answer ``question`` (``context``: read in the conversation's context when it
        needs it, see ``retrieval.followup``); log it (platform, channel, hashed user,
        outcome, latency) to the database, the metrics and one structured log line.

        Raises ``SlowDown`` past the per-user rate limit, ``EmptyQuestion`` for no text and
        ``SmallTalk`` (logged as ``smalltalk``) for a message that asks nothing.
        """
        started = time.perf_counter()
        outcome, answer = "error", None
        try:
            if not self.limiter.allow(f"{asker.platform}:{asker.user}"):
                outcome = "rate_limited"
                raise SlowDown(asker.user)
            self.refresh_learned()
            answer = self.engine.ask(question, k=k, per_section=per_section, context=context)
            outcome = "abstained" if answer.abstained else "answered"
            return answer
        except SmallTalk:
            outcome = "smalltalk"
            raise
        except EmptyQuestion:
            outcome = "empty"
            raise
        finally:
            self._record(asker, answer, outcome, (time.perf_counter() - started) * 1000)

    def _record(self, asker: Asker, answer: Answer | None, outcome: str, latency: float) -> None:
        top = answer.quotes[0].citation.section if answer and answer.quotes else None
        if self.metrics is not None:
            self.metrics.questions.labels(asker.platform, outcome).inc()
            if answer is not None:
                self.metrics.latency.labels(asker.platform).observe(latency / 1000)
            if outcome == "error":
                self.metrics.errors.labels(asker.platform).inc()
        fields = {
            "platform": asker.platform,
            "channel": asker.channel,
            "outcome": outcome,
            "latency_ms": round(latency, 2),
            "top_section": top,
            "hedged": answer is not None and answer.hedged,
        }
        question_log.info("question %s", outcome, extra={"fields": fields})
        if self.log_questions and answer is not None:
            logged = answer
            self.recorder.later(
                "recording a question", lambda: self._log_to_store(asker, logged, top, latency)
            )

    def _log_to_store(self, asker: Asker, answer: Answer, top: str | None, latency: float) -> None:
        self.store.log_question(
            platform=asker.platform,
            channel=asker.channel,
            user=asker.user,
            question=answer.question,
            abstained=answer.abstained,
            top_section=top,
            latency_ms=latency,
            hedged=answer.hedged,
        )

    def feedback(
        self,
        answer: Answer,
        vote: int,
        asker: Asker,
        comment: str | None = None,
        answer_id: str | None = None,
    ) -> int | None:
        """Store 👍 (1) or 👎 (-1) on ``answer`` (kept under ``answer_id``: a user's latest
        vote on it replaces their earlier one). Returns the feedback id, or ``None`` when the
        database cannot take it."""
        if self.metrics is not None:
            self.metrics.feedback.labels("up" if vote > 0 else "down").inc()
        if vote > 0:
            self._confirm(answer, asker)
        return self.recorder.run(
            "recording feedback",
            lambda: self.store.record_feedback(
                platform=asker.platform,
                channel=asker.channel,
                user=asker.user,
                question=answer.question,
                passages=cited_passages(answer),
                vote=vote,
                comment=comment,
                answer_id=answer_id,
            ),
            None,
        )

    # --- teaching -------------------------------------------------------------------------
    def refresh_learned(self, *, now: bool = False) -> None:
        """Read the taught examples again when the database holds others than those in use
        (checked at most every ``TAUGHT_CHECK_SECONDS``, or ``now``): what another replica
        learned is used here too, without a restart."""
        moment = time.monotonic()
        if not now and moment - self._taught_checked < TAUGHT_CHECK_SECONDS:
            return
        self._taught_checked = moment
        version = self.recorder.run(
            "reading the taught examples",
            lambda: self.store.taught_version(self.knowledge),
            None,
            write=False,
        )
        if version is None or version == self._taught_version:
            return
        rows = self.recorder.run(
            "reading the taught examples",
            lambda: self.store.taught(self.knowledge),
            None,
            write=False,
        )
        if rows is not None:
            self.engine.learn(gather(rows)[0])
            self._taught_version = version

    def examples_summary(self, limit: int = 20, language: str = "en") -> str:
        """The examples taught in the chat, for an admin, in ``language``: most recent first,
        with their votes, those whose section left the pages marked, and how many questions
        were marked as not covered."""
        rows = self.recorder.run(
            "reading the taught examples",
            lambda: self.store.taught(self.knowledge),
            None,
            write=False,
        )
        if rows is None:
            return message(language, "sorry")
        examples, gaps = gather(rows)
        if not examples and not gaps:
            return message(language, "examples_none")
        keys = self.engine.retriever.section_keys.number
        aside = message(language, "examples_set_aside")
        lines = [message(language, "examples_count", count=len(examples))]
        for e in examples[:limit]:
            mark = aside if e.section not in keys else ""
            lines.append(
                message(
                    language,
                    "examples_line",
                    id=e.ids[0],
                    question=e.question,
                    section=e.section_title,
                    votes=e.votes,
                    mark=mark,
                )
            )
        if len(examples) > limit:
            lines.append(message(language, "examples_more", count=len(examples) - limit))
        if gaps:
            lines.append(message(language, "examples_gaps", count=len(gaps)))
        return "\n".join(lines)

    def closest_sections(
        self, question: str, count: int = 10, *, quick: bool = False
    ) -> list[tuple[str, Citation]]:
        """The sections that rank best for ``question`` (with their keys): the choices
        offered after 👎 (``quick``: ranked without e5, see ``KnowledgeEngine``)."""
        return self.engine.closest_sections(question, count, quick=quick)

    def teach(self, question: str, section: str | None, asker: Asker) -> Teaching:
        """``asker`` says ``section`` (a key from ``closest_sections``) answers ``question``,
        or, with ``None``, that the knowledge base does not cover it. Used from the next
        question on, on every replica. Returns what came of it."""
        citation = self.section(section) if section else None
        if section and citation is None:
            return Teaching("gone", None)
        saved = self.recorder.run(
            "keeping what a user taught",
            lambda: self.store.teach(
                knowledge=self.knowledge,
                question=question,
                section=section or "",
                section_title=citation.section if citation else "",
                weight=CHOSEN_WEIGHT,
                user=asker.user,
                platform=asker.platform,
            ),
            None,
        )
        if saved is None:
            return Teaching("failed", None)
        self.refresh_learned(now=True)
        return Teaching("learned" if citation else "gap", citation)

    def section_key(self, short: str) -> str | None:
        """The ``section_key`` whose ``digest`` is ``short``, ``None`` when no section has it."""
        return self.engine.retriever.section_keys.by_digest.get(short)

    def section(self, key: str) -> Citation | None:
        """The citation of the section ``key`` names, ``None`` when the pages lost it."""
        retriever = self.engine.retriever
        number = retriever.section_keys.number.get(key)
        return None if number is None else retriever.index.sections[number]

    def _confirm(self, answer: Answer, asker: Asker) -> None:
        """👍 on an answer that quoted something: its first section answers the question,
        with less weight than a choice after 👎 (in the background)."""
        if answer.abstained or not answer.quotes:
            return
        cited = answer.quotes[0].citation
        keys = self.engine.retriever.section_keys
        number = keys.by_link.get(cited.link)
        if number is None:
            return  # the index changed since the answer
        key = keys.keys[number]
        self.recorder.later(
            "keeping what a user confirmed",
            lambda: self.store.teach(
                knowledge=self.knowledge,
                question=answer.question,
                section=key,
                section_title=cited.section,
                weight=CONFIRMED_WEIGHT,
                user=asker.user,
                platform=asker.platform,
            ),
        )

    def check_database(self) -> None:
        """Called now and then while serving: an SQLite file deleted or replaced under the
        bot is created again (said once); while the database cannot be written, one write is
        tried, so that the problem clears by itself once it can."""
        if self.store.replaced():
            log.warning(
                "The database file was deleted or replaced while serving; creating it again "
                "(what it held is gone)."
            )
            self.recorder.run("creating the database again", self.store.recreate, None)
        elif self.recorder.problem:
            self.recorder.run("checking the database", self.store.probe, None)
