"""Streaming a build's passage and sentence vectors to its files, in passage order, a block at
a time: an unchanged page's rows copied by ranges from the previous build, a passage whose
text is known copied from where it is, the others embedded in batches (each text once)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from bot.core.knowledge.build_folder import BuildFolder
from bot.core.knowledge.embedders import Embedder, embed_groups
from bot.core.knowledge.manifest import Progress, text_key
from bot.core.knowledge.page_parts import PageParts
from bot.core.knowledge.previous import Previous
from bot.core.knowledge.rowfile import RowWriter
from bot.core.types import Passage

# Passages embedded per call (with their sentences). A shutdown abandons a build between two
# calls, so a call is kept short: 16 passages take about 1 s on 2 idle cores.
GROUP_BATCH = 16
SENTENCE_DTYPE = np.float16


@dataclass
class _Pending:
    """Rows waiting to be written in order: copied ones (ranges of the previous build) and
    passages to embed, flushed when a batch of the latter is full."""

    items: list[tuple[str, int, int]] = field(default_factory=list)  # kind, start, count
    groups: list[list[str]] = field(default_factory=list)
    wholes: list[str] = field(default_factory=list)
    keys: list[str] = field(default_factory=list)  # per group: its text key
    copies: list[str] = field(default_factory=list)  # for "same" items: the text key


class VectorStream:
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


def write_vectors(
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
    stream = VectorStream(
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
