"""An uploaded file as the browser sends it: a base64 data URL, decoded and read one at a time."""

from __future__ import annotations

import binascii
import ctypes
import ctypes.util
import threading
from typing import Any

import pandas as pd

from model import aggregate_monthly, read_daily_csv

from .sources import InputError

# One upload is decoded and read at a time in a process: a read takes several times the file's
# size in memory, and uploads read side by side only share the same cores more slowly.
READING_UPLOAD = threading.Lock()
_LIBC = ctypes.CDLL(ctypes.util.find_library("c") or None)


def return_freed_memory() -> None:
    """Give the C heap's free pages back to the system where the C library can (glibc).

    glibc keeps them in the arena of the thread that freed them, so every server thread that
    read an upload would otherwise hold that upload's peak (benchmarks/RESULTS.md).
    """
    trim = getattr(_LIBC, "malloc_trim", None)
    if trim is not None:
        trim(0)


def read_upload(contents: Any, name: str, limit: int) -> pd.DataFrame:
    """The monthly frame of an uploaded daily CSV; InputError or DataError naming the problem."""
    with READING_UPLOAD:
        raw = decode_upload(contents, name, limit)
        monthly = aggregate_monthly(read_daily_csv(raw, name=name))
        del raw
        return_freed_memory()
    return monthly


def decode_upload(contents: Any, name: str, limit: int) -> bytes:
    """Bytes of a dcc.Upload data URL, refusing anything over the limit before decoding."""
    if not isinstance(contents, str) or "," not in contents:
        raise InputError(f"{name}: the upload is not a file")
    comma = contents.index(",")
    header = contents[:comma]
    if not header.startswith("data:") or not header.endswith(";base64"):
        raise InputError(f"{name}: the upload is not a base64 data URL")
    size = (len(contents) - comma - 1) * 3 // 4
    if size > limit:
        raise InputError(f"{name} is {size / 2**20:.1f} MB; the limit is {limit / 2**20:.3g} MB")
    try:  # one ASCII copy of the payload and a view of it, not a string slice and its bytes
        payload = memoryview(contents.encode("ascii"))[comma + 1 :]
        return binascii.a2b_base64(payload, strict_mode=True)
    except (binascii.Error, ValueError):
        raise InputError(f"{name}: the upload is not valid base64") from None
