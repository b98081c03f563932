"""Building an index: pages → passages, sentences, words → vectors, BM25, inverted files.

A build is incremental by page: a page whose bytes did not change since the current build keeps
everything it contributed (its sections, passages, sentences, words, their vectors and BM25 rows),
copied by row ranges from the current build's files, never parsed or embedded again; only the
pages that changed are parsed, analysed and embedded, and within a changed page a passage whose
text did not change keeps its vectors. A text that comes many times in a build (a repeated
paragraph, a heading used on every section) is embedded and analysed once. The vectors are
written to the new build as they come, a block at a time, so no step holds a whole matrix, and
every step is linear in the passages.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import numpy as np

from bot.core.knowledge.documents import (
    MAX_PAGE_BYTES,
    DocumentError,
    KnowledgeDirError,
    Page,
    page_files,
    page_trail,
    read_page,
    section_titles,
    unexpected_error,
)
from bot.core.knowledge.embedders import DualEmbedder, Embedder, embed_groups
from bot.core.knowledge.examples import (
    EXAMPLES_FILE,
    ExamplesError,
    load_examples,
    resolve_sections,
)
from bot.core.knowledge.glossary import GLOSSARY_FILE, Glossary, GlossaryError, load_glossary
from bot.core.knowledge.index import (
    CURRENT,
    FORMAT_VERSION,
    BuildAbandoned,
    BuildFolder,
    BuildParts,
    BuildReport,
    IndexError_,
    IndexMissing,
    KnowledgeIndex,
    LinkSettings,
    Progress,
    Vocabulary,
    damaged_file,
    example_texts,
    load_index,
    sentence_spans,
    source_state,
    text_key,
    write_files,
)
from bot.core.knowledge.lexical import LexicalIndex, TermNumbering, analyse, content_words
from bot.core.knowledge.passages import build_passages, split_sentences
from bot.core.knowledge.rowfile import RowFile, RowWriter
from bot.core.knowledge.vectors import VectorSearch
from bot.core.language import detect_language
from bot.core.types import Citation, Passage

log = logging.getLogger("playbook.index")
GROUP_BATCH = 64  # passages embedded per call (with their sentences)
SENTENCE_DTYPE = np.float16


def sentence_text(sentence: str) -> str:
    """A sentence as it is embedded and shown: a list line without its ``- ``."""
    return sentence[2:] if sentence.startswith("- ") else sentence


@dataclass
class PageParts:
    """What one page contributes to an index. ``old_passage`` (≥ 0) locates an unchanged page
    in the previous build, whose rows are copied from there."""

    source: str
    digest: str
    sections: list[Citation]
    passages: list[Passage]
    languages: list[str]
    sentences: list[str]  # every passage's sentences, in order (a new page's only)
    sentence_counts: list[int]  # per passage
    words: list[str]  # a new page's distinct content words, in order of appearance
    word_languages: list[str] = field(default_factory=list)  # for a new page: each word's
    old_passage: int = -1
    old_sentence: int = -1
    old_words: np.ndarray | None = None  # an unchanged page's words, as previous numbers
    # For a changed page: the previous build's passage with the same text, per passage (-1).
    same_text: list[int] = field(default_factory=list)


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


def _previous(
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


def _reused_page(source: str, digest: str, previous: Previous) -> PageParts:
    rows = previous.pages[source]
    start, count = rows.passage, rows.passages
    index, starts = previous.index, previous.sentence_starts
    first = int(starts[start])
    words = index.page_words[rows.number]
    return PageParts(
        source=source,
        digest=digest,
        sections=index.sections[rows.section : rows.section + rows.sections],
        passages=index.passages[start : start + count],
        languages=index.languages[start : start + count],
        sentences=[],  # not needed: the vectors and spans are copied
        sentence_counts=np.diff(starts[start : start + count + 1]).tolist(),
        words=[],  # not needed: ``old_words`` numbers them in the previous vocabulary
        old_passage=start,
        old_sentence=first,
        old_words=words,
    )


def _new_page(page: Page, digest: str, previous: Previous | None) -> PageParts:
    passages = build_passages(page.sections)
    language_of: dict[str, str] = {}  # a text repeated on the page is read once
    for passage in passages:
        if passage.text not in language_of:
            language_of[passage.text] = detect_language(passage.text)
    languages = [language_of[p.text] for p in passages]
    words: dict[str, str] = {}
    read: set[str] = set()
    for passage, lang in zip(passages, languages, strict=True):
        if passage.embedding_text in read:
            continue
        read.add(passage.embedding_text)
        for word in content_words(passage.embedding_text):
            words.setdefault(word, lang)
    groups = [[sentence_text(s) for s in split_sentences(p.text)] for p in passages]
    known = previous.passage_rows if previous else {}
    return PageParts(
        source=page.source,
        digest=digest,
        sections=[s.citation for s in page.sections],
        passages=passages,
        languages=languages,
        sentences=[s for group in groups for s in group],
        sentence_counts=[len(group) for group in groups],
        words=list(words),
        word_languages=list(words.values()),
        same_text=[known.get(text_key(p.embedding_text), -1) for p in passages],
    )


def page_digest(file_hash: str, trail: tuple[str, ...]) -> str:
    """What tells an unchanged page: its file's hash and, when it has one, the site's
    sections above it (a parent ``_index.md`` retitled changes its citations too)."""
    if not file_hash or not trail:
        return file_hash
    return f"{file_hash}:{text_key(chr(31).join(trail))}"


def _read_pages(
    files: list[tuple[Path, str]],
    hashes: dict[str, str],
    previous: Previous | None,
    base_url: str,
    root: str,
    max_bytes: int,
    check: Callable[[], None] = lambda: None,
) -> tuple[list[PageParts], list[DocumentError]]:
    """Every page's parts: unchanged pages from ``previous``, the others parsed now."""
    parts: list[PageParts] = []
    errors: list[DocumentError] = []
    titles = section_titles(files)
    for path, source in files:
        check()
        trail = page_trail(source, titles)
        digest = page_digest(hashes.get(source, ""), trail)
        if previous is not None and previous.unchanged(source, digest):
            parts.append(_reused_page(source, digest, previous))
            continue
        page = read_page(
            path, source, base_url=base_url, link_root=root, max_bytes=max_bytes, trail=trail
        )
        if isinstance(page, DocumentError):
            errors.append(page)
        elif not page.draft:
            try:
                parts.append(_new_page(page, digest, previous))
            except Exception as exc:  # one page never fails the others
                errors.append(unexpected_error(source, exc))
    return parts, errors


