"""The app factory, the command line, the shipped default model and the no-TensorFlow rule."""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import sys
import textwrap
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import plotly.graph_objects as go
import pytest
from helpers import REPO, free_port, runs_without_tensorflow

from dashboard import create_app
from dashboard.__main__ import build_parser, warn_if_public
from dashboard.data.shipped import BUILT_IN, shipped_store
from dashboard.page.forecast import update_chart
from dashboard.page.models import update_models
from dashboard.server import session
from dashboard.server.background import HealingCache
from dashboard.settings import Settings
from model import DEFAULT, key_for, read_monthly

# Every callback body except training, fed the values a first visit and a few clicks send.
NON_TRAINING_CALLBACKS = textwrap.dedent("""
    import base64, sys
    from dashboard import create_app
    from dashboard.page import form, ids
    from dashboard.page.compare import update_compare
    from dashboard.page.forecast import download_csv, update_chart
    from dashboard.page.frame import data_badge
    from dashboard.page.models import delete_model, update_models
    from dashboard.page.retrain import check_form
    from dashboard.page.scores import update_scores
    from dashboard.page.state import update_view
    from dashboard.page.stations import update_map
    from dashboard.page.your_data import upload_data
    from dashboard.settings import Settings

    settings = Settings(cache_dir=sys.argv[1])
    create_app(settings)
    opened = update_view(settings, None, None, None, "")
    shown, search, key = opened.view, opened.search, opened.view["model"]
    shown = update_view(settings, ids.STATIONS, opened.stations + ["state:TAS"], shown, search).view
    shown = update_view(settings, ids.COMPARE, [key, key], shown, search).view
    update_compare(settings, shown, ["served", "network"])
    update_view(settings, ids.MAP, {"points": [{"customdata": "Hobart"}]}, shown, search)
    update_view(settings, ids.SELECT_ALL, 1, shown, search)
    data_badge(settings, shown)
    update_map(settings, shown)
    update_chart(settings, shown, ["climatology", "seasonal_naive"], "auto",
                 ["served", "network"])
    update_chart(settings, shown, [], "panels", ["network"])
    update_scores(settings, shown)
    download_csv(settings, shown)
    update_models(settings, shown)
    update_view(settings, ids.VIEW_MODEL, key, shown, search)
    delete_model(settings, key, 0)
    update_view(settings, ids.STORE_VERSION, 1, shown, search)
    for values in (("default", 18, 18, 100, 32, "gru", True), ("article", 44, 36, 1, 4, "lstm",
                                                                False)):
        check_form(settings, dict(zip(form.INPUT_IDS, values, strict=True)), shown)
    csv = "Date,Location,MinTemp,MaxTemp,Rainfall\\n" + "".join(
        f"2015-{m:02d}-{d:02d},Alpha,10,20,0\\n" for m in range(1, 13) for d in range(1, 29))
    upload_data(settings, ids.UPLOAD,
                "data:text/csv;base64," + base64.b64encode(csv.encode()).decode(), "a.csv")
    upload_data(settings, ids.RESET_DATA, None, None)
""")


@pytest.mark.slow
def test_web_process_never_imports_tensorflow(tmp_path):
    runs_without_tensorflow(NON_TRAINING_CALLBACKS, str(tmp_path), timeout=300)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("preload", "redis_url", "outcome"),
    [
        ("", "redis://127.0.0.1:1/0", "READY"),
        ("import tensorflow", "redis://127.0.0.1:1/0", "TensorFlow was imported before the worker"),
        ("", "", "dashboard.worker needs REDIS_URL"),
    ],
)
def test_celery_worker_module_refuses_tensorflow_before_the_fork(
    tmp_path, preload, redis_url, outcome
):
    """`celery -A dashboard.worker` forks its children from this module: no TensorFlow in it."""
    script = f"{preload}\nimport dashboard.worker\nprint('READY')"
    env = {
        **os.environ,
        "REDIS_URL": redis_url,
        "TEMPERATURE_FORECAST_CACHE": str(tmp_path),
        "TF_CPP_MIN_LOG_LEVEL": "3",
    }
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert outcome in result.stdout + result.stderr, result.stderr[-2000:]
    assert (result.returncode == 0) == (outcome == "READY")


