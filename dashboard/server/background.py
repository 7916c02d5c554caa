"""Choose where training jobs run: Celery when a Redis URL is set, else a diskcache manager.

Both managers are Dash's, with what `Bounded` adds in the web process: a Train post is taken
or refused as it arrives (`jobs.posting`), a job that died is not reported as running, and the
handles are signed with a key kept in the store, not one a restarted Redis would lose.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from typing import TYPE_CHECKING, Any

import diskcache
from dash import CeleryManager, DiskcacheManager

from ..settings import Settings
from . import jobs, session

if TYPE_CHECKING:
    from celery import Celery


def make_celery(redis_url: str) -> Celery:
    """The Celery app of the web processes and workers: Redis as broker and result backend."""
    from celery import Celery

    celery = Celery("dashboard", broker=redis_url, backend=redis_url)
    # A training takes minutes: a worker child takes one job at a time, never a queue of them.
    celery.conf.update(worker_prefetch_multiplier=1, broker_connection_retry_on_startup=True)
    return celery


class Bounded:
    """What both job managers add in the web process (before Dash's own, in the MRO)."""

    settings: Settings

    def call_job_fn(self, key: str, job_fn: Any, args: Any, context: Any) -> Any:
        """Start the job of a Train post, or run it here to its refusal (answered at once)."""
        try:
            with jobs.posting(self.settings, self.job_running) as note:
                job = super().call_job_fn(key, job_fn, args, context)  # type: ignore[misc]
                note(str(job))
                return job
        except jobs.Refused as refusal:
            with jobs.refusing(str(refusal)):  # no TensorFlow: the job stops at `admit`
                job_fn(key, self._make_progress_key(key), args, context)  # type: ignore[attr-defined]
            return jobs.NO_JOB

    def job_running(self, job: Any) -> bool:
        """Dash's answer, except for a refused post and a job whose process died."""
        if str(job) == jobs.NO_JOB or not super().job_running(job):  # type: ignore[misc]
            return False
        sent = session.current()
        return not (sent and jobs.died(self.settings, sent, str(job)))

    def terminate_job(self, job: Any) -> None:
        """Stop a job (cancelled, replaced or answered); its session's claim goes with it."""
        if job is None or str(job) == jobs.NO_JOB:
            return
        super().terminate_job(job)  # type: ignore[misc]
        sent = session.current()
        if sent:
            jobs.release(self.settings, sent, str(job))

    def get_or_create_signing_secret(self, generate: Any) -> bytes:
        """The job handles' signing key, from the session key every process of the store has."""
        key = session.session_key(self.settings)
        return hmac.new(key, b"background job handles", hashlib.sha256).digest()


class BoundedCeleryManager(Bounded, CeleryManager):
    """Dash's CeleryManager, bounded (see Bounded)."""

    def __init__(self, settings: Settings, celery: Celery) -> None:
        self.settings = settings
        super().__init__(celery)


class BoundedDiskcacheManager(Bounded, DiskcacheManager):
    """Dash's DiskcacheManager, bounded (see Bounded)."""

    def __init__(self, settings: Settings, cache: diskcache.Cache) -> None:
        self.settings = settings
        super().__init__(cache)


def make_manager(settings: Settings) -> CeleryManager | DiskcacheManager:
    """A CeleryManager on the settings' Redis, or a DiskcacheManager in the store's jobs folder."""
    if settings.redis_url:
        return BoundedCeleryManager(settings, make_celery(settings.redis_url))
    import multiprocess  # type: ignore[import-untyped]  # the process library of Dash's jobs

    # Jobs come from a fork server, not forked from the threaded web process: a fork taken while
    # another request thread holds a lock (sqlite's, in the job cache) blocks the job forever.
    multiprocess.set_start_method("forkserver", force=True)
    multiprocess.set_forkserver_preload(["dashboard", "model.warm"])  # Keras, for every job
    return BoundedDiskcacheManager(settings, HealingCache(str(settings.jobs_dir)))


def start_job_server(settings: Settings) -> None:
    """Start the jobs' fork server now (it loads Keras), not at the first Train click."""
    if not settings.redis_url:
        import multiprocess.forkserver  # type: ignore[import-untyped]

        multiprocess.forkserver.ensure_running()


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
