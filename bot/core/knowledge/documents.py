"""Markdown pages with Hugo front matter → sections (title, breadcrumb, anchor, link, blocks).

Pages are read as Hugo publishes them: shortcodes (``{{< >}}``, ``{{% %}}``) keep the text
they show and lose their tags, raw HTML keeps its text and loses its tags and comments, an
image is its alt text (or nothing when the alt text is a placeholder such as "image") and
joins the text around it, tables become "cell — cell" lines. Markup residue (a paragraph of
URLs, punctuation or placeholders only) never stands as text of its own. A page's citations
carry the site's sections above it: the titles of its parent folders' ``_index.md`` pages.
"""

from __future__ import annotations

import logging
import os
import re
import tomllib
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from markdown_it import MarkdownIt
from markdown_it.token import Token

from bot.core.knowledge.boundary import FileRefused, FileTooLarge, read_bytes, refusal
from bot.core.knowledge.markup import (
    html_text,
    is_placeholder_alt,
    markup_residue,
    strip_shortcodes,
)
from bot.core.knowledge.team_yaml import YamlRefused, load_yaml
from bot.core.types import Block, ListItem, Section

log = logging.getLogger("playbook.index")

# Front matter is a few names and values: larger is not a page's metadata (and costs parsing).
MAX_FRONT_MATTER_BYTES = 64 * 1024
# A page or section title longer than this (a pasted blob after ``##``) is cut: every passage
# of its section carries it when embedded, and every reply citing it shows it.
MAX_TITLE_CHARS = 300
# The front matter values that are shown as text: a list or a mapping there is a mistake.
_TEXT_FIELDS = ("title", "linkTitle", "description")


class KnowledgeDirError(Exception):
    """The knowledge directory is missing or holds no Markdown page."""


@dataclass(frozen=True)
class DocumentError:
    """A page that could not be read; the others are still indexed."""

    path: str
    reason: str

    def __str__(self) -> str:
        return f"{self.path}: {self.reason}"


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


_FRONT_MATTER = re.compile(r"\A(---|\+\+\+)[ \t]*\r?\n(?:(.*?)\r?\n)?\1[ \t]*(?:\r?\n|\Z)", re.S)
_FRONT_MATTER_OPENS = re.compile(r"\A(---|\+\+\+)[ \t]*(?:\r?\n|\Z)")
_SPACES = re.compile(r"\s+")


def hugo_anchor(title: str) -> str:
    """Return the anchor Hugo (goldmark, ``github`` style) gives a heading.

    Letters and digits are lower-cased, spaces and hyphens become hyphens, ``_`` is kept and
    everything else is dropped: ``"L'open source"`` → ``"lopen-source"``.
    """
    out = []
    for char in unicodedata.normalize("NFC", title.strip()):
        if char in " -":
            out.append("-")
        elif char == "_" or char.isalnum():
            out.append(char.lower())
    return "".join(out)


