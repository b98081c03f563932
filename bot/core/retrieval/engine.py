"""The knowledge engine: opens (or builds) the index and answers questions. Adapters call this."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence

import numpy as np

from bot.config import MAX_QUESTION_CHARS, Settings
from bot.core.knowledge.build import build_index
from bot.core.knowledge.embedders import Embedder, make_embedder
from bot.core.knowledge.index import (
    BuildReport,
    IndexCorrupt,
    IndexMissing,
    KnowledgeIndex,
    Progress,
    load_index,
    remove_abandoned_builds,
    stale_reason,
)
from bot.core.language import detect_language, normalise_text
from bot.core.messages import message
from bot.core.retrieval.answers import compose_answer
from bot.core.retrieval.followup import ContextReading
from bot.core.retrieval.learned import LearnedExample, resolved
from bot.core.retrieval.rerank import Reranker
from bot.core.retrieval.search import FusionParams, Retriever, SearchResult
from bot.core.smalltalk import small_talk, small_talk_language
from bot.core.types import Answer, Citation

Notify = Callable[[str], None]


class EmptyQuestion(ValueError):
    """The question has no text."""


class SmallTalk(EmptyQuestion):
    """The message asks nothing (greetings, thanks, an acknowledgement, emoji or punctuation
    alone: ``bot.core.smalltalk``). Its text is the reply, an invitation to ask a question in
    ``language``; ``act`` is what the message was (``thanks``, ``farewell``, ``greeting``,
    ``other``)."""

    def __init__(self, act: str, language: str) -> None:
        super().__init__(message(language, f"smalltalk_{act}"))
        self.act = act
        self.language = language


def build(
    settings: Settings,
    embedder: Embedder,
    progress: Progress | None = None,
    previous: KnowledgeIndex | None = None,
    cancel: threading.Event | None = None,
) -> BuildReport:
    """Build (or refresh) the index the settings name; ``previous``, the current build
    already loaded, saves reading it again; ``cancel`` abandons it (``BuildAbandoned``).
    Returns the build's report."""
    return build_index(
        settings.knowledge_dir,
        settings.index_dir,
        embedder,
        base_url=settings.base_url,
        link_root=settings.link_root,
        progress=progress,
        previous=previous,
        max_page_bytes=settings.max_page_bytes,
        cancel=cancel,
    )


def clean_abandoned_builds(settings: Settings, notify: Notify) -> None:
    """Remove the folders of builds that died half-way (a killed ``playbook index``), each
    announced through ``notify``."""
    if settings.index_dir.is_dir():
        for name in remove_abandoned_builds(settings.index_dir):
            notify(f"Removed {name}, left by a build that did not finish.")


def open_index(
    settings: Settings,
    embedder: Embedder,
    notify: Notify = lambda _m: None,
    progress: Progress | None = None,
) -> KnowledgeIndex:
    """Load the index, building it first when it is missing, corrupt or stale.

    Every rebuild is announced through ``notify`` with its reason. Returns the loaded index.
    """
    reason: str | None
    clean_abandoned_builds(settings, notify)
    try:
        index = load_index(settings.index_dir)
        reason = stale_reason(
            index,
            settings.knowledge_dir,
            embedder.id,
            base_url=settings.base_url,
            link_root=settings.link_root,
        )
        if reason is None:
            return index
    except IndexMissing:
        reason = "there is none yet"
    except IndexCorrupt as exc:
        reason = f"it is corrupt ({exc})"
    notify(f"Building the index in {settings.index_dir}: {reason}.")
    report = build(settings, embedder, progress)
    for error in report.errors:
        notify(f"Skipped {error}")
    return load_index(settings.index_dir)


