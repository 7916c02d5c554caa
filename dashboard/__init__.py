"""The Dash dashboard: browse forecasts, compare stations, retrain from the page.

The web process never imports TensorFlow: it reads JSON records from the store, and training
runs as a background job in another process.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import flask
from dash import Dash, Output

from model import short_repr

from .page.layout import build_layout
from .page.wiring import register
from .present.theme import css_variables
from .server import jobs, session
from .server.background import make_manager
from .server.health import HEALTH_PATH, find_problem
from .server.serving import COMPRESSION, cache_versioned_assets
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
    _refuse_unknown_callbacks(app)
    _send_security_headers(app)
    session.install(app, settings.operator_token)
    jobs.install(app, settings)  # after session: it reads the request's session
    cache_versioned_assets(app)
    return app


def _send_security_headers(app: Dash) -> None:
    """Add headers that forbid framing, MIME sniffing and scripts from anywhere but the app.

    Scripts: the app's own files plus Dash's inline renderer and clientside callbacks, by hash
    (so register every callback first). Styles need 'unsafe-inline': plotly writes <style>.
    """
    policy = "; ".join(
        [
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
        ]
    )
    headers = {
        "Content-Security-Policy": policy,
        "X-Content-Type-Options": "nosniff",
        "X-Frame-Options": "DENY",
    }

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
        try:
            body = flask.request.get_json(silent=True)
        except RecursionError:
            return "callback request: the JSON is nested too deeply", 400
        if not isinstance(body, dict):
            return "callback request: the body is not a JSON object", 400
        output = body.get("output")
        if not isinstance(output, str) or "callback" not in app.callback_map.get(output, {}):
            return f"callback request: no callback has the output {short_repr(output, 80)}", 400
        problem = _body_problem(body, app.callback_map[output])
        if problem:
            return f"callback request for {short_repr(output, 80)}: {problem}", 400
        return None


def _body_problem(body: dict[str, Any], callback: dict[str, Any]) -> str | None:
    """What Dash would fail on (with a 500) in a callback request body, or None."""
    for field in ("inputs", "state"):
        items, expected = body.get(field, []), len(callback[field])
        if not isinstance(items, list) or len(items) != expected:
            return f"{field} must be a list of {expected} item(s)"
        if not all(_is_dependency(item) for item in items):
            return f"every item of {field} must be an object with an id and a property"
    declared, outputs = callback["output"], body.get("outputs")
    if not isinstance(declared, list):  # a single output: one object (or a pattern's list)
        declared, outputs = [declared], [outputs]
    if (
        not isinstance(outputs, list)
        or len(outputs) != len(declared)
        or not all(
            _is_dependency(item, output) for item, output in zip(outputs, declared, strict=True)
        )
    ):
        return f"outputs must be {len(declared)} object(s) naming the callback's outputs"
    changed = body.get("changedPropIds", [])
    if not isinstance(changed, list) or not all(isinstance(prop, str) for prop in changed):
        return "changedPropIds must be a list of strings"
    return None


def _is_dependency(item: Any, declared: Output | None = None) -> bool:
    """An {id, property} object, or a list of them (a pattern-matching dependency).

    With a declared output, each must be that output (as Dash compares them, patterns too),
    and only a pattern may be a list.
    """
    if declared is not None and isinstance(item, list) and not declared.has_wildcard():
        return False
    return all(
        isinstance(part, dict)
        and isinstance(part.get("id"), str | dict)
        and isinstance(part.get("property"), str)
        and (declared is None or Output(part["id"], part["property"].split("@")[0]) == declared)
        for part in (item if isinstance(item, list) else [item])
    )
