"""What the maintainers' web pages show: one typed record per page, as ``Dashboard`` returns
it (``dashboard.py``). Every text a user typed (questions, comments) is plain text here: the
page that shows it escapes it. No user id appears in any record: who ticked a checklist item
is the name the platform gave, or nothing.

Outcomes: ``answered``, ``unsure`` (answered with the warning that the knowledge base may not
answer it) and ``declined`` (the bot said it found nothing).
"""

from __future__ import annotations

from typing import Protocol, TypedDict

OUTCOMES = ("answered", "unsure", "declined")


class SectionLink(TypedDict):
    """A section as a page shows it: its label (page › section) and its link."""

    section: str
    link: str


class DayRow(TypedDict):
    """One day's questions on one platform, by outcome (``day``: ISO date)."""

    day: str
    platform: str
    answered: int
    unsure: int
    declined: int


class Latency(TypedDict):
    """Answer latency percentiles in milliseconds (``None`` without questions)."""

    p50: float | None
    p95: float | None
    max: float | None


class IndexInfo(TypedDict):
    """The index the bot answers from: pages, passages, when it was built (ISO 8601, and its
    age in seconds; ``None`` when unknown) and the files left out (``FILE: reason``)."""

    pages: int
    passages: int
    built_at: str | None
    age_seconds: float | None
    skipped: list[str]


class Overview(TypedDict):
    """The overview page: the period's questions by day, platform and outcome, the outcome
    totals, latency, votes and the index."""

    days: int
    first_day: str
    last_day: str
    questions: int
    answered: int
    unsure: int
    declined: int
    platforms: list[str]
    per_day: list[DayRow]  # only (day, platform) pairs with questions, oldest first
    latency_ms: Latency
    up: int
    down: int
    index: IndexInfo


class GapView(TypedDict):
    """A knowledge gap: questions alike that the bot declined, answered unsure or that a user
    said no section answers; named by the most asked, with how it was asked and the sections
    closest to it. ``count`` = ``declined`` + ``unsure`` + ``not_covered``."""

    question: str
    count: int
    declined: int
    unsure: int
    not_covered: int
    last_asked: str  # ISO 8601
    asked_as: list[str]
    closest: list[SectionLink]


class QuotedView(TypedDict):
    """A passage an answer quoted: its section, link and text (``None`` when the passage is
    no longer in the index)."""

    section: str
    link: str
    text: str | None


class FeedbackView(TypedDict):
    """A 👎: the question, what the answer quoted, and the section the asker then picked
    (``picked``: its label; ``picked_none``: they said no section answers)."""

    given_at: str
    platform: str
    question: str
    quotes: list[QuotedView]
    picked: str | None
    picked_none: bool
    comment: str | None


class ExampleView(TypedDict):
    """A taught example: a question and the section the team said answers it."""

    id: int
    question: str
    section: str
    link: str | None  # None when set aside
    votes: int
    weight: float
    platforms: list[str]
    first: str
    last: str
    set_aside: bool  # its section is no longer in the pages


class CandidateView(TypedDict):
    """One candidate of a tried question with its score at each stage: ``dense`` (passage
    cosine), ``sentence`` (best sentence cosine), ``lexical`` (BM25 bonus), ``fused`` (after
    fusion and e5) and ``final`` (after the close reading: the order of the answer)."""

    rank: int
    section: str
    link: str
    text: str
    dense: float
    sentence: float
    lexical: float
    fused: float
    final: float
    quoted: bool


class QuoteView(TypedDict):
    """A quote of the answer: its section, link, text and the highlighted span within it."""

    section: str
    link: str
    text: str
    highlight: str


class TeachChoice(TypedDict):
    """A section a maintainer may teach for a tried question (``key``: what the form posts)."""

    key: str
    label: str


class Trial(TypedDict):
    """A question tried on the web page: the answer as the bot would give it (not logged),
    with each candidate's stages and scores, and the sections it could be taught."""

    question: str
    language: str
    outcome: str  # one of OUTCOMES, or "smalltalk" / "empty"
    message: str | None  # what the bot says instead of, or before, the quotes
    quotes: list[QuoteView]
    evidence: float  # the support abstention read
    threshold: float  # the bot declines below this
    hedge_below: float  # and answers unsure of itself below this
    candidates: list[CandidateView]
    choices: list[TeachChoice]


class TickView(TypedDict):
    """A done checklist item: its text, who ticked it (the name shown) and when."""

    item: str
    by: str | None
    at: str


class ChecklistProgress(TypedDict):
    """One checklist's progress in one conversation (``place``: platform and channel)."""

    checklist: str
    title: str
    place: str
    done: int
    total: int
    ticks: list[TickView]


class DashboardData(Protocol):
    """What the web pages read and change (``dashboard.Dashboard``)."""

    def overview(self, days: int = 30) -> Overview:
        """The overview over the last ``days`` days."""
        ...

    def gaps(self, days: int = 30, limit: int = 50) -> list[GapView]:
        """The gaps not marked handled since they were last asked, most asked first."""
        ...

    def mark_handled(self, questions: list[str]) -> int:
        """Mark these questions' gap handled (it comes back if asked again). Returns how
        many questions were marked."""
        ...

    def feedback(self, limit: int = 100) -> list[FeedbackView]:
        """The latest 👎, newest first."""
        ...

    def examples(self) -> list[ExampleView]:
        """The taught examples, most voted first."""
        ...

    def remove_example(self, example_id: int) -> bool:
        """Forget a taught example (all its votes). Returns whether it existed."""
        ...

    def export_examples(self) -> str:
        """The taught examples in the ``examples.yaml`` format."""
        ...

    def try_question(self, question: str) -> Trial:
        """The answer to ``question`` with its stages and scores (not logged)."""
        ...

    def teach(self, question: str, section_key: str, language: str = "en", who: str = "web") -> str:
        """Teach that ``section_key`` answers ``question``, as ``who`` (one maintainer: each
        counts once per question, as each user does in the chat). Returns what was done, in
        one line, in ``language``."""
        ...

    def checklists(self) -> list[ChecklistProgress]:
        """Every checklist's progress in every conversation that ticked one of its items."""
        ...
