"""What a build folder records and how it is checked: the format version, the ``CURRENT``
pointer's name, the index's errors, the schemas of ``manifest.json`` and ``passages.json``,
and the checksums that tell a damaged file."""

from __future__ import annotations

import hashlib
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import TypedDict

FORMAT_VERSION = 9  # bump whenever parsing, chunking or the stored layout changes
CURRENT = "CURRENT"

Progress = Callable[[int, int], None]


class IndexError_(Exception):
    """Base of the index's errors (named so as not to shadow the builtin ``IndexError``)."""


class IndexMissing(IndexError_):
    """No index has been built in this folder yet."""


class BuildAbandoned(IndexError_):
    """A build stopped before it finished because it was asked to (a shutdown): its
    temporary folder is removed and the current build stays."""


class IndexCorrupt(IndexError_):
    """The index on disk cannot be read or fails its checks."""


class EmbedderInfo(TypedDict):
    """The embedder a build's vectors come from."""

    id: str
    dim: int


class LinkSettings(TypedDict):
    """The settings that shape the sections' links (a build made with others is not reused)."""

    base_url: str
    link_root: str | None


class Manifest(TypedDict):
    """``manifest.json``: what a build holds and what it was built from. ``files`` has the
    checksum of every file of the build, ``sources`` the SHA-256 of every source file and
    ``stats`` their [size, mtime_ns] (all by path relative to the knowledge directory);
    ``errors`` names the sources that were left out."""

    format: int
    built_at: str
    passages: int
    files: dict[str, str]
    embedder: EmbedderInfo
    sources: dict[str, str]
    stats: dict[str, list[int]]
    settings: LinkSettings
    errors: list[str]


class PageRecord(TypedDict):
    """A page of a build, in index order: what an incremental build reuses."""

    source: str
    digest: str
    passages: int
    sections: int


class StoredPassage(TypedDict):
    """A passage in ``passages.json``."""

    id: str
    text: str
    language: str
    section_number: int


class StoredSection(TypedDict):
    """A section in ``passages.json``."""

    section: str
    breadcrumb: list[str]
    link: str
    source: str
    trail: list[str]  # the site's sections above the page (``Citation.trail``)


class StoredExample(TypedDict):
    """An example question in ``passages.json``, with the numbers of its sections."""

    question: str
    sections: list[int]


class StoredTexts(TypedDict):
    """``passages.json``: every text of a build (vocabulary entries are [word, terms])."""

    passages: list[StoredPassage]
    sections: list[StoredSection]
    vocabulary: list[tuple[str, list[str]]]
    glossary: list[dict[str, list[str]]]
    examples: list[StoredExample]
    pages: list[PageRecord]


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def file_checksum(path: Path) -> str:
    """A checksum of an index file that tells a damaged file (CRC-32, read a megabyte at a
    time: twice as fast as SHA-256 on the index's large arrays)."""
    crc = 0
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            crc = zlib.crc32(block, crc)
    return f"crc32:{crc:08x}"


def text_key(text: str) -> str:
    """A short hash of ``text``: what tells an unchanged passage."""
    return _sha256(text.encode())[:24]


def damaged_file(folder: Path, manifest: Manifest) -> str | None:
    """What is wrong with the build's files (one missing, or not matching its checksum), or
    ``None`` when they are as written."""
    for name, digest in manifest["files"].items():
        try:
            if file_checksum(folder / name) != digest:
                return f"{name} does not match its checksum"
        except OSError as exc:
            return f"{name} cannot be read ({exc.strerror or exc})"
    return None
