"""Keep the uploads folder bounded: unused uploads expire, the least recently used make room.

An upload is every file `uploads/<id>.*` (its monthly CSV and any side file). Its last use is
its CSV's modification time: set when it is written, and again when a session reads it, at most
once per USE_INTERVAL, so a read costs no write.
"""

from __future__ import annotations

import logging
import os
import time
from pathlib import Path
from typing import NamedTuple

from ..settings import Settings

USE_INTERVAL = 3600  # seconds between two recorded uses of one upload
DAY = 24 * 3600
log = logging.getLogger(__name__)


class QuotaError(ValueError):
    """An upload larger than the whole uploads quota."""


class Upload(NamedTuple):
    """One uploaded data set on disk."""

    dataset: str
    files: list[Path]
    size: int  # bytes, all its files
    used: float  # when it was written or last used (seconds since the epoch)


def list_uploads(folder: Path) -> list[Upload]:
    """Every upload in a folder, least recently used first; files being written are skipped."""
    groups: dict[str, list[Path]] = {}
    try:
        listing = list(folder.iterdir())
    except FileNotFoundError:
        return []
    for path in listing:
        if not path.name.startswith("."):  # a temporary of write_atomic
            groups.setdefault(path.name.split(".", 1)[0], []).append(path)
    uploads = []
    for dataset, paths in groups.items():
        stats = {}
        for path in paths:
            try:
                stats[path] = path.stat()
            except FileNotFoundError:  # removed meanwhile by another process
                continue
        if stats:
            main = stats.get(folder / f"{dataset}.csv")
            used = main.st_mtime if main else max(s.st_mtime for s in stats.values())
            size = sum(s.st_size for s in stats.values())
            uploads.append(Upload(dataset, list(stats), size, used))
    return sorted(uploads, key=lambda upload: upload.used)


def remove(upload: Upload, reason: str) -> None:
    """Delete every file of an upload."""
    for path in upload.files:
        path.unlink(missing_ok=True)
    log.info("upload %s removed: %s", upload.dataset, reason)


def remove_expired(settings: Settings) -> None:
    """Remove the uploads no session has used for settings.upload_max_age_days."""
    cutoff = time.time() - settings.upload_max_age_days * DAY
    for upload in list_uploads(settings.uploads_dir):
        if upload.used < cutoff:
            remove(upload, f"unused for {settings.upload_max_age_days:g} days")


def make_room(settings: Settings, dataset: str) -> None:
    """Remove the least recently used other uploads until all fit in the quota.

    QuotaError, and nothing removed, when the upload alone is larger than the quota.
    """
    uploads = list_uploads(settings.uploads_dir)
    quota = settings.uploads_quota_bytes
    size = sum(upload.size for upload in uploads if upload.dataset == dataset)
    if size > quota:
        raise QuotaError(
            f"the data set takes {size / 2**20:.2f} MB on the server, more than the "
            f"{settings.uploads_quota_mb:g} MB kept for all uploads"
        )
    total = sum(upload.size for upload in uploads)
    for upload in uploads:
        if total <= quota:
            return
        if upload.dataset != dataset:
            remove(upload, f"to make room for {dataset}")
            total -= upload.size


def note_use(settings: Settings, path: Path, used: float) -> None:
    """Record that a session read an upload last used at `used`, at most once per USE_INTERVAL.

    Also the moment to remove the uploads that expired, so an idle server sheds them too.
    """
    if time.time() - used < USE_INTERVAL:
        return
    try:
        os.utime(path)
    except OSError:  # removed meanwhile, or a read-only store: the use goes unrecorded
        return
    remove_expired(settings)
