"""Choose where training jobs run: Celery when REDIS_URL is set, else a diskcache manager."""

from __future__ import annotations

import os

from dash import CeleryManager, DiskcacheManager

from .settings import Settings


def make_manager(settings: Settings) -> CeleryManager | DiskcacheManager:
    """A CeleryManager on $REDIS_URL, or a DiskcacheManager in the store's jobs folder."""
    redis_url = os.environ.get("REDIS_URL")
    if redis_url:
        from celery import Celery

        return CeleryManager(Celery("dashboard", broker=redis_url, backend=redis_url))
    import diskcache

    settings.jobs_dir.mkdir(parents=True, exist_ok=True)
    return DiskcacheManager(diskcache.Cache(str(settings.jobs_dir)))