class KnowledgeEngine:
    """Answers questions from one loaded index."""

    def __init__(
        self,
        index: KnowledgeIndex,
        embedder: Embedder,
        *,
        top_k: int = 3,
        params: FusionParams | None = None,
        reranker: Reranker | None = None,
    ) -> None:
        self.embedder = embedder
        self.top_k = top_k
        self.params = params
        self.reranker = reranker  # the optional cross-encoder stage (None: off)
        self.retriever = Retriever(index, embedder, params, reranker=reranker)
        self._learned: list[LearnedExample] = []
        self._learned_vectors: dict[str, np.ndarray] = {}  # by question, as embedded
        self.set_aside: list[LearnedExample] = []  # learned, but their section is gone

    @property
    def index(self) -> KnowledgeIndex:
        """The index answers come from now."""
        return self.retriever.index

    def swap(self, index: KnowledgeIndex) -> None:
        """Answer from ``index`` from now on. One attribute write: a question being answered
        keeps the retriever it started with, so it never mixes two indexes. The learned
        examples carry over (those whose section is gone are set aside)."""
        retriever = Retriever(index, self.embedder, self.params, reranker=self.reranker)
        self._apply_learned(retriever, self._learned)
        self.retriever = retriever

    def without_reranker(self) -> KnowledgeEngine:
        """An engine over the same index, embedder, weights and learned examples, without
        the cross-encoder stage: what ``playbook eval`` compares it with."""
        plain = KnowledgeEngine(self.index, self.embedder, top_k=self.top_k, params=self.params)
        plain._learned_vectors = self._learned_vectors
        plain._apply_learned(plain.retriever, self._learned)
        return plain

    @property
    def learned(self) -> list[LearnedExample]:
        """The learned examples given last (``learn``), those set aside included."""
        return list(self._learned)

    @property
    def learned_count(self) -> int:
        """How many learned examples the ranking uses (those set aside not counted)."""
        return len(self._learned) - len(self.set_aside)

    def learn(self, examples: Sequence[LearnedExample]) -> None:
        """Rank with these learned examples from the next question on (they replace the
        earlier ones); those whose section the index no longer has are set aside."""
        retriever = self.retriever
        self._apply_learned(retriever, list(examples))

    def _apply_learned(self, retriever: Retriever, examples: list[LearnedExample]) -> None:
        found, aside = resolved(examples, retriever.section_keys)
        for example, _number in found:
            if example.question not in self._learned_vectors:
                self._learned_vectors[example.question] = retriever.query_vector(example.question)
        vectors = [self._learned_vectors[e.question] for e, _n in found]
        retriever.use_learned(
            np.array(vectors, np.float32) if vectors else np.zeros((0, 1), np.float32),
            [n for _e, n in found],
            [e.strength for e, _n in found],
        )
        self._learned, self.set_aside = examples, aside

    def closest_sections(
        self, question: str, count: int = 10, *, quick: bool = False
    ) -> list[tuple[str, Citation]]:
        """The sections that rank best for ``question``, best first, each with its
        ``section_key``: what a user picks from after 👎. Past the sections of the ranked
        passages, those whose titles are closest to the question fill the list. ``quick``:
        ranked without e5 (a list of many questions' sections)."""
        retriever = self.retriever
        index = retriever.index
        text = normalise_text(question)
        seen: dict[int, None] = {}
        for hit in retriever.search(text, quick=quick).hits:
            seen.setdefault(int(index.passage_section[hit.number]), None)
            if len(seen) == count:
                break
        if len(seen) < count:
            for section in retriever.sections_by_title(text, count):
                seen.setdefault(section, None)
                if len(seen) == count:
                    break
        keys = retriever.section_keys.keys
        return [(keys[s], index.sections[s]) for s in seen]

    @classmethod
    def open(
        cls,
        settings: Settings,
        *,
        embedder: Embedder | None = None,
        notify: Notify = lambda _m: None,
        progress: Progress | None = None,
        params: FusionParams | None = None,
        reranker: Reranker | None = None,
    ) -> KnowledgeEngine:
        """Build the engine the settings describe (embedder, index; ``params``: the retrieval
        weights, default ``FusionParams()``; ``reranker``: the cross-encoder stage, none by
        default) and return it."""
        embedder = embedder or make_embedder(settings.embedder)
        index = open_index(settings, embedder, notify, progress)
        return cls(index, embedder, top_k=settings.top_k, params=params, reranker=reranker)

    def ask(
        self,
        question: str,
        *,
        k: int | None = None,
        per_section: bool = True,
        context: ContextReading | None = None,
    ) -> Answer:
        """Answer ``question`` with up to ``k`` quoted passages (default: the settings' top_k);
        ``context``: the conversation's previous turn, which reads the question in context when
        it needs it (``retrieval.followup``; ``context.used`` then says so).

        Raises ``EmptyQuestion`` when the question has no text, ``SmallTalk`` (one) when it
        asks nothing (``bot.core.smalltalk``): neither is searched. A question longer than
        ``MAX_QUESTION_CHARS`` is cut, and the answer carries a note saying so.
        """
        text, notes = self._prepared(question, context)
        retriever = self.retriever  # read once: a swap during this answer does not affect it
        result = retriever.search(text) if context is None else context.search(retriever, text)
        return compose_answer(
            text,
            result,
            retriever.index,
            k=max(1, k or self.top_k),
            per_section=per_section,
            notes=notes,
        )

    def explain(self, question: str, *, k: int | None = None) -> tuple[Answer, SearchResult]:
        """What ``ask`` answers to ``question`` (alone, without a conversation) and the search
        behind it: the hits with their score at each stage, the support abstention read.
        Raises as ``ask`` does."""
        text, notes = self._prepared(question, None)
        retriever = self.retriever
        result = retriever.search(text)
        answer = compose_answer(
            text, result, retriever.index, k=max(1, k or self.top_k), notes=notes
        )
        return answer, result

    def _prepared(
        self, question: str, context: ContextReading | None
    ) -> tuple[str, tuple[str, ...]]:
        """``question`` as searched (normalised, cut at ``MAX_QUESTION_CHARS``) and the notes
        the answer carries. Raises ``EmptyQuestion`` or ``SmallTalk`` (see ``ask``)."""
        text = normalise_text(question)
        if not text:
            raise EmptyQuestion(message(detect_language(question), "empty"))
        act = small_talk(text)
        if act is not None and not (context is not None and context.answers(text, act)):
            raise SmallTalk(act, small_talk_language(text))
        notes: tuple[str, ...] = ()
        if len(text) > MAX_QUESTION_CHARS:
            text = text[:MAX_QUESTION_CHARS]
            notes = (message(detect_language(text), "truncated", limit=MAX_QUESTION_CHARS),)
        return text, notes
