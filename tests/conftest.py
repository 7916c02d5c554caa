"""Shared fixtures: the embedded data, a few-station subset, tiny configs, stores and entries."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import flask
import pytest
from browsing import browser, dashboard
from helpers import BROWSER_SESSION, RAW_DATA, SMALL_LOCATIONS, TINY, require

from dashboard.data.shipped import SHIPPED_FOLDER
from model import DEFAULT, RECIPES, Record, Store, TrainConfig, read_monthly


@pytest.fixture(autouse=True)
def browser_session():
    """Callbacks called directly run as one browser session, as they would behind a request.

    Set `flask.g.session_id` to act as another session.
    """
    with flask.Flask(__name__).test_request_context():
        flask.g.session_id = BROWSER_SESSION
        yield BROWSER_SESSION


@pytest.fixture(scope="session")
def raw_data() -> Path:
    require(RAW_DATA.is_file(), f"raw data not found at {RAW_DATA}")
    return RAW_DATA


@pytest.fixture(scope="session")
def monthly():
    return read_monthly()


@pytest.fixture(scope="session")
def small_monthly(monthly):
    return monthly[monthly["location"].isin(SMALL_LOCATIONS)].reset_index(drop=True)


@pytest.fixture(scope="session")
def tiny_config() -> TrainConfig:
    """The session's tiny network: bidirectional, so the trained fixture covers that path."""
    return TINY.replace(window=6, horizon=3, epochs=2, bidirectional=True)


@pytest.fixture
def store(tmp_path) -> Store:
    return Store(tmp_path / "store")


@pytest.fixture
def small_disk(tmp_path) -> Path:
    """A real filesystem of 1 MB (a tmpfs: mounting it needs root, as CI runs), for fill_disk."""
    folder = tmp_path / "disk"
    folder.mkdir()
    command = ["mount", "-t", "tmpfs", "-o", "size=1m,mode=0700", "tmpfs", str(folder)]
    mounted = os.geteuid() == 0 and subprocess.run(command, capture_output=True).returncode == 0
    require(mounted, "mounting a small tmpfs needs root")
    yield folder
    subprocess.run(["umount", str(folder)], check=True)


@pytest.fixture(scope="session")
def built_in(tmp_path_factory) -> Store:
    """A copy of the shipped store: our default and the article's network, trained on the
    embedded data. Real networks and records that cost no training (nor TensorFlow) to use."""
    folder = tmp_path_factory.mktemp("built_in") / "store"
    shutil.copytree(SHIPPED_FOLDER, folder, ignore=shutil.ignore_patterns(".gitignore"))
    return Store(folder)


@pytest.fixture(scope="session")
def default_record(built_in, monthly) -> Record:
    """The built-in record of our default config."""
    return built_in.lookup(DEFAULT, monthly)


@pytest.fixture(scope="session")
def article_record(built_in, monthly) -> Record:
    """The built-in record of the article's network (its recipe)."""
    return built_in.lookup(RECIPES["article"].config, monthly)


@pytest.fixture(scope="session")
def trained(tmp_path_factory, tiny_config, small_monthly):
    """One tiny network trained once per session: (store, record). Tests using it are slow."""
    session_store = Store(tmp_path_factory.mktemp("trained") / "store")
    record, hit = session_store.get_or_train(tiny_config, small_monthly)
    assert not hit
    return session_store, record


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test that uses `trained` slow: it trains a network, with TensorFlow."""
    for item in items:
        if "trained" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.slow)


@pytest.fixture(scope="module")
def shared_server(tmp_path_factory) -> Iterator[str]:
    """One server with an empty cache for the tests that train nothing and change no store."""
    with dashboard(tmp_path_factory.mktemp("shared") / "cache") as url:
        yield url


@pytest.fixture
def dash_duo(shared_server, tmp_path):
    """A new browser session on the module's shared server."""
    with browser(shared_server, tmp_path / "downloads") as duo:
        yield duo


@pytest.fixture
def fresh_duo(tmp_path):
    """A new browser on a server of its own whose store is `tmp_path / "cache"`, empty at start:
    for the tests that train, upload or remove the store."""
    with dashboard(tmp_path / "cache") as url, browser(url, tmp_path / "downloads") as duo:
        yield duo
