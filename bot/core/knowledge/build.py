"""Building an index: pages → passages, sentences, words → vectors, BM25, inverted files.

A build is incremental by page: a page whose bytes did not change since the current build keeps
everything it contributed (its sections, passages, sentences, words, their vectors and BM25 rows),
copied by row ranges from the current build's files, never parsed or embedded again; only the
pages that changed are parsed, analysed and embedded, and within a changed page a passage whose
text did not change keeps its vectors. A text that comes many times in a build (a repeated
paragraph, a heading used on every section) is embedded and analysed once. The vectors are
written to the new build as they come, a block at a time, so no step holds a whole matrix, and
every step is linear in the passages.

The parts: ``previous`` (the current build, to reuse), ``page_parts`` (what each page
contributes), ``vector_stream`` (the vectors written as they come), ``build_tables`` (the
vocabulary, BM25 rows, spans and the vectors of words, titles and examples) and
``build_folder`` (the folder written and made current). This module runs them in order.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bot.core.knowledge.build_folder import (
    BuildFolder,
    BuildParts,
    BuildReport,
    example_texts,
    write_files,
)
from bot.core.knowledge.build_tables import (
    Words,
    build_lexical,
    build_spans,
    build_vocabulary,
    embed_keyed,
)
from bot.core.knowledge.documents import (
    MAX_PAGE_BYTES,
    DocumentError,
    KnowledgeDirError,
    page_files,
)
from bot.core.knowledge.embedders import Embedder
from bot.core.knowledge.examples import (
    EXAMPLES_FILE,
    Example,
    ExamplesError,
    load_examples,
    resolve_sections,
)
from bot.core.knowledge.glossary import GLOSSARY_FILE, Glossary, GlossaryError, load_glossary
from bot.core.knowledge.loaded import KnowledgeIndex, Vocabulary
from bot.core.knowledge.manifest import BuildAbandoned, LinkSettings, Progress
from bot.core.knowledge.page_parts import PageParts, read_pages
from bot.core.knowledge.previous import Previous, previous_build
from bot.core.knowledge.rowfile import RowFile
from bot.core.knowledge.sources import source_state
from bot.core.knowledge.vector_stream import write_vectors
from bot.core.knowledge.vectors import VectorSearch
from bot.core.types import Citation, Passage

log = logging.getLogger("playbook.index")


def _canceller(cancel: threading.Event | None) -> Callable[[], None]:
    """A check that raises ``BuildAbandoned`` once ``cancel`` is set."""

    def check() -> None:
        if cancel is not None and cancel.is_set():
            raise BuildAbandoned("the build was abandoned (the bot is stopping)")

    return check


@dataclass(frozen=True)
class _Job:
    """What ``build_index`` was asked to build, and when it started."""

    knowledge_dir: Path
    index_dir: Path
    embedder: Embedder
    settings: LinkSettings
    progress: Progress | None
    max_page_bytes: int
    cancel: threading.Event | None
    started: float


@dataclass(frozen=True)
class _Sources:
    """What the knowledge folder holds: each page's parts, the hashes and [size, mtime_ns]
    of the source files, the glossary, the examples that name a section, and every problem
    found (pages first, then the glossary's, then the examples')."""

    parts: list[PageParts]
    hashes: dict[str, str]
    stats: dict[str, list[int]]
    glossary: Glossary
    examples: list[tuple[str, tuple[int, ...]]]
    errors: list[DocumentError]

    @property
    def citations(self) -> list[Citation]:
        """Every section, in index order."""
        return [c for page in self.parts for c in page.sections]

    @property
    def passages(self) -> list[Passage]:
        """Every passage, in index order."""
        return [p for page in self.parts for p in page.passages]


@dataclass(frozen=True)
class _Lookups:
    """The build's vocabulary and the vectors of its words, its section titles and its
    example questions; ``embedded`` counts those embedded now (the others were kept)."""

    vocabulary: Words
    word_vectors: np.ndarray
    title_vectors: np.ndarray
    example_texts: list[str]
    example_vectors: np.ndarray
    embedded: int


def build_index(
    knowledge_dir: Path,
    index_dir: Path,
    embedder: Embedder,
    *,
    base_url: str = "",
    link_root: str | None = None,
    progress: Progress | None = None,
    previous: KnowledgeIndex | None = None,
    max_page_bytes: int = MAX_PAGE_BYTES,
    cancel: threading.Event | None = None,
) -> BuildReport:
    """Index every page under ``knowledge_dir`` into a new build folder of ``index_dir``.

    Unchanged pages and passages keep their vectors from the current build (``previous``, when
    the caller has it loaded, is not read again). Pages that fail to parse are reported in the
    result and left out. Raises ``KnowledgeDirError`` when no page can be read, and
    ``BuildAbandoned`` (nothing changed on disk) soon after ``cancel`` is set.
    """
    settings: LinkSettings = {"base_url": base_url, "link_root": link_root}
    job = _Job(
        knowledge_dir,
        index_dir,
        embedder,
        settings,
        progress,
        max_page_bytes,
        cancel,
        started=time.perf_counter(),
    )
    reusable = previous_build(index_dir, embedder, settings, previous)
    try:
        return _build(job, reusable)
    except (OSError, ValueError) as exc:
        if reusable is None or isinstance(exc, KnowledgeDirError):
            raise
        # The current build's files cannot be read (damaged or removed under a server that
        # still holds them): build again from the pages alone.
        log.warning(
            "The current index in %s cannot be read (%s); rebuilding it from the pages.",
            index_dir,
            exc,
        )
        return _build(job, None)


def _build(job: _Job, reusable: Previous | None) -> BuildReport:
    """``build_index`` with the previous build to reuse already chosen (or none)."""
    check = _canceller(job.cancel)
    sources = _read_sources(job, reusable, check)
    with BuildFolder(job.index_dir) as folder:
        embedded, passage_origin = write_vectors(
            sources.parts, job.embedder, reusable, folder, job.progress, check
        )
        lookups = _embed_lookups(sources, job.embedder, reusable)
        parts = _build_parts(job, sources, lookups, reusable, folder, passage_origin)
        write_files(folder, parts)
        build = folder.commit()
    embedded += lookups.embedded
    passages, sections = len(parts.passages), len(parts.sections)
    total = passages + len(parts.vocabulary.words) + sections + len(lookups.example_texts)
    return BuildReport(
        passages=passages,
        sections=sections,
        pages=len(sources.parts),
        embedded=embedded,
        reused=total - embedded,
        seconds=time.perf_counter() - job.started,
        errors=tuple(sources.errors),
        path=build,
    )


def _read_sources(job: _Job, reusable: Previous | None, check: Callable[[], None]) -> _Sources:
    """Read the knowledge folder: the pages (unchanged ones from ``reusable``), the glossary
    and the examples. Raises ``KnowledgeDirError`` when no page can be read."""
    knowledge_dir = job.knowledge_dir
    unlisted: list[DocumentError] = []
    files = page_files(knowledge_dir, unlisted)
    manifest = reusable.index.manifest if reusable else None
    hashes, stats = source_state(knowledge_dir, manifest, files)
    link_root = job.settings["link_root"]
    root = str(knowledge_dir) if link_root is None else link_root
    parts, errors = read_pages(
        files, hashes, reusable, job.settings["base_url"], root, job.max_page_bytes, check
    )
    errors = [*unlisted, *errors]
    if not parts:
        detail = "; ".join(str(e) for e in errors) or "no *.md file"
        raise KnowledgeDirError(f"Nothing to index in {knowledge_dir}: {detail}")
    # A glossary or examples file that no longer reads keeps its last good version (the
    # previous build's), named in the errors; without one, the build goes on without it.
    kept = "; its last good version is kept" if reusable else ""
    try:
        glossary = load_glossary(knowledge_dir)
    except GlossaryError as exc:
        glossary = reusable.index.glossary if reusable else Glossary()
        errors.append(DocumentError(GLOSSARY_FILE, f"{exc}{kept}"))
    titles = [c.section for page in parts for c in page.sections]
    try:
        examples, problems = resolve_sections(load_examples(knowledge_dir), titles)
    except ExamplesError as exc:
        examples, _ = resolve_sections(_previous_examples(reusable), titles)
        problems = [f"{exc}{kept}"]
    errors.extend(DocumentError(EXAMPLES_FILE, p) for p in problems)
    return _Sources(parts, hashes, stats, glossary, examples, errors)


def _previous_examples(reusable: Previous | None) -> list[Example]:
    """The previous build's example questions, with the titles of their sections."""
    if reusable is None:
        return []
    index = reusable.index
    return [
        Example(question, tuple(index.sections[n].section for n in numbers))
        for question, numbers in zip(index.examples, index.example_sections, strict=True)
    ]


