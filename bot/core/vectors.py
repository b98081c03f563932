"""Nearest rows of a matrix of unit vectors: exact below a size, an inverted file above it.

The inverted file (IVF) is the classic approximate search: the rows are clustered once (k-means,
FAISS), each row is listed under its nearest centroid, and a query scores exactly only the rows of
its ``nprobe`` nearest clusters. It reads the index's own vector matrix (memory-mapped), so the
vectors are stored once and a search touches only the rows it scores; an incremental build keeps
the centroids and lists the unchanged rows where they were (``assign`` is the only step that
grows with the rows that changed).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

# Below this many rows a search scores them all (20,000 × 512 floats: about 2 ms on 2 cores).
EXACT_LIMIT = 20_000
# Rows an IVF search scores, about: the clusters probed are as many as this needs.
SCANNED_ROWS = 6_000
MIN_PROBES = 8
# k-means samples at most this many rows per centroid (FAISS's own default is 256).
SAMPLE_PER_CENTROID = 64


@dataclass(frozen=True)
class IvfLists:
    """An inverted file: the centroids and, per centroid, the rows listed under it."""

    centroids: np.ndarray  # (clusters, dim) float32
    indptr: np.ndarray  # (clusters + 1,) int64: cluster c lists rows[indptr[c]:indptr[c + 1]]
    rows: np.ndarray  # int64 row numbers, grouped by cluster
    assignment: np.ndarray  # (n,) int32: the cluster of each row


def cluster_count(rows: int) -> int:
    """How many clusters an inverted file over ``rows`` rows gets (about √rows)."""
    return max(1, int(math.sqrt(rows)))


def train(matrix: np.ndarray, seed: int = 1234) -> np.ndarray:
    """K-means centroids (spherical: unit rows) for ``matrix``, trained on a sample."""
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
    return np.ascontiguousarray(kmeans.centroids, dtype=np.float32)


def assign(matrix: np.ndarray, centroids: np.ndarray, batch: int = 8192) -> np.ndarray:
    """The nearest centroid (by inner product) of each row of ``matrix``."""
    out = np.empty(len(matrix), np.int32)
    for start in range(0, len(matrix), batch):
        block = np.asarray(matrix[start : start + batch], dtype=np.float32)
        out[start : start + len(block)] = np.argmax(block @ centroids.T, axis=1)
    return out


def lists(centroids: np.ndarray, assignment: np.ndarray) -> IvfLists:
    """The inverted file of rows whose clusters are ``assignment``."""
    order = np.argsort(assignment, kind="stable").astype(np.int64)
    indptr = np.zeros(len(centroids) + 1, np.int64)
    np.cumsum(np.bincount(assignment, minlength=len(centroids)), out=indptr[1:])
    return IvfLists(centroids, indptr, order, assignment.astype(np.int32))


class VectorSearch:
    """Top-k rows of ``matrix`` by inner product with a query: every row, or with an inverted
    file only the rows of the clusters nearest the query."""

    def __init__(self, matrix: np.ndarray, ivf: IvfLists | None = None) -> None:
        self.matrix = matrix
        self.ivf = ivf
        clusters = len(ivf.centroids) if ivf is not None else 1
        share = SCANNED_ROWS * clusters / max(1, len(matrix))
        self.nprobe = min(clusters, max(MIN_PROBES, math.ceil(share)))

    @property
    def approximate(self) -> bool:
        """Whether a search scores only part of the rows."""
        return self.ivf is not None

    def search(self, query: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """The ``k`` best rows for one ``query`` vector: their numbers and scores, best first
        (fewer when the matrix has fewer rows)."""
        rows = self._scanned(query)
        scores = (
            np.asarray(self.matrix, dtype=np.float32) @ query
            if rows is None
            else np.asarray(self.matrix[rows], dtype=np.float32) @ query
        )
        k = min(k, scores.size)
        if k <= 0:
            return np.zeros(0, np.int64), np.zeros(0, np.float32)
        best = np.argpartition(-scores, k - 1)[:k] if k < scores.size else np.arange(scores.size)
        best = best[np.argsort(-scores[best], kind="stable")]
        numbers = best if rows is None else rows[best]
        return numbers.astype(np.int64), scores[best].astype(np.float32)

    def _scanned(self, query: np.ndarray) -> np.ndarray | None:
        """The rows a search scores (sorted), or ``None`` for all of them."""
        if self.ivf is None:
            return None
        ivf = self.ivf
        near = ivf.centroids @ query
        probes = np.argpartition(-near, self.nprobe - 1)[: self.nprobe]
        parts = [ivf.rows[ivf.indptr[c] : ivf.indptr[c + 1]] for c in probes]
        return np.sort(np.concatenate(parts)) if parts else np.zeros(0, np.int64)

    @classmethod
    def build(
        cls, matrix: np.ndarray, previous: IvfLists | None = None, reused: np.ndarray | None = None
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
            centroids = train(matrix)
            return cls(matrix, lists(centroids, assign(matrix, centroids)))
        assignment = np.empty(len(matrix), np.int32)
        kept = reused >= 0
        assignment[kept] = previous.assignment[reused[kept]]
        fresh = np.flatnonzero(~kept)
        if fresh.size:
            assignment[fresh] = assign(np.asarray(matrix[fresh]), previous.centroids)
        return cls(matrix, lists(previous.centroids, assignment))

    def save(self, folder: Path, name: str) -> list[str]:
        """Write the inverted file (if any) as ``name``-*.npy in ``folder``; returns the files."""
        if self.ivf is None:
            return []
        files = []
        for part in ("centroids", "indptr", "rows", "assignment"):
            path = folder / f"{name}-ivf-{part}.npy"
            np.save(path, getattr(self.ivf, part), allow_pickle=False)
            files.append(path.name)
        return files

    @classmethod
    def load(cls, folder: Path, name: str, matrix: np.ndarray) -> VectorSearch:
        """The search over ``matrix`` with the inverted file ``save`` wrote, if there is one.
        Raises ``ValueError`` when the file does not fit the matrix."""
        if not (folder / f"{name}-ivf-centroids.npy").is_file():
            return cls(matrix)
        parts = {
            part: np.load(folder / f"{name}-ivf-{part}.npy", mmap_mode="r", allow_pickle=False)
            for part in ("centroids", "indptr", "rows", "assignment")
        }
        ivf = IvfLists(
            np.ascontiguousarray(parts["centroids"], dtype=np.float32),
            np.asarray(parts["indptr"], dtype=np.int64),
            parts["rows"],
            parts["assignment"],
        )
        if (
            len(ivf.rows) != len(matrix)
            or len(ivf.assignment) != len(matrix)
            or len(ivf.indptr) != len(ivf.centroids) + 1
            or ivf.centroids.shape[1] != matrix.shape[1]
        ):
            raise ValueError(f"the {name} inverted file does not fit its vectors")
        return cls(matrix, ivf)
