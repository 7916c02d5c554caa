"""The server under attack and faults, through the real Flask app.

Each test reproduces one finding of an attack on the running server: a health check that said
OK on a full disk, an operator sign-in open to guessing and never expiring, cookies sent over
plain http only, answers kept by caches, version strings, a reflected 400, forged session ids.
"""

from __future__ import annotations

import json
import re
import time
from concurrent.futures import ThreadPoolExecutor

import flask
import pytest
from helpers import fill_disk

from dashboard import create_app
from dashboard.server import lockout, session
from dashboard.settings import Settings

TOKEN = "operator-token-for-tests"
CALLBACK = "/_dash-update-component"


@pytest.fixture
def settings(tmp_path):
    return Settings(cache_dir=tmp_path / "store", operator_token=TOKEN)


@pytest.fixture
def client(settings):
    return create_app(settings).server.test_client()


def dash_config(page: str) -> dict:
    found = re.search(r'<script id="_dash-config"[^>]*>(.*?)</script>', page, re.DOTALL)
    assert found is not None
    return json.loads(found.group(1))


# Item 3: /health on a full disk -------------------------------------------------------------------


def test_health_says_503_once_the_store_cannot_take_a_record(small_disk):
    app = create_app(Settings(cache_dir=small_disk / "store"))
    client = app.server.test_client()
    assert (client.get("/health").status_code, client.get("/health").text) == (200, "OK")
    fill_disk(small_disk)
    (small_disk / "filler").write_bytes(bytes(1024 * 1024 - 200 * 1024))  # 200 kB left
    full = client.get("/health")
    assert full.status_code == 503
    assert (
        full.text
        == f"store folder {small_disk / 'store'} is not writable (No space left on device)"
    )
    assert not [path for path in (small_disk / "store").iterdir() if path.name.startswith(".")]
    (small_disk / "filler").unlink()
    assert client.get("/health").status_code == 200
    app.background_manager.handle.close()  # its job database, so the disk can be unmounted


# Item 7a: guessing the operator token -------------------------------------------------------------


def test_wrong_operator_tokens_lock_the_client_out_and_a_right_one_clears_its_tries(client):
    for _ in range(lockout.PER_CLIENT):
        assert client.post("/operator", data={"token": "guess"}).status_code == 403
    locked = client.post("/operator", data={"token": TOKEN})  # even the right one, now
    assert locked.status_code == 429 and "Too many wrong tokens" in locked.text
    assert 0 < int(locked.headers["Retry-After"]) <= lockout.WINDOW + 1
    assert session.OPERATOR_COOKIE not in str(locked.headers.getlist("Set-Cookie"))
    other = {"REMOTE_ADDR": "192.0.2.7"}  # another client may still sign in
    assert client.post("/operator", data={"token": "guess"}, environ_base=other).status_code == 403
    assert client.post("/operator", data={"token": TOKEN}, environ_base=other).status_code == 302
    for _ in range(lockout.PER_CLIENT):  # its wrong try was forgotten: a full allowance again
        assert client.post("/operator", data={"token": "x"}, environ_base=other).status_code == 403


def test_300_guesses_at_once_get_5_tries_whatever_the_threads(settings):
    app = create_app(settings)  # the attack: 300 wrong tokens in 0.7 s, all of them tried

    def guess(number: int) -> int:
        client = app.server.test_client()
        return client.post("/operator", data={"token": f"guess-{number}"}).status_code

    with ThreadPoolExecutor(max_workers=16) as threads:
        statuses = list(threads.map(guess, range(300)))
    assert statuses.count(403) == lockout.PER_CLIENT
    assert statuses.count(429) == 300 - lockout.PER_CLIENT


def test_wrong_tokens_from_many_clients_are_bounded_in_all(settings, client):
    for number in range(lockout.IN_ALL):
        address = {"REMOTE_ADDR": f"198.51.100.{number}"}
        assert (
            client.post("/operator", data={"token": "g"}, environ_base=address).status_code == 403
        )
    fresh = {"REMOTE_ADDR": "203.0.113.1"}
    assert client.post("/operator", data={"token": TOKEN}, environ_base=fresh).status_code == 429
    # another web process of the same store counts the same tries
    second = create_app(settings).server.test_client()
    assert second.post("/operator", data={"token": TOKEN}, environ_base=fresh).status_code == 429


