"""Who is asking: a browser session is a random id in an HttpOnly cookie the server sets.

The id never leaves the server and the browser's cookie jar (no page script can read it), so a
session cannot act as another one by sending that one's model keys or data set ids.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets

import flask
from dash import Dash, callback_context
from dash.exceptions import MissingCallbackContextException
from werkzeug.wrappers import Response as BaseResponse

COOKIE = "forecast-session"
PATTERN = re.compile(r"^[A-Za-z0-9_-]{32}$")
MAX_AGE = 400 * 24 * 3600  # the longest lifetime browsers keep a cookie
OPERATOR_COOKIE = "forecast-operator"
OPERATOR_PATH = "/operator"
OPERATOR_FORM = """<!doctype html><title>Operator sign-in</title>
<form method="post"><label>Operator token <input name="token" type="password"
autocomplete="off" autofocus></label> <button>Sign in</button></form><p>{}</p>"""


def callback_path(app: Dash) -> str:
    """The path every callback request of the page is posted to."""
    return app.config.routes_pathname_prefix + "_dash-update-component"


def install(app: Dash, operator_token: str | None = None) -> None:
    """Give every request a session id: the cookie's, or a new one set on the response.

    With an operator token, `/operator` takes it once and keeps a proof of it in an HttpOnly
    cookie, which lets that browser delete any model from the page.
    """

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

    if operator_token:

        @app.server.route(OPERATOR_PATH, methods=["GET", "POST"])
        def _operator() -> BaseResponse:
            if flask.request.method == "GET":
                return flask.Response(OPERATOR_FORM.format(""), mimetype="text/html")
            sent = flask.request.form.get("token", "")
            if not hmac.compare_digest(sent.encode(), operator_token.encode()):
                wrong = OPERATOR_FORM.format("That is not the operator token.")
                return flask.Response(wrong, status=403, mimetype="text/html")
            response = flask.redirect("/")
            response.set_cookie(
                OPERATOR_COOKIE, _proof(operator_token), httponly=True, samesite="Strict"
            )
            return response


def _proof(operator_token: str) -> str:
    return hmac.new(operator_token.encode(), b"operator", hashlib.sha256).hexdigest()


def is_operator(operator_token: str | None) -> bool:
    """Whether the request comes from a browser signed in with the operator token."""
    if not operator_token or not flask.has_request_context():
        return False
    sent = flask.request.cookies.get(OPERATOR_COOKIE, "")
    return hmac.compare_digest(sent.encode(), _proof(operator_token).encode())


def hashed(session_id: str) -> str:
    """How a session is named on disk: a hash, so the store never holds a usable cookie."""
    return hashlib.sha256(session_id.encode()).hexdigest()[:32]


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
