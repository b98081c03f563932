"""Matrices on disk read and written a row range at a time (``.npy`` files).

The index's two largest arrays, the passage and sentence vectors, are read with positional reads
of the rows a search needs, not memory-mapped: a mapping keeps every page it ever touched (and
its neighbours, which the kernel maps around each fault) in the process's resident memory, so a
server's memory would grow towards the whole file; a read leaves them in the kernel's page cache,
shared and reclaimable. Builds write them in order, a block at a time, hashing as they write, so
neither side ever holds a whole matrix.
"""

from __future__ import annotations

import io
import os
import zlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import DTypeLike

# What picks rows (or, after the first, columns): a number, a slice, or numbers in any order.
Rows = int | np.integer[Any] | slice | Sequence[int] | np.ndarray
RowKey = Rows | tuple[Rows, ...]  # ``matrix[rows]`` or ``matrix[rows, columns]``


# A matrix file this small is read whole at its first row read and kept: one copy in memory
# costs less than the hundred-odd positional reads a search makes (a site of 1,000 passages:
# 11 MB, 2-3 ms an answer), while a large one is still read by rows.
HELD_BYTES = 32 * 2**20


class RowFile:
    """A 2-D ``.npy`` matrix read by rows. ``shape``, ``dtype`` and ``len`` as an array's.
    Files of at most ``HELD_BYTES`` are kept in memory once read."""

    def __init__(self, path: Path) -> None:
        self.path = path
        with path.open("rb") as handle:
            version = np.lib.format.read_magic(handle)
            read_header = (
                np.lib.format.read_array_header_1_0
                if version == (1, 0)
                else np.lib.format.read_array_header_2_0
            )
            shape, fortran, dtype = read_header(handle)
            self._offset = handle.tell()
        if fortran or len(shape) != 2:
            raise ValueError(f"{path.name} is not a matrix of rows")
        self.shape: tuple[int, int] = (int(shape[0]), int(shape[1]))
        self.dtype = np.dtype(dtype)
        self._row_bytes = self.shape[1] * self.dtype.itemsize
        expected = self._offset + self.shape[0] * self._row_bytes
        if path.stat().st_size != expected:
            raise ValueError(f"{path.name} is {path.stat().st_size} bytes, not {expected}")
        self._fd = os.open(path, os.O_RDONLY)
        self._held: np.ndarray | None = None
        self._holds = self.shape[0] * self._row_bytes <= HELD_BYTES

    def __len__(self) -> int:
        return self.shape[0]

    def __del__(self) -> None:
        fd = getattr(self, "_fd", None)
        if fd is not None:
            os.close(fd)

    def range(self, start: int, stop: int) -> np.ndarray:
        """Rows ``start`` to ``stop`` (excluded)."""
        stop = min(stop, self.shape[0])
        count = max(0, stop - start)
        data = os.pread(self._fd, count * self._row_bytes, self._offset + start * self._row_bytes)
        return np.frombuffer(data, self.dtype).reshape(count, self.shape[1])

    def rows(self, numbers: np.ndarray) -> np.ndarray:
        """Rows ``numbers`` (any order, repeats allowed), one read per run of consecutive rows."""
        numbers = np.asarray(numbers, dtype=np.int64)
        if self._holds:
            picked: np.ndarray = self._whole()[numbers]
            return picked
        out = np.empty((len(numbers), self.shape[1]), self.dtype)
        if not len(numbers):
            return out
        order = np.argsort(numbers, kind="stable")
        wanted = numbers[order]
        unique = np.unique(wanted)
        breaks = np.flatnonzero(np.diff(unique) != 1) + 1
        block = np.empty((len(unique), self.shape[1]), self.dtype)
        at = 0
        for run in np.split(unique, breaks):
            block[at : at + len(run)] = self.range(int(run[0]), int(run[-1]) + 1)
            at += len(run)
        position = np.searchsorted(unique, wanted)
        out[order] = block[position]
        return out

    def _whole(self) -> np.ndarray:
        """Every row: read now, or the copy kept for a file of at most ``HELD_BYTES``."""
        if not self._holds:
            return self.range(0, self.shape[0])
        if self._held is None:
            self._held = self.range(0, self.shape[0])
        return self._held

    def __array__(self, dtype: DTypeLike | None = None, copy: bool | None = None) -> np.ndarray:
        # A held file in the asked type is handed out as it is (read-only), not copied: an
        # exact search holding the vocabulary would otherwise keep a second copy of it.
        whole = self._whole()
        wanted = whole.dtype if dtype is None else np.dtype(dtype)
        if wanted == whole.dtype and not copy:
            return whole
        return whole.astype(wanted)

    def __getitem__(self, key: RowKey) -> np.ndarray:
        """``matrix[numbers]``, ``matrix[start:stop]`` or ``matrix[rows, columns]``, as an
        array would."""
        if isinstance(key, tuple):
            rows = self[key[0]]
            picked: np.ndarray = rows[(slice(None), *key[1:])] if rows.ndim == 2 else rows[key[1:]]
            return picked
        if isinstance(key, slice):
            start, stop, step = key.indices(self.shape[0])
            if step != 1:
                return self.rows(np.arange(start, stop, step))
            return self.range(start, stop)
        if isinstance(key, (int, np.integer)):
            row: np.ndarray = self.range(int(key), int(key) + 1)[0]
            return row
        return self.rows(np.asarray(key))

    def __matmul__(self, other: np.ndarray) -> np.ndarray:
        product: np.ndarray = np.asarray(self) @ other
        return product


