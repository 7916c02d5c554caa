"""The first visit in headless Chromium: compressed scripts, versioned files kept, a light revisit.

Sizes and times are the benchmark's business (benchmarks/dashboard_load.py); this checks what
the browser is told and what it downloads again, under both ways of serving the page.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from helpers import CHROME_ARGS, CHROMIUM, REPO, free_port, require, wait_for
from selenium import webdriver

ONE_YEAR = 31536000
FINGERPRINTED = re.compile(r"\.v\d+(_\d+)*m\d+\.")  # Dash's name.v4_4_1m1795804514.min.js
SERVERS = {
    "python -m dashboard": ["-m", "dashboard", "--port", "{port}"],
    "gunicorn": [
        "-m",
        "gunicorn",
        "--workers",
        "1",
        "--bind",
        "127.0.0.1:{port}",
        "dashboard.wsgi:server",
    ],
}
CHART_DRAWN = (
    "const plot = document.querySelector('#forecast-chart .js-plotly-plot');"
    "return Boolean(plot && plot.data && plot.data.length"
    " && plot.querySelector('.main-svg .trace'));"
)
RESOURCES = (
    "return performance.getEntriesByType('resource')"
    ".map(e => [e.name, e.transferSize, e.encodedBodySize, e.decodedBodySize]);"
)

pytestmark = [pytest.mark.browser, pytest.mark.slow]  # starts servers and Chromium


@pytest.fixture(params=list(SERVERS))
def browser(request, tmp_path):
    """(driver, url): a fresh headless Chromium logging the network, on a server with an empty
    cache started as users start it (`python -m dashboard`, or gunicorn as in supervisord.conf)."""
    require(Path(CHROMIUM).is_file(), f"chromium not found (looked for {CHROMIUM})")
    port = free_port()
    env = {**os.environ, "TEMPERATURE_FORECAST_CACHE": str(tmp_path / "cache")}
    env.pop("REDIS_URL", None)
    command = [sys.executable, *(part.format(port=port) for part in SERVERS[request.param])]
    with (tmp_path / "server.log").open("wb") as log:
        server = subprocess.Popen(command, cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT)
    driver = None
    try:
        url = f"http://127.0.0.1:{port}/"
        wait_for(lambda: _answers(url, server), 60, f"{request.param} to answer on {url}")
        options = webdriver.ChromeOptions()
        options.binary_location = CHROMIUM
        for argument in (*CHROME_ARGS, f"--user-data-dir={tmp_path / 'profile'}"):
            options.add_argument(argument)
        options.set_capability("goog:loggingPrefs", {"performance": "ALL"})
        driver = webdriver.Chrome(options=options)
        yield driver, url
    finally:
        if driver is not None:
            driver.quit()
        server.terminate()
        server.wait(timeout=20)


def _answers(url: str, server: subprocess.Popen) -> bool:
    if server.poll() is not None:
        raise RuntimeError(f"the server exited with status {server.returncode}")
    try:
        with urllib.request.urlopen(url, timeout=2):
            return True
    except OSError:
        return False


def _visit(driver, url: str) -> dict[str, list]:
    """Open url, wait for the drawn forecast chart and a quiet network; resources by URL."""
    driver.get(url)
    wait_for(lambda: driver.execute_script(CHART_DRAWN), 90, "the forecast chart")
    seen: list = []
    quiet = time.monotonic()
    while time.monotonic() - quiet < 1.5:
        current = driver.execute_script(RESOURCES)
        if len(current) != len(seen):
            seen, quiet = current, time.monotonic()
        time.sleep(0.25)
    return {entry[0]: entry[1:] for entry in seen}


def _responses(driver) -> dict[str, dict]:
    """What the server answered each request of the page: type, status and headers, by URL."""
    answers = {}
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message["method"] == "Network.responseReceived":
            response = message["params"]["response"]
            if response["url"].startswith("http://127.0.0.1"):
                answers[response["url"]] = {
                    "type": message["params"]["type"],
                    "status": response["status"],
                    "headers": {k.lower(): v for k, v in response["headers"].items()},
                }
    return answers


def _max_age(headers: dict[str, str]) -> int:
    found = re.search(r"max-age=(\d+)", headers.get("cache-control", ""))
    return int(found.group(1)) if found else 0


def test_scripts_come_compressed_and_versioned_files_are_kept(browser):
    driver, url = browser
    sizes = _visit(driver, url)
    responses = _responses(driver)

    scripts = {
        address: answer for address, answer in responses.items() if answer["type"] == "Script"
    }
    big = [address for address in scripts if sizes[address][2] > 50_000]
    assert any("plotly-geo.min.js" in address for address in big)  # the partial bundle
    assert not any("plotly.min.js" in address for address in scripts)  # never the full one
    assert len(big) >= 8
    for address in big:
        assert scripts[address]["headers"].get("content-encoding") in {"gzip", "br", "zstd"}, (
            address
        )
        transfer, encoded, decoded = sizes[address]
        assert encoded < decoded / 2, address  # the bytes on the wire are the compressed ones

    fingerprinted = [address for address in scripts if FINGERPRINTED.search(address)]
    assert len(fingerprinted) >= 8
    versioned_css = [
        address
        for address, answer in responses.items()
        if "/assets/" in address and "?m=" in address
    ]
    assert any("dashboard.css" in address for address in versioned_css)
    for address in fingerprinted + versioned_css:
        assert _max_age(responses[address]["headers"]) >= ONE_YEAR, address
    # The page and the callbacks' answers change: never kept without asking.
    assert _max_age(responses[url]["headers"]) == 0
    callbacks = [address for address in responses if "_dash-update-component" in address]
    assert callbacks and all(_max_age(responses[address]["headers"]) == 0 for address in callbacks)

    # Coming back, nothing big is downloaded again: kept, or confirmed unchanged (304).
    again = _visit(driver, url)
    files = {
        address: entry
        for address, entry in again.items()
        if "/_dash-component-suites/" in address or "/assets/" in address
    }
    assert any("plotly-geo.min.js" in address for address in files)
    downloaded = {address: entry[0] for address, entry in files.items() if entry[0] > 5_000}
    assert downloaded == {}
