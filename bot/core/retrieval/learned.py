"""Learned examples as the ranking uses them: questions the team said a section answers
(``team.learning`` gathers them from the stored votes), resolved against the loaded index."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from bot.core.knowledge.sections import SectionKeys


@dataclass(frozen=True)
class LearnedExample:
    """A question the team said a section answers, with the weight of their votes."""

    question: str
    question_key: str
    section: str  # ``section_key``
    section_title: str
    votes: int  # how many users said so
    weight: float  # the sum of their votes' weights
    share: float  # this section's part of the question's total weight (0-1]
    ids: tuple[int, ...]  # the stored rows
    first: datetime
    last: datetime
    platforms: tuple[str, ...]

    @property
    def strength(self) -> float:
        """How much of the example bonus it carries: its share of the question's votes, and
        at most one vote's worth (a lone 👍 carries half)."""
        return self.share * min(1.0, self.weight)


def resolved(
    examples: Sequence[LearnedExample], keys: SectionKeys
) -> tuple[list[tuple[LearnedExample, int]], list[LearnedExample]]:
    """Each example with its section's number in the index ``keys`` come from, and those
    whose section that index no longer has (set aside)."""
    found, aside = [], []
    for example in examples:
        number = keys.number.get(example.section)
        if number is None:
            aside.append(example)
        else:
            found.append((example, number))
    return found, aside