def test_tries_older_than_the_window_no_longer_count(settings, client):
    for _ in range(lockout.PER_CLIENT):
        client.post("/operator", data={"token": "guess"})
    assert client.post("/operator", data={"token": TOKEN}).status_code == 429
    tries = settings.cache_dir / "operator" / "tries.json"
    aged = {
        name: [moment - lockout.WINDOW for moment in moments]
        for name, moments in json.loads(tries.read_text()).items()
    }
    tries.write_text(json.dumps(aged))
    assert client.post("/operator", data={"token": TOKEN}).status_code == 302
    assert "127.0.0.1" not in tries.read_text()  # addresses are kept hashed


# Item 7b: the operator's sign-in expires ----------------------------------------------------------


def test_the_operator_cookie_expires(settings, client):
    signed_in = client.post("/operator", data={"token": TOKEN})
    cookie = next(
        c for c in signed_in.headers.getlist("Set-Cookie") if session.OPERATOR_COOKIE in c
    )
    assert f"Max-Age={session.OPERATOR_MAX_AGE}" in cookie and "Expires=" in cookie
    proof = client.get_cookie(session.OPERATOR_COOKIE).value
    app = flask.Flask(__name__)

    def is_operator_with(value: str) -> bool:
        with app.test_request_context(headers={"Cookie": f"{session.OPERATOR_COOKIE}={value}"}):
            return session.is_operator(TOKEN)

    assert is_operator_with(proof)
    expires, _, digest = proof.partition(".")
    assert int(expires) <= time.time() + session.OPERATOR_MAX_AGE
    assert not is_operator_with(f"{int(expires) + 10**6}.{digest}")  # a later expiry, forged
    past = int(time.time()) - 1
    assert not is_operator_with(session._proof(TOKEN, past))  # a true proof, expired


# Item 7c: Secure cookies over https, behind a proxy when told so ----------------------------------


def _set_cookies(response) -> dict[str, str]:
    return {c.split("=", 1)[0]: c for c in response.headers.getlist("Set-Cookie")}


@pytest.mark.parametrize(
    ("behind_proxy", "base", "secure"),
    [
        (False, "http://localhost", False),
        (False, "https://localhost", True),
        (True, "http://localhost", True),  # the proxy says https
    ],
)
def test_cookies_are_secure_when_the_request_is_https(tmp_path, behind_proxy, base, secure):
    settings = Settings(
        cache_dir=tmp_path / "store", operator_token=TOKEN, behind_proxy=behind_proxy
    )
    client = create_app(settings).server.test_client()
    forwarded = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.9"}
    page = _set_cookies(client.get("/", base_url=base, headers=forwarded))
    signed_in = _set_cookies(
        client.post("/operator", data={"token": TOKEN}, base_url=base, headers=forwarded)
    )
    for cookie in (page[session.COOKIE], signed_in[session.OPERATOR_COOKIE]):
        assert ("; Secure" in cookie) is secure, cookie


def test_behind_a_proxy_the_lockout_counts_the_client_the_proxy_names(tmp_path):
    settings = Settings(cache_dir=tmp_path / "store", operator_token=TOKEN, behind_proxy=True)
    client = create_app(settings).server.test_client()
    for _ in range(lockout.PER_CLIENT):
        sent = client.post(
            "/operator", data={"token": "g"}, headers={"X-Forwarded-For": "203.0.113.5"}
        )
        assert sent.status_code == 403
    assert (
        client.post(
            "/operator", data={"token": TOKEN}, headers={"X-Forwarded-For": "203.0.113.5"}
        ).status_code
        == 429
    )
    assert (
        client.post(
            "/operator", data={"token": TOKEN}, headers={"X-Forwarded-For": "203.0.113.6"}
        ).status_code
        == 302
    )


def test_behind_proxy_comes_from_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("TEMPERATURE_FORECAST_CACHE", str(tmp_path))
    assert not Settings.from_env().behind_proxy
    monkeypatch.setenv("TEMPERATURE_FORECAST_BEHIND_PROXY", "1")
    assert Settings.from_env().behind_proxy
    monkeypatch.setenv("TEMPERATURE_FORECAST_BEHIND_PROXY", "maybe")
    with pytest.raises(
        ValueError, match=r"TEMPERATURE_FORECAST_BEHIND_PROXY \('maybe'\) is not 1 or 0"
    ):
        Settings.from_env()


