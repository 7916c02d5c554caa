"""Write files so that a reader sees the old content or the new, never a part of either."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path

PRIVATE = 0o600  # store entries and uploaded data: their owner's only
SHARED = 0o644  # files for everyone to read: the embedded data, benchmark results


def file_version(status: os.stat_result, mtime: bool = True) -> tuple[int, ...]:
    """A file's version, for caches of what was read from it: (inode, size, mtime in ns).

    Every write is a rename (write_atomic), which gives the file a new inode. Pass
    mtime=False for files whose mtime records their uses rather than their writes (uploads).
    """
    version = (status.st_ino, status.st_size)
    return (*version, status.st_mtime_ns) if mtime else version


def write_atomic(path: str | Path, write: Callable[[Path], object], mode: int = PRIVATE) -> None:
    """Write `path` through a uniquely named temporary file in its folder, then rename it in place.

    `write` gets the temporary file's path. The content reaches the disk before the rename and
    the rename before this returns, so a crash leaves the old file or the new one; a killed
    writer leaves only `.<name>.<random>.tmp<suffix>`, which no reader opens, and a failed one
    (a full disk: OSError) nothing. A folder removed meanwhile is made again.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(
        dir=path.parent, prefix=f".{path.name}.", suffix=".tmp" + path.suffix
    )
    os.close(handle)
    try:
        write(Path(temporary))
        os.chmod(temporary, mode)
        with open(temporary, "rb") as written:
            os.fsync(written.fileno())
        os.replace(temporary, path)
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)
    folder = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(folder)  # the rename itself
    finally:
        os.close(folder)
