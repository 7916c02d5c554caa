"""The Celery app of production mode: `celery -A dashboard.worker worker` (REDIS_URL set).

Importing this module builds the dashboard once, so every background callback is registered as
a Celery task, and hands those tasks to one Celery app on $REDIS_URL (broker and result backend).

TensorFlow is not fork-safe. The default prefork pool forks its children from this process,
which therefore must not have imported TensorFlow: the dashboard and the `model` API import it
only inside training, so each child imports it at its first task. `--max-tasks-per-child`
recycles a child after some trainings, a bound on whatever memory TensorFlow keeps between them.
"""

from __future__ import annotations

import os
import sys

from dash import CeleryManager

from . import create_app
from .background import make_celery

if not os.environ.get("REDIS_URL"):
    raise RuntimeError("dashboard.worker needs REDIS_URL, for example redis://127.0.0.1:6379/0")

celery = make_celery(os.environ["REDIS_URL"])
create_app()  # defines the background callbacks; the manager below registers them as tasks
CeleryManager(celery)
if "tensorflow" in sys.modules:
    raise RuntimeError("TensorFlow was imported before the worker forks its children")
