"""Who is asking: a browser session is a random id, signed by the server, in an HttpOnly cookie.

The id never leaves the server and the browser's cookie jar (no page script can read it), so a
session cannot act as another one by sending that one's model keys or data set ids. Only ids
the server chose are accepted: the cookie carries the id with its HMAC under the session key
(`Settings.secret_key`, else `secret.key` made once in the store folder, owner-only), which
every web process and worker of a store shares and which outlives a restart.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import secrets
import tempfile
import time
from pathlib import Path

import flask
from dash import Dash, callback_context
from dash.exceptions import MissingCallbackContextException
from werkzeug.datastructures import ImmutableMultiDict
from werkzeug.wrappers import Response as BaseResponse

from ..settings import Settings
from . import lockout

COOKIE = "forecast-session"
PATTERN = re.compile(r"^[A-Za-z0-9_-]{32}$")  # a session id
MAX_AGE = 400 * 24 * 3600  # the longest lifetime browsers keep a cookie
KEY_FILE = "secret.key"
OPERATOR_COOKIE = "forecast-operator"
OPERATOR_PATH = "/operator"
OPERATOR_MAX_AGE = 8 * 3600  # seconds a sign-in lasts
OPERATOR_FORM = """<!doctype html><title>Operator sign-in</title>
<form method="post"><label>Operator token <input name="token" type="password"
autocomplete="off" autofocus></label> <button>Sign in</button></form><p>{}</p>"""


def callback_path(app: Dash) -> str:
    """The path every callback request of the page is posted to."""
    return app.config.routes_pathname_prefix + "_dash-update-component"


def install(app: Dash, settings: Settings) -> None:
    """Give every request a session id: the cookie's if the server signed it, else a new one.

    The request's cookie is replaced by the checked id, so a background job (Dash copies the
    request's cookies into it) sees only a session the server issued. With an operator token,
    `/operator` takes it and keeps an expiring proof of it in an HttpOnly cookie, which lets
    that browser delete any model from the page; wrong tokens lock a client out (lockout.py).
    """
    key = session_key(settings)

    @app.server.before_request
    def _identify() -> None:
        request = flask.request
        cookies = request.cookies
        checked = _verified(key, cookies.get(COOKIE, ""))
        flask.g.session_id = checked or secrets.token_urlsafe(24)
        flask.g.new_session = checked is None
        request.cookies = ImmutableMultiDict(  # type: ignore[misc]  # werkzeug lets it be set
            [*((name, value) for name, value in cookies.items(multi=True) if name != COOKIE)]
            + [(COOKIE, flask.g.session_id)]
        )

    @app.server.after_request
    def _remember(response: flask.Response) -> flask.Response:
        if flask.g.get("new_session"):
            response.set_cookie(
                COOKIE,
                signed(key, flask.g.session_id),
                max_age=MAX_AGE,
                httponly=True,
                samesite="Strict",
                secure=flask.request.is_secure,
            )
        return response

    token = settings.operator_token
    if token:

        @app.server.route(OPERATOR_PATH, methods=["GET", "POST"])
        def _operator() -> BaseResponse:
            if flask.request.method == "GET":
                return flask.Response(OPERATOR_FORM.format(""), mimetype="text/html")
            client = flask.request.remote_addr or ""
            wait = lockout.admit(settings, client)
            if wait:
                minutes = -(-int(wait) // 60)
                text = OPERATOR_FORM.format(
                    f"Too many wrong tokens: try again in {minutes} minute(s)."
                )
                refused = flask.Response(text, status=429, mimetype="text/html")
                refused.headers["Retry-After"] = str(int(wait) + 1)
                return refused
            sent = flask.request.form.get("token", "")
            if not hmac.compare_digest(sent.encode(), token.encode()):
                wrong = OPERATOR_FORM.format("That is not the operator token.")
                return flask.Response(wrong, status=403, mimetype="text/html")
            lockout.clear(settings, client)
            response = flask.redirect("/")
            expires = int(time.time()) + OPERATOR_MAX_AGE
            response.set_cookie(
                OPERATOR_COOKIE,
                _proof(token, expires),
                max_age=OPERATOR_MAX_AGE,
                httponly=True,
                samesite="Strict",
                secure=flask.request.is_secure,
            )
            return response


def session_key(settings: Settings) -> bytes:
    """The key session ids are signed with: the setting's, else the store folder's own.

    The store folder's is made once, by whichever process comes first (a link never replaces
    a file, so every process of the store reads the same key).
    """
    if settings.secret_key:
        return settings.secret_key.encode()
    path = Path(settings.cache_dir) / KEY_FILE
    if not path.is_file():
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{KEY_FILE}.")
        try:
            with os.fdopen(handle, "wb") as written:  # mkstemp makes it owner-only
                written.write(secrets.token_hex(32).encode())
                written.flush()
                os.fsync(written.fileno())
            os.link(temporary, path)
        except FileExistsError:  # another process made it first
            pass
        finally:
            os.unlink(temporary)
    return path.read_bytes().strip()


def _signature(key: bytes, session_id: str) -> str:
    return hmac.new(key, f"session {session_id}".encode(), hashlib.sha256).hexdigest()[:32]


def signed(key: bytes, session_id: str) -> str:
    """The cookie of a session id: the id and its signature."""
    return f"{session_id}.{_signature(key, session_id)}"


def _verified(key: bytes, cookie: str) -> str | None:
    """The session id of a cookie the server signed, else None."""
    session_id, _, signature = cookie.partition(".")
    if not PATTERN.match(session_id):
        return None
    return session_id if hmac.compare_digest(signature, _signature(key, session_id)) else None


def _proof(operator_token: str, expires: int) -> str:
    digest = hmac.new(operator_token.encode(), f"operator {expires}".encode(), hashlib.sha256)
    return f"{expires}.{digest.hexdigest()}"


def is_operator(operator_token: str | None) -> bool:
    """Whether the request comes from a browser signed in with the operator token lately."""
    if not operator_token or not flask.has_request_context():
        return False
    sent = flask.request.cookies.get(OPERATOR_COOKIE, "")
    expires = sent.partition(".")[0]
    if not expires.isdigit() or int(expires) < time.time():
        return False
    return hmac.compare_digest(sent.encode(), _proof(operator_token, int(expires)).encode())


def hashed(session_id: str) -> str:
    """How a session is named on disk: a hash, so the store never holds a usable cookie."""
    return hashlib.sha256(session_id.encode()).hexdigest()[:32]


def current() -> str | None:
    """The session id of the request, or of the request that started this background job.

    None in a background job whose request carried no session (the web process put the
    checked id in the request's cookies, which Dash hands to the job).
    """
    if flask.has_request_context():
        return flask.g.get("session_id")
    try:
        sent = callback_context.cookies.get(COOKIE, "")
    except MissingCallbackContextException:  # outside any callback: nobody is asking
        return None
    return sent if PATTERN.match(sent) else None
