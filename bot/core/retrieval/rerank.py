"""The optional cross-encoder stage: a model that reads the question and a passage together
re-orders the head of the ranking (``cross_rerank``, after e5, before the close reading).

Off unless a model is named (``PLAYBOOK_RERANKER``: any sentence-transformers
``CrossEncoder``, by Hugging Face name or local folder). The model reads, for each of the
``top`` best candidates after fusion (and after e5), the passage as the encoders read it (its
breadcrumb, which ends with the section title, then its text) beside the question.

How its score is used: the candidates' fused scores in the head are handed out again in the
model's order (the best fused score to the model's first, and so on), the rest of the ranking
is left as it was. The order, not the score, because cross-encoders do not share a scale
(raw logits for some, probabilities for others): a weighted sum would need a weight fitted for
each model, and a team that configures one gets no measure of it here. Re-dealt scores keep
their scale, so the quote and twin margins of the answer read them as before.

Abstention does not read the model: it reads the primary encoder's evidence and the best
passage before any re-ranking, as without it. A re-ranker moves which passage is quoted first,
never whether the bot answers (a model's relevance score does not tell an unrelated question
from a related one any better than e5's cosine does, see e5.py).

Cost, measured on the site (116 pages; its 100 development questions of site-dev.yaml; 20
passages a question, 2 cores shared with other work, so an upper bound): all-MiniLM-L6-v2
loaded as a CrossEncoder (6 layers, its head untrained: a cost, not a quality) adds 3.6 s a
question at the median with torch's two threads, 2.1 s with one (``playbook eval``: p50 29 ms
→ 2.7 s); a 2-layer, 32-wide model 0.41 s with two threads, 0.07 s with one. The time grows
with ``top`` and with the passages' length in tokens (up to the model's ``max_length``).

sentence-transformers and torch are imported when a model is loaded, never otherwise.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import replace
from typing import Protocol

import numpy as np

from bot.core.retrieval.pool import Pool
from bot.core.types import Passage


class RerankerError(Exception):
    """A re-ranking model that cannot be loaded: missing package, unknown name, bad folder."""


class Reranker(Protocol):
    """Scores passages against a question, higher meaning more relevant. ``top``: how many
    of the ranking's best candidates it re-orders; ``id`` names the model."""

    id: str
    top: int

    def score(self, question: str, texts: Sequence[str]) -> np.ndarray:
        """One relevance score per text (float32), in the order of ``texts``."""
        ...


class CrossEncoderProtocol(Protocol):
    """What this module uses of ``sentence_transformers.CrossEncoder``."""

    def predict(self, sentences: list[tuple[str, str]], **kwargs: object) -> object:
        """Scores of the pairs."""
        ...


class CrossEncoderReranker:
    """A sentence-transformers ``CrossEncoder`` loaded from a name or a folder (on CPU),
    tried once on a pair when loaded so that a model that cannot score fails at start-up."""

    def __init__(self, name_or_path: str, *, top: int = 20, device: str = "cpu") -> None:
        self.id = name_or_path
        self.top = max(1, top)
        self._model = _load_cross_encoder(name_or_path, device)
        try:
            self.score("warm-up", ["warm-up"])  # fail now, not inside the first answer
        except Exception as exc:  # the library raises many kinds for a model it cannot run
            raise RerankerError(
                f"the cross-encoder {name_or_path!r} cannot score a passage ({_reason(exc)})"
            ) from exc

    def score(self, question: str, texts: Sequence[str]) -> np.ndarray:
        """One score per text: the model's output for (question, text), one number per pair
        (the first column when the model has several labels)."""
        if not texts:
            return np.zeros(0, np.float32)
        pairs = [(question, text) for text in texts]
        raw = self._model.predict(pairs, batch_size=32, show_progress_bar=False)
        scores = np.asarray(raw, dtype=np.float32)
        return scores.reshape(len(texts), -1)[:, 0]


class LibraryLogging(Protocol):
    """What this module uses of ``transformers.utils.logging``."""

    def get_verbosity(self) -> int:
        """The library's log level."""
        ...

    def set_verbosity(self, verbosity: int) -> None:
        """Set the library's log level."""
        ...

    def is_progress_bar_enabled(self) -> bool:
        """Whether the library draws progress bars."""
        ...

    def disable_progress_bar(self) -> None:
        """Draw none."""
        ...

    def enable_progress_bar(self) -> None:
        """Draw them again."""
        ...


def _load_cross_encoder(name_or_path: str, device: str) -> CrossEncoderProtocol:
    """The ``CrossEncoder`` named, loaded quietly (the library's load report and progress
    bars are not the terminal's business). Raises ``RerankerError``."""
    try:
        from sentence_transformers import CrossEncoder
        from transformers.utils import logging as library_logging
    except ImportError as exc:
        raise RerankerError(
            "a cross-encoder needs the optional extra: install torch first "
            "(pip install torch==2.13.0), then pip install 'playbook-bot[sentence-transformers]'"
        ) from exc
    hf_logging: LibraryLogging = library_logging
    verbosity, bars = hf_logging.get_verbosity(), hf_logging.is_progress_bar_enabled()
    hf_logging.set_verbosity(logging.ERROR)  # its load report is a warning
    hf_logging.disable_progress_bar()
    try:
        model: CrossEncoderProtocol = CrossEncoder(name_or_path, device=device)
    except Exception as exc:  # OSError, ValueError, KeyError… for a model it cannot load
        raise RerankerError(
            f"cannot load {name_or_path!r} as a sentence-transformers CrossEncoder ({_reason(exc)})"
        ) from exc
    finally:
        hf_logging.set_verbosity(verbosity)
        if bars:
            hf_logging.enable_progress_bar()
    return model


def _reason(exc: BaseException, limit: int = 200) -> str:
    """``exc`` as one short line: its type and the first line of its message."""
    lines = str(exc).strip().splitlines()
    first = lines[0] if lines else ""
    text = f"{type(exc).__name__}: {first}" if first else type(exc).__name__
    return text if len(text) <= limit else text[: limit - 1] + "…"


def make_reranker(spec: str, *, top: int = 20) -> Reranker | None:
    """The re-ranker ``spec`` names (a sentence-transformers cross-encoder's name or folder;
    empty: none), re-ordering the ``top`` best candidates. Raises ``RerankerError``."""
    spec = spec.strip()
    if not spec:
        return None
    return CrossEncoderReranker(spec, top=top)


def cross_rerank(
    reranker: Reranker | None, passages: Sequence[Passage], question: str, pool: Pool
) -> Pool:
    """The cross-encoder stage (when ``reranker`` is one): its ``top`` best candidates
    re-ordered by the model, their fused scores handed out again in its order (the best to
    its first); the rest as it was. Returns ``pool`` itself when off, else a copy that
    remembers the best passage before it, for abstention."""
    if reranker is None or len(pool.cand) < 2:
        return pool
    head = pool.head(reranker.top)
    texts = [passages[int(pool.cand[i])].embedding_text for i in head]
    scores = reranker.score(question, texts)
    fused = pool.fused.copy()
    fused[head[np.argsort(-scores, kind="stable")]] = pool.fused[head]
    before = pool.before_rerank
    return replace(
        pool, fused=fused, before_rerank=int(pool.cand[head[0]]) if before is None else before
    )
