"""The Celery app of production mode: `celery -A dashboard.worker worker` (REDIS_URL set).

Importing this module builds the dashboard once from `Settings.from_env()`, as the web processes
do, and takes the Celery app of its own background manager: every background callback is a task
of that app, and the store folder, Redis and the rest reach the worker by the web's road.

TensorFlow is not fork-safe. The default prefork pool forks its children from this process,
which therefore must not have imported TensorFlow: the dashboard and the `model` API import it
only inside training, so each child imports it at its first task. `--max-tasks-per-child`
recycles a child after some trainings, a bound on whatever memory TensorFlow keeps between them.

The worker logs at $TEMPERATURE_FORECAST_LOG_LEVEL in the web's format; celery's --loglevel
is not used.
"""

from __future__ import annotations

import sys

from celery.signals import setup_logging

from model import configure_logging

from . import create_app
from .settings import Settings

settings = Settings.from_env()
if not settings.redis_url:
    raise RuntimeError("dashboard.worker needs REDIS_URL, for example redis://127.0.0.1:6379/0")
celery = create_app(settings).background_manager.handle


@setup_logging.connect
def _configure_logging(**_: object) -> None:
    """Log in the format and at the level of the web processes, not Celery's own."""
    configure_logging(settings.log_level)


if "tensorflow" in sys.modules:
    raise RuntimeError("TensorFlow was imported before the worker forks its children")
