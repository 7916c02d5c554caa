"""How the page's files travel: compressed, kept by browsers only when their URL names a version.

Dash's `compress=True` hands every response to flask-compress, which reads `COMPRESSION` when
the app is built. Callback answers and the page are compressed per request at fast levels;
the JavaScript files Dash serves from Python packages (dash-ag-grid's alone is 1.3 MB) are
compressed once per process at stronger levels and kept (`PackageFiles`). Everything else
(the page, callback answers, the operator's sign-in) is `no-store`, and nothing names the
versions of the libraries or of Python the server runs.
"""

from __future__ import annotations

import gzip
import pkgutil
import zlib
from collections.abc import Callable
from typing import Any

import brotli
import flask
from dash import Dash
from dash.fingerprint import check_fingerprint
from werkzeug.serving import WSGIRequestHandler

try:
    from compression import zstd  # Python 3.14
except ImportError:  # before 3.14 flask-compress installs the backport
    from backports import zstd

ONE_YEAR = 31536000  # seconds: what Dash gives its fingerprinted component suites
# Endpoints whose (streamed) files flask-compress answers with 304 when the browser's ETag
# still matches: Flask's own static folder and Dash's assets blueprint ("_dash_assets" under
# the default "/" prefix). Without this a revisit downloads the CSS and the map again.
STATIC_ENDPOINTS = ["static", "_dash_assets.static"]
# Dash's component suites: fingerprinted URLs that Dash itself lets browsers keep for a year
PACKAGE_ENDPOINT = "/_dash-component-suites/<string:package_name>/<path:fingerprinted_path>"
VERSION_KEYS = (
    "dash_version",
    "python_version",
    "dash_version_url",
    "ddk_version",
    "plotly_version",
)
SERVER_NAME = "dashboard"  # the Server header of `python -m dashboard`, with no versions
# Levels for the package files, compressed once per process: about 0.7 s of CPU for the full
# plotly.min.js at zstd 9 (1.29 MB, against 1.44 MB at flask-compress's per-request level 3),
# which the page no longer loads (assets/plotly-geo.min.js replaces it).
STRONG: dict[str, Callable[[bytes], bytes]] = {
    "zstd": lambda data: zstd.compress(data, 9),
    "br": lambda data: brotli.compress(data, quality=6),
    "gzip": lambda data: gzip.compress(data, 9, mtime=0),
    "deflate": lambda data: zlib.compress(data, 9),
}


def find_package_file(request: flask.Request) -> str:
    """'package/path' of a component-suite file Dash serves (fingerprint removed), else ''."""
    args = request.view_args or {}
    if request.method != "GET" or "package_name" not in args or "fingerprinted_path" not in args:
        return ""
    path, _ = check_fingerprint(args["fingerprinted_path"])
    return f"{args['package_name']}/{path}"


class PackageFiles:
    """flask-compress's cache: the package files' compressed bodies, made once per process.

    flask-compress asks for `"{algorithm};{find_package_file(request)}"` before compressing a
    200 answer. Only files Dash validated and served reach it (an unknown path is a 404), and
    they cannot change while the process runs, so this is a memo, not shared state; anything
    else (the page, callbacks, assets) has an empty name and is compressed per request.
    """

    def __init__(self) -> None:
        self._bodies: dict[str, bytes] = {}

    def get(self, key: str) -> bytes | None:
        algorithm, _, name = key.partition(";")
        if not name or algorithm not in STRONG:
            return None
        if key not in self._bodies:
            package, _, path = name.partition("/")
            data = pkgutil.get_data(package, path)
            if data is None:
                return None
            self._bodies[key] = STRONG[algorithm](data)
        return self._bodies[key]

    def set(self, key: str, value: bytes) -> None:
        """Nothing to do: get() made and kept the body, or the response is not a package file."""


COMPRESSION = {
    "COMPRESS_CACHE_BACKEND": PackageFiles,
    "COMPRESS_CACHE_KEY": find_package_file,
    "COMPRESS_STREAMING_ENDPOINT_CONDITIONAL": STATIC_ENDPOINTS,
}


def cache_versioned_assets(app: Dash) -> None:
    """Let browsers keep /assets/ files for a year when the URL names their version (?m=mtime).

    Dash links CSS as `/assets/NAME?m=<mtime>`, so a changed file gets a new URL. The map's
    topojson is fetched by plotly without a version and stays revalidated (ETag, 304).
    """

    @app.server.after_request
    def _keep_versioned(response: flask.Response) -> flask.Response:
        request = flask.request
        if (
            response.status_code in (200, 304)
            and request.args.get("m")
            and (request.endpoint or "").endswith("dash_assets.static")
        ):
            response.cache_control.no_cache = None
            response.cache_control.max_age = ONE_YEAR
        return response


def forbid_storing(app: Dash) -> None:
    """Tell browsers and proxies to keep no copy of anything but the static files.

    The page and the callback answers hold a session's data and models; static files keep the
    caching above (versioned: a year; the rest revalidated).
    """
    static = {*STATIC_ENDPOINTS, PACKAGE_ENDPOINT}

    @app.server.after_request
    def _no_store(response: flask.Response) -> flask.Response:
        if flask.request.endpoint not in static:
            response.headers["Cache-Control"] = "no-store"
        return response


def hide_versions(config: dict[str, Any], shown: bool) -> dict[str, Any]:
    """Dash's page config without the versions it names, unless dev tools show them."""
    return config if shown else {k: v for k, v in config.items() if k not in VERSION_KEYS}


class QuietHandler(WSGIRequestHandler):
    """The development server's request handler, naming no versions in its Server header."""

    def version_string(self) -> str:
        return SERVER_NAME