def test_shipped_entries_match_the_built_in_configs_and_embedded_data():
    """If this fails, a built-in config or the data changed: `python -m dashboard build-default`."""
    monthly = read_monthly()
    expected = {key_for(config, monthly): config for config in BUILT_IN.values()}
    assert {entry.key for entry in shipped_store().entries()} == set(expected)
    for key, config in expected.items():
        assert shipped_store().verify(key).config == config


def test_first_page_shows_the_shipped_forecast_with_an_empty_cache(tmp_path):
    settings = Settings(cache_dir=tmp_path / "empty")
    key = key_for(DEFAULT, read_monthly())
    view = {
        "dataset": None,
        "stations": list(settings.default_stations),
        "model": key,
        "compare": [],
    }
    figure, caption, _ = update_chart(settings, view, [], "auto", ["served", "network"])
    names = {trace.name for trace in go.Figure(figure).data}
    assert {f"{name} forecast" for name in ("Cairns", "Canberra", "Darwin")} <= names
    assert {f"{name} network" for name in ("Cairns", "Canberra", "Darwin")} <= names
    assert "(built in)" in str(caption)
    assert "built-in" in str(update_models(settings, view))


def test_app_factory_and_command_line_defaults(tmp_path):
    app = create_app(Settings(cache_dir=tmp_path / "cache"))
    assert Path(app.config.assets_folder).is_absolute()
    assert (Path(app.config.assets_folder) / "dashboard.css").is_file()
    assert app.server.test_client().get("/").status_code == 200
    args = build_parser().parse_args([])
    assert (args.command, args.host, args.port, args.debug) == ("serve", "127.0.0.1", 8050, False)
    assert build_parser().parse_args(["--port", "9000", "--debug"]).debug
    assert args.log_level is None  # then $TEMPERATURE_FORECAST_LOG_LEVEL, else INFO
    assert build_parser().parse_args(["--log-level", "debug"]).log_level == "DEBUG"


