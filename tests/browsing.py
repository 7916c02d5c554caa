"""Browser plumbing for the browser tests: the dashboard as users start it, a new browser."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from helpers import CHROME_ARGS, CHROMIUM, REPO, free_port, require
from selenium.webdriver import ChromeOptions
from selenium.webdriver.common.keys import Keys

TRACE_NAMES = (
    "return Array.from(document.querySelectorAll('#forecast-chart .js-plotly-plot'))"
    ".flatMap(plot => (plot.data || []).map(trace => trace.name));"
)


def wait_until_serving(url: str, process: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"python -m dashboard exited with status {process.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError(f"python -m dashboard did not answer on {url} within {timeout} s")


@contextmanager
def dashboard(cache: Path) -> Iterator[str]:
    """`python -m dashboard` run as users run it, on the store folder `cache`; yields its URL."""
    port = free_port()
    env = {**os.environ, "TEMPERATURE_FORECAST_CACHE": str(cache)}
    env.pop("REDIS_URL", None)
    with (cache.parent / "server.log").open("ab") as log:
        server = subprocess.Popen(
            [sys.executable, "-m", "dashboard", "--port", str(port)],
            cwd=REPO,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        url = f"http://127.0.0.1:{port}"
        wait_until_serving(url, server)
        yield url
    finally:
        server.terminate()
        server.wait(timeout=10)


@contextmanager
def browser(url: str, downloads: Path) -> Iterator:
    """A dash[testing] browser with a new profile (so a new session) on the server at `url`."""
    require(Path(CHROMIUM).is_file(), f"chromium not found (looked for {CHROMIUM})")
    require(shutil.which("chromedriver") is not None, "chromedriver not found on PATH")
    from dash.testing.composite import DashComposite

    options = ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in CHROME_ARGS:
        options.add_argument(argument)
    with DashComposite(
        None,
        browser="Chrome",
        headless=True,
        options=[options],
        download_path=str(downloads),
        percy_run=False,
        wait_timeout=30,
    ) as duo:
        duo.server_url = url
        yield duo


def trace_names(duo) -> list[str]:
    return duo.driver.execute_script(TRACE_NAMES) or []


def click(duo, element_id: str) -> None:
    """Click a button even while a growing chart moves it (as a user would, after scrolling)."""
    script = "arguments[0].scrollIntoView({block: 'center'}); arguments[0].click();"
    duo.driver.execute_script(script, duo.find_element(f"#{element_id}"))


def type_number(duo, field_id: str, value: float) -> None:
    box = duo.find_element(f"#{field_id}")
    box.send_keys(Keys.CONTROL, "a")
    box.send_keys(str(value), Keys.TAB)
