"""Markdown pages with Hugo front matter → sections (title, breadcrumb, anchor, link, blocks).

Pages are read as Hugo publishes them: shortcodes (``{{< >}}``, ``{{% %}}``) keep the text
they show and lose their tags, raw HTML keeps its text and loses its tags and comments, an
image is its alt text (or nothing when the alt text is a placeholder such as "image") and
joins the text around it, tables become "cell — cell" lines. Markup residue (a paragraph of
URLs, punctuation or placeholders only) never stands as text of its own. A page's citations
carry the site's sections above it: the titles of its parent folders' ``_index.md`` pages.

This module holds the page (``Page``), its parsing into sections (``parse_page``), reading a
page file (``read_page``, ``PageCache``) and every page of a folder (``load_pages``); the
parts live beside it: ``frontmatter`` (front matter and its options), ``blocks`` (the
Markdown block reader), ``links`` (anchors, titles, links) and ``site_tree`` (which files
are pages, the folders' titles, the errors of reading them).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from bot.core.knowledge.blocks import blocks_and_headings
from bot.core.knowledge.boundary import FileRefused, FileTooLarge, read_bytes
from bot.core.knowledge.frontmatter import (
    MAX_FRONT_MATTER_BYTES,
    checklist_option,
    split_front_matter,
)
from bot.core.knowledge.links import (
    MAX_TITLE_CHARS,
    hugo_anchor,
    page_url_path,
    section_link,
    short_title,
)
from bot.core.knowledge.site_tree import (
    DocumentError,
    KnowledgeDirError,
    page_files,
    page_trail,
    root_of,
    section_titles,
)
from bot.core.types import Block, Section

__all__ = [
    "MAX_FRONT_MATTER_BYTES",
    "MAX_PAGE_BYTES",
    "MAX_TITLE_CHARS",
    "DocumentError",
    "KnowledgeDirError",
    "Page",
    "PageCache",
    "blocks_and_headings",
    "checklist_option",
    "hugo_anchor",
    "load_pages",
    "page_files",
    "page_trail",
    "page_url_path",
    "parse_page",
    "read_page",
    "section_link",
    "section_titles",
    "short_title",
    "split_front_matter",
    "unexpected_error",
]

log = logging.getLogger("playbook.index")

MAX_PAGE_BYTES = 4 * 1024 * 1024  # the default of PLAYBOOK_MAX_PAGE_KB


@dataclass(frozen=True)
class Page:
    """A parsed page: its path relative to the knowledge directory, title and sections, the
    link to the page itself and the site's sections above it (``Citation.trail``).

    ``checklists`` is the page's front matter ``checklists:``: ``True`` (every list of the page
    is a checklist), ``False`` (none is), the headings (titles or anchors) whose lists are, or
    ``None`` when the page does not say (``bot.core.team.tickable`` decides).
    """

    source: str
    title: str
    draft: bool
    sections: tuple[Section, ...]
    link: str = ""
    trail: tuple[str, ...] = ()
    checklists: bool | tuple[str, ...] | None = None


# A run of a page: its heading (``None`` for the text before the first one), the headings
# above it and itself (level, title), and the blocks under it.
_Run = tuple[tuple[int, str] | None, tuple[tuple[int, str], ...], list[Block]]


def parse_page(
    text: str,
    source: str,
    *,
    base_url: str = "",
    link_root: str = "knowledge",
    trail: tuple[str, ...] = (),
) -> Page:
    """Parse one Markdown page into sections.

    ``source`` is the page's path relative to the knowledge directory; ``trail`` the site's
    sections above it (``page_trail``), carried by every citation. The text before the first
    heading forms a section named after the page title. Raises ``ValueError`` on front matter
    that does not parse or is never closed.
    """
    meta, body = split_front_matter(text)
    items = blocks_and_headings(body)
    title = _page_title(meta, items, source)
    sections = [
        section
        for section in _sections(_runs(items), title, source, trail, (base_url, link_root))
        # A heading with no text under it still exists (it can be cited and listed) unless
        # it is the page title repeated as an H1.
        if section.blocks or not (section.level == 1 and section.title == title)
    ]
    return Page(
        source=source,
        title=title,
        draft=bool(meta.get("draft", False)),
        sections=tuple(sections),
        link=section_link(source, "", base_url, link_root),
        trail=trail,
        checklists=checklist_option(meta),
    )


def _page_title(meta: dict[str, object], items: list[tuple[int, str] | Block], source: str) -> str:
    """The page's title: its front matter's, else its first H1, else its file name."""
    title = short_title(str(meta.get("title") or "").strip())
    if not title:
        first_h1 = next((it[1] for it in items if isinstance(it, tuple) and it[0] == 1), None)
        stem = Path(source).stem.replace("-", " ").replace("_", " ").capitalize()
        title = first_h1 or short_title(stem)
    return title


def _runs(items: list[tuple[int, str] | Block]) -> list[_Run]:
    """The page cut at its headings, each run with the headings above it."""
    runs: list[_Run] = []
    stack: list[tuple[int, str]] = []
    heading: tuple[int, str] | None = None
    blocks: list[Block] = []
    for item in items:
        if isinstance(item, tuple):
            runs.append((heading, tuple(stack), blocks))
            level = item[0]
            while stack and stack[-1][0] >= level:
                stack.pop()
            stack.append(item)
            heading, blocks = item, []
        else:
            blocks.append(item)
    runs.append((heading, tuple(stack), blocks))
    return runs


def _sections(
    runs: list[_Run],
    title: str,
    source: str,
    trail: tuple[str, ...],
    link_settings: tuple[str, str],
) -> list[Section]:
    """A section per run: the text before the first heading (named after the page, unless
    it holds asides only) and each heading's, with an anchor unique on the page."""
    base_url, link_root = link_settings
    sections: list[Section] = []
    used: dict[str, int] = {}
    for heading, stack, blocks in runs:
        crumbs: tuple[str, ...]
        if heading is None:  # the text before the first heading, named after the page
            if all(block.kind == "aside" for block in blocks):
                continue
            name, level, anchor, crumbs = title, 1, "", (title,)
        else:
            level, name = heading
            anchor = hugo_anchor(name)
            if anchor in used:
                used[anchor] += 1
                anchor = f"{anchor}-{used[anchor]}"
            else:
                used[anchor] = 0
            crumbs = (title, *(t for lvl, t in stack if not (lvl == 1 and t == title)))
        link = section_link(source, anchor, base_url, link_root)
        sections.append(
            Section(source, title, name, level, anchor, crumbs, link, tuple(blocks), trail)
        )
    return sections