def _embed_lookups(sources: _Sources, embedder: Embedder, previous: Previous | None) -> _Lookups:
    """The vocabulary and the vectors of words, section titles and example questions, each
    kept from ``previous`` where its text is there."""
    old = previous.index if previous is not None else None
    empty = np.zeros((0, embedder.dim), np.float32)
    vocabulary = build_vocabulary(sources.parts, previous)
    word_vectors, words_embedded = embed_keyed(
        vocabulary.words,
        embedder,
        old.vocabulary.words if old else [],
        old.vocabulary.vectors if old else empty,
    )
    title_vectors, titles_embedded = embed_keyed(
        [c.section for c in sources.citations],
        embedder,
        [c.section for c in old.sections] if old else [],
        old.title_vectors if old else empty,
    )
    questions = example_texts([q for q, _ in sources.examples])
    example_vectors, examples_embedded = embed_keyed(
        questions,
        embedder,
        example_texts(old.examples) if old else [],
        old.example_vectors if old else empty,
    )
    embedded = words_embedded + titles_embedded + examples_embedded
    return _Lookups(vocabulary, word_vectors, title_vectors, questions, example_vectors, embedded)


def _build_parts(
    job: _Job,
    sources: _Sources,
    lookups: _Lookups,
    previous: Previous | None,
    folder: BuildFolder,
    passage_origin: np.ndarray,
) -> BuildParts:
    """Everything ``write_files`` writes, once the vectors are in ``folder``."""
    parts = sources.parts
    old = previous.index if previous is not None else None
    citations, passages = sources.citations, sources.passages
    section_number = {c.link: n for n, c in enumerate(citations)}
    words = lookups.vocabulary
    return BuildParts(
        passages=passages,
        languages=[lang for page in parts for lang in page.languages],
        sections=citations,
        section_sources=[p.source for p in parts for _ in p.sections],
        passage_section=[section_number[p.citation.link] for p in passages],
        passage_search=VectorSearch.build(
            RowFile(folder.path / "vectors.npy"), old.dense.ivf if old else None, passage_origin
        ),
        sentence_spans=build_spans(parts, previous),
        vocabulary=Vocabulary(words.words, lookups.word_vectors, words.terms),
        vocabulary_search=VectorSearch.build(
            lookups.word_vectors, old.vocabulary_search.ivf if old else None, words.origin
        ),
        title_vectors=lookups.title_vectors,
        lexical=build_lexical(parts, previous),
        glossary=sources.glossary,
        examples=sources.examples,
        example_vectors=lookups.example_vectors,
        pages=[
            {
                "source": p.source,
                "digest": p.digest,
                "passages": len(p.passages),
                "sections": len(p.sections),
            }
            for p in parts
        ],
        page_words=words.page_words,
        embedder={"id": job.embedder.id, "dim": job.embedder.dim},
        sources=sources.hashes,
        stats=sources.stats,
        settings=job.settings,
        errors=[str(e) for e in sources.errors],
    )
