"""The core's own types: sections, passages, citations and answers. No platform imports."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field


@dataclass(frozen=True)
class ListItem:
    """One item of a Markdown list: its plain text and an optional bold title prefix."""

    text: str
    title: str | None = None


@dataclass(frozen=True)
class Block:
    """A block of a section: ``kind`` is ``paragraph``, ``list``, ``code``, ``table`` (its
    first line the header row), ``aside`` (an image's caption or a line of links: text that
    goes with the text around it, never alone) or ``other``."""

    kind: str
    text: str
    items: tuple[ListItem, ...] = ()


@dataclass(frozen=True)
class Citation:
    """Where a passage comes from: the section title, its breadcrumb within the page (the
    page title, then the headings above it) and a link to it; ``trail`` holds the site's
    sections above the page (the titles of the parent folders' ``_index.md`` pages)."""

    section: str
    breadcrumb: tuple[str, ...]
    link: str
    trail: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        """The site's sections, then the breadcrumb, joined for display, e.g.
        ``Domaines › Vente › Commercialisation › Le modèle SaaS``."""
        return " › ".join((*self.trail, *self.breadcrumb))

    @property
    def page_label(self) -> str:
        """The breadcrumb within the page joined, the site's sections left out: what is
        embedded and indexed with a passage (with the sections too, site-dev-hard lost a
        section and two answers at rank 1, and nothing moved up)."""
        return " › ".join(self.breadcrumb)


@dataclass(frozen=True)
class Section:
    """A section of a page: the text under one heading, up to the next heading."""

    source: str  # path of the page relative to the knowledge directory, POSIX style
    page_title: str
    title: str
    level: int  # 1 for the text before the first heading, else the heading level
    anchor: str
    breadcrumb: tuple[str, ...]
    link: str
    blocks: tuple[Block, ...]
    trail: tuple[str, ...] = ()  # the site's sections above the page (``Citation.trail``)

    @property
    def citation(self) -> Citation:
        """The citation of this section."""
        return Citation(
            section=self.title, breadcrumb=self.breadcrumb, link=self.link, trail=self.trail
        )

    @property
    def text(self) -> str:
        """The section's plain text, blocks separated by blank lines."""
        return "\n\n".join(block.text for block in self.blocks)


@dataclass(frozen=True)
class Passage:
    """A chunk of a section that is indexed and quoted on its own."""

    id: str  # stable hash of source, anchor and text
    text: str
    citation: Citation
    source: str

    @property
    def embedding_text(self) -> str:
        """The text that is embedded and indexed: the breadcrumb within the page, then the
        passage."""
        return f"{self.citation.page_label}\n{self.text}"


@dataclass(frozen=True)
class Quote:
    """A passage as shown to a user: trimmed text with its most relevant sentence marked."""

    passage_id: str
    before: str
    highlight: str
    after: str
    citation: Citation
    score: float

    @property
    def text(self) -> str:
        """The quoted text without highlight markers."""
        return f"{self.before}{self.highlight}{self.after}"


@dataclass(frozen=True)
class Answer:
    """The bot's reply to a question.

    ``quotes`` are the passages that answer it, best first; when ``abstained`` is true they are
    empty and ``suggestions`` lists the closest sections instead. ``hedged``: the quotes are
    what comes closest, and the lead says the knowledge base may not answer the question.
    """

    question: str
    language: str  # "fr" or "en": the language of the bot's own words
    lead: str
    quotes: tuple[Quote, ...]
    abstained: bool
    suggestions: tuple[Citation, ...] = ()
    notes: tuple[str, ...] = ()
    scores: dict[str, float] = field(default_factory=dict)
    hedged: bool = False

    @property
    def cited_sections(self) -> list[str]:
        """Distinct section titles cited, in order."""
        seen: list[str] = []
        for quote in self.quotes:
            if quote.citation.section not in seen:
                seen.append(quote.citation.section)
        return seen


# An admin's chat command (``/playbook reindex``, ``/playbook examples``): (platform, user id,
# action) → the reply, for the admin alone to see.
Admin = Callable[[str, str, str], Awaitable[str]]