@dataclass
class _Pending:
    """Rows waiting to be written in order: copied ones (ranges of the previous build) and
    passages to embed, flushed when a batch of the latter is full."""

    items: list[tuple[str, int, int]] = field(default_factory=list)  # kind, start, count
    groups: list[list[str]] = field(default_factory=list)
    wholes: list[str] = field(default_factory=list)
    keys: list[str] = field(default_factory=list)  # per group: its text key
    copies: list[str] = field(default_factory=list)  # for "same" items: the text key


class _VectorStream:
    """Writes the passage and sentence vectors of the new build in passage order."""

    def __init__(
        self,
        folder: BuildFolder,
        embedder: Embedder,
        previous: Previous | None,
        shape: tuple[int, int],
        progress: Progress | None,
        todo: int,
        check: Callable[[], None] = lambda: None,
    ) -> None:
        self._check = check
        self._embedder = embedder
        self._old = previous
        passages, sentences = shape
        self._passages = RowWriter(folder.path / "vectors.npy", passages, embedder.dim)
        # Sentence vectors are the largest part of an index (three or four per passage): they
        # are stored as half-precision floats, which moves their cosines by about 1e-3 at most.
        self._sentences = RowWriter(
            folder.path / "sentences.npy", sentences, embedder.dim, SENTENCE_DTYPE
        )
        self._folder = folder
        self._pending = _Pending()
        self._progress = progress
        self._todo = todo
        self.embedded = 0
        # Passages of this build embedded so far, by text key: their first passage row, first
        # sentence row and sentence count. A passage with the same text is copied from there.
        self._rows: dict[str, tuple[int, int, int]] = {}
        self._queued: set[str] = set()  # text keys of the groups pending

    def copy(self, passage: int, count: int, sentence: int, sentences: int) -> None:
        """Copy ``count`` passages (from ``passage``) and their ``sentences`` sentences (from
        ``sentence``) of the previous build."""
        self._pending.items.append(("copy", passage, count))
        self._pending.items.append(("copy-sentences", sentence, sentences))

    def embed(self, passage: Passage, sentences: list[str], key: str) -> None:
        """Embed one passage and its sentences; ``key`` is the text key of what is embedded
        (``Passage.embedding_text``): a passage of this build with the same key is embedded
        once, the others copy its vectors."""
        pending = self._pending
        if key in self._rows or key in self._queued:
            pending.items.append(("same", len(pending.copies), len(sentences)))
            pending.copies.append(key)
            return
        self._queued.add(key)
        pending.items.append(("embed", len(pending.groups), len(sentences)))
        pending.groups.append([passage.citation.page_label, *sentences])
        pending.wholes.append(passage.embedding_text)
        pending.keys.append(key)
        if len(pending.groups) >= GROUP_BATCH:
            self.flush()

    def flush(self) -> None:
        """Write everything pending."""
        self._check()
        pending, self._pending = self._pending, _Pending()
        group_vectors = text_vectors = None
        if pending.groups:
            group_vectors, text_vectors = embed_groups(
                self._embedder, pending.groups, pending.wholes
            )
            self.embedded += len(pending.groups)
        starts = np.cumsum([0, *(len(g) for g in pending.groups)])
        old = self._old.index if self._old is not None else None
        for kind, start, count in pending.items:
            if kind == "copy" and old is not None:
                self._passages.write(old.vectors.range(start, start + count))
            elif kind == "copy-sentences" and old is not None:
                for at in range(start, start + count, 8192):
                    stop = min(start + count, at + 8192)
                    self._sentences.write(old.sentence_vectors.range(at, stop))
            elif kind == "embed" and group_vectors is not None and text_vectors is not None:
                row = (self._passages.written, self._sentences.written, count)
                self._rows[pending.keys[start]] = row
                self._passages.write(group_vectors[start])
                first = int(starts[start]) + 1  # the label's own vector is not kept
                self._sentences.write(text_vectors[first : first + count])
            elif kind == "same":
                passage, sentence, sentences = self._rows[pending.copies[start]]
                self._passages.write(self._passages.read(passage, passage + 1))
                self._sentences.write(self._sentences.read(sentence, sentence + sentences))
        self._queued.clear()
        if self._progress and pending.groups:
            self._progress(self.embedded, self._todo)

    def close(self) -> None:
        """Finish both files (their checksums go to the build folder)."""
        self.flush()
        self._folder.digests["vectors.npy"] = self._passages.close()
        self._folder.digests["sentences.npy"] = self._sentences.close()


