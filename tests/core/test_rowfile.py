"""Matrices read by rows: the same rows, whether the file is small enough to be kept in memory
or read by positional reads, checked against the array written."""

import numpy as np
import pytest

from bot.core.knowledge import rowfile
from bot.core.knowledge.rowfile import RowFile, RowWriter


@pytest.mark.parametrize("held_bytes", [0, 2**30])
def test_rows_read_back_as_written_whether_held_or_not(tmp_path, monkeypatch, held_bytes):
    monkeypatch.setattr(rowfile, "HELD_BYTES", held_bytes)
    matrix = np.random.default_rng(5).standard_normal((300, 8)).astype(np.float32)
    writer = RowWriter(tmp_path / "m.npy", 300, 8)
    writer.write(matrix[:120])
    writer.write(matrix[120:])
    writer.close()
    stored = RowFile(tmp_path / "m.npy")
    numbers = np.array([299, 3, 4, 5, 3, 150, 0])
    assert np.array_equal(stored[numbers], matrix[numbers])
    assert np.array_equal(stored[10:20], matrix[10:20])
    assert np.array_equal(stored[7], matrix[7])
    assert np.array_equal(np.asarray(stored), matrix)
    assert np.array_equal(stored[numbers, 2:5], matrix[numbers, 2:5])
    assert stored[np.zeros(0, np.int64)].shape == (0, 8)