# Item 7d: no-store on what holds a session's data; static files stay cacheable --------------------


def test_the_page_callbacks_and_sign_in_are_no_store_and_versioned_files_cacheable(client):
    page = client.get("/")
    stored = [
        page,
        client.get("/_dash-layout"),
        client.post(CALLBACK, json=[1]),
        client.get("/operator"),
        client.post("/operator", data={"token": TOKEN}),
        client.get("/health"),
    ]
    for response in stored:
        assert response.headers["Cache-Control"] == "no-store", response.request.path
    assert stored[4].status_code == 302
    suite = re.search(r'src="(/_dash-component-suites/[^"]+)"', page.text).group(1)
    css = re.search(r'href="(/assets/dashboard\.css\?m=[^"]+)"', page.text).group(1)
    for versioned in (suite, css):
        assert client.get(versioned).headers["Cache-Control"] == "max-age=31536000"
    assert client.get("/assets/dashboard.css").headers["Cache-Control"] == "no-cache"


# Item 7e: no versions named -----------------------------------------------------------------------


def test_the_page_names_no_library_or_python_version(client):
    config = dash_config(client.get("/").text)
    assert not {"python_version", "dash_version", "plotly_version"} & set(config)
    assert "requests_pathname_prefix" in config and "end_id" in config  # the rest stays


# Item 7f: the callback guard reflects no input ----------------------------------------------------


@pytest.mark.parametrize(
    "output", ["<script>alert(1)</script>.children", "<img src=x onerror=alert(1)>", {"a": "<b>"}]
)
def test_a_refused_callback_request_is_plain_text_without_the_markup_sent(client, output):
    response = client.post(CALLBACK, json={"output": output, "inputs": []})
    assert response.status_code == 400
    assert response.mimetype == "text/plain"
    assert "<" not in response.text and "alert" not in response.text
    assert "no callback has the output given (not shown)" in response.text


# Item 7g: session ids are the server's ------------------------------------------------------------


def test_a_session_id_the_client_chose_is_replaced_by_one_the_server_signed(settings, client):
    chosen = "A" * 32  # the shape of an id, never issued
    for forged in (
        chosen,
        f"{chosen}.{'0' * 32}",
        f"{chosen}.{session.signed(b'other key', chosen).split('.')[1]}",
    ):
        client.set_cookie(session.COOKIE, forged)
        replaced = _set_cookies(client.get("/"))[session.COOKIE]
        assert chosen not in replaced
    issued = client.get_cookie(session.COOKIE).value
    assert "Set-Cookie" not in client.get("/").headers  # an issued id is kept
    # another web process of the store, or the same after a restart, knows it too
    restarted = create_app(settings).server.test_client()
    restarted.set_cookie(session.COOKIE, issued)
    assert "Set-Cookie" not in restarted.get("/").headers
    key = settings.cache_dir / session.KEY_FILE
    assert key.stat().st_mode & 0o777 == 0o600


def test_a_background_job_sees_the_id_the_server_issued_not_the_one_sent(settings):
    app = create_app(settings)
    chosen = "B" * 32
    with app.server.test_request_context("/", headers={"Cookie": f"{session.COOKIE}={chosen}"}):
        app.server.preprocess_request()
        issued = flask.g.session_id
        assert issued != chosen
        # what Dash copies into a background job's callback context
        assert dict(app.backend.request_adapter().cookies)[session.COOKIE] == issued


def test_the_session_key_can_come_from_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("TEMPERATURE_FORECAST_CACHE", str(tmp_path / "store"))
    monkeypatch.setenv("TEMPERATURE_FORECAST_SECRET_KEY", "deployment key")
    settings = Settings.from_env()
    assert "deployment key" not in repr(settings)
    client = create_app(settings).server.test_client()
    client.set_cookie(session.COOKIE, session.signed(b"deployment key", "C" * 32))
    assert "Set-Cookie" not in client.get("/").headers
    assert not (tmp_path / "store" / session.KEY_FILE).exists()
