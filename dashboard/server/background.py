"""Choose where training jobs run: Celery when a Redis URL is set, else a diskcache manager."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

import diskcache
from dash import CeleryManager, DiskcacheManager

from ..settings import Settings

if TYPE_CHECKING:
    from celery import Celery


def make_celery(redis_url: str) -> Celery:
    """The Celery app of the web processes and workers: Redis as broker and result backend."""
    from celery import Celery

    celery = Celery("dashboard", broker=redis_url, backend=redis_url)
    # A training takes minutes: a worker child takes one job at a time, never a queue of them.
    celery.conf.update(worker_prefetch_multiplier=1, broker_connection_retry_on_startup=True)
    return celery


def make_manager(settings: Settings) -> CeleryManager | DiskcacheManager:
    """A CeleryManager on the settings' Redis, or a DiskcacheManager in the store's jobs folder."""
    if settings.redis_url:
        return CeleryManager(make_celery(settings.redis_url))
    import multiprocess  # type: ignore[import-untyped]  # the process library of Dash's jobs

    # Jobs come from a fork server, not forked from the threaded web process: a fork taken while
    # another request thread holds a lock (sqlite's, in the job cache) blocks the job forever.
    multiprocess.set_start_method("forkserver", force=True)
    multiprocess.set_forkserver_preload(["dashboard"])
    return DiskcacheManager(HealingCache(str(settings.jobs_dir)))


class HealingCache(diskcache.Cache):
    """A diskcache.Cache that makes its folder and database again when they are removed.

    A plain Cache keeps each thread's sqlite connection to the removed file and fails every
    call ("unable to open database file") until the process restarts. This one looks at the
    database file before each connection is used: if it is gone, it is created again (empty:
    the jobs running then lose their progress, not the server its jobs); if it is another
    file than the one a thread's connection opened (another process made it again), that
    thread reconnects.
    """

    @property
    def _con(self) -> Any:
        path = os.path.join(self.directory, diskcache.core.DBNAME)
        try:
            inode = os.stat(path).st_ino
        except FileNotFoundError:
            diskcache.Cache(self.directory, timeout=self.timeout).close()  # folder, tables
            inode = os.stat(path).st_ino
        if getattr(self._local, "inode", None) != inode:
            self.close()  # this thread's connection, to a file that no longer has this name
            self._local.inode = inode
        return super()._con
