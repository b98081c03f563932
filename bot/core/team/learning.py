"""What the team teaches in the chat: after 👎, the asker picks the section that answers (or
"none"); 👍 confirms the cited one, with less weight. Each such word is a row in the database
(``Store.teach``); this module turns the rows into learned examples the ranking uses, as it
uses ``examples.yaml``: a new question close to a learned one gives its section a bonus.

A section is named by ``section_key`` (its page and its breadcrumb), not by its number, so a
learned example survives re-indexing; one whose section is gone from the pages is set aside
(listed by ``playbook examples``), never applied to another section. Each user counts once per
question (the store keeps a user's latest word only), and a section's share of a question's
votes scales its bonus, so one user cannot outvote the team.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from bot.core.messages import message
from bot.core.retrieval.learned import LearnedExample

if TYPE_CHECKING:
    from bot.core.types import Citation

CHOSEN_WEIGHT = 1.0  # the section picked after 👎
CONFIRMED_WEIGHT = 0.5  # the cited section, after 👍
NONE_CHOICE = "-"  # the value of "None: the knowledge base does not cover it" in a menu


@dataclass(frozen=True)
class Taught:
    """One user's word on one question, as stored (``Store.teach``): the section that
    answers it, or ``""`` when nothing in the knowledge base does."""

    id: int
    question: str
    question_key: str
    section: str
    section_title: str
    weight: float
    user_hash: str
    platform: str
    taught_at: datetime


def choice_labels(choices: Sequence[tuple[str, Citation]]) -> list[str]:
    """A short name for each section offered: its title, with its parent's where two
    offered sections share a title."""
    titles = [citation.section for _key, citation in choices]
    labels = []
    for title, (_key, citation) in zip(titles, choices, strict=True):
        parent = citation.breadcrumb[-2] if len(citation.breadcrumb) > 1 else ""
        labels.append(f"{title} ({parent})" if titles.count(title) > 1 and parent else title)
    return labels


@dataclass(frozen=True)
class Gap:
    """A question someone said the knowledge base does not cover."""

    question: str
    question_key: str
    votes: int
    last: datetime


def gather(rows: Iterable[Taught]) -> tuple[list[LearnedExample], list[Gap]]:
    """The learned examples (one per question and section) and the gaps ("none") the rows
    say, most recent first."""
    by_pair: dict[tuple[str, str], list[Taught]] = defaultdict(list)
    totals: dict[str, float] = defaultdict(float)
    for row in rows:
        by_pair[(row.question_key, row.section)].append(row)
        if row.section:
            totals[row.question_key] += row.weight
    examples, gaps = [], []
    for (key, section), group in by_pair.items():
        latest = max(group, key=lambda r: r.taught_at)
        if not section:
            gaps.append(Gap(latest.question, key, len(group), latest.taught_at))
            continue
        weight = sum(r.weight for r in group)
        examples.append(
            LearnedExample(
                question=latest.question,
                question_key=key,
                section=section,
                section_title=latest.section_title,
                votes=len(group),
                weight=weight,
                share=weight / totals[key] if totals[key] else 0.0,
                ids=tuple(r.id for r in group),
                first=min(r.taught_at for r in group),
                last=latest.taught_at,
                platforms=tuple(sorted({r.platform for r in group})),
            )
        )
    examples.sort(key=lambda e: e.last, reverse=True)
    gaps.sort(key=lambda g: g.last, reverse=True)
    return examples, gaps


def knowledge_key(knowledge_dir: Path) -> str:
    """What the examples taught for the knowledge base in ``knowledge_dir`` are stored under."""
    return knowledge_dir.resolve().as_posix()


def export_yaml(examples: Sequence[LearnedExample]) -> str:
    """The examples in the format of ``examples.yaml`` (question, sections, page), so a team
    can review and commit them."""
    import yaml

    entries = [
        {
            "question": e.question,
            "sections": [e.section_title],
            "page": e.section.split("#", 1)[0],
        }
        for e in examples
    ]
    head = "# Examples taught in the chat (playbook examples --export).\n"
    return head + yaml.safe_dump(entries, allow_unicode=True, sort_keys=False, width=100)


@dataclass(frozen=True)
class Teaching:
    """What came of ``Assistant.teach``: ``learned`` (``citation`` is the section), ``gap``
    (noted as not covered), ``gone`` (the section left the pages), ``failed`` (the database
    could not keep it)."""

    outcome: str
    citation: Citation | None


def taught_text(language: str, taught: Teaching) -> str:
    """What the user who taught is told, in ``language``."""
    if taught.outcome == "learned" and taught.citation is not None:
        return message(language, "learned", section=taught.citation.section)
    key = {"gap": "gap_noted", "gone": "section_gone"}.get(taught.outcome, "sorry")
    return message(language, key)
