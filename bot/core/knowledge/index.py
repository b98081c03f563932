"""The on-disk index: FAISS vectors + BM25 + passages, with a manifest; build, load, check.

Layout of ``PLAYBOOK_INDEX_DIR``: one folder per build (``v-<time>``) and a ``CURRENT`` file naming
the live one. A build writes a new folder beside the old one and then replaces ``CURRENT``
atomically, so a reader sees either the old index or the new one, never half of one.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import time
import zlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TypedDict, overload

import numpy as np
import orjson

from bot.core.knowledge.boundary import file_digest, refusal
from bot.core.knowledge.documents import DocumentError, page_files
from bot.core.knowledge.examples import EXAMPLES_FILE, query_texts
from bot.core.knowledge.glossary import GLOSSARY_FILE, Glossary, GlossaryError
from bot.core.knowledge.lexical import LexicalIndex
from bot.core.knowledge.rowfile import RowFile, save_array, save_bytes
from bot.core.knowledge.vectors import VectorSearch
from bot.core.types import Citation, Passage

FORMAT_VERSION = 9  # bump whenever parsing, chunking or the stored layout changes
CURRENT = "CURRENT"

Progress = Callable[[int, int], None]
RACY_NS = 2_000_000_000


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


@dataclass(frozen=True)
class Vocabulary:
    """The pages' content words, their vectors and index terms (for cross-lingual expansion)."""

    words: list[str]
    vectors: np.ndarray  # (len(words), dim) unit rows
    terms: list[list[str]]


class Sentences(Sequence[str]):
    """The sentences of every passage, in passage order, each a slice of its passage's text
    (``spans`` holds the passage and the character range): nothing is stored twice."""

    def __init__(self, passages: Sequence[Passage], spans: np.ndarray) -> None:
        self._passages = passages
        self._spans = spans  # (m, 3) int64: passage, start, stop

    def __len__(self) -> int:
        return len(self._spans)

    @property
    def spans(self) -> np.ndarray:
        """Rows of (passage, start, stop), one per sentence."""
        return self._spans

    def _one(self, number: int) -> str:
        passage, start, stop = self._spans[number]
        return self._passages[int(passage)].text[int(start) : int(stop)]

    @overload
    def __getitem__(self, key: int) -> str: ...

    @overload
    def __getitem__(self, key: slice) -> list[str]: ...

    def __getitem__(self, key: int | slice) -> str | list[str]:
        if isinstance(key, slice):
            return [self._one(i) for i in range(*key.indices(len(self)))]
        return self._one(int(key))


def sentence_spans(texts: Sequence[str], sentences: Sequence[Sequence[str]]) -> np.ndarray:
    """Where each passage's sentences lie in its text: rows of (passage, start, stop)."""
    rows: list[tuple[int, int, int]] = []
    for number, (text, group) in enumerate(zip(texts, sentences, strict=True)):
        at = 0
        for sentence in group:
            start = text.find(sentence, at)
            if start < 0:
                raise ValueError(f"sentence not found in its passage: {sentence[:40]!r}")
            at = start + len(sentence)
            rows.append((number, start, at))
    return np.array(rows, dtype=np.int64).reshape(-1, 3)


@dataclass
class KnowledgeIndex:
    """A loaded index: passages with their dense and lexical representations."""

    manifest: Manifest
    passages: list[Passage]
    languages: list[str]
    sections: list[Citation]
    vectors: RowFile  # (n, dim) unit rows, one per passage
    sentences: Sentences
    sentence_owner: np.ndarray  # (m,) passage number of each sentence
    sentence_vectors: RowFile  # (m, dim) unit rows, half precision
    lexical: LexicalIndex
    vocabulary: Vocabulary
    title_vectors: np.ndarray  # (len(sections), dim) unit rows: each section's title
    passage_section: np.ndarray  # (n,) number in ``sections`` of each passage's section
    path: Path
    # Nearest passages and vocabulary words (exact, or an inverted file on a large index).
    dense: VectorSearch = field(repr=False)
    vocabulary_search: VectorSearch = field(repr=False)
    glossary: Glossary = field(default_factory=Glossary)
    # The team's example questions (examples.yaml), the section numbers each points to, and
    # the vectors of their two query texts: every question's row, then every keywords' row.
    examples: list[str] = field(default_factory=list)
    example_sections: list[tuple[int, ...]] = field(default_factory=list)
    example_vectors: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), np.float32))
    # Each page's source, digest and how many passages and sections it has, in index order,
    # and its vocabulary words' numbers: what an incremental build reuses.
    pages: list[PageRecord] = field(default_factory=list)
    page_words: list[np.ndarray] = field(default_factory=list)
    section_sources: list[str] = field(default_factory=list)  # each section's page

    @cached_property
    def sentence_starts(self) -> np.ndarray:
        """Where each passage's sentences start: passage ``p`` owns sentences
        ``[starts[p], starts[p + 1])`` (they are stored in passage order)."""
        return np.searchsorted(self.sentence_owner, np.arange(len(self.passages) + 1))

    @property
    def embedder_id(self) -> str:
        """The id of the embedder that built the vectors."""
        return str(self.manifest["embedder"]["id"])


