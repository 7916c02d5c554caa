"""WSGI entry point for a production server: `gunicorn dashboard.wsgi:server`.

Settings come from the environment (`Settings.from_env()`), as in the Celery worker.
"""

from __future__ import annotations

from model import configure_logging

from . import create_app
from .settings import Settings

settings = Settings.from_env()
configure_logging(settings.log_level)
app = create_app(settings)
server = app.server