def _write_vectors(
    parts: list[PageParts],
    embedder: Embedder,
    previous: Previous | None,
    folder: BuildFolder,
    progress: Progress | None,
    check: Callable[[], None] = lambda: None,
) -> tuple[int, np.ndarray]:
    """Write the passage and sentence vectors; returns how many passages were embedded and
    each passage's number in the previous build (-1 for an embedded one)."""
    origin: list[int] = []
    keys: list[list[str]] = []  # each new page's passages' text keys
    new: set[str] = set()  # the text keys of the passages to embed
    for page in parts:
        if page.old_passage >= 0:
            origin.extend(range(page.old_passage, page.old_passage + len(page.passages)))
            continue
        origin.extend(page.same_text)
        keys.append([text_key(p.embedding_text) for p in page.passages])
        new.update(k for k, same in zip(keys[-1], page.same_text, strict=True) if same < 0)
    todo = len(new)
    total_sentences = sum(sum(page.sentence_counts) for page in parts)
    stream = _VectorStream(
        folder, embedder, previous, (len(origin), total_sentences), progress, todo, check
    )
    if progress:
        progress(0, todo)
    starts = previous.sentence_starts if previous is not None else np.zeros(1, np.int64)
    new_pages = iter(keys)
    for page in parts:
        if page.old_passage >= 0:
            count = len(page.passages)
            stream.copy(page.old_passage, count, page.old_sentence, sum(page.sentence_counts))
            continue
        at = 0
        for passage, count, same, key in zip(
            page.passages, page.sentence_counts, page.same_text, next(new_pages), strict=True
        ):
            if same >= 0:
                stream.copy(same, 1, int(starts[same]), int(starts[same + 1] - starts[same]))
            else:
                stream.embed(passage, page.sentences[at : at + count], key)
            at += count
    stream.close()
    return stream.embedded, np.asarray(origin, np.int64)


