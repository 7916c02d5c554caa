"""Security defaults of `python -m dashboard`: loopback only, debug off, no traceback to clients."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
import urllib.error
import urllib.request

import psutil
import pytest
from helpers import REPO, free_port

pytestmark = [pytest.mark.slow, pytest.mark.timeout(180)]


def test_default_server_listens_on_loopback_only_with_debug_off(tmp_path):
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(REPO), "TEMPERATURE_FORECAST_CACHE": str(tmp_path)}
    env.pop("REDIS_URL", None)
    server = subprocess.Popen(
        [sys.executable, "-m", "dashboard", "--port", str(port)],
        cwd=REPO,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 120
        listening: set[tuple[str, int]] = set()
        while time.monotonic() < deadline and server.poll() is None and not listening:
            time.sleep(0.5)
            listening = {
                (c.laddr.ip, c.laddr.port)
                for c in psutil.Process(server.pid).net_connections(kind="inet")
                if c.status == psutil.CONN_LISTEN
            }
        assert listening == {("127.0.0.1", port)}, listening
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=30) as response:
            page = response.read().decode()
            named = response.headers["Server"]
        assert named == "dashboard"  # not Werkzeug's and Python's versions
        config = json.loads(
            re.search(r'<script id="_dash-config"[^>]*>(.*?)</script>', page, re.DOTALL).group(1)
        )
        assert not config.get("ui") and not config.get("props_check")
        assert "python_version" not in config and "dash_version" not in config
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/_dash-update-component",
            data=b'{"output": "nothing.children", "inputs": 7}',
            headers={"Content-Type": "application/json"},
        )
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(request, timeout=30)
        body = refused.value.read().decode()
        assert "Traceback" not in body and 'File "' not in body
        assert refused.value.headers["Server"] == "dashboard"
    finally:
        server.terminate()
        server.wait(timeout=30)
