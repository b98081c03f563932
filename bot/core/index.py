"""The on-disk index: FAISS vectors + BM25 + passages, with a manifest; build, load, check.

Layout of ``PLAYBOOK_INDEX_DIR``: one folder per build (``v-<time>``) and a ``CURRENT`` file naming
the live one. A build writes a new folder beside the old one and then replaces ``CURRENT``
atomically, so a reader sees either the old index or the new one, never half of one.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from bot.core.documents import DocumentError, KnowledgeDirError, load_pages
from bot.core.embedders import Embedder
from bot.core.examples import (
    EXAMPLES_FILE,
    ExamplesError,
    load_examples,
    query_texts,
    resolve_sections,
)
from bot.core.glossary import GLOSSARY_FILE, Glossary, GlossaryError, load_glossary
from bot.core.language import detect_language
from bot.core.lexical import LexicalIndex, analyse, content_words
from bot.core.passages import build_passages, split_sentences
from bot.core.types import Citation, Passage

FORMAT_VERSION = 5  # bump whenever parsing, chunking or the stored layout changes
CURRENT = "CURRENT"
_FILES = (
    "passages.json",
    "dense.faiss",
    "sentences.npy",
    "vocabulary.npy",
    "titles.npy",
    "examples.npy",
)
EMBED_BATCH = 64

Progress = Callable[[int, int], None]


class IndexError_(Exception):
    """Base of the index's errors (named so as not to shadow the builtin ``IndexError``)."""


class IndexMissing(IndexError_):
    """No index has been built in this folder yet."""


class IndexCorrupt(IndexError_):
    """The index on disk cannot be read or fails its checks."""


@dataclass(frozen=True)
class Vocabulary:
    """The pages' content words, their vectors and index terms (for cross-lingual expansion)."""

    words: list[str]
    vectors: np.ndarray  # (len(words), dim) unit rows
    terms: list[list[str]]


@dataclass
class KnowledgeIndex:
    """A loaded index: passages with their dense and lexical representations."""

    manifest: dict
    passages: list[Passage]
    languages: list[str]
    sections: list[Citation]
    vectors: np.ndarray  # (n, dim) unit rows, one per passage
    sentences: list[str]
    sentence_owner: np.ndarray  # (m,) passage number of each sentence
    sentence_vectors: np.ndarray  # (m, dim) unit rows
    lexical: LexicalIndex
    vocabulary: Vocabulary
    title_vectors: np.ndarray  # (len(sections), dim) unit rows: each section's title
    passage_section: np.ndarray  # (n,) number in ``sections`` of each passage's section
    path: Path
    glossary: Glossary = field(default_factory=Glossary)
    # The team's example questions (examples.yaml), the section numbers each points to, and
    # the vectors of their two query texts: every question's row, then every keywords' row.
    examples: list[str] = field(default_factory=list)
    example_sections: list[tuple[int, ...]] = field(default_factory=list)
    example_vectors: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), np.float32))
    dense: object = field(repr=False, default=None)  # faiss.IndexFlatIP over ``vectors``

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


def _text_key(text: str) -> str:
    return _sha256(text.encode())[:24]


def source_hashes(knowledge_dir: Path) -> dict[str, str]:
    """Hash of every ``*.md`` file under ``knowledge_dir``, of the glossary and of the example
    questions, by POSIX path relative to it."""
    if not knowledge_dir.is_dir():
        return {}
    hashes = {}
    paths = [
        *sorted(knowledge_dir.rglob("*.md")),
        knowledge_dir / GLOSSARY_FILE,
        knowledge_dir / EXAMPLES_FILE,
    ]
    for path in paths:
        if path.is_file():
            with contextlib.suppress(OSError):
                hashes[path.relative_to(knowledge_dir).as_posix()] = _sha256(path.read_bytes())
    return hashes


def _current_dir(index_dir: Path) -> Path:
    pointer = index_dir / CURRENT
    if not pointer.is_file():
        raise IndexMissing(f"No index in {index_dir}")
    name = pointer.read_text(encoding="utf-8").strip()
    if not name or "/" in name or not (index_dir / name).is_dir():
        raise IndexCorrupt(f"{pointer} names a build folder that does not exist ({name!r})")
    return index_dir / name


def _item_keys(texts: Sequence[str], primary: Sequence[bool], embedder: Embedder) -> list[str]:
    """Cache keys: the text's hash, marked when only the primary encoder embedded it."""
    split = hasattr(embedder, "embed_primary")
    return [
        _text_key(f"primary:{text}" if flag and split else text)
        for text, flag in zip(texts, primary, strict=True)
    ]


