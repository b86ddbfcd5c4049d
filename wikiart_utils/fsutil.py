"""Atomic file writes: a reader (or a rerun after kill -9) sees the old file or the new one, never half."""
from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path
from typing import Iterator

_UMASK = os.umask(0)
os.umask(_UMASK)


@contextlib.contextmanager
def atomic_path(dest: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside `dest`; on success it is fsynced and renamed onto `dest`.

    On any exception (a full disk included) the temporary file is removed and `dest` is untouched.
    """
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".part", dir=dest.parent)
    os.close(fd)
    os.chmod(tmp, 0o666 & ~_UMASK)  # mkstemp makes 0600; the result should look like any other file
    try:
        yield Path(tmp)
        with open(tmp, "rb+") as handle:
            os.fsync(handle.fileno())
        os.replace(tmp, dest)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)


def atomic_write_text(dest: str | Path, text: str) -> None:
    with atomic_path(dest) as tmp:
        tmp.write_text(text, encoding="utf-8")


def inside(root: Path, path: Path) -> bool:
    """True when `path` (symlinks resolved) lies within `root`."""
    try:
        path.resolve().relative_to(root.resolve())
        return True
    except (ValueError, OSError, RuntimeError):
        return False


def remove_stale_parts(folder: str | Path) -> int:
    """Delete leftover `.part` files of an interrupted run; returns how many."""
    count = 0
    for part in Path(folder).rglob(".*.part"):
        with contextlib.suppress(FileNotFoundError):
            part.unlink()
            count += 1
    return count
