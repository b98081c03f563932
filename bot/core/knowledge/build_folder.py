"""Writing a build: its temporary folder (locked while it is written, removed if the build
fails or dies), the files and manifest it writes, the atomic switch of ``CURRENT`` to it and
the pruning of older builds; ``BuildReport`` is what a build did."""

from __future__ import annotations

import fcntl
import os
import shutil
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import orjson

from bot.core.knowledge.examples import query_texts
from bot.core.knowledge.glossary import Glossary
from bot.core.knowledge.lexical import LexicalIndex
from bot.core.knowledge.loaded import Vocabulary
from bot.core.knowledge.manifest import (
    CURRENT,
    FORMAT_VERSION,
    EmbedderInfo,
    LinkSettings,
    Manifest,
    PageRecord,
    StoredTexts,
)
from bot.core.knowledge.rowfile import save_array, save_bytes
from bot.core.knowledge.site_tree import DocumentError
from bot.core.knowledge.vectors import VectorSearch
from bot.core.types import Citation, Passage


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