class RowWriter:
    """Writes a ``(rows, width)`` matrix to a ``.npy`` file in order, a block at a time,
    checksumming what it writes (``close`` returns it, as ``index.file_checksum`` gives it)."""

    def __init__(self, path: Path, rows: int, width: int, dtype: DTypeLike = np.float32) -> None:
        self.path = path
        self.rows, self.width = rows, width
        self.dtype = np.dtype(dtype)
        self._written = 0
        self._crc = 0
        self._handle = path.open("w+b")  # read back by ``read``
        header = {"descr": self.dtype.str, "fortran_order": False, "shape": (rows, width)}
        np.lib.format.write_array_header_1_0(self._handle, header)
        self._handle.flush()
        self._crc = zlib.crc32(path.read_bytes())
        self._offset = self._handle.tell()

    def write(self, block: np.ndarray) -> None:
        """Append rows."""
        block = np.ascontiguousarray(block, dtype=self.dtype).reshape(-1, self.width)
        data = block.tobytes()
        self._handle.write(data)
        self._crc = zlib.crc32(data, self._crc)
        self._written += len(block)

    @property
    def written(self) -> int:
        """How many rows were written so far."""
        return self._written

    def read(self, start: int, stop: int) -> np.ndarray:
        """Rows ``[start, stop)`` of those already written, read back from the file."""
        if not 0 <= start <= stop <= self._written:
            raise ValueError(f"{self.path.name}: rows {start}:{stop} not written yet")
        self._handle.flush()
        size = self.dtype.itemsize * self.width
        data = os.pread(self._handle.fileno(), (stop - start) * size, self._offset + start * size)
        return np.frombuffer(data, self.dtype).reshape(stop - start, self.width)

    def close(self) -> str:
        """Finish the file; returns its checksum. Raises ``ValueError`` when the rows written
        are not as many as announced."""
        self._handle.close()
        if self._written != self.rows:
            raise ValueError(
                f"{self.path.name}: {self._written} rows written, {self.rows} announced"
            )
        return f"crc32:{self._crc & 0xFFFFFFFF:08x}"


def checksum(data: bytes | memoryview) -> str:
    """The checksum the index's manifest keeps for a file's bytes (CRC-32)."""
    return f"crc32:{zlib.crc32(data):08x}"


def save_array(path: Path, array: np.ndarray) -> str:
    """Write ``array`` as a ``.npy`` file; returns the file's checksum (computed on the bytes
    written, not read back)."""
    buffer = io.BytesIO()
    np.save(buffer, np.ascontiguousarray(array), allow_pickle=False)
    data = buffer.getbuffer()
    path.write_bytes(data)
    return checksum(data)


def save_bytes(path: Path, data: bytes) -> str:
    """Write ``data`` to ``path``; returns its checksum."""
    path.write_bytes(data)
    return checksum(data)


# What search and the inverted file read rows from: an array in memory (or memory-mapped) or
# a ``RowFile``; both give ``shape``, ``dtype``, ``len`` and rows by index or slice.
Matrix = np.ndarray | RowFile
