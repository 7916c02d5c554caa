"""Choose where training jobs run: Celery when a Redis URL is set, else a diskcache manager."""

from __future__ import annotations

from typing import TYPE_CHECKING

from dash import CeleryManager, DiskcacheManager

from .settings import Settings

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
    import diskcache
    import multiprocess  # type: ignore[import-untyped]  # the process library of Dash's jobs

    # Jobs come from a fork server, not forked from the threaded web process: a fork taken while
    # another request thread holds a lock (sqlite's, in the job cache) blocks the job forever.
    multiprocess.set_start_method("forkserver", force=True)
    multiprocess.set_forkserver_preload(["dashboard"])
    settings.jobs_dir.mkdir(parents=True, exist_ok=True)
    return DiskcacheManager(diskcache.Cache(str(settings.jobs_dir)))