@dataclass(frozen=True)
class BuildReport:
    """What a build did: counts, time, and the pages it could not read."""

    passages: int
    sections: int
    pages: int
    embedded: int
    reused: int
    seconds: float
    errors: tuple[DocumentError, ...]
    path: Path

    @property
    def rate(self) -> float:
        """Passages indexed per second."""
        return self.passages / self.seconds if self.seconds > 0 else float("inf")


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


def _current_dir(index_dir: Path) -> Path:
    pointer = index_dir / CURRENT
    if not pointer.is_file():
        raise IndexMissing(f"No index in {index_dir}")
    try:
        name = pointer.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as exc:
        raise IndexCorrupt(f"{pointer} cannot be read ({exc})") from None
    if not name or "/" in name or not (index_dir / name).is_dir():
        raise IndexCorrupt(f"{pointer} names a build folder that does not exist ({name!r})")
    return index_dir / name


def example_texts(questions: Sequence[str]) -> list[str]:
    """Every example's question, then every example's keywords (``query_texts``)."""
    pairs = [query_texts(q) for q in questions]
    return [q for q, _ in pairs] + [k for _, k in pairs]


LOCK = ".building"


def remove_abandoned_builds(index_dir: Path) -> list[str]:
    """Remove the temporary folders of builds that died before they finished (no process
    holds their lock). Returns their names."""
    removed = []
    for folder in index_dir.glob(".tmp-v-*"):
        try:
            handle = os.open(folder / LOCK, os.O_RDWR)
        except FileNotFoundError:
            handle = None  # a build from before locks, or one that died while starting
        except OSError:
            continue
        try:
            if handle is not None:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            continue  # a build in progress
        finally:
            if handle is not None:
                os.close(handle)
        shutil.rmtree(folder, ignore_errors=True)
        removed.append(folder.name)
    return removed


class BuildFolder:
    """A new build being written: a temporary folder of ``index_dir`` that ``commit`` makes
    the current build (atomically: a reader sees the old build or the new one) and that is
    removed if the build fails."""

    def __init__(self, index_dir: Path) -> None:
        index_dir.mkdir(parents=True, exist_ok=True)
        remove_abandoned_builds(index_dir)
        self.index_dir = index_dir
        self.name = f"v-{time.time_ns()}"
        self.path = index_dir / f".tmp-{self.name}"
        self.path.mkdir()
        # Held while the build runs: a folder whose lock nobody holds was left by a build
        # that died (SIGKILL, power loss) and is removed by the next one.
        self._lock = os.open(self.path / LOCK, os.O_CREAT | os.O_RDWR, 0o600)
        fcntl.flock(self._lock, fcntl.LOCK_EX)
        self.digests: dict[str, str] = {}  # checksums of the files written so far

    def __enter__(self) -> BuildFolder:
        return self

    def __exit__(self, *exc: object) -> None:
        shutil.rmtree(self.path, ignore_errors=True)
        os.close(self._lock)

    def commit(self) -> Path:
        """Make this build the current one; returns its folder."""
        build = self.index_dir / self.name
        (self.path / LOCK).unlink()
        self.path.rename(build)
        pointer = self.index_dir / f".{CURRENT}.tmp"
        pointer.write_text(build.name, encoding="utf-8")
        os.replace(pointer, self.index_dir / CURRENT)
        _prune(self.index_dir, keep=build.name)
        return build


@dataclass(frozen=True)
class BuildParts:
    """Everything a build writes besides the passage and sentence vectors (which it writes as
    it embeds them), in index order, and what its manifest records."""

    passages: list[Passage]
    languages: list[str]  # each passage's
    sections: list[Citation]
    section_sources: list[str]  # each section's page
    passage_section: list[int]  # each passage's number in ``sections``
    passage_search: VectorSearch
    sentence_spans: np.ndarray  # (m, 3): passage, start, stop
    vocabulary: Vocabulary
    vocabulary_search: VectorSearch
    title_vectors: np.ndarray  # one per section
    lexical: LexicalIndex
    glossary: Glossary
    examples: list[tuple[str, tuple[int, ...]]]  # question, section numbers
    example_vectors: np.ndarray  # every question's row, then every keywords' row
    pages: list[PageRecord]
    page_words: list[np.ndarray]  # each page's vocabulary numbers
    embedder: EmbedderInfo
    sources: dict[str, str]
    stats: dict[str, list[int]]
    settings: LinkSettings
    errors: list[str]


