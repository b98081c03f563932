"""The on-disk index: FAISS vectors + BM25 + passages, with a manifest; build, load, check.

Layout of ``PLAYBOOK_INDEX_DIR``: one folder per build (``v-<time>``) and a ``CURRENT`` file naming
the live one. A build writes a new folder beside the old one and then replaces ``CURRENT``
atomically, so a reader sees either the old index or the new one, never half of one.

This module loads the current build (``load_index``, which checks it) and tells when it no
longer matches the knowledge folder (``stale_reason``); it also names, for its importers, what
its neighbours hold: ``manifest`` (format, errors, schemas, checksums), ``loaded`` (the loaded
``KnowledgeIndex``), ``sources`` (the source files' state) and ``build_folder`` (writing a
build).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import numpy as np
import orjson

from bot.core.knowledge.build_folder import (
    LOCK,
    BuildFolder,
    BuildParts,
    BuildReport,
    example_texts,
    remove_abandoned_builds,
    write_files,
)
from bot.core.knowledge.glossary import Glossary, GlossaryError
from bot.core.knowledge.lexical import LexicalIndex
from bot.core.knowledge.loaded import KnowledgeIndex, Sentences, Vocabulary, sentence_spans
from bot.core.knowledge.manifest import (
    CURRENT,
    FORMAT_VERSION,
    BuildAbandoned,
    EmbedderInfo,
    IndexCorrupt,
    IndexError_,
    IndexMissing,
    LinkSettings,
    Manifest,
    PageRecord,
    Progress,
    StoredExample,
    StoredPassage,
    StoredSection,
    StoredTexts,
    damaged_file,
    file_checksum,
    text_key,
)
from bot.core.knowledge.rowfile import RowFile
from bot.core.knowledge.sources import RACY_NS, source_files, source_hashes, source_state
from bot.core.knowledge.vectors import VectorSearch
from bot.core.types import Citation, Passage

__all__ = [
    "CURRENT",
    "FORMAT_VERSION",
    "LOCK",
    "RACY_NS",
    "BuildAbandoned",
    "BuildFolder",
    "BuildParts",
    "BuildReport",
    "EmbedderInfo",
    "IndexCorrupt",
    "IndexError_",
    "IndexMissing",
    "KnowledgeIndex",
    "LinkSettings",
    "Manifest",
    "PageRecord",
    "Progress",
    "Sentences",
    "StoredExample",
    "StoredPassage",
    "StoredSection",
    "StoredTexts",
    "Vocabulary",
    "damaged_file",
    "example_texts",
    "file_checksum",
    "load_index",
    "remove_abandoned_builds",
    "sentence_spans",
    "source_files",
    "source_hashes",
    "source_state",
    "stale_reason",
    "text_key",
    "write_files",
]


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
