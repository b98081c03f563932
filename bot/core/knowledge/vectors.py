"""Nearest rows of a matrix of unit vectors: exact below a size, an inverted file above it.

The inverted file (IVF) is the classic approximate search: the rows are clustered once (k-means,
FAISS), each row is listed under its nearest centroid, and a query scores only the rows of its
``nprobe`` nearest clusters. Those rows are scored on 8-bit codes (one byte per dimension, stored
cluster by cluster, memory-mapped: a quarter of the vectors' size, read in a few contiguous
slices); the best of them are scored again exactly from the vectors, so the scores a search
returns are exact. An incremental build keeps the centroids and the unchanged rows' clusters
(only the rows that changed are assigned).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bot.core.knowledge.rowfile import Matrix

# Below this many rows a search scores them all (20,000 × 512 floats: about 2 ms on 2 cores).
EXACT_LIMIT = 20_000
# Rows an IVF search scores, about: the clusters probed are as many as this needs.
SCANNED_ROWS = 6_000
MIN_PROBES = 8
# k-means samples at most this many rows per centroid (FAISS's own default is 256).
SAMPLE_PER_CENTROID = 64


# ``search_many`` over an exact search of at least PROJECTED_MIN_ROWS rows (a site's
# vocabulary) first scores the rows projected on their PROJECTED_DIM principal directions, then
# the best PROJECTED_KEEP of them (at least) exactly, and any other that could still beat them:
# less memory read, the same results (see ``search_many``).
PROJECTED_MIN_ROWS = 4_096
PROJECTED_DIM = 192
PROJECTED_KEEP = 64
PROJECTED_ENERGY = 0.9
# The projection is made at the search_many call after this many: a one-off `playbook ask`
# on the site paid 0.2 s and 9 MB for it (a whole process, measured) for one search.
PROJECTED_AFTER = 3
# float32 rounding of a projected score, relative to the lengths of the query and the row.
ROUNDING = 1e-5
# The approximate scores pick this many times k rows (at least RESCORED_MIN) for exact scoring.
RESCORED = 4
RESCORED_MIN = 64
_PARTS = ("centroids", "indptr", "rows", "assignment", "codes", "low", "step")


@dataclass(frozen=True)
class Projection:
    """A matrix's rows on its first principal directions (``search_many``)."""

    basis: np.ndarray  # (dim, PROJECTED_DIM) float32, orthonormal columns
    rows: np.ndarray  # (n, PROJECTED_DIM) float32: the rows projected
    remainder: np.ndarray  # (n,) the length of each row's part outside the projection
    lengths: np.ndarray  # (n,) the length of each row


@dataclass(frozen=True)
class IvfLists:
    """An inverted file: the centroids, per centroid the rows listed under it, and their
    8-bit codes in the same order (a row's vector is about ``low + code * step``)."""

    centroids: np.ndarray  # (clusters, dim) float32
    indptr: np.ndarray  # (clusters + 1,) int64: cluster c lists rows[indptr[c]:indptr[c + 1]]
    rows: np.ndarray  # int64 row numbers, grouped by cluster
    assignment: np.ndarray  # (n,) int32: the cluster of each row
    codes: np.ndarray  # (n, dim) uint8, in the order of ``rows``
    low: np.ndarray  # (dim,) float32
    step: np.ndarray  # (dim,) float32


def cluster_count(rows: int) -> int:
    """How many clusters an inverted file over ``rows`` rows gets (about √rows)."""
    return max(1, int(math.sqrt(rows)))


def train(matrix: Matrix, seed: int = 1234) -> tuple[np.ndarray, np.ndarray]:
    """K-means centroids (spherical: unit rows) for ``matrix``, trained on a sample; and the
    sample."""
    import faiss

    clusters = cluster_count(len(matrix))
    rng = np.random.default_rng(seed)
    sample_size = min(len(matrix), clusters * SAMPLE_PER_CENTROID)
    sample = np.sort(rng.choice(len(matrix), sample_size, replace=False))
    data = np.ascontiguousarray(matrix[sample], dtype=np.float32)
    kmeans = faiss.Kmeans(
        matrix.shape[1],
        clusters,
        niter=10,
        spherical=True,
        seed=seed,
        max_points_per_centroid=SAMPLE_PER_CENTROID,
    )
    kmeans.train(data)
    return np.ascontiguousarray(kmeans.centroids, dtype=np.float32), data


