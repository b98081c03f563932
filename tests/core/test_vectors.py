import numpy as np
import pytest

from bot.core.knowledge import vectors as vec
from bot.core.knowledge.vectors import VectorSearch


def _clustered(rows: int, dim: int = 32, clusters: int = 40, seed: int = 0) -> np.ndarray:
    """Unit rows around ``clusters`` random centres, like passages around their topics."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(clusters, dim))
    data = centres[rng.integers(0, clusters, rows)] + 0.3 * rng.normal(size=(rows, dim))
    return (data / np.linalg.norm(data, axis=1, keepdims=True)).astype(np.float32)


def test_exact_search_below_the_limit_ranks_every_row():
    matrix = _clustered(500)
    search = VectorSearch.build(matrix)
    query = matrix[7]
    ids, scores = search.search(query, 10)
    assert not search.approximate
    assert list(ids) == list(np.argsort(-(matrix @ query), kind="stable")[:10])
    assert scores[0] == pytest.approx(1.0, abs=1e-5) and np.all(np.diff(scores) <= 0)
    assert len(search.search(query, 10_000)[0]) == 500


def test_inverted_file_finds_what_exact_search_finds(monkeypatch):
    monkeypatch.setattr(vec, "EXACT_LIMIT", 1000)
    monkeypatch.setattr(vec, "SCANNED_ROWS", 1000)
    matrix = _clustered(6000)
    search = VectorSearch.build(matrix)
    assert search.approximate and search.nprobe < len(search.ivf.centroids)
    rng = np.random.default_rng(1)
    recall = []
    for row in rng.choice(len(matrix), 50, replace=False):
        query = matrix[row] + 0.1 * rng.normal(size=matrix.shape[1]).astype(np.float32)
        query /= np.linalg.norm(query)
        truth = set(np.argsort(-(matrix @ query))[:20])
        found, _ = search.search(query, 20)
        recall.append(len(truth & set(found)) / 20)
    assert np.mean(recall) >= 0.95


def test_an_incremental_build_keeps_centroids_and_unchanged_rows(monkeypatch):
    monkeypatch.setattr(vec, "EXACT_LIMIT", 1000)
    matrix = _clustered(3000)
    first = VectorSearch.build(matrix)
    changed = matrix.copy()
    changed[:10] = _clustered(10, seed=5)
    reused = np.arange(3000)
    reused[:10] = -1
    second = VectorSearch.build(changed, first.ivf, reused)
    assert second.ivf.centroids is first.ivf.centroids
    assert np.array_equal(second.ivf.assignment[10:], first.ivf.assignment[10:])
    assert sorted(second.ivf.rows.tolist()) == list(range(3000))
    # rows at the head of the new build: the search finds each changed row first
    for row in range(10):
        assert second.search(changed[row], 1)[0][0] == row


def test_the_inverted_file_is_saved_and_checked_on_load(tmp_path, monkeypatch):
    monkeypatch.setattr(vec, "EXACT_LIMIT", 1000)
    matrix = _clustered(2500)
    search = VectorSearch.build(matrix)
    files = search.save(tmp_path, "passages")
    assert files and all((tmp_path / f).is_file() for f in files)
    loaded = VectorSearch.load(tmp_path, "passages", matrix)
    assert list(loaded.search(matrix[3], 5)[0]) == list(search.search(matrix[3], 5)[0])
    with pytest.raises(ValueError, match="does not fit"):
        VectorSearch.load(tmp_path, "passages", matrix[:100])
    assert not VectorSearch.load(tmp_path, "words", matrix).approximate


def test_searching_many_queries_at_once_finds_what_one_by_one_finds():
    """A question's words are searched together; each gets the rows and scores a search of
    its own gives, checked against a brute-force ranking."""
    rng = np.random.default_rng(3)
    matrix = rng.standard_normal((500, 16)).astype(np.float32)
    queries = rng.standard_normal((7, 16)).astype(np.float32)
    search = VectorSearch(matrix)
    together = search.search_many(queries, 5)
    assert len(together) == 7
    for query, (rows, scores) in zip(queries, together, strict=True):
        alone_rows, alone_scores = search.search(query, 5)
        assert rows.tolist() == alone_rows.tolist()
        assert rows.tolist() == np.argsort(-(matrix @ query))[:5].tolist()
        assert np.allclose(scores, alone_scores, atol=1e-5)
    assert search.search_many(np.zeros((0, 16), np.float32), 5) == []


@pytest.mark.parametrize("shape", ["word-like", "isotropic"])
def test_searching_many_over_a_projection_finds_the_exact_rows(shape, monkeypatch):
    """Over a large vocabulary the words are scored on a projection first, and the rows that
    could still win are scored again exactly: the result is the exact search's. Word vectors
    hold most of their energy in a few directions, so the projection is used; isotropic noise
    holds it in none, so the rows are searched whole instead (the projection would send most
    of them to the second look)."""
    rng = np.random.default_rng(5)
    rows, dim = vec.PROJECTED_MIN_ROWS + 500, 512
    if shape == "word-like":  # rank 120 plus noise: 93 % of the energy in 192 directions
        factors = rng.standard_normal((rows, 120)) @ rng.standard_normal((120, dim))
        matrix = (factors + 4.0 * rng.standard_normal((rows, dim))).astype(np.float32)
    else:
        matrix = rng.standard_normal((rows, dim)).astype(np.float32)
    matrix /= np.linalg.norm(matrix, axis=1, keepdims=True)
    search = VectorSearch(matrix)
    # Only the k best by the projection are scored exactly at first, so the bound on the
    # others is what finds the best rows the projection ranks lower.
    monkeypatch.setattr(vec, "PROJECTED_KEEP", 1)
    monkeypatch.setattr(vec, "RESCORED", 1)
    monkeypatch.setattr(vec, "PROJECTED_AFTER", 0)
    queries = rng.standard_normal((40, dim)).astype(np.float32)
    queries /= np.linalg.norm(queries, axis=1, keepdims=True)
    found = search.search_many(queries, 3)
    assert (search._projected is not None) is (shape == "word-like")
    for query, (ids, scores) in zip(queries, found, strict=True):
        exact = matrix @ query
        assert ids.tolist() == np.argsort(-exact)[:3].tolist()
        assert np.allclose(scores, np.sort(exact)[::-1][:3], atol=1e-5)


def test_searching_many_for_no_row_finds_none():
    matrix = _clustered(vec.PROJECTED_MIN_ROWS + 10, dim=256)
    search = VectorSearch(matrix)
    for k in (0, -1):
        found = search.search_many(matrix[:2], k)
        assert [(ids.tolist(), scores.tolist()) for ids, scores in found] == [([], [])] * 2


def test_the_projection_waits_for_a_few_searches():
    """A one-off question does not pay for the projection: the first searches read the rows
    whole, and the projection is made once the same vocabulary is searched again."""
    rng = np.random.default_rng(7)
    rows, dim = vec.PROJECTED_MIN_ROWS + 10, 512
    matrix = (rng.standard_normal((rows, 60)) @ rng.standard_normal((60, dim))).astype(np.float32)
    matrix /= np.linalg.norm(matrix, axis=1, keepdims=True)
    search = VectorSearch(matrix)
    for _ in range(vec.PROJECTED_AFTER):
        ((ids, _scores),) = search.search_many(matrix[:1], 2)
        assert search._projected is None and ids[0] == 0
    ((ids, _scores),) = search.search_many(matrix[:1], 2)
    assert search._projected is not None and ids[0] == 0
