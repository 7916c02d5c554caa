"""WSGI entry point for a production server: `gunicorn dashboard.wsgi:server`.

Settings come from the environment (`Settings.from_env()`), as in the Celery worker.
"""

from __future__ import annotations

from . import create_app
from .settings import Settings

app = create_app(Settings.from_env())
server = app.server
