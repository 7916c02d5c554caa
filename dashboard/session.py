"""Who is asking: a browser session is a random id in an HttpOnly cookie the server sets.

The id never leaves the server and the browser's cookie jar (no page script can read it), so a
session cannot act as another one by sending that one's model keys or data set ids.
"""

from __future__ import annotations

import re
import secrets

import flask
from dash import Dash, callback_context
from dash.exceptions import MissingCallbackContextException

COOKIE = "forecast-session"
PATTERN = re.compile(r"^[A-Za-z0-9_-]{32}$")
MAX_AGE = 400 * 24 * 3600  # the longest lifetime browsers keep a cookie


def install(app: Dash) -> None:
    """Give every request a session id: the cookie's, or a new one set on the response."""

    @app.server.before_request
    def _identify() -> None:
        sent = flask.request.cookies.get(COOKIE, "")
        flask.g.session_id = sent if PATTERN.match(sent) else secrets.token_urlsafe(24)
        flask.g.new_session = flask.g.session_id != sent

    @app.server.after_request
    def _remember(response: flask.Response) -> flask.Response:
        if flask.g.get("new_session"):
            response.set_cookie(
                COOKIE, flask.g.session_id, max_age=MAX_AGE, httponly=True, samesite="Strict"
            )
        return response


def current() -> str | None:
    """The session id of the request, or of the request that started this background job.

    None in a background job whose request carried no valid cookie.
    """
    if flask.has_request_context():
        return flask.g.get("session_id")
    try:
        sent = callback_context.cookies.get(COOKIE, "")
    except MissingCallbackContextException:  # outside any callback: nobody is asking
        return None
    return sent if PATTERN.match(sent) else None