def read_page(
    path: Path,
    source: str,
    *,
    base_url: str = "",
    link_root: str = "knowledge",
    max_bytes: int = MAX_PAGE_BYTES,
    trail: tuple[str, ...] = (),
) -> Page | DocumentError:
    """Read and parse one page file (its citations carrying ``trail``, ``page_trail``);
    what went wrong when it cannot be read, is larger than ``max_bytes``, is not text or its
    front matter is broken."""
    try:
        data = read_bytes(path, root_of(path, source), max_bytes)
        if b"\0" in data[:8192]:
            return DocumentError(source, "binary content, not a text page: not indexed")
        text = data.decode("utf-8-sig")
    except FileTooLarge as exc:
        return DocumentError(
            source,
            f"{exc.size / 1e6:.1f} MB, above the page size limit of {max_bytes / 1e6:.1f} MB "
            "(PLAYBOOK_MAX_PAGE_KB): not indexed",
        )
    except FileRefused as exc:
        return DocumentError(source, f"{exc}: not indexed")
    except UnicodeDecodeError:
        return DocumentError(source, "not UTF-8 text")
    except OSError as exc:
        return DocumentError(source, f"cannot be read ({exc.strerror})")
    try:
        return parse_page(text, source, base_url=base_url, link_root=link_root, trail=trail)
    except ValueError as exc:
        return DocumentError(source, str(exc))
    except Exception as exc:  # one page never fails the others
        return unexpected_error(source, exc)


def unexpected_error(source: str, exc: Exception) -> DocumentError:
    """A page that failed in a way nothing foresaw: logged with its traceback, and named
    (``DocumentError``) so that the other pages are still indexed."""
    log.warning("The page %s cannot be read:", source, exc_info=exc)
    return DocumentError(source, f"cannot be read ({type(exc).__name__}): not indexed")


_CacheKey = tuple[int, int, str, str, int, tuple[str, ...]]


class PageCache:
    """Parsed pages kept by a long-running process (the server's reloads), each reused while
    its file's size and modification time stay the same, and the link settings and the
    site's sections above it too."""

    def __init__(self) -> None:
        # By source: the file's size, mtime, the link settings and trail it was read with,
        # and the page.
        self._pages: dict[str, tuple[_CacheKey, Page | DocumentError]] = {}

    def read(
        self,
        path: Path,
        source: str,
        base_url: str,
        link_root: str,
        max_bytes: int,
        trail: tuple[str, ...] = (),
    ) -> Page | DocumentError:
        """``read_page``, from the cache when the file did not change."""
        try:
            info = path.stat()
        except OSError as exc:
            return DocumentError(source, f"cannot be read ({exc.strerror})")
        key = (info.st_size, info.st_mtime_ns, base_url, link_root, max_bytes, trail)
        found = self._pages.get(source)
        if found is not None and found[0] == key:
            return found[1]
        page = read_page(
            path, source, base_url=base_url, link_root=link_root, max_bytes=max_bytes, trail=trail
        )
        self._pages[source] = (key, page)
        return page

    def keep_only(self, sources: set[str]) -> None:
        """Forget the pages that are no longer there."""
        for source in set(self._pages) - sources:
            del self._pages[source]


def load_pages(
    knowledge_dir: Path,
    *,
    base_url: str = "",
    link_root: str | None = None,
    cache: PageCache | None = None,
    max_bytes: int = MAX_PAGE_BYTES,
) -> tuple[list[Page], list[DocumentError]]:
    """Read every ``*.md`` under ``knowledge_dir`` (recursively), skipping drafts and pages
    above ``max_bytes``; through ``cache`` when given, so that unchanged pages are not parsed
    again.

    Returns ``(pages, errors)``: a page that cannot be read is reported in ``errors`` and the
    others are still returned. Raises ``KnowledgeDirError`` when the directory is missing.
    """
    root = str(knowledge_dir) if link_root is None else link_root
    pages: list[Page] = []
    errors: list[DocumentError] = []
    files = page_files(knowledge_dir, errors)
    if cache is not None:
        cache.keep_only({source for _, source in files})
    titles = section_titles(files)
    for path, source in files:
        trail = page_trail(source, titles)
        page = (
            cache.read(path, source, base_url, root, max_bytes, trail)
            if cache is not None
            else read_page(
                path, source, base_url=base_url, link_root=root, max_bytes=max_bytes, trail=trail
            )
        )
        if isinstance(page, DocumentError):
            errors.append(page)
        elif not page.draft:
            pages.append(page)
    return pages, errors
