"""The knowledge folder as a boundary: which of its files may be read, and how.

Every file the bot reads from the knowledge folder (pages, curated checklists, the glossary,
the example questions, and the hashes that tell a change) goes through here. Only a regular
file inside the folder is opened: a link to a file outside it, a link to nothing, a named
pipe, a device or a socket is refused with a reason that names it. A file is opened without
blocking (a named pipe swapped in after the check cannot hold the reader) and never read
past a size limit, so every read is bounded in size and time.
"""

from __future__ import annotations

import hashlib
import os
import stat
from pathlib import Path

# The limit of a YAML file of the knowledge folder (a curated checklist, the glossary, the
# example questions): far above what a team writes by hand.
MAX_YAML_BYTES = 1024 * 1024
# Above this, a source file's change is told by its size and time, not by its contents.
MAX_HASHED_BYTES = 256 * 1024 * 1024
_BLOCK = 1 << 20


class FileRefused(Exception):
    """A file of the knowledge folder that is not read; the message says why."""


class FileTooLarge(FileRefused):
    """A file above its size limit (``size`` and ``limit`` in bytes)."""

    def __init__(self, size: int, limit: int) -> None:
        super().__init__(f"{size / 1e6:.1f} MB, above the limit of {limit / 1e6:.1f} MB")
        self.size = size
        self.limit = limit


_KINDS = (
    (stat.S_ISFIFO, "a named pipe"),
    (stat.S_ISCHR, "a device"),
    (stat.S_ISBLK, "a device"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISDIR, "a folder"),
)


def _kind(mode: int) -> str:
    return next((name for test, name in _KINDS if test(mode)), "not a file")


def refusal(path: Path | str, root: Path) -> str | None:
    """Why ``path`` must not be read as a file of the knowledge folder ``root`` (resolved),
    or ``None`` when it is a regular file inside it. Opens nothing."""
    target = Path(os.path.realpath(path))
    try:
        info = os.stat(target)
    except OSError:
        linked = os.path.islink(path)
        return "a link to a file that does not exist" if linked else "cannot be read"
    if not target.is_relative_to(root):
        return "a link to a file outside the knowledge folder"
    if not stat.S_ISREG(info.st_mode):
        return f"not a regular file ({_kind(info.st_mode)})"
    return None


def _open(path: Path | str, root: Path) -> int:
    """A descriptor of ``path``, a regular file inside ``root``; raises ``FileRefused``."""
    reason = refusal(path, root)
    if reason is not None:
        raise FileRefused(reason)
    target = os.path.realpath(path)
    try:
        fd = os.open(target, os.O_RDONLY | os.O_NONBLOCK | os.O_NOFOLLOW | os.O_CLOEXEC)
    except OSError as exc:
        raise FileRefused(f"cannot be read ({exc.strerror})") from None
    mode = os.fstat(fd).st_mode
    if not stat.S_ISREG(mode):  # swapped between the check and the open
        os.close(fd)
        raise FileRefused(f"not a regular file ({_kind(mode)})")
    return fd


def read_bytes(path: Path | str, root: Path, limit: int, *, prefix: bool = False) -> bytes:
    """The contents of ``path``, a regular file inside the knowledge folder ``root``
    (resolved), at most ``limit`` bytes: ``FileTooLarge`` above it, or only the first
    ``limit`` bytes with ``prefix``. Raises ``FileRefused`` naming why it is not read."""
    fd = _open(path, root)
    with os.fdopen(fd, "rb") as handle:
        size = os.fstat(fd).st_size
        if size > limit and not prefix:
            raise FileTooLarge(size, limit)
        data = handle.read(limit + 1)
    if len(data) > limit:
        if not prefix:  # it grew after the check
            raise FileTooLarge(len(data), limit)
        data = data[:limit]
    return data


def read_text(path: Path | str, root: Path, limit: int = MAX_YAML_BYTES) -> str:
    """``read_bytes`` decoded as UTF-8; raises ``FileRefused`` (not UTF-8 text included)."""
    try:
        return read_bytes(path, root, limit).decode("utf-8-sig")
    except UnicodeDecodeError:
        raise FileRefused("not UTF-8 text") from None


def read_optional_text(folder: Path, name: str, limit: int = MAX_YAML_BYTES) -> str | None:
    """The text of the file ``name`` of the knowledge folder ``folder``, ``None`` when there
    is none; raises ``FileRefused`` when it is there but must not be read."""
    path = folder / name
    if not os.path.lexists(path):
        return None
    return read_text(path, folder.resolve(), limit)


def file_digest(path: Path | str, root: Path, limit: int = MAX_HASHED_BYTES) -> str:
    """The SHA-256 of a regular file inside ``root`` (resolved), read a megabyte at a time;
    for a file that is refused or above ``limit``, a digest of why, its size and time, so
    that a change is still told without reading it."""
    try:
        fd = _open(path, root)
    except FileRefused as exc:
        return f"refused:{exc}"
    with os.fdopen(fd, "rb") as handle:
        info = os.fstat(fd)
        if info.st_size > limit:
            return f"large:{info.st_size}:{info.st_mtime_ns}"
        digest = hashlib.sha256()
        read = 0
        while read <= limit and (block := handle.read(_BLOCK)):
            digest.update(block)
            read += len(block)
    return digest.hexdigest()