def short_title(title: str) -> str:
    """``title`` as a citation shows it: whole up to ``MAX_TITLE_CHARS``, else cut at the last
    space before that (else at the limit) and ended with ``…``."""
    if len(title) <= MAX_TITLE_CHARS:
        return title
    cut = title[: MAX_TITLE_CHARS - 1]
    space = cut.rfind(" ", MAX_TITLE_CHARS // 2)
    return (cut[:space] if space > 0 else cut).rstrip() + "…"


def split_front_matter(text: str) -> tuple[dict[str, object], str]:
    """Split YAML (``---``) or TOML (``+++``) front matter from the body.

    Returns ``(metadata, body)``, the metadata as the page wrote it (any names and values);
    raises ``ValueError`` when the front matter does not parse or is never closed.
    """
    match = _FRONT_MATTER.match(text)
    if not match:
        opened = _FRONT_MATTER_OPENS.match(text)
        if opened:
            delimiter = opened.group(1)
            raise ValueError(
                f"front matter opened by {delimiter} is never closed (no {delimiter} line "
                "after it): not indexed"
            )
        return {}, text
    raw = match.group(2) or ""
    size = len(raw.encode("utf-8", errors="replace"))
    if size > MAX_FRONT_MATTER_BYTES:
        raise ValueError(
            f"front matter of {size // 1024} KB, above the limit of "
            f"{MAX_FRONT_MATTER_BYTES // 1024} KB: not indexed"
        )
    try:
        meta = load_yaml(raw) if match.group(1) == "---" else tomllib.loads(raw)
    except YamlRefused as exc:
        raise ValueError(f"front matter {exc}: not indexed") from exc
    except tomllib.TOMLDecodeError as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ValueError(f"front matter does not parse ({first})") from exc
    except RecursionError as exc:
        raise ValueError("front matter is nested too deeply: not indexed") from exc
    if meta is None:
        meta = {}
    if not isinstance(meta, dict):
        raise ValueError("front matter is not a mapping of names to values")
    for name in _TEXT_FIELDS:
        if isinstance(meta.get(name), dict | list | tuple | set):
            raise ValueError(f"front matter: {name} must be text")
    return meta, text[match.end() :]


def page_url_path(source: str) -> str:
    """Return the Hugo URL path of a page: ``a/b.md`` → ``a/b/``, ``a/_index.md`` → ``a/``."""
    path = Path(source)
    parts = (
        list(path.parent.parts)
        if path.stem in ("index", "_index")
        else [
            *path.parent.parts,
            path.stem,
        ]
    )
    parts = [p for p in parts if p not in ("", ".")]
    return "/".join(parts).lower() + "/" if parts else ""


def section_link(source: str, anchor: str, base_url: str, link_root: str) -> str:
    """Return the link of a section: base URL + page path + ``#anchor``, else the file path."""
    fragment = f"#{quote(anchor, safe='-_')}" if anchor else ""
    if base_url:
        return f"{base_url.rstrip('/')}/{page_url_path(source)}{fragment}"
    root = link_root.rstrip("/")
    return f"{root}/{source}{fragment}" if root else f"{source}{fragment}"


def _image_alt(token: Token) -> str:
    """An image's alt text as a reader would read it, or ``""`` for a placeholder."""
    alt = "".join(c.content for c in token.children or [] if c.type in ("text", "code_inline"))
    alt = _SPACES.sub(" ", alt or token.content).strip()
    return "" if is_placeholder_alt(alt, str(token.attrs.get("src") or "")) else alt


def _inline_text(token: Token) -> str:
    parts: list[str] = []
    for child in token.children or []:
        if child.type in ("text", "code_inline"):
            parts.append(child.content)
        elif child.type in ("softbreak", "hardbreak"):
            parts.append(" ")
        elif child.type == "image":
            parts.append(_image_alt(child))
        elif child.type == "html_inline":  # a tag or a comment: its text is around it
            parts.append(" " if _LINE_BREAK_TAG.match(child.content) else "")
    return _SPACES.sub(" ", "".join(parts)).strip()


_LINE_BREAK_TAG = re.compile(r"<br\b", re.I)
_NOT_TEXT = frozenset({"link_open", "link_close", "softbreak", "hardbreak", "html_inline"})


def _only_images(token: Token) -> bool:
    """Whether an inline holds images and nothing else to read (links, breaks, tags aside)."""
    children = token.children or []
    return any(c.type == "image" for c in children) and all(
        c.type in _NOT_TEXT or c.type == "image" or (c.type == "text" and not c.content.strip())
        for c in children
    )


def _item_title(token: Token) -> tuple[str | None, str]:
    """Split a bold prefix (``**Title** : rest``) from an item's first paragraph."""
    children = [c for c in token.children or [] if not (c.type == "text" and not c.content.strip())]
    if len(children) < 3 or children[0].type != "strong_open":
        return None, _inline_text(token)
    title_parts = []
    rest_start = len(children)
    for i, child in enumerate(children[1:], start=1):
        if child.type == "strong_close":
            rest_start = i + 1
            break
        if child.type in ("text", "code_inline"):
            title_parts.append(child.content)
    title = _SPACES.sub(" ", "".join(title_parts)).strip()
    rest = Token("inline", "", 0, children=children[rest_start:])
    body = _inline_text(rest).lstrip(" :–—-").strip()
    return (title or None), body


def _closing(tokens: list[Token], start: int) -> int:
    """Index of the token closing the one that opens at ``start``."""
    depth = 0
    for i in range(start, len(tokens)):
        depth += tokens[i].nesting
        if depth == 0:
            return i
    return len(tokens) - 1


def _list_block(tokens: list[Token]) -> Block:
    items: list[ListItem] = []
    depth = 0
    current: list[str] = []
    title: str | None = None
    for token in tokens[1:-1]:
        if token.type == "list_item_open":
            depth += 1
            if depth == 1:
                current, title = [], None
        elif token.type == "list_item_close":
            depth -= 1
            if depth == 0:
                text = " ".join(c for c in current if c).strip()
                if text and markup_residue(text) != "empty":
                    items.append(ListItem(text=text, title=title))
        elif token.type == "inline" and depth >= 1:
            if not current and depth == 1:
                title, body = _item_title(token)
                current.append(f"{title} : {body}" if title and body else (title or body))
            else:
                current.append(_inline_text(token))
        elif token.type in ("fence", "code_block") and depth >= 1:
            current.append(token.content.strip())
    text = "\n".join(f"- {item.text}" for item in items)
    return Block(kind="list", text=text, items=tuple(items))


def _table_block(tokens: list[Token]) -> Block | None:
    """A table as lines of ``cell — cell``, the header row first; ``None`` when empty."""
    rows: list[str] = []
    cells: list[str] = []
    for t in tokens:
        if t.type == "inline":
            cells.append(_inline_text(t))
        elif t.type == "tr_close":
            line = " — ".join(c for c in cells if c)
            if line:
                rows.append(line)
            cells = []
    return Block(kind="table", text="\n".join(rows)) if rows else None


def _text_block(text: str) -> Block | None:
    """A paragraph of ``text``; an aside when it holds links only (it goes with the text
    around it), ``None`` when nothing is left to read."""
    residue = markup_residue(text)
    if residue == "empty":
        return None
    return Block(kind="aside" if residue else "paragraph", text=text)


def _blocks_and_headings(body: str) -> list[tuple[int, str] | Block]:
    """Parse a page body into a flat sequence of headings ``(level, title)`` and blocks."""
    tokens = MarkdownIt("commonmark").enable("table").parse(strip_shortcodes(body))
    out: list[tuple[int, str] | Block] = []
    found: Block | None
    i = 0
    while i < len(tokens):
        token = tokens[i]
        if token.type == "heading_open" and token.level == 0:
            out.append((int(token.tag[1]), short_title(_inline_text(tokens[i + 1]))))
            i = _closing(tokens, i) + 1
        elif token.type in ("bullet_list_open", "ordered_list_open"):
            end = _closing(tokens, i)
            found = _list_block(tokens[i : end + 1])
            if found.items:  # a list of links only goes with the text around it
                out.append(
                    Block(kind="aside", text=found.text) if markup_residue(found.text) else found
                )
            i = end + 1
        elif token.type == "table_open":
            end = _closing(tokens, i)
            found = _table_block(tokens[i:end])
            if found:
                out.append(found)
            i = end + 1
        elif token.type == "inline":
            text = _inline_text(token)
            found = _text_block(text) if text else None
            if found and _only_images(token):  # a figure: its caption goes with the text
                found = Block(kind="aside", text=text)
            if found:
                out.append(found)
            i += 1
        elif token.type == "html_block":
            out.extend(b for b in map(_text_block, html_text(token.content)) if b)
            i += 1
        elif token.type in ("fence", "code_block"):
            if token.content.strip():
                out.append(Block(kind="code", text=token.content.rstrip()))
            i += 1
        else:
            i += 1
    return out


def checklist_option(meta: dict[str, object]) -> bool | tuple[str, ...] | None:
    """The front matter's ``checklists:`` as ``Page.checklists`` has it: a yes/no, the
    headings it names (one heading or a list of them), or ``None`` (absent or not readable)."""
    value = meta.get("checklists")
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip():
        return (value.strip(),)
    if isinstance(value, list):
        return tuple(str(v).strip() for v in value if str(v).strip())
    return None


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
    items = _blocks_and_headings(body)
    title = short_title(str(meta.get("title") or "").strip())
    if not title:
        first_h1 = next((it[1] for it in items if isinstance(it, tuple) and it[0] == 1), None)
        stem = Path(source).stem.replace("-", " ").replace("_", " ").capitalize()
        title = first_h1 or short_title(stem)
    draft = bool(meta.get("draft", False))

    sections: list[Section] = []
    used: dict[str, int] = {}
    stack: list[tuple[int, str]] = []
    heading: tuple[int, str] | None = None
    blocks: list[Block] = []

    def flush() -> None:
        crumbs: tuple[str, ...]
        if heading is None:  # the text before the first heading, named after the page
            if all(block.kind == "aside" for block in blocks):
                return
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

    for item in items:
        if isinstance(item, tuple):
            flush()
            level = item[0]
            while stack and stack[-1][0] >= level:
                stack.pop()
            stack.append(item)
            heading, blocks = item, []
        else:
            blocks.append(item)
    flush()
    # A heading with no text under it still exists (it can be cited and listed) unless it is
    # the page title repeated as an H1.
    sections = [s for s in sections if s.blocks or not (s.level == 1 and s.title == title)]
    return Page(
        source=source,
        title=title,
        draft=draft,
        sections=tuple(sections),
        link=section_link(source, "", base_url, link_root),
        trail=trail,
        checklists=checklist_option(meta),
    )


def page_files(
    knowledge_dir: Path, problems: list[DocumentError] | None = None
) -> list[tuple[Path, str]]:
    """Every ``*.md`` file under ``knowledge_dir`` (recursively), with its POSIX path relative
    to it, in path order (folder by folder, as sorted paths compare). The folder is a
    boundary (``boundary.refusal``): a link to a file outside it, a link to nothing, a named
    pipe, a device and a sub-folder that cannot be read are left out and, when ``problems``
    is given, named there; nothing is opened. Raises
    ``KnowledgeDirError`` when the directory is missing."""
    if not knowledge_dir.is_dir():
        raise KnowledgeDirError(
            f"Knowledge directory not found: {knowledge_dir} "
            "(set PLAYBOOK_KNOWLEDGE_DIR to the folder of your Markdown pages)."
        )
    root = knowledge_dir.resolve()
    found: list[tuple[tuple[str, ...], str]] = []
    pending: list[tuple[str, tuple[str, ...]]] = [(str(knowledge_dir), ())]
    report = problems.append if problems is not None else (lambda _e: None)
    while pending:
        folder, relative = pending.pop()
        try:
            entries = list(os.scandir(folder))
        except OSError as exc:
            report(
                DocumentError("/".join(relative) or ".", f"folder cannot be read ({exc.strerror})")
            )
            continue
        for entry in entries:
            parts = (*relative, entry.name)
            try:
                if entry.is_dir(follow_symlinks=False):
                    pending.append((entry.path, parts))
                elif not entry.name.endswith(".md"):
                    continue
                elif reason := refusal(entry.path, root):
                    report(DocumentError("/".join(parts), f"{reason}: not indexed"))
                else:
                    found.append((parts, entry.path))
            except OSError:
                continue
    found.sort(key=lambda item: item[0])
    return [(Path(path), "/".join(parts)) for parts, path in found]


MAX_PAGE_BYTES = 4 * 1024 * 1024  # the default of PLAYBOOK_MAX_PAGE_KB


_TITLE_BYTES = 256 * 1024  # how much of an ``_index.md`` is read for its front matter


def section_titles(files: Iterable[tuple[Path, str]]) -> dict[str, str]:
    """The title of each folder of the site that has an ``_index.md`` page (its front
    matter's ``linkTitle``, else its ``title``), by the folder's POSIX path (``""`` for the
    root); a page that cannot be read or has no title gives none."""
    titles: dict[str, str] = {}
    for path, source in files:
        folder, _, name = source.rpartition("/")
        if name != "_index.md":
            continue
        try:
            data = read_bytes(path, _root_of(path, source), _TITLE_BYTES, prefix=True)
            meta, _ = split_front_matter(data.decode("utf-8-sig", errors="replace"))
        except Exception:  # the page itself is named when it is read
            continue
        title = short_title(str(meta.get("linkTitle") or meta.get("title") or "").strip())
        if title:
            titles[folder] = title
    return titles


def page_trail(source: str, titles: dict[str, str]) -> tuple[str, ...]:
    """The site's sections above a page, as Hugo's breadcrumbs show them: the titles of the
    folders that hold it (``section_titles``), from the top, the site's home left out. A
    bundle (``folder/index.md``) and a branch page (``folder/_index.md``) are their folder,
    so the trail starts above it; a folder without a titled ``_index.md`` is skipped."""
    parts = source.split("/")[:-1]
    if source.rsplit("/", 1)[-1] in ("index.md", "_index.md"):
        parts = parts[:-1]
    folders = ("/".join(parts[: n + 1]) for n in range(len(parts)))
    return tuple(titles[f] for f in folders if f in titles)


def _root_of(path: Path, source: str) -> Path:
    """The knowledge folder (resolved) of the page ``path`` whose relative path is
    ``source``."""
    depth = len(Path(source).parts)
    return path.parents[depth - 1].resolve() if depth else path.parent.resolve()


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
        data = read_bytes(path, _root_of(path, source), max_bytes)
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