def assign(matrix: Matrix, centroids: np.ndarray, batch: int = 8192) -> np.ndarray:
    """The nearest centroid (by inner product) of each row of ``matrix``."""
    out = np.empty(len(matrix), np.int32)
    for start in range(0, len(matrix), batch):
        block = np.asarray(matrix[start : start + batch], dtype=np.float32)
        out[start : start + len(block)] = np.argmax(block @ centroids.T, axis=1)
    return out


def quantiser(sample: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The 8-bit code range of each dimension: its low end and step, from a sample of rows."""
    low = sample.min(axis=0).astype(np.float32)
    step = ((sample.max(axis=0) - low) / 255).astype(np.float32)
    step[step <= 0] = 1e-6
    return low, step


def encode(matrix: Matrix, low: np.ndarray, step: np.ndarray, batch: int = 8192) -> np.ndarray:
    """The 8-bit codes of every row of ``matrix``."""
    out = np.empty(matrix.shape, np.uint8)
    for start in range(0, len(matrix), batch):
        block = np.asarray(matrix[start : start + batch], dtype=np.float32)
        out[start : start + len(block)] = np.clip(np.rint((block - low) / step), 0, 255)
    return out


def lists(
    matrix: Matrix,
    centroids: np.ndarray,
    assignment: np.ndarray,
    low: np.ndarray,
    step: np.ndarray,
) -> IvfLists:
    """The inverted file of ``matrix``'s rows, whose clusters are ``assignment``."""
    order = np.argsort(assignment, kind="stable").astype(np.int64)
    indptr = np.zeros(len(centroids) + 1, np.int64)
    np.cumsum(np.bincount(assignment, minlength=len(centroids)), out=indptr[1:])
    codes = encode(matrix, low, step)[order]
    return IvfLists(centroids, indptr, order, assignment.astype(np.int32), codes, low, step)


class VectorSearch:
    """Top-k rows of ``matrix`` by inner product with a query: every row, or with an inverted
    file only the rows of the clusters nearest the query."""

    def __init__(self, matrix: Matrix, ivf: IvfLists | None = None) -> None:
        self.matrix = matrix
        self.ivf = ivf
        self._whole: np.ndarray | None = None  # exact search: the matrix, read on first use
        self._projected: Projection | None = None  # ``_projection``, made on first use
        self._unprojected = False  # the matrix does not gain from a projection
        self._many = 0  # ``search_many`` calls so far
        clusters = len(ivf.centroids) if ivf is not None else 1
        share = SCANNED_ROWS * clusters / max(1, len(matrix))
        self.nprobe = min(clusters, max(MIN_PROBES, math.ceil(share)))

    @property
    def approximate(self) -> bool:
        """Whether a search scores only part of the rows."""
        return self.ivf is not None

    def search(self, query: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """The ``k`` best rows for one ``query`` vector: their numbers and exact scores, best
        first (fewer when the matrix has fewer rows)."""
        ivf = self.ivf
        if ivf is None:
            # Exact search multiplies every row: a small matrix is held in memory once read.
            return _top(self._held() @ query, None, k)
        near = ivf.centroids @ query
        probes = np.sort(np.argpartition(-near, self.nprobe - 1)[: self.nprobe])
        slices = [slice(int(ivf.indptr[c]), int(ivf.indptr[c + 1])) for c in probes]
        codes = np.concatenate([ivf.codes[s] for s in slices])
        rows = np.concatenate([ivf.rows[s] for s in slices])
        rough = codes @ (ivf.step * query) + float(ivf.low @ query)
        keep = max(RESCORED_MIN, RESCORED * k)
        picked, _ = _top(rough, None, keep)
        chosen = np.sort(rows[picked])
        exact = np.asarray(self.matrix[chosen], dtype=np.float32) @ query
        return _top(exact, chosen, k)

    def search_many(self, queries: np.ndarray, k: int) -> list[tuple[np.ndarray, np.ndarray]]:
        """``search`` for each row of ``queries`` (a question's words), with the same results.

        An exact search over many rows first scores them on a projection: the rows' first
        ``PROJECTED_DIM`` principal directions (uncentred, which keep inner products best),
        made on first use. The best ``PROJECTED_KEEP`` rows (or ``4 k``) are scored exactly,
        then every other row whose projected score plus the most its remainder can add
        (Cauchy-Schwarz: the norms of its and the query's parts outside the projection, plus
        a margin for float rounding) could still beat the k-th of them: so the result is the
        exact search's, to float precision. The matrix product is memory-bound; over the
        site's 7,663 × 512 vocabulary (94 % of its energy in 192 directions) the projection
        reads 6 MB instead of 16 and almost no row needs the second look. Rows whose energy
        the projection holds less than ``PROJECTED_ENERGY`` of are searched whole: most rows
        would need the second look. So are the first ``PROJECTED_AFTER`` calls' (a one-off
        question would pay for the projection without gaining from it).
        """
        if k <= 0:
            return [(np.zeros(0, np.int64), np.zeros(0, np.float32)) for _ in queries]
        if self.ivf is not None or not len(queries):
            return [self.search(query, k) for query in queries]
        whole = self._held()
        queries = np.asarray(queries, dtype=np.float32)
        self._many += 1
        projection = self._projection() if self._many > PROJECTED_AFTER else None
        if projection is None:
            scores = whole @ queries.T
            return [_top(np.ascontiguousarray(column), None, k) for column in scores.T]
        inside = queries @ projection.basis
        rough = projection.rows @ inside.T
        lengths = np.sqrt((queries**2).sum(1))
        outside = np.sqrt(np.maximum(0.0, lengths**2 - (inside**2).sum(1)))
        keep = max(PROJECTED_KEEP, RESCORED * k)
        return [
            self._rescored(
                query,
                np.ascontiguousarray(column),
                slack * projection.remainder + ROUNDING * length * projection.lengths,
                keep,
                k,
            )
            for query, column, slack, length in zip(
                queries, rough.T, outside.tolist(), lengths.tolist(), strict=True
            )
        ]

    def _rescored(
        self, query: np.ndarray, rough: np.ndarray, slack: np.ndarray, keep: int, k: int
    ) -> tuple[np.ndarray, np.ndarray]:
        """The exact ``k`` best rows for ``query``: the ``keep`` best by their projected
        scores ``rough``, and any other whose ``rough + slack`` could beat the k-th of them
        (all of them scored in one product when they are many)."""
        whole = self._held()
        picked = np.sort(_top(rough, None, keep)[0])
        exact = whole[picked] @ query
        if len(exact) >= k:
            kth = float(np.partition(exact, len(exact) - k)[len(exact) - k])
            could = rough + slack > kth
            could[picked] = False
            more = np.flatnonzero(could)
            if more.size > len(whole) // 8:  # gathering that many rows costs more
                return _top(whole @ query, None, k)
            if more.size:
                picked = np.concatenate([picked, more])
                exact = np.concatenate([exact, whole[more] @ query])
        return _top(exact, picked, k)

    def _held(self) -> np.ndarray:
        """The whole matrix, read once and held (exact search)."""
        if self._whole is None:
            self._whole = np.asarray(self.matrix, dtype=np.float32)
        return self._whole

    def _projection(self) -> Projection | None:
        """The rows' projection (``Projection``), made on first use (0.06-0.1 s of computing
        for the site's vocabulary). None when the matrix is too small to gain from one, or when its
        first directions hold less than ``PROJECTED_ENERGY`` of the rows' energy."""
        whole = self._held()
        if self._unprojected or len(whole) < PROJECTED_MIN_ROWS or whole.shape[1] <= PROJECTED_DIM:
            return None
        if self._projected is None:
            values, vectors = np.linalg.eigh(whole.T @ whole)  # ascending eigenvalues
            kept = float(values[::-1][:PROJECTED_DIM].sum()) / max(float(values.sum()), 1e-12)
            if kept < PROJECTED_ENERGY:
                self._unprojected = True
                return None
            basis = np.ascontiguousarray(vectors[:, ::-1][:, :PROJECTED_DIM], dtype=np.float32)
            rows = np.ascontiguousarray(whole @ basis)
            inside = np.einsum("ij,ij->i", rows, rows)
            total = np.einsum("ij,ij->i", whole, whole)  # no temporary matrix
            self._projected = Projection(
                basis,
                rows,
                np.sqrt(np.maximum(0.0, total - inside)).astype(np.float32),
                np.sqrt(total).astype(np.float32),
            )
        return self._projected

    @classmethod
    def build(
        cls, matrix: Matrix, previous: IvfLists | None = None, reused: np.ndarray | None = None
    ) -> VectorSearch:
        """The search over ``matrix``: exact below ``EXACT_LIMIT`` rows, else an inverted
        file. ``previous`` and ``reused`` (for each row, its row in the previous build or -1)
        let an incremental build keep the centroids and the unchanged rows' clusters while
        the rows are less than twice as many as the centroids were trained for."""
        if len(matrix) < EXACT_LIMIT:
            return cls(matrix)
        if (
            previous is None
            or reused is None
            or cluster_count(len(matrix)) > 2 * len(previous.centroids)
            or previous.centroids.shape[1] != matrix.shape[1]
        ):
            centroids, sample = train(matrix)
            low, step = quantiser(sample)
            return cls(matrix, lists(matrix, centroids, assign(matrix, centroids), low, step))
        assignment = np.empty(len(matrix), np.int32)
        kept = reused >= 0
        assignment[kept] = np.asarray(previous.assignment)[reused[kept]]
        fresh = np.flatnonzero(~kept)
        if fresh.size:
            assignment[fresh] = assign(np.asarray(matrix[fresh]), previous.centroids)
        low, step = np.asarray(previous.low), np.asarray(previous.step)
        return cls(matrix, lists(matrix, previous.centroids, assignment, low, step))

    def save(self, folder: Path, name: str) -> dict[str, str]:
        """Write the inverted file (if any) as ``name``-ivf-*.npy in ``folder``; returns each
        file's checksum by name."""
        from bot.core.knowledge.rowfile import save_array

        if self.ivf is None:
            return {}
        return {
            f"{name}-ivf-{part}.npy": save_array(
                folder / f"{name}-ivf-{part}.npy", np.asarray(getattr(self.ivf, part))
            )
            for part in _PARTS
        }

    @classmethod
    def load(cls, folder: Path, name: str, matrix: Matrix) -> VectorSearch:
        """The search over ``matrix`` with the inverted file ``save`` wrote, if there is one
        (its codes memory-mapped). Raises ``ValueError`` when the file does not fit."""
        if not (folder / f"{name}-ivf-centroids.npy").is_file():
            return cls(matrix)
        parts = {
            part: np.load(folder / f"{name}-ivf-{part}.npy", mmap_mode="r", allow_pickle=False)
            for part in _PARTS
        }
        ivf = IvfLists(
            np.ascontiguousarray(parts["centroids"], dtype=np.float32),
            np.asarray(parts["indptr"], dtype=np.int64),
            np.asarray(parts["rows"], dtype=np.int64),
            parts["assignment"],
            parts["codes"],
            np.asarray(parts["low"], dtype=np.float32),
            np.asarray(parts["step"], dtype=np.float32),
        )
        n, dim = matrix.shape
        if (
            len(ivf.rows) != n
            or len(ivf.assignment) != n
            or ivf.codes.shape != (n, dim)
            or len(ivf.indptr) != len(ivf.centroids) + 1
            or ivf.centroids.shape[1] != dim
            or ivf.low.shape != (dim,)
        ):
            raise ValueError(f"the {name} inverted file does not fit its vectors")
        return cls(matrix, ivf)


def _top(scores: np.ndarray, rows: np.ndarray | None, k: int) -> tuple[np.ndarray, np.ndarray]:
    """The ``k`` best of ``scores`` (row numbers: ``rows`` or positions) and their scores,
    best first."""
    k = min(k, scores.size)
    if k <= 0:
        return np.zeros(0, np.int64), np.zeros(0, np.float32)
    best = np.argpartition(-scores, k - 1)[:k] if k < scores.size else np.arange(scores.size)
    best = best[np.argsort(-scores[best], kind="stable")]
    numbers = best if rows is None else rows[best]
    return numbers.astype(np.int64), scores[best].astype(np.float32)
