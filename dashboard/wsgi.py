"""WSGI entry point for a production server: `gunicorn dashboard.wsgi:server`."""

from __future__ import annotations

from . import create_app

app = create_app()
server = app.server