def write_files(folder: BuildFolder, parts: BuildParts) -> None:
    """Write the build's remaining files and its manifest (``vectors.npy`` and
    ``sentences.npy`` are written by the build as it embeds, their checksums in
    ``folder.digests``)."""
    path = folder.path
    sums = {"passages.json": save_bytes(path / "passages.json", orjson.dumps(_texts(parts)))}
    for name, array in _arrays(parts).items():
        sums[name] = save_array(path / name, array)
    sums.update(parts.passage_search.save(path, "passages"))
    sums.update(parts.vocabulary_search.save(path, "vocabulary"))
    lexical = parts.lexical.save(path / "bm25")
    sums.update({f"bm25/{name}": digest for name, digest in lexical.items()})
    manifest: Manifest = {
        "format": FORMAT_VERSION,
        "built_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "passages": len(parts.passages),
        "files": {**folder.digests, **sums},
        "embedder": parts.embedder,
        "sources": parts.sources,
        "stats": parts.stats,
        "settings": parts.settings,
        "errors": parts.errors,
    }
    (path / "manifest.json").write_bytes(orjson.dumps(manifest))


def _texts(parts: BuildParts) -> StoredTexts:
    """The contents of ``passages.json``."""
    vocabulary = parts.vocabulary
    return {
        "passages": [
            {"id": p.id, "text": p.text, "language": lang, "section_number": number}
            for p, lang, number in zip(
                parts.passages, parts.languages, parts.passage_section, strict=True
            )
        ],
        "sections": [
            {
                "section": c.section,
                "breadcrumb": list(c.breadcrumb),
                "link": c.link,
                "source": src,
                "trail": list(c.trail),
            }
            for c, src in zip(parts.sections, parts.section_sources, strict=True)
        ],
        "vocabulary": list(zip(vocabulary.words, vocabulary.terms, strict=True)),
        "glossary": parts.glossary.to_json(),
        "examples": [{"question": q, "sections": list(n)} for q, n in parts.examples],
        "pages": parts.pages,
    }


def _arrays(parts: BuildParts) -> dict[str, np.ndarray]:
    """The build's arrays by file name (each page's words as one array and its offsets)."""
    page_words = parts.page_words
    indptr = np.zeros(len(page_words) + 1, np.int64)
    np.cumsum([len(w) for w in page_words], out=indptr[1:])
    return {
        "sentence_spans.npy": parts.sentence_spans,
        "vocabulary.npy": parts.vocabulary.vectors,
        "titles.npy": parts.title_vectors,
        "examples.npy": parts.example_vectors,
        "page_words.npy": np.concatenate(page_words) if page_words else np.zeros(0, np.int32),
        "page_words_indptr.npy": indptr,
    }


def _prune(index_dir: Path, keep: str) -> None:
    """Remove older build folders, keeping ``keep`` and the one before it (readers may hold it)."""
    builds = sorted(p for p in index_dir.glob("v-*") if p.is_dir() and p.name != keep)
    for old in builds[:-1]:
        shutil.rmtree(old, ignore_errors=True)


def load_index(index_dir: Path) -> KnowledgeIndex:
    """Load the current build of ``index_dir``; its arrays are memory-mapped, so only what a
    search reads is brought into memory.

    Raises ``IndexMissing`` when there is none and ``IndexCorrupt`` when it fails its checks.
    """
    folder = _current_dir(index_dir)
    try:
        manifest: Manifest = orjson.loads((folder / "manifest.json").read_bytes())
        if not isinstance(manifest, dict):
            raise IndexCorrupt("its manifest is not an object")
        if manifest.get("format") != FORMAT_VERSION:
            raise IndexCorrupt(
                f"index format {manifest.get('format')} is not this version's ({FORMAT_VERSION})"
            )
        damaged = damaged_file(folder, manifest)
        if damaged:
            raise IndexCorrupt(damaged)
        return _read_build(folder, manifest)
    except IndexCorrupt:
        raise
    except (OSError, ValueError, KeyError, TypeError, RuntimeError, AttributeError) as exc:
        raise IndexCorrupt(f"cannot read the index in {folder}: {exc}") from exc


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


def _array(folder: Path, name: str) -> np.ndarray:
    array: np.ndarray = np.load(folder / name, mmap_mode="r", allow_pickle=False)
    return array


