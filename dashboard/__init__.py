"""The Dash dashboard: browse forecasts, compare stations, retrain from the page.

The web process never imports TensorFlow: it reads JSON records from the store, and training
runs as a background job in another process.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import flask
from dash import Dash
from werkzeug.middleware.proxy_fix import ProxyFix

from .page.frame import build_layout, register
from .present.theme import css_variables
from .server import guard, jobs, session
from .server.background import make_manager
from .server.health import HEALTH_PATH, find_problem
from .server.serving import COMPRESSION, cache_versioned_assets, forbid_storing, hide_versions
from .settings import Settings

UPLOAD_OVERHEAD = 2  # base64 and JSON framing of an upload, before the server refuses it

__all__ = ["ForecastDash", "Settings", "create_app"]


class ForecastDash(Dash):
    """A Dash app built from Settings, with its background manager kept and its health checked.

    With a Redis URL, `background_manager.handle` is the Celery app the workers serve.
    Responses are compressed (flask-compress, configured before Dash enables it).
    """

    def __init__(self, settings: Settings, name: str = __name__, **kwargs: Any) -> None:
        self.settings = settings
        self.background_manager = make_manager(settings)
        server = flask.Flask(name)
        server.config.update(COMPRESSION)
        super().__init__(
            name=name,
            server=server,  # type: ignore[arg-type]  # Dash takes a Flask app
            compress=True,
            background_callback_manager=self.background_manager,
            health_endpoint=HEALTH_PATH,
            **kwargs,
        )

    def _config(self) -> dict[str, Any]:
        """The page's Dash config, without the library and Python versions (dev tools show them)."""
        return hide_versions(super()._config(), shown=self._dev_tools.ui)

    def serve_health(self) -> flask.Response:
        """200 OK, or 503 with the reason the store folder or Redis cannot be used."""
        problem = find_problem(self.settings)
        return flask.Response(
            problem or "OK", status=503 if problem else 200, mimetype="text/plain"
        )


def find_assets() -> Path:
    """The CSS and images: inside the package when installed, else the repository's assets/."""
    package = Path(__file__).resolve().parent
    installed = package / "assets"
    return installed if installed.is_dir() else package.parent / "assets"


def create_app(settings: Settings | None = None) -> ForecastDash:
    """Build the Dash app; settings default to the per-user store and the default recipe."""
    settings = settings or Settings()
    Path(settings.cache_dir).mkdir(parents=True, exist_ok=True)
    app = ForecastDash(
        settings,
        name=__name__,
        title="Australian temperature forecasts",
        assets_folder=str(find_assets()),
        update_title="",  # no "Updating..." title while a callback runs
    )
    app.server.config["MAX_CONTENT_LENGTH"] = settings.max_upload_bytes * UPLOAD_OVERHEAD
    app.index_string = app.index_string.replace("<html>", '<html lang="en">', 1).replace(
        "{%css%}", f"<style>{css_variables()}</style>{{%css%}}", 1
    )
    app.layout = build_layout(settings)
    register(app, settings)
    guard.install(app)  # after every callback: the script policy hashes the clientside ones
    session.install(app, settings)
    jobs.install(app, settings)  # after session: it reads the request's session
    cache_versioned_assets(app)
    forbid_storing(app)
    if settings.behind_proxy:  # the client's address and scheme, as the one proxy saw them
        app.server.wsgi_app = ProxyFix(app.server.wsgi_app, x_for=1, x_proto=1)  # type: ignore[method-assign]
    return app
