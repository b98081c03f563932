"""The team's example questions (``knowledge/examples.yaml``): questions already asked, each with
the sections that answer it.

A new question close to an example (in the primary encoder's space) gives the example's sections
a bonus in the ranking: "Who should our sales team focus on?" then finds the section that a
colleague's "Which customers should sales go after first?" was labelled with, even where the
encoders alone rank another section first. The file has the format of the evaluation sets, so a
question the bot got wrong becomes an example by copying it there with the right section.

Measured leave-one-set-out over the five evaluation sets the bundled examples come from (each
set scored with the examples of the other four): hit@1 French 94 → 100 of 107, English 91 → 99
of 109; hit@3 French 105 → 107, English 104 → 106 (README "How answers are found").
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from bot.core.knowledge.lexical import content_words
from bot.core.knowledge.team_yaml import YamlRefused, read_team_file

EXAMPLES_FILE = "examples.yaml"


class ExamplesError(ValueError):
    """The examples file cannot be used; the message says why and names the entry."""


@dataclass(frozen=True)
class Example:
    """One example question and the titles of the sections that answer it."""

    question: str
    sections: tuple[str, ...]


def example_key(text: str) -> str:
    """A question compared loosely: case, punctuation and spacing ignored."""
    return re.sub(r"\W+", " ", text.casefold()).strip()


def title_key(title: str) -> str:
    """A section title as the evaluation sets and the examples name it: case and spacing
    ignored."""
    return " ".join(title.casefold().split())


def query_texts(question: str) -> tuple[str, str]:
    """The two texts whose embeddings, summed, make a question's query vector: the question
    and its content words alone (see ``space.PrimarySpace.embed_question``)."""
    return question, " ".join(content_words(question)) or question


def parse_examples(data: object) -> list[Example]:
    """Check the YAML data of an examples file. Returns the examples in order.

    Raises ``ExamplesError`` naming the first bad entry (1-based).
    """
    if data is None:
        return []
    if not isinstance(data, list):
        raise ExamplesError("expected a list of entries like {question: ..., sections: [...]}")
    examples = []
    for number, item in enumerate(data, start=1):
        where = f"entry {number}"
        if not isinstance(item, dict) or not isinstance(item.get("question"), str):
            raise ExamplesError(f"{where}: expected a mapping with a question and its sections")
        question = " ".join(item["question"].split())
        sections = item.get("sections")
        if isinstance(sections, str):
            sections = [sections]
        if not question or not isinstance(sections, list) or not sections:
            raise ExamplesError(f"{where}: {question!r} needs a non-empty list of sections")
        if not all(isinstance(s, str) and s.strip() for s in sections):
            raise ExamplesError(f"{where}: sections must be section titles")
        examples.append(Example(question, tuple(" ".join(s.split()) for s in sections)))
    return examples


def load_examples(knowledge_dir: Path) -> list[Example]:
    """Read ``examples.yaml`` from ``knowledge_dir``; no examples when there is none.

    Raises ``ExamplesError`` when the file exists but is not valid YAML or has a bad entry, or
    must not be read (``boundary.read_text``: a link outside the folder, not a regular file,
    too large).
    """
    try:
        data = read_team_file(knowledge_dir, EXAMPLES_FILE)
    except YamlRefused as exc:
        raise ExamplesError(str(exc)) from None
    return parse_examples(data)


def resolve_sections(
    examples: Iterable[Example], titles: list[str]
) -> tuple[list[tuple[str, tuple[int, ...]]], list[str]]:
    """Match each example's section titles to section numbers (``titles`` in index order).

    Returns the usable examples as ``(question, section numbers)`` and one message per example
    that names a title no section has (that example is left out).
    """
    by_key: dict[str, list[int]] = {}
    for number, title in enumerate(titles):
        by_key.setdefault(title_key(title), []).append(number)
    usable, problems = [], []
    for number, example in enumerate(examples, start=1):
        missing = [t for t in example.sections if title_key(t) not in by_key]
        if missing:
            problems.append(
                f"entry {number}: no section is titled {missing[0]!r} ({example.question!r} "
                "left out)"
            )
            continue
        found = sorted({n for t in example.sections for n in by_key[title_key(t)]})
        usable.append((example.question, tuple(found)))
    return usable, problems