def _read_texts(
    payload: StoredTexts,
) -> tuple[list[Citation], list[str], np.ndarray, list[Passage]]:
    """From ``passages.json``: the sections, each section's page, each passage's section
    number and the passages."""
    sections = [
        Citation(s["section"], tuple(s["breadcrumb"]), s["link"], tuple(s["trail"]))
        for s in payload["sections"]
    ]
    sources = [s["source"] for s in payload["sections"]]
    passage_section = np.fromiter(
        (r["section_number"] for r in payload["passages"]), np.int64, len(payload["passages"])
    )
    passages = [
        Passage(id=r["id"], text=r["text"], source=sources[n], citation=sections[n])
        for r, n in zip(payload["passages"], passage_section.tolist(), strict=True)
    ]
    return sections, sources, passage_section, passages


def _read_build(folder: Path, manifest: Manifest) -> KnowledgeIndex:
    payload: StoredTexts = orjson.loads((folder / "passages.json").read_bytes())
    sections, sources, passage_section, passages = _read_texts(payload)
    vectors = RowFile(folder / "vectors.npy")
    sentence_vectors = RowFile(folder / "sentences.npy")
    spans = np.asarray(_array(folder, "sentence_spans.npy"), dtype=np.int64).reshape(-1, 3)
    owner = spans[:, 0].copy()
    vocabulary = Vocabulary(
        words=[w for w, _ in payload["vocabulary"]],
        vectors=_array(folder, "vocabulary.npy"),
        terms=[t for _, t in payload["vocabulary"]],
    )
    title_vectors = _array(folder, "titles.npy")
    examples = payload["examples"]
    example_vectors = np.asarray(_array(folder, "examples.npy"), dtype=np.float32)
    indptr = np.asarray(_array(folder, "page_words_indptr.npy")).tolist()
    words = np.asarray(_array(folder, "page_words.npy"))
    pages = payload["pages"]
    dim = manifest["embedder"]["dim"]
    if not (
        len(example_vectors) == 2 * len(examples)
        and all(0 <= n < len(title_vectors) for e in examples for n in e["sections"])
        and len(title_vectors) == len(sections)
        and len(passages) == len(vectors) == manifest["passages"]
        and len(spans) == len(sentence_vectors)
        and (not len(owner) or (owner.min() >= 0 and owner.max() < len(passages)))
        and len(vocabulary.words) == len(vocabulary.vectors)
        and vectors.shape[1] == sentence_vectors.shape[1] == dim
        and len(indptr) == len(pages) + 1
        and sum(p["passages"] for p in pages) == len(passages)
        and (not len(passage_section) or passage_section.max() < len(sections))
    ):
        raise IndexCorrupt("the index's parts do not agree in size")
    return KnowledgeIndex(
        manifest=manifest,
        passages=passages,
        languages=[r["language"] for r in payload["passages"]],
        sections=sections,
        vectors=vectors,
        sentences=Sentences(passages, spans),
        sentence_owner=owner,
        sentence_vectors=sentence_vectors,
        lexical=LexicalIndex.load(folder / "bm25", len(passages)),
        vocabulary=vocabulary,
        title_vectors=title_vectors,
        passage_section=passage_section,
        path=folder,
        dense=VectorSearch.load(folder, "passages", vectors),
        vocabulary_search=VectorSearch.load(folder, "vocabulary", vocabulary.vectors),
        glossary=_read_glossary(payload.get("glossary", [])),
        examples=[e["question"] for e in examples],
        example_sections=[tuple(e["sections"]) for e in examples],
        example_vectors=example_vectors,
        pages=pages,
        page_words=[words[indptr[i] : indptr[i + 1]] for i in range(len(pages))],
        section_sources=sources,
    )


def _read_glossary(entries: Iterable[object]) -> Glossary:
    try:
        return Glossary.from_entries(entries)
    except GlossaryError as exc:
        raise IndexCorrupt(f"the stored glossary is unreadable ({exc})") from None


def stale_reason(
    index: KnowledgeIndex,
    knowledge_dir: Path,
    embedder_id: str,
    *,
    base_url: str = "",
    link_root: str | None = None,
) -> str | None:
    """Why ``index`` no longer matches the knowledge base or settings, or ``None`` if it does."""
    if index.embedder_id != embedder_id:
        return (
            f"it was built with the embedder {index.embedder_id}, "
            f"the settings ask for {embedder_id}"
        )
    settings = index.manifest.get("settings", {})
    if settings.get("base_url") != base_url or settings.get("link_root") != link_root:
        return "the link settings changed"
    if index.manifest.get("sources") != source_hashes(knowledge_dir, index.manifest):
        return f"the pages, glossary or examples in {knowledge_dir} changed"
    return None
