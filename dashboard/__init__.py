"""The Dash dashboard: browse forecasts, compare stations, retrain from the page.

The web process never imports TensorFlow: it reads JSON records from the store, and training
runs as a background job in another process.
"""

from __future__ import annotations

from pathlib import Path

import flask
from dash import Dash

from .background import make_manager
from .layout import build_layout
from .settings import Settings
from .wiring import register

ASSETS = Path(__file__).resolve().parents[1] / "assets"
UPLOAD_OVERHEAD = 2  # base64 and JSON framing of an upload, before the server refuses it

__all__ = ["Settings", "create_app"]


def create_app(settings: Settings | None = None) -> Dash:
    """Build the Dash app; settings default to the per-user store and the default recipe."""
    settings = settings or Settings()
    Path(settings.cache_dir).mkdir(parents=True, exist_ok=True)
    app = Dash(
        __name__,
        title="Australian temperature forecasts",
        assets_folder=str(ASSETS),
        background_callback_manager=make_manager(settings),
        update_title=None,
    )
    app.server.config["MAX_CONTENT_LENGTH"] = settings.max_upload_bytes * UPLOAD_OVERHEAD
    app.layout = build_layout(settings)
    register(app, settings)
    _refuse_unknown_callbacks(app)
    _send_security_headers(app)
    return app


def _send_security_headers(app: Dash) -> None:
    """Add headers that forbid framing, MIME sniffing and scripts from anywhere but the app.

    Scripts: the app's own files plus Dash's inline renderer and clientside callbacks, by hash
    (so register every callback first). Styles need 'unsafe-inline': plotly writes <style>.
    """
    policy = "; ".join([
        "default-src 'self'",
        "script-src 'self' " + " ".join(app.csp_hashes()),
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data:",
        "font-src 'self' data:",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ])
    headers = {"Content-Security-Policy": policy, "X-Content-Type-Options": "nosniff",
               "X-Frame-Options": "DENY"}

    @app.server.after_request
    def _add_headers(response: flask.Response) -> flask.Response:
        response.headers.update(headers)
        return response


def _refuse_unknown_callbacks(app: Dash) -> None:
    """Answer 400, naming the problem, to a callback request the page would never send.

    Dash itself fails such a request with a bare 500 and a logged traceback.
    """
    endpoint = app.config.routes_pathname_prefix + "_dash-update-component"

    @app.server.before_request
    def _check_callback_request() -> tuple[str, int] | None:
        if flask.request.method != "POST" or flask.request.path != endpoint:
            return None
        body = flask.request.get_json(silent=True)
        if not isinstance(body, dict):
            return "callback request: the body is not a JSON object", 400
        output = body.get("output")
        if not isinstance(output, str) or output not in app.callback_map:
            return f"callback request: no callback has the output {str(output)[:80]!r}", 400
        return None