def _primary_flags(passages: int, sentences: int, others: int) -> list[bool]:
    """Which texts only need the primary encoder: vocabulary words, titles and example
    questions (search reads their primary half only), not passages and sentences."""
    return [False] * (passages + sentences) + [True] * others


def _example_texts(questions: Sequence[str]) -> list[str]:
    """Every example's question, then every example's keywords (``query_texts``)."""
    pairs = [query_texts(q) for q in questions]
    return [q for q, _ in pairs] + [k for _, k in pairs]


def _old_vectors(index_dir: Path, embedder: Embedder) -> dict[str, np.ndarray]:
    """Vectors of the current index by text hash, to re-embed only what changed."""
    try:
        index = load_index(index_dir)
    except IndexError_:
        return {}
    if index.embedder_id != embedder.id or index.manifest.get("format") != FORMAT_VERSION:
        return {}
    texts = [p.embedding_text for p in index.passages] + index.sentences + index.vocabulary.words
    texts += [c.section for c in index.sections] + _example_texts(index.examples)
    flags = _primary_flags(
        len(index.passages),
        len(index.sentences),
        len(texts) - len(index.passages) - len(index.sentences),
    )
    vectors = np.vstack(
        [
            index.vectors,
            index.sentence_vectors,
            index.vocabulary.vectors,
            index.title_vectors,
            index.example_vectors.reshape(-1, index.vectors.shape[1]),
        ]
    )
    keys = _item_keys(texts, flags, embedder)
    return dict(zip(keys, vectors, strict=True))


def _embed_all(
    texts: Sequence[str],
    primary: Sequence[bool],
    embedder: Embedder,
    cache: dict[str, np.ndarray],
    progress: Progress | None,
) -> tuple[np.ndarray, int]:
    """Embed ``texts``, taking vectors from ``cache`` where the text is unchanged; texts flagged
    in ``primary`` go through the embedder's primary encoder alone when it has one."""
    keys = _item_keys(texts, primary, embedder)
    todo = sorted({k: i for i, k in reversed(list(enumerate(keys))) if k not in cache}.values())
    embed_primary = getattr(embedder, "embed_primary", embedder.embed)
    done = 0
    if progress:
        progress(0, len(todo))
    for part, embed in ((False, embedder.embed), (True, embed_primary)):
        chosen = [i for i in todo if bool(primary[i]) == part]
        for start in range(0, len(chosen), EMBED_BATCH):
            batch = chosen[start : start + EMBED_BATCH]
            vectors = embed([texts[i] for i in batch])
            for i, vector in zip(batch, vectors, strict=True):
                cache[keys[i]] = vector
            done += len(batch)
            if progress:
                progress(done, len(todo))
    matrix = np.zeros((len(texts), embedder.dim), dtype=np.float32)
    for row, key in enumerate(keys):
        matrix[row] = cache[key]
    return matrix, len(todo)


def _sentence_text(sentence: str) -> str:
    return sentence[2:] if sentence.startswith("- ") else sentence


