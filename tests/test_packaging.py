"""The installed project: a new venv, the locked runtime dependencies and `pip install .`.

The venv sees nothing of the machine's site-packages, so a dependency the project imports but
does not declare fails here as on a new user's machine. Only uv's download cache is shared.
The project comes from `pip install .` of a copy of the source: every command runs in a folder
outside the repository, without PYTHONPATH, so the repository's packages are not importable.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from helpers import FAST_FLAGS, REPO, free_port

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]
NOT_SOURCE = (
    ".git",
    "build",
    "dist",
    "*.egg-info",
    "__pycache__",
    ".pytest_cache",
    ".ruff_cache",
    "cache",
    ".cache",
    ".venv",
    "venv",
    "node_modules",
)


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> dict[str, Path]:
    """A new venv with requirements.lock and the project (not editable), and a folder outside."""
    root = tmp_path_factory.mktemp("installed")
    source = root / "source"
    shutil.copytree(REPO, source, ignore=shutil.ignore_patterns(*NOT_SOURCE))
    venv = root / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    result = subprocess.run(  # uv: pip's install of TensorFlow alone takes a minute or more
        [sys.executable, "-m", "uv", "pip", "install", "--no-config"]
        + ["--python", str(venv / "bin" / "python")]
        + ["--requirement", "requirements.lock", "."],
        cwd=source,
        env=outside_env(),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    elsewhere = root / "elsewhere"
    elsewhere.mkdir()
    return {"bin": venv / "bin", "venv": venv, "cwd": elsewhere, "root": root}


def outside_env(**extra: str) -> dict[str, str]:
    """The environment without PYTHONPATH or a Redis URL, plus `extra`."""
    env = {
        name: value for name, value in os.environ.items() if name not in ("PYTHONPATH", "REDIS_URL")
    }
    return {**env, "TF_CPP_MIN_LOG_LEVEL": "3", **extra}


def fetch(url: str) -> tuple[int, str, bytes]:
    """(status, content type, body) of a GET."""
    with urllib.request.urlopen(url, timeout=30) as response:
        return response.status, response.headers.get_content_type(), response.read()


def test_the_packages_come_from_the_venv(installed):
    script = "import dashboard, model; print(dashboard.__file__); print(model.__file__)"
    result = subprocess.run(
        [str(installed["bin"] / "python"), "-c", script],
        cwd=installed["cwd"],
        env=outside_env(),
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    for path in result.stdout.split():
        assert Path(path).is_relative_to(installed["venv"]), path


def test_the_dashboard_script_serves_the_page_its_css_and_the_map_outlines(installed):
    port = free_port()
    log = installed["root"] / "dashboard.log"
    env = outside_env(TEMPERATURE_FORECAST_CACHE=str(installed["root"] / "store"))
    with log.open("wb") as handle:
        server = subprocess.Popen(
            [
                str(installed["bin"] / "temperature-dashboard"),
                "--port",
                str(port),
                "--log-level",
                "info",
            ],
            cwd=installed["cwd"],
            env=env,
            stdout=handle,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 180
        while True:
            assert server.poll() is None, log.read_text()[-3000:]
            assert time.monotonic() < deadline, log.read_text()[-3000:]
            try:
                status, _, body = fetch(f"{url}/")
                break
            except OSError:
                time.sleep(0.5)
        page = body.decode()
        assert status == 200 and "Australian temperature forecasts" in page
        styles = re.findall(r'href="(/assets/[^"]+\.css)[^"]*"', page)
        assert {Path(style).name for style in styles} >= {"bootstrap.min.css", "dashboard.css"}
        for style in styles:
            assert fetch(f"{url}{style}")[:2] == (200, "text/css")
        status, _, outlines = fetch(f"{url}/assets/topojson/world_110m.json")
        assert status == 200 and "countries" in json.loads(outlines)["objects"]
        assert fetch(f"{url}/health")[::2] == (200, b"OK")
        assert re.search(
            rf"INFO dashboard \[pid {server.pid}\] serving http://127.0.0.1:{port}/ "
            "from the store folder .*/store, training jobs in diskcache",
            log.read_text(),
        )
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)


def test_the_model_script_trains_a_tiny_config_on_the_shipped_data(installed):
    command = [
        str(installed["bin"] / "temperature-model"),
        "train",
        "--json",
        "--log-level",
        "INFO",
        "--cache-dir",
        str(installed["root"] / "cli-store"),
        *FAST_FLAGS,
    ]
    result = subprocess.run(
        command,
        cwd=installed["cwd"],
        env=outside_env(),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    summary = json.loads(result.stdout)
    assert summary["cache_hit"] is False and summary["config"]["window"] == 3
    assert len(summary["per_location"]) == 49
    assert summary["metrics"]["served"]["mae"] > 0
    assert re.search(
        rf"INFO model\.store \[pid \d+\] training {summary['key']} finished in "
        rf"{summary['train_seconds']:.1f} s",
        result.stderr,
    )
