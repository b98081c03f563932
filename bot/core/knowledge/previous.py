"""The current build, when a new build can reuse its rows: where each page's rows lie in it
(``PageRows``) and which of its passages has which text (``Previous``); ``previous_build``
finds it, or says there is none to reuse (another embedder or format, or damaged)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np

from bot.core.knowledge.embedders import Embedder
from bot.core.knowledge.index import load_index
from bot.core.knowledge.loaded import KnowledgeIndex
from bot.core.knowledge.manifest import (
    CURRENT,
    FORMAT_VERSION,
    IndexError_,
    IndexMissing,
    LinkSettings,
    damaged_file,
    text_key,
)

log = logging.getLogger("playbook.index")


@dataclass(frozen=True)
class PageRows:
    """Where a page's rows lie in a build: its first passage and section, how many of each,
    and its number among the build's pages."""

    digest: str
    passage: int
    passages: int
    section: int
    sections: int
    number: int


@dataclass
class Previous:
    """The current build, when its rows can be reused (same embedder and format).

    ``relink`` says the link settings changed since (``PLAYBOOK_BASE_URL``, the link root):
    every page is then parsed again for its new links, but a passage whose text is in this
    build keeps its vectors, since links are not part of what is embedded."""

    index: KnowledgeIndex
    pages: dict[str, PageRows]  # by source
    relink: bool = False

    def unchanged(self, source: str, digest: str) -> bool:
        """Whether ``source`` is in this build with the same bytes (``digest``) and links."""
        found = self.pages.get(source)
        return not self.relink and bool(digest) and found is not None and found.digest == digest

    @property
    def sentence_starts(self) -> np.ndarray:
        """Passage p's sentences in the previous build: [starts[p], starts[p + 1])."""
        return self.index.sentence_starts

    @cached_property
    def passage_rows(self) -> dict[str, int]:
        """Every passage of the previous build, by text key (of what was embedded: breadcrumb
        and text): a passage keeps its vectors wherever it moved (another page, a renamed
        file, a new link)."""
        rows: dict[str, int] = {}
        for number, passage in enumerate(self.index.passages):
            rows.setdefault(text_key(passage.embedding_text), number)
        return rows


def previous_build(
    index_dir: Path, embedder: Embedder, settings: LinkSettings, loaded: KnowledgeIndex | None
) -> Previous | None:
    """The current build of ``index_dir`` (``loaded`` when it is that build), if reusable."""
    try:
        current = (index_dir / CURRENT).read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError):
        current = None
    try:
        index = loaded if loaded is not None and loaded.path.name == current else None
        if index is not None:
            damaged = damaged_file(index.path, index.manifest)
            if damaged:  # changed on disk since it was loaded: nothing in it is reused
                log.warning(
                    "The current index is damaged (%s); rebuilding it from the pages.", damaged
                )
                return None
        index = index or load_index(index_dir)
    except IndexError_ as exc:
        if not isinstance(exc, IndexMissing):
            log.warning("The current index cannot be read (%s); rebuilding it from the pages.", exc)
        return None
    if index.embedder_id != embedder.id or index.manifest.get("format") != FORMAT_VERSION:
        return None
    pages = {}
    passage, section = 0, 0
    for number, entry in enumerate(index.pages):
        pages[entry["source"]] = PageRows(
            entry["digest"], passage, entry["passages"], section, entry["sections"], number
        )
        passage += entry["passages"]
        section += entry["sections"]
    return Previous(index, pages, relink=index.manifest.get("settings") != settings)