def build_index(
    knowledge_dir: Path,
    index_dir: Path,
    embedder: Embedder,
    *,
    base_url: str = "",
    link_root: str | None = None,
    progress: Progress | None = None,
) -> BuildReport:
    """Index every page under ``knowledge_dir`` into a new build folder of ``index_dir``.

    Unchanged passages keep their vectors from the current build. Pages that fail to parse are
    reported in the result and left out. Raises ``KnowledgeDirError`` when no page can be read.
    """
    started = time.perf_counter()
    hashes = source_hashes(knowledge_dir)
    pages, errors = load_pages(knowledge_dir, base_url=base_url, link_root=link_root)
    if not pages:
        detail = "; ".join(str(e) for e in errors) or "no *.md file"
        raise KnowledgeDirError(f"Nothing to index in {knowledge_dir}: {detail}")
    try:
        glossary = load_glossary(knowledge_dir)
    except GlossaryError as exc:
        glossary = Glossary()
        errors = [*errors, DocumentError(GLOSSARY_FILE, str(exc))]
    sections = [s for page in pages for s in page.sections]
    try:
        examples, problems = resolve_sections(
            load_examples(knowledge_dir), [s.citation.section for s in sections]
        )
    except ExamplesError as exc:
        examples, problems = [], [str(exc)]
    errors = [*errors, *(DocumentError(EXAMPLES_FILE, p) for p in problems)]
    passages = build_passages(sections)
    languages = [detect_language(p.text) for p in passages]
    sentences: list[str] = []
    owner: list[int] = []
    spans: list[tuple[int, int]] = []
    for number, passage in enumerate(passages):
        start = len(sentences)
        for sentence in split_sentences(passage.text):
            sentences.append(_sentence_text(sentence))
            owner.append(number)
        spans.append((start, len(sentences)))

    vocabulary: dict[str, list[str]] = {}
    for passage, lang in zip(passages, languages, strict=True):
        for word in content_words(passage.embedding_text):
            if word not in vocabulary:
                vocabulary[word] = analyse(word, lang)

    citations = [s.citation for s in sections]
    section_number = {c.link: number for number, c in enumerate(citations)}
    passage_section = [section_number[p.citation.link] for p in passages]

    cache = _old_vectors(index_dir, embedder)
    texts = [p.embedding_text for p in passages] + sentences + list(vocabulary)
    texts += [c.section for c in citations] + _example_texts([q for q, _ in examples])
    flags = _primary_flags(
        len(passages), len(sentences), len(texts) - len(passages) - len(sentences)
    )
    total = len(texts)
    matrix, embedded = _embed_all(texts, flags, embedder, cache, progress)
    cuts = np.cumsum([len(passages), len(sentences), len(vocabulary), len(citations)])
    parts = np.split(matrix, cuts)
    vectors, sentence_vectors, vocabulary_vectors, title_vectors, example_vectors = parts
    lexical = LexicalIndex.build(
        [analyse(p.embedding_text, lang) for p, lang in zip(passages, languages, strict=True)]
    )

    index_dir.mkdir(parents=True, exist_ok=True)
    build = index_dir / f"v-{time.time_ns()}"
    tmp = index_dir / f".tmp-{build.name}"
    tmp.mkdir()
    try:
        _write_build(
            tmp,
            passages=passages,
            languages=languages,
            sections=citations,
            title_vectors=title_vectors,
            passage_section=passage_section,
            vectors=vectors,
            sentences=sentences,
            owner=owner,
            spans=spans,
            sentence_vectors=sentence_vectors,
            vocabulary=Vocabulary(list(vocabulary), vocabulary_vectors, list(vocabulary.values())),
            lexical=lexical,
            glossary=glossary,
            examples=examples,
            example_vectors=example_vectors,
            manifest_extra={
                "embedder": {"id": embedder.id, "dim": embedder.dim},
                "sources": hashes,
                "settings": {"base_url": base_url, "link_root": link_root},
                "errors": [str(e) for e in errors],
            },
        )
        tmp.rename(build)
        pointer = index_dir / f".{CURRENT}.tmp"
        pointer.write_text(build.name, encoding="utf-8")
        os.replace(pointer, index_dir / CURRENT)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    _prune(index_dir, keep=build.name)
    return BuildReport(
        passages=len(passages),
        sections=len(sections),
        pages=len(pages),
        embedded=embedded,
        reused=total - embedded,
        seconds=time.perf_counter() - started,
        errors=tuple(errors),
        path=build,
    )


def _write_build(folder: Path, **parts) -> None:
    import faiss

    passages: list[Passage] = parts["passages"]
    records = [
        {
            "id": p.id,
            "text": p.text,
            "source": p.source,
            "language": lang,
            "section": p.citation.section,
            "breadcrumb": list(p.citation.breadcrumb),
            "link": p.citation.link,
            "section_number": number,
        }
        for p, lang, number in zip(
            passages, parts["languages"], parts["passage_section"], strict=True
        )
    ]
    sections = [
        {"section": c.section, "breadcrumb": list(c.breadcrumb), "link": c.link}
        for c in parts["sections"]
    ]
    vocabulary: Vocabulary = parts["vocabulary"]
    payload = {
        "passages": records,
        "sections": sections,
        "sentences": parts["sentences"],
        "vocabulary": [[w, t] for w, t in zip(vocabulary.words, vocabulary.terms, strict=True)],
        "glossary": parts["glossary"].to_json(),
        "examples": [{"question": q, "sections": list(n)} for q, n in parts["examples"]],
    }
    (folder / "passages.json").write_text(json.dumps(payload, ensure_ascii=False), "utf-8")
    dense = faiss.IndexFlatIP(parts["vectors"].shape[1])
    dense.add(parts["vectors"])
    faiss.write_index(dense, str(folder / "dense.faiss"))
    np.save(folder / "sentences.npy", parts["sentence_vectors"], allow_pickle=False)
    np.save(folder / "vocabulary.npy", vocabulary.vectors, allow_pickle=False)
    np.save(folder / "titles.npy", parts["title_vectors"], allow_pickle=False)
    np.save(folder / "examples.npy", parts["example_vectors"], allow_pickle=False)
    parts["lexical"].save(folder / "bm25")
    manifest = {
        "format": FORMAT_VERSION,
        "built_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "passages": [{"id": p.id, "hash": _text_key(p.embedding_text)} for p in passages],
        "sentence_owner": parts["owner"],
        "sentence_spans": parts["spans"],
        "files": {name: _sha256((folder / name).read_bytes()) for name in _FILES},
        **parts["manifest_extra"],
    }
    (folder / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False), "utf-8")


