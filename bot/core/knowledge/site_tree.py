"""The site's tree in the knowledge folder: which files are pages, the titles of its folders
(their ``_index.md``) and each page's trail of sections above it, and the errors of reading it
(``KnowledgeDirError`` for the folder, ``DocumentError`` for one page)."""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from bot.core.knowledge.boundary import read_bytes, refusal
from bot.core.knowledge.frontmatter import split_front_matter
from bot.core.knowledge.links import short_title


class KnowledgeDirError(Exception):
    """The knowledge directory is missing or holds no Markdown page."""


@dataclass(frozen=True)
class DocumentError:
    """A page that could not be read; the others are still indexed."""

    path: str
    reason: str

    def __str__(self) -> str:
        return f"{self.path}: {self.reason}"


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
            data = read_bytes(path, root_of(path, source), _TITLE_BYTES, prefix=True)
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


def root_of(path: Path, source: str) -> Path:
    """The knowledge folder (resolved) of the page ``path`` whose relative path is
    ``source``."""
    depth = len(Path(source).parts)
    return path.parents[depth - 1].resolve() if depth else path.parent.resolve()
