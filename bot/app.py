"""The composition root: the one place the parts are assembled, in this order: settings →
re-ranker (when one is named) → embedder → index (the engine) → store → checklists →
assistant. ``playbook serve`` and every CLI command get their parts from here; the adapters
receive them ready-made."""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING

from sqlalchemy.exc import SQLAlchemyError

from bot.config import Settings, mask

if TYPE_CHECKING:
    from bot.core.assistant import Assistant
    from bot.core.knowledge.documents import DocumentError
    from bot.core.knowledge.embedders import Embedder
    from bot.core.knowledge.index import Progress
    from bot.core.metrics import Metrics
    from bot.core.retrieval.engine import KnowledgeEngine
    from bot.core.retrieval.rerank import Reranker
    from bot.core.retrieval.search import FusionParams
    from bot.core.team.checklists import Checklist
    from bot.core.team.lookup import ChecklistBook
    from bot.core.team.progress import ChecklistBoard
    from bot.core.team.store import Store

Notify = Callable[[str], None]


class StoreUnavailable(Exception):
    """The database cannot be opened: the message names it (password masked)."""


class RerankerUnavailable(Exception):
    """The re-ranking model the settings name cannot be loaded: the message names the
    setting (``PLAYBOOK_RERANKER``) and the reason, in one line."""


def say(text: str) -> None:
    """Tell the person at the terminal (stderr, so stdout stays the command's output)."""
    print(text, file=sys.stderr, flush=True)


def open_embedder(settings: Settings) -> Embedder:
    """The embedding model the settings name (``PLAYBOOK_EMBEDDER``)."""
    from bot.core.knowledge.embedders import make_embedder

    return make_embedder(settings.embedder)


def open_reranker(settings: Settings) -> Reranker | None:
    """The cross-encoder the settings name (``PLAYBOOK_RERANKER``, re-ordering the
    ``PLAYBOOK_RERANK_TOP`` best passages), loaded now; None when none is named. Raises
    ``RerankerUnavailable`` when it cannot be loaded, so a bad name stops the start-up, not
    the first question."""
    from bot.core.retrieval.rerank import RerankerError, make_reranker

    try:
        return make_reranker(settings.reranker, top=settings.rerank_top)
    except RerankerError as exc:
        raise RerankerUnavailable(
            f"PLAYBOOK_RERANKER: {exc}. Name a CrossEncoder (Hugging Face name or folder), or "
            "leave PLAYBOOK_RERANKER empty for no re-ranking."
        ) from None


def open_engine(
    settings: Settings,
    *,
    notify: Notify = say,
    progress: Progress | None = None,
    params: FusionParams | None = None,
) -> KnowledgeEngine:
    """The settings' embedder, re-ranker and index (built or refreshed when needed), as one
    engine. Raises ``RerankerUnavailable`` for a re-ranker that cannot be loaded."""
    from bot.core.retrieval.engine import KnowledgeEngine

    reranker = open_reranker(settings)  # first: a bad name stops before the slow steps
    return KnowledgeEngine.open(
        settings,
        embedder=open_embedder(settings),
        notify=notify,
        progress=progress,
        params=params,
        reranker=reranker,
    )


def open_store(settings: Settings) -> Store:
    """The database the settings name, opened (created and migrated) and purged of old rows.
    Raises ``StoreUnavailable`` when it cannot be opened or written."""
    from bot.core.team.store import Store

    try:
        store = Store(
            settings.database_url,
            salt=settings.user_salt,
            retention_days=settings.retention_days,
            salt_file=settings.user_salt_file,
        )
        store.purge()  # a write: a database that can only be read fails here, not later
    except (SQLAlchemyError, OSError) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise StoreUnavailable(
            f"Cannot open the database {mask('PLAYBOOK_DATABASE_URL', settings.database_url)}"
            f" ({reason}). Check that it exists and is writable by this user, or set "
            "PLAYBOOK_DATABASE_URL to one that is."
        ) from None
    for warning in store.warnings:
        logging.getLogger("playbook.store").warning(warning)
    return store


def read_checklists(settings: Settings) -> tuple[list[Checklist], list[DocumentError]]:
    """The checklists of the knowledge base, and a line for each file that has none to give."""
    from bot.core.team.checklists import load_checklists

    return load_checklists(
        settings.knowledge_dir,
        base_url=settings.base_url,
        link_root=settings.link_root,
        max_bytes=settings.max_page_bytes,
    )


def open_checklists(settings: Settings, *, notify: Notify = say) -> ChecklistBook:
    """The checklist book of the knowledge base; each bad curated file is named."""
    from bot.core.team.lookup import ChecklistBook

    checklists, errors = read_checklists(settings)
    for error in errors:
        notify(f"Skipped {error}")
    return ChecklistBook(checklists)


def open_board(settings: Settings, book: ChecklistBook | None = None) -> ChecklistBoard:
    """The team's checklists (``book``, read from the pages when not given) with their
    progress, without the engine (``playbook checklist`` needs no index)."""
    from bot.core.team.progress import ChecklistBoard

    return ChecklistBoard(open_checklists(settings) if book is None else book, open_store(settings))


def build_assistant(
    settings: Settings,
    *,
    notify: Notify = say,
    progress: Progress | None = None,
    metrics: Metrics | None = None,
    shared: bool = True,
) -> Assistant:
    """The assistant every adapter shares. ``shared=False`` is one person at the terminal
    (``ask``, the terminal chat): no rate limit, and the checklists are not read, so the
    pages are not parsed a second time on the way to the first answer."""
    from bot.core.assistant import Assistant
    from bot.core.team.learning import knowledge_key
    from bot.core.team.lookup import ChecklistBook

    engine = open_engine(settings, notify=notify, progress=progress)
    store = open_store(settings)
    checklists = open_checklists(settings, notify=notify) if shared else ChecklistBook([])
    return Assistant(
        engine=engine,
        store=store,
        checklists=checklists,
        log_questions=settings.log_questions,
        rate_limit_per_minute=settings.rate_limit_per_minute if shared else 0,
        metrics=metrics,
        knowledge=knowledge_key(settings.knowledge_dir),
        context_turns=settings.context_turns,
        context_minutes=settings.context_minutes,
    )
