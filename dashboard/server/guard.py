"""What the server adds to every answer and refuses outright: security headers, bad callbacks.

`install` runs once every callback is registered: the script policy lists the clientside
callbacks by hash, and the checks compare each request with the callback it names.
"""

from __future__ import annotations

import re
from typing import Any

import flask
from dash import Dash, Output

from model import short_repr

from . import session

PLAIN_ID = re.compile(r"^[A-Za-z0-9_.@-]{1,80}$")  # what a refused callback output may echo


def install(app: Dash) -> None:
    """Send the security headers with every answer; refuse callback requests no page sends."""
    _send_security_headers(app)
    _refuse_unknown_callbacks(app)


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
    endpoint = session.callback_path(app)

    @app.server.before_request
    def _check_callback_request() -> flask.Response | None:
        if flask.request.method != "POST" or flask.request.path != endpoint:
            return None
        try:
            body = flask.request.get_json(silent=True)
        except RecursionError:
            return _refused("callback request: the JSON is nested too deeply")
        if not isinstance(body, dict):
            return _refused("callback request: the body is not a JSON object")
        output = body.get("output")
        if not isinstance(output, str) or "callback" not in app.callback_map.get(output, {}):
            named = short_repr(output, 80) if _is_plain(output) else "given (not shown)"
            return _refused(f"callback request: no callback has the output {named}")
        problem = _body_problem(body, app.callback_map[output])
        if problem:
            return _refused(f"callback request for {short_repr(output, 80)}: {problem}")
        return None


def _is_plain(value: Any) -> bool:
    """Whether a value sent by a client may be quoted back: None, or a short id without markup."""
    return value is None or (isinstance(value, str) and PLAIN_ID.match(value) is not None)


def _refused(message: str) -> flask.Response:
    """A 400 answer as plain text, which no browser renders as a page."""
    return flask.Response(message, status=400, mimetype="text/plain")


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
