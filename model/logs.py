"""The one log format of every process: the CLI, the dashboard, gunicorn and the Celery worker."""

from __future__ import annotations

import logging

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s [pid %(process)d] %(message)s"
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


def check_log_level(level: str, name: str = "log level") -> str:
    """The level in capitals; a ValueError naming `name` and the value if it is not a level."""
    upper = str(level).strip().upper()
    if upper not in LOG_LEVELS:
        raise ValueError(f"{name} ({level!r}) is not one of {', '.join(LOG_LEVELS)}")
    return upper


def configure_logging(level: str) -> None:
    """Send log records at `level` and above to stderr in LOG_FORMAT, replacing other handlers."""
    logging.basicConfig(level=check_log_level(level), format=LOG_FORMAT, force=True)
