"""Live knowledge: notice a changed knowledge base and swap in a new index without a restart.

A change is an edited, added or removed page, curated checklist, glossary or examples file, or a
new build published by another process (``playbook index``). The new index is built beside the old
one while questions are still answered from the old one. A file that fails to parse is skipped and
named (in the log, the admin's reindex reply and ``/healthz``) and the rest loads: one bad file
never holds back the others' edits. A page, the glossary or the examples that an edit broke keep
their last good version.
"""

from __future__ import annotations

import contextlib
import logging
import stat
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from bot.config import Settings
from bot.core.assistant import Assistant
from bot.core.knowledge.boundary import file_digest
from bot.core.knowledge.documents import DocumentError, PageCache
from bot.core.knowledge.examples import EXAMPLES_FILE
from bot.core.knowledge.glossary import GLOSSARY_FILE
from bot.core.knowledge.index import CURRENT, BuildAbandoned, load_index, source_hashes
from bot.core.messages import message
from bot.core.metrics import Metrics
from bot.core.retrieval.engine import build
from bot.core.team.checklists import CURATED_DIR, load_checklists
from bot.core.team.lookup import ChecklistBook

log = logging.getLogger("playbook.reload")
# /healthz reports an index that could not be refreshed for longer than this (seconds): a
# broken page keeps the old index serving, which is right for a while, not for good.
STALE_AFTER = 300.0


@dataclass(frozen=True)
class ReloadResult:
    """What a reload did: whether the new knowledge is live, and the errors that kept it out."""

    swapped: bool
    reason: str
    passages: int = 0
    errors: tuple[DocumentError, ...] = ()

    def describe(self, language: str = "en") -> str:
        """One line for a log or an admin, in ``language``."""
        if self.swapped:
            done = message(language, "reload_done", reason=self.reason, passages=self.passages)
            if not self.errors:
                return done
            listed = "; ".join(str(e) for e in self.errors)
            return f"{done} {message(language, 'reload_skipped', errors=listed)}"
        if self.errors:
            listed = "; ".join(str(e) for e in self.errors)
            return message(language, "reload_failed", reason=self.reason, errors=listed)
        return message(language, "reload_unchanged", reason=self.reason)


def skipped_files(built: list[str], found: list[DocumentError]) -> tuple[DocumentError, ...]:
    """What a build left out (its manifest's ``errors``, "path: reason") and the other files
    found bad (``found``), one entry per file, the build's first."""
    by_path: dict[str, DocumentError] = {}
    for line in built:
        path, _, reason = line.partition(": ")
        by_path.setdefault(path, DocumentError(path, reason))
    for error in found:
        by_path.setdefault(error.path, error)
    return tuple(by_path.values())


Signature = tuple[tuple[str, int, int], ...]  # every file's path, size and mtime (ns)


def _signature(knowledge_dir: Path) -> Signature:
    """A cheap fingerprint of the knowledge directory: every entry's path, size and mtime
    (a named pipe, a device or a link to nothing included, so that adding one is noticed and
    named). Nothing is opened."""
    entries = []
    for path in sorted(knowledge_dir.rglob("*")):
        try:
            info = path.lstat()
        except OSError:  # removed since it was listed
            continue
        if stat.S_ISLNK(info.st_mode):
            with contextlib.suppress(OSError):  # a link to nothing: the link itself
                info = path.stat()  # a link: its target's changes count
        if not stat.S_ISDIR(info.st_mode):
            entries.append((str(path), info.st_size, info.st_mtime_ns))
    return tuple(entries)


def _current_name(index_dir: Path) -> str | None:
    """The name of the build ``CURRENT`` points to, or ``None``."""
    try:
        return (index_dir / CURRENT).read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError):
        return None


def _checklist_hashes(knowledge_dir: Path) -> dict[str, str]:
    """A digest of every curated checklist file; a file that must not be read (a named pipe,
    a device, a link outside the folder) is never opened: its digest says why."""
    folder = knowledge_dir / CURATED_DIR
    if not folder.is_dir():
        return {}
    root = knowledge_dir.resolve()
    return {p.name: file_digest(p, root) for p in sorted(folder.glob("*.y*ml"))}