def _embed_keyed(
    texts: Sequence[str], embedder: Embedder, old_texts: Sequence[str], old_vectors: np.ndarray
) -> tuple[np.ndarray, int]:
    """Vectors of ``texts`` by the primary encoder: a text of ``old_texts`` keeps its row of
    ``old_vectors``; the others are embedded, each distinct text once. Returns the matrix and
    how many texts were embedded."""
    row_of = {t: i for i, t in enumerate(old_texts)}
    out = np.zeros((len(texts), embedder.dim), np.float32)
    found = np.array([row_of.get(t, -1) for t in texts], np.int64)
    kept = np.flatnonzero(found >= 0)
    if kept.size:
        out[kept] = np.asarray(old_vectors)[found[kept]]
    # The new texts, each embedded once however often it comes (a heading used many times).
    first: dict[str, int] = {}
    for i in np.flatnonzero(found < 0).tolist():
        first.setdefault(texts[i], i)
    todo = np.array(list(first.values()), np.int64)
    embed = embedder.embed_primary if isinstance(embedder, DualEmbedder) else embedder.embed
    for start in range(0, len(todo), 256):
        batch = todo[start : start + 256]
        out[batch] = embed([texts[i] for i in batch])
    for i in np.flatnonzero(found < 0).tolist():
        if first[texts[i]] != i:
            out[i] = out[first[texts[i]]]
    return out, int(todo.size)


@dataclass
class _Words:
    """The build's vocabulary: words in order of first appearance, their index terms, each
    page's word numbers and each word's number in the previous build (-1: new)."""

    words: list[str]
    terms: list[list[str]]
    page_words: list[np.ndarray]
    origin: np.ndarray


def _vocabulary(parts: list[PageParts], previous: Previous | None) -> _Words:
    words: list[str] = []
    terms: list[list[str]] = []
    origin: list[int] = []
    old_words: list[str] = previous.index.vocabulary.words if previous else []
    old_terms = previous.index.vocabulary.terms if previous else []
    old_row = {w: i for i, w in enumerate(old_words)}
    remap = np.full(len(old_words), -1, np.int64)  # previous number → new number
    fresh: dict[str, int] = {}  # words the previous build did not have → new number
    page_words: list[np.ndarray] = []
    for page in parts:
        if page.old_words is not None:
            ids = np.asarray(page.old_words, np.int64)
            first = ids[remap[ids] < 0]
            remap[first] = np.arange(len(words), len(words) + len(first))
            words.extend(old_words[i] for i in first.tolist())
            terms.extend(old_terms[i] for i in first.tolist())
            origin.extend(first.tolist())
            page_words.append(remap[ids].astype(np.int32))
            continue
        numbers = []
        for word, lang in zip(page.words, page.word_languages, strict=True):
            old = old_row.get(word, -1)
            number = int(remap[old]) if old >= 0 else fresh.get(word, -1)
            if number < 0:
                number = len(words)
                if old >= 0:
                    remap[old] = number
                else:
                    fresh[word] = number
                words.append(word)
                terms.append(old_terms[old] if old >= 0 else analyse(word, lang))
                origin.append(old)
            numbers.append(number)
        page_words.append(np.asarray(numbers, np.int32))
    return _Words(words, terms, page_words, np.asarray(origin, np.int64))


