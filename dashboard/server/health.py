"""The health checks: the store takes a record-sized file and, with Celery, Redis answers."""

from __future__ import annotations

import contextlib
import os
import tempfile

from ..settings import Settings

HEALTH_PATH = "health"  # served at /health
REDIS_TIMEOUT = 2.0  # seconds: a health check answers quickly or fails
# What the store must take for a training to be kept: the built-in default's record is 170 kB
# (its network 62 kB), so a disk that cannot take this cannot take the next model either.
PROBE_BYTES = 256 * 1024


def store_problem(settings: Settings) -> OSError | None:
    """Why the store folder cannot take a file of a record's size now; None when it can."""
    with contextlib.suppress(OSError):  # made again if it was removed; else said below
        settings.cache_dir.mkdir(parents=True, exist_ok=True)
    try:  # a file with no name, gone with its handle however this process ends
        with tempfile.TemporaryFile(dir=settings.cache_dir, prefix=".health-") as probe:
            probe.write(bytes(PROBE_BYTES))
            probe.flush()
            os.fsync(probe.fileno())  # the blocks are taken now, not at a later write-back
    except OSError as error:
        return error
    return None


def find_problem(settings: Settings) -> str | None:
    """A short reason the service cannot work, or None when it can."""
    error = store_problem(settings)
    if error is not None:
        return f"store folder {settings.cache_dir} is not writable ({error.strerror or error})"
    if settings.redis_url:
        import redis

        client = redis.Redis.from_url(
            settings.redis_url, socket_timeout=REDIS_TIMEOUT, socket_connect_timeout=REDIS_TIMEOUT
        )
        try:
            client.ping()
        except redis.RedisError as error:
            return f"Redis does not answer ({error})"
        finally:
            client.close()
    return None