class KnowledgeWatcher:
    """Checks the knowledge base for changes and reloads the assistant's index and checklists."""

    def __init__(
        self, settings: Settings, assistant: Assistant, metrics: Metrics | None = None
    ) -> None:
        self.settings = settings
        self.assistant = assistant
        self.metrics = metrics
        self._checklists = _checklist_hashes(settings.knowledge_dir)
        self._seen: Signature | None = None  # the fingerprint when last found unchanged
        self._pages = PageCache()  # a reload parses only the pages that changed
        self.cancel = threading.Event()  # set on shutdown: a build in progress is abandoned
        self.failing_since: float | None = None  # when reloads started failing (monotonic)
        # The files the served knowledge leaves out, named (for /healthz and the reindex reply).
        self.skipped = skipped_files(assistant.engine.index.manifest.get("errors", []), [])
        self.last_failure = ""

    def changed(self) -> str | None:
        """Why the loaded knowledge is out of date, or ``None``."""
        engine = self.assistant.engine
        pointer = self.settings.index_dir / CURRENT
        try:
            current = pointer.read_text(encoding="utf-8").strip()
        except OSError:
            current = engine.index.path.name
        if current != engine.index.path.name:
            return "a new index was built by another process"
        signature = _signature(self.settings.knowledge_dir)
        if signature == self._seen:
            return None  # no file touched since the last look: nothing to hash
        sources = source_hashes(self.settings.knowledge_dir, engine.index.manifest)
        checklists = _checklist_hashes(self.settings.knowledge_dir)
        loaded = engine.index.manifest.get("sources") or {}
        if sources != loaded:
            changed = {k for k in sources.keys() | loaded.keys() if sources.get(k) != loaded.get(k)}
            if changed == {GLOSSARY_FILE}:
                return "glossary changed"
            if changed == {EXAMPLES_FILE}:
                return "examples changed"
            return "pages changed"
        if checklists != self._checklists:
            return "checklists changed"
        self._seen = signature
        return None

    def reload(self, reason: str = "requested") -> ReloadResult:
        """Build (or load) the new index and checklists and swap them in; files that fail to
        parse are skipped and named (``ReloadResult.errors``, ``skipped``). Blocking: run it
        in a thread from async code."""
        try:
            return self._reload(reason)
        except Exception as exc:
            self._failing(f"{type(exc).__name__}: {exc}")
            raise

    def stale_problem(self, bound: float = STALE_AFTER) -> str | None:
        """What ``/healthz`` says when the knowledge base changed but the index could not be
        refreshed for longer than ``bound`` seconds, else ``None``."""
        if self.failing_since is None:
            return None
        failing = time.monotonic() - self.failing_since
        if failing <= bound:
            return None
        return f"the index could not be refreshed for {failing:.0f} s ({self.last_failure})"

    def _failing(self, why: str) -> None:
        if self.failing_since is None:
            self.failing_since = time.monotonic()
        self.last_failure = why[:200]

    def _reload(self, reason: str) -> ReloadResult:
        s = self.settings
        sources = source_hashes(s.knowledge_dir, self.assistant.engine.index.manifest)
        checklist_state = _checklist_hashes(s.knowledge_dir)
        try:  # the pages' errors come with the checklists' (they are read from the pages)
            checklists, found = load_checklists(
                s.knowledge_dir,
                base_url=s.base_url,
                link_root=s.link_root,
                cache=self._pages,
                max_bytes=s.max_page_bytes,
            )
        except Exception as exc:  # e.g. the knowledge directory vanished
            checklists, found = [], [DocumentError(s.link_root, str(exc))]
        engine = self.assistant.engine
        served = engine.index
        current = _current_name(s.index_dir)
        # The served index is the current build unless another process published a new one:
        # then that one is loaded (and checked) instead of the one in memory. With no
        # pointer at all (the index folder removed), the build starts over from the pages.
        index = served if current in (None, served.path.name) else load_index(s.index_dir)
        if index.manifest.get("sources") != sources or index.embedder_id != engine.embedder.id:
            try:
                build(s, engine.embedder, previous=index, cancel=self.cancel)
            except BuildAbandoned:
                log.warning("Re-indexing abandoned: the bot is stopping.")
                return ReloadResult(False, f"{reason}; abandoned for shutdown")
            index = load_index(s.index_dir)
        engine.swap(index)
        self.assistant.checklists = ChecklistBook(checklists)
        self._checklists = checklist_state
        # A bad file is skipped and named, the rest loads (a page, the glossary or the
        # examples keep their last good version): the build's own list of what it left out,
        # with the checklists' (the pages' errors come with both).
        self.skipped = skipped_files(index.manifest.get("errors", []), found)
        return self._done(
            ReloadResult(True, reason, passages=len(index.passages), errors=self.skipped)
        )

    def _done(self, result: ReloadResult) -> ReloadResult:
        (log.info if result.swapped else log.error)(result.describe())
        if result.swapped:
            self.failing_since, self.last_failure = None, ""
        else:
            self._failing(result.describe())
        if self.metrics is not None:
            self.metrics.reloads.labels("swapped" if result.swapped else "failed").inc()
        return result