def _lexical(parts: list[PageParts], previous: Previous | None) -> LexicalIndex:
    """BM25 over every passage: an unchanged page's rows copied from the previous build (in
    its term numbering, which the new one extends), the others analysed now."""
    old = previous.index.lexical if previous is not None else None
    numbering = TermNumbering(old.terms if old is not None else ())
    lengths: list[np.ndarray] = []
    ids: list[np.ndarray] = []
    counts: list[np.ndarray] = []
    for page in parts:
        if page.old_passage >= 0 and old is not None:
            page_lengths, page_ids, page_counts = old.rows(page.old_passage, len(page.passages))
            lengths.append(page_lengths)
            ids.append(page_ids)
            counts.append(page_counts)
            continue
        rows: dict[tuple[str, str], tuple[np.ndarray, np.ndarray]] = {}  # repeats read once
        for passage, lang in zip(page.passages, page.languages, strict=True):
            key = (passage.embedding_text, lang)
            if key not in rows:
                rows[key] = numbering.row(analyse(passage.embedding_text, lang))
            numbers, tf = rows[key]
            lengths.append(np.array([len(numbers)], np.int64))
            ids.append(numbers)
            counts.append(tf)
    per_passage = np.concatenate(lengths) if lengths else np.zeros(0, np.int64)
    indptr = np.zeros(len(per_passage) + 1, np.int64)
    np.cumsum(per_passage, out=indptr[1:])
    return LexicalIndex.from_arrays(
        numbering.terms,
        indptr,
        np.concatenate(ids).astype(np.int32) if ids else np.zeros(0, np.int32),
        np.concatenate(counts).astype(np.float32) if counts else np.zeros(0, np.float32),
    )


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

    vocabulary: _Words
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
    reusable = _previous(index_dir, embedder, settings, previous)
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
        embedded, passage_origin = _write_vectors(
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
    parts, errors = _read_pages(
        files, hashes, reusable, job.settings["base_url"], root, job.max_page_bytes, check
    )
    errors = [*unlisted, *errors]
    if not parts:
        detail = "; ".join(str(e) for e in errors) or "no *.md file"
        raise KnowledgeDirError(f"Nothing to index in {knowledge_dir}: {detail}")
    try:
        glossary = load_glossary(knowledge_dir)
    except GlossaryError as exc:
        glossary = Glossary()
        errors.append(DocumentError(GLOSSARY_FILE, str(exc)))
    titles = [c.section for page in parts for c in page.sections]
    try:
        examples, problems = resolve_sections(load_examples(knowledge_dir), titles)
    except ExamplesError as exc:
        examples, problems = [], [str(exc)]
    errors.extend(DocumentError(EXAMPLES_FILE, p) for p in problems)
    return _Sources(parts, hashes, stats, glossary, examples, errors)


def _embed_lookups(sources: _Sources, embedder: Embedder, previous: Previous | None) -> _Lookups:
    """The vocabulary and the vectors of words, section titles and example questions, each
    kept from ``previous`` where its text is there."""
    old = previous.index if previous is not None else None
    empty = np.zeros((0, embedder.dim), np.float32)
    vocabulary = _vocabulary(sources.parts, previous)
    word_vectors, words_embedded = _embed_keyed(
        vocabulary.words,
        embedder,
        old.vocabulary.words if old else [],
        old.vocabulary.vectors if old else empty,
    )
    title_vectors, titles_embedded = _embed_keyed(
        [c.section for c in sources.citations],
        embedder,
        [c.section for c in old.sections] if old else [],
        old.title_vectors if old else empty,
    )
    questions = example_texts([q for q, _ in sources.examples])
    example_vectors, examples_embedded = _embed_keyed(
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
        sentence_spans=_spans(parts, previous),
        vocabulary=Vocabulary(words.words, lookups.word_vectors, words.terms),
        vocabulary_search=VectorSearch.build(
            lookups.word_vectors, old.vocabulary_search.ivf if old else None, words.origin
        ),
        title_vectors=lookups.title_vectors,
        lexical=_lexical(parts, previous),
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


def _spans(parts: list[PageParts], previous: Previous | None) -> np.ndarray:
    """Each sentence's passage and character range, over the whole build."""
    blocks = []
    offset = 0
    for page in parts:
        if page.old_passage >= 0 and previous is not None:
            old = previous.index.sentences.spans
            block = np.array(old[page.old_sentence : page.old_sentence + sum(page.sentence_counts)])
            block[:, 0] += offset - page.old_passage
            blocks.append(block)
            offset += len(page.passages)
            continue
        groups, at = [], 0
        for count in page.sentence_counts:
            groups.append(page.sentences[at : at + count])
            at += count
        spans = sentence_spans([p.text for p in page.passages], groups)
        spans[:, 0] += offset
        blocks.append(spans)
        offset += len(page.passages)
    return np.concatenate(blocks) if blocks else np.zeros((0, 3), np.int64)