def test_settings_come_from_the_environment(monkeypatch, tmp_path):
    for name in (
        "REDIS_URL",
        "TEMPERATURE_FORECAST_MAX_UPLOAD_MB",
        "TEMPERATURE_FORECAST_LOG_LEVEL",
        "TEMPERATURE_FORECAST_MAX_TRAININGS",
        "TEMPERATURE_FORECAST_JOB_GRACE_S",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("TEMPERATURE_FORECAST_CACHE", str(tmp_path / "store"))
    settings = Settings.from_env()
    assert (settings.cache_dir, settings.redis_url) == (tmp_path / "store", None)
    assert (settings.max_upload_mb, settings.log_level) == (20, "INFO")
    assert (settings.max_trainings, settings.job_grace_seconds) == (os.cpu_count(), 60)
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:1/0")
    monkeypatch.setenv("TEMPERATURE_FORECAST_MAX_UPLOAD_MB", "5")
    monkeypatch.setenv("TEMPERATURE_FORECAST_LOG_LEVEL", "debug")
    monkeypatch.setenv("TEMPERATURE_FORECAST_MAX_TRAININGS", "3")
    monkeypatch.setenv("TEMPERATURE_FORECAST_JOB_GRACE_S", "2.5")
    settings = Settings.from_env()
    assert (settings.max_trainings, settings.job_grace_seconds) == (3, 2.5)
    assert (settings.redis_url, settings.max_upload_bytes) == ("redis://127.0.0.1:1/0", 5 * 2**20)
    assert settings.log_level == "DEBUG"
    app = create_app(settings)
    assert app.background_manager.handle.conf.broker_url == "redis://127.0.0.1:1/0"


@pytest.mark.parametrize(
    ("name", "value"),
    [
        *(
            ("TEMPERATURE_FORECAST_MAX_UPLOAD_MB", value)
            for value in ("lots", "0", "-3", "inf", "nan")
        ),
        ("TEMPERATURE_FORECAST_LOG_LEVEL", "loud"),
        *(("TEMPERATURE_FORECAST_MAX_TRAININGS", value) for value in ("two", "0", "1.5")),
        *(("TEMPERATURE_FORECAST_JOB_GRACE_S", value) for value in ("soon", "-1")),
    ],
)
def test_a_bad_setting_in_the_environment_is_named_with_its_value(monkeypatch, name, value):
    monkeypatch.setenv(name, value)
    with pytest.raises(ValueError, match=f"{name} \\('{value}'\\)"):
        Settings.from_env()


def test_health_says_ok_then_names_a_store_folder_that_takes_no_file(tmp_path):
    store = tmp_path / "store"
    client = create_app(Settings(cache_dir=store)).server.test_client()
    response = client.get("/health")
    assert (response.status_code, response.text) == (200, "OK")
    shutil.rmtree(store)
    store.write_text("a file where the store folder was")
    response = client.get("/health")
    assert response.status_code == 503
    assert response.text == f"store folder {store} is not writable (Not a directory)"


def test_the_store_and_jobs_folders_removed_while_serving_are_made_again(tmp_path):
    """A plain diskcache.Cache failed every call after this ('unable to open database file')."""
    store = tmp_path / "store"
    app = create_app(Settings(cache_dir=store))
    jobs = app.background_manager.handle
    job = HealingCache(jobs.directory)  # a job process's handle on the same folder
    other_thread = ThreadPoolExecutor(max_workers=1)  # the server answers in many threads
    jobs.set("result", "before")
    assert other_thread.submit(jobs.get, "result").result() == "before"
    shutil.rmtree(store)
    job.set("progress", [50, "epoch 1 of 2"])  # the job writes first: the folder is made again
    assert jobs.get("progress") == [50, "epoch 1 of 2"] and jobs.get("result") is None
    assert other_thread.submit(jobs.get, "progress").result() == [50, "epoch 1 of 2"]
    other_thread.shutdown()
    shutil.rmtree(store)
    assert app.server.test_client().get("/health").text == "OK"  # the store folder made again
    assert jobs.get("result") is None and (store / "jobs").is_dir()


def test_health_names_a_redis_that_does_not_answer(tmp_path):
    settings = Settings(
        cache_dir=tmp_path / "store", redis_url=f"redis://127.0.0.1:{free_port()}/0"
    )
    response = create_app(settings).server.test_client().get("/health")
    assert response.status_code == 503 and response.text.startswith("Redis does not answer")


def test_every_response_carries_the_security_headers(tmp_path):
    client = create_app(Settings(cache_dir=tmp_path / "cache")).server.test_client()
    responses = [
        client.get("/"),
        client.get("/_dash-layout"),
        client.get("/assets/dashboard.css"),
        client.post("/_dash-update-component", json=[1]),
    ]  # refused with 400
    for response in responses:
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["X-Frame-Options"] == "DENY"
        policy = dict(
            rule.strip().split(" ", 1)
            for rule in response.headers["Content-Security-Policy"].split(";")
        )
        assert policy["frame-ancestors"] == "'none'" and policy["default-src"] == "'self'"
        assert policy["script-src"].startswith("'self' 'sha256-")
        assert "unsafe" not in policy["script-src"] and policy["connect-src"] == "'self'"
    assert responses[-1].status_code == 400


@pytest.mark.parametrize(
    ("host", "public"),
    [
        ("0.0.0.0", True),
        ("::", True),
        ("", True),
        ("192.168.1.5", True),
        ("example.org", True),
        ("127.0.0.1", False),
        ("127.0.0.2", False),
        ("localhost", False),
        ("::1", False),
    ],
)
def test_serving_beyond_loopback_warns_that_it_is_not_for_production(caplog, host, public):
    args = build_parser().parse_args(["--host", host])
    with caplog.at_level(logging.WARNING, logger="dashboard"):
        assert warn_if_public(args.host) is public
    warnings = [record.getMessage() for record in caplog.records]
    if public:
        assert len(warnings) == 1 and "not for production" in warnings[0]
        assert "Production section of README.md" in warnings[0]
        assert "\n## Production\n" in (REPO / "README.md").read_text(encoding="utf-8")
    else:
        assert warnings == []


def test_a_browser_gets_one_secret_session_cookie_and_a_forged_one_is_replaced(tmp_path):
    client = create_app(Settings(cache_dir=tmp_path / "cache")).server.test_client()
    first = client.get("/")
    cookie = first.headers["Set-Cookie"]
    assert cookie.startswith(f"{session.COOKIE}=") and "HttpOnly" in cookie
    assert "SameSite=Strict" in cookie
    assert "Set-Cookie" not in client.get("/").headers  # the same session from then on
    client.set_cookie(session.COOKIE, "../not-an-id")
    replaced = client.get("/").headers["Set-Cookie"]
    assert replaced != cookie and "not-an-id" not in replaced