def _prune(index_dir: Path, keep: str) -> None:
    """Remove older build folders, keeping ``keep`` and the one before it (readers may hold it)."""
    builds = sorted(p for p in index_dir.glob("v-*") if p.is_dir() and p.name != keep)
    for old in builds[:-1]:
        shutil.rmtree(old, ignore_errors=True)


def load_index(index_dir: Path) -> KnowledgeIndex:
    """Load the current build of ``index_dir``.

    Raises ``IndexMissing`` when there is none and ``IndexCorrupt`` when it fails its checks.
    """
    folder = _current_dir(index_dir)
    try:
        manifest = json.loads((folder / "manifest.json").read_text("utf-8"))
        if manifest.get("format") != FORMAT_VERSION:
            raise IndexCorrupt(
                f"index format {manifest.get('format')} is not this version's ({FORMAT_VERSION})"
            )
        for name, digest in manifest["files"].items():
            if _sha256((folder / name).read_bytes()) != digest:
                raise IndexCorrupt(f"{name} does not match its checksum")
        return _read_build(folder, manifest)
    except IndexCorrupt:
        raise
    except (OSError, ValueError, KeyError, TypeError, RuntimeError) as exc:
        raise IndexCorrupt(f"cannot read the index in {folder}: {exc}") from exc


def _read_build(folder: Path, manifest: dict) -> KnowledgeIndex:
    import faiss

    payload = json.loads((folder / "passages.json").read_text("utf-8"))
    passages = [
        Passage(
            id=r["id"],
            text=r["text"],
            source=r["source"],
            citation=Citation(r["section"], tuple(r["breadcrumb"]), r["link"]),
        )
        for r in payload["passages"]
    ]
    dense = faiss.read_index(str(folder / "dense.faiss"))
    vectors = dense.reconstruct_n(0, dense.ntotal) if dense.ntotal else np.zeros((0, dense.d))
    sentence_vectors = np.load(folder / "sentences.npy", allow_pickle=False)
    owner = np.asarray(manifest["sentence_owner"], dtype=np.int64)
    vocabulary = Vocabulary(
        words=[w for w, _ in payload["vocabulary"]],
        vectors=np.ascontiguousarray(
            np.load(folder / "vocabulary.npy", allow_pickle=False), dtype=np.float32
        ),
        terms=[t for _, t in payload["vocabulary"]],
    )
    title_vectors = np.load(folder / "titles.npy", allow_pickle=False)
    examples = payload["examples"]
    example_vectors = np.load(folder / "examples.npy", allow_pickle=False)
    if not (
        len(example_vectors) == 2 * len(examples)
        and all(0 <= n < len(title_vectors) for e in examples for n in e["sections"])
        and len(title_vectors) == len(payload["sections"])
        and len(passages) == dense.ntotal == len(manifest["passages"])
        and len(payload["sentences"]) == len(sentence_vectors) == len(owner)
        and len(vocabulary.words) == len(vocabulary.vectors)
        and dense.d == manifest["embedder"]["dim"]
    ):
        raise IndexCorrupt("the index's parts do not agree in size")
    return KnowledgeIndex(
        manifest=manifest,
        passages=passages,
        languages=[r["language"] for r in payload["passages"]],
        sections=[
            Citation(s["section"], tuple(s["breadcrumb"]), s["link"]) for s in payload["sections"]
        ],
        vectors=np.ascontiguousarray(vectors, dtype=np.float32),
        sentences=payload["sentences"],
        sentence_owner=owner,
        sentence_vectors=np.ascontiguousarray(sentence_vectors, dtype=np.float32),
        lexical=LexicalIndex.load(folder / "bm25", len(passages)),
        vocabulary=vocabulary,
        title_vectors=np.ascontiguousarray(title_vectors, dtype=np.float32),
        passage_section=np.asarray(
            [r["section_number"] for r in payload["passages"]], dtype=np.int64
        ),
        path=folder,
        dense=dense,
        glossary=_read_glossary(payload.get("glossary", [])),
        examples=[e["question"] for e in examples],
        example_sections=[tuple(e["sections"]) for e in examples],
        example_vectors=np.ascontiguousarray(example_vectors, dtype=np.float32),
    )


def _read_glossary(entries: list) -> Glossary:
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
    if index.manifest.get("sources") != source_hashes(knowledge_dir):
        return f"the pages, glossary or examples in {knowledge_dir} changed"
    return None
