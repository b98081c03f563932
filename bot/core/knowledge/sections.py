"""A section's name that survives re-indexing (``section_key``: its page and breadcrumb),
its short ``digest`` for menus, and every section of an index by name (``SectionKeys``)."""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.core.knowledge.index import KnowledgeIndex


def section_key(index: KnowledgeIndex, section: int) -> str:
    """The name of section number ``section`` that survives re-indexing: its page and its
    breadcrumb, ``"page.md#Title > Sub-title"``."""
    citation = index.sections[section]
    return (
        f"{index.section_sources[section]}#{' > '.join(citation.breadcrumb or (citation.section,))}"
    )


def digest(key: str) -> str:
    """A short stand-in for a ``section_key`` (16 hex digits), for a button's value."""
    return hashlib.sha1(key.encode("utf-8")).hexdigest()[:16]


class SectionKeys:
    """Every section of one index by ``section_key``, by ``digest`` and by link: made once
    per loaded index (``Retriever.section_keys``)."""

    def __init__(self, index: KnowledgeIndex) -> None:
        self.keys = [section_key(index, s) for s in range(len(index.sections))]
        self.number = {key: n for n, key in enumerate(self.keys)}
        self.by_digest = {digest(key): key for key in self.keys}
        self.by_link = {c.link: n for n, c in enumerate(index.sections)}
