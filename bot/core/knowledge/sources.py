"""The state of the knowledge folder's source files (pages, glossary, example questions):
their hashes and [size, mtime_ns], as a build's manifest records them, so that an unchanged
file is neither read again nor indexed again."""

from __future__ import annotations

import time
from pathlib import Path

from bot.core.knowledge.boundary import file_digest, refusal
from bot.core.knowledge.examples import EXAMPLES_FILE
from bot.core.knowledge.glossary import GLOSSARY_FILE
from bot.core.knowledge.manifest import Manifest
from bot.core.knowledge.site_tree import page_files

RACY_NS = 2_000_000_000


def source_files(
    knowledge_dir: Path, pages: list[tuple[Path, str]] | None = None
) -> list[tuple[Path, str]]:
    """The files an index is built from: every page (``pages``, when already listed), the
    glossary and the example questions (those that exist and may be read: a regular file
    inside the folder, ``boundary.refusal``), with their POSIX paths relative to
    ``knowledge_dir``."""
    if not knowledge_dir.is_dir():
        return []
    files = list(page_files(knowledge_dir) if pages is None else pages)
    root = knowledge_dir.resolve()
    for name in (GLOSSARY_FILE, EXAMPLES_FILE):
        if refusal(knowledge_dir / name, root) is None:
            files.append((knowledge_dir / name, name))
    return files


def source_hashes(knowledge_dir: Path, manifest: Manifest | None = None) -> dict[str, str]:
    """Hash of every page, of the glossary and of the example questions, by POSIX path
    relative to ``knowledge_dir``. A file whose size and modification time are those
    ``manifest`` (an index's) recorded keeps the hash recorded there, unread."""
    hashes, _ = source_state(knowledge_dir, manifest)
    return hashes


def source_state(
    knowledge_dir: Path,
    manifest: Manifest | None = None,
    pages: list[tuple[Path, str]] | None = None,
) -> tuple[dict[str, str], dict[str, list[int]]]:
    """``source_hashes`` and each file's [size, mtime_ns], as an index's manifest keeps them
    (``pages``: the pages, when already listed). A file is only opened when it is a regular
    file inside the folder (``boundary.file_digest``), never a named pipe or a device."""
    known = (manifest.get("sources") if manifest else None) or {}
    stats = (manifest.get("stats") if manifest else None) or {}
    hashes: dict[str, str] = {}
    seen: dict[str, list[int]] = {}
    # A file modified in the last seconds could change again within the same timestamp tick
    # without its size changing: its state is not recorded, so it is hashed again next time.
    recent = time.time_ns() - RACY_NS
    root = knowledge_dir.resolve()
    for path, source in source_files(knowledge_dir, pages):
        try:
            info = path.stat()
            stat = [info.st_size, info.st_mtime_ns]
            recorded = known.get(source)
            hashes[source] = (
                recorded if recorded and stats.get(source) == stat else file_digest(path, root)
            )
            if info.st_mtime_ns < recent:
                seen[source] = stat
        except OSError:
            continue
    return hashes, seen
