"""Upload memory benchmark: the web process's RSS while maximum-size uploads arrive at once.

Run from the repository root:

    python -m benchmarks.upload_memory             # 4 concurrent uploads
    python -m benchmarks.upload_memory --uploads 2

Starts `python -m dashboard` (the development server, one process, a thread per request) with an
empty temporary store, then posts the upload callback (`/_dash-update-component`, built from the
app's own `/_dash-dependencies`) with a valid daily CSV just under the upload limit (20 MB): first
one upload alone, then --uploads at once, each with other station names so each is saved. Reports
the server's RSS at rest and its peak during each phase (sampled every 0.05 s), what each upload
answered and how long it took, then stops the server. Loopback only; bounded in time.
"""

from __future__ import annotations

import argparse
import base64
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import pandas as pd
import psutil
import requests

from benchmarks.common import RESULTS, fmt, markdown_table, stop, write_section
from benchmarks.dashboard_load import HOST, ROOT, free_port, payload, wait_first_ok
from dashboard.page import ids

UPLOAD_OUTPUT = f"{ids.UPLOADED}.data"
LIMIT = 20 * 2**20  # the default TEMPERATURE_FORECAST_MAX_UPLOAD_MB
STATIONS = 160  # under the 200-station cap, so every upload is read, aggregated and saved
ROW = len("1990-01-01,SA000,10.5,20.0,0.2\n")


def daily_file(prefix: str, limit: int = LIMIT) -> bytes:
    """A valid weatherAUS-style daily CSV of STATIONS stations, just under `limit` bytes.

    `prefix` is two characters, so every row is ROW bytes long.
    """
    dates = pd.date_range("1990-01-01", periods=(limit - 1024) // (STATIONS * ROW))
    rows = "".join(
        f"{day:%Y-%m-%d},{prefix}{station:03d},{10 + i % 7}.5,{20 + i % 9}.0,{i % 3}.2\n"
        for station in range(STATIONS)
        for i, day in enumerate(dates)
    )
    return ("Date,Location,MinTemp,MaxTemp,Rainfall\n" + rows).encode()


def upload_spec(base: str) -> dict[str, Any]:
    for spec in requests.get(f"{base}/_dash-dependencies", timeout=10).json():
        if UPLOAD_OUTPUT in spec["output"]:
            return spec
    raise LookupError(f"no callback outputs {UPLOAD_OUTPUT}")


def post_upload(base: str, spec: dict[str, Any], raw: bytes, name: str) -> tuple[float, str]:
    """Post one upload as the page does; (seconds, what it answered)."""
    values = {
        f"{ids.UPLOAD_READY}.data": 1,
        f"{ids.UPLOAD}.contents": "data:text/csv;base64," + base64.b64encode(raw).decode(),
        f"{ids.UPLOAD}.filename": name,
    }
    body = payload(spec, values)
    body["changedPropIds"] = [f"{ids.UPLOAD_READY}.data"]
    session = requests.Session()
    session.get(f"{base}/", timeout=60)  # the session cookie, as a browser has it
    began = time.perf_counter()
    response = session.post(f"{base}/_dash-update-component", json=body, timeout=300)
    elapsed = time.perf_counter() - began
    if response.status_code != 200:
        return elapsed, f"HTTP {response.status_code}"
    uploaded = response.json()["response"][ids.UPLOADED]["data"]
    return elapsed, "saved" if uploaded.get("dataset") else "refused"


def peak_during(process: psutil.Process, work: list[threading.Thread]) -> float:
    """Start the threads and return the process's peak RSS in MB until they end."""
    for thread in work:
        thread.start()
    peak = 0.0
    while any(thread.is_alive() for thread in work):
        peak = max(peak, process.memory_info().rss / 2**20)
        time.sleep(0.05)
    return peak


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--uploads", type=int, default=4)
    parser.add_argument("--out", default=str(RESULTS))
    args = parser.parse_args(argv)
    args.uploads = max(1, min(args.uploads, 8))
    files = [daily_file(f"S{letter}") for letter in "ABCDEFGHI"[: args.uploads + 1]]
    port = free_port()
    base = f"http://{HOST}:{port}"
    with tempfile.TemporaryDirectory(prefix="upload-cache-") as cache:
        env = {**os.environ, "TEMPERATURE_FORECAST_CACHE": cache}
        server = subprocess.Popen(
            [sys.executable, "-m", "dashboard", "--port", str(port)],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            wait_first_ok(f"{base}/", time.perf_counter(), limit=120)
            process = psutil.Process(server.pid)
            spec = upload_spec(base)
            at_rest = process.memory_info().rss / 2**20
            answers: list[tuple[float, str]] = []

            def send(raw: bytes, name: str) -> threading.Thread:
                return threading.Thread(
                    target=lambda: answers.append(post_upload(base, spec, raw, name)), daemon=True
                )

            alone = peak_during(process, [send(files[-1], "alone.csv")])
            after_one = process.memory_info().rss / 2**20
            together = peak_during(
                process, [send(raw, f"upload{i}.csv") for i, raw in enumerate(files[:-1])]
            )
            after_all = process.memory_info().rss / 2**20
            kept = sorted(path.stat().st_size for path in Path(cache, "uploads").glob("*.csv"))
        finally:
            stop(server)
    size, days = len(files[0]) / 2**20, len(files[0]) // ROW // STATIONS
    rows = [
        [
            f"upload file (daily CSV, {STATIONS} stations x {days} days)",
            f"{fmt(size, 1)} MB ({fmt(size * 4 / 3, 1)} MB as base64)",
        ],
        ["kept on the server per upload (its monthly CSV)", fmt(kept[-1] / 2**20, 2) + " MB"],
        ["server RSS at rest (after the first page)", fmt(at_rest, 0) + " MB"],
        ["peak RSS, one upload", fmt(alone, 0) + f" MB (+{fmt(alone - at_rest, 0)} MB)"],
        [
            f"peak RSS, {args.uploads} uploads at once",
            fmt(together, 0) + f" MB (+{fmt(together - after_one, 0)} MB over the RSS before them)",
        ],
        ["RSS after one / after all", f"{fmt(after_one, 0)} / {fmt(after_all, 0)} MB"],
        ["answers (seconds, result)", ", ".join(f"{fmt(s, 1)} s {a}" for s, a in answers)],
        ["1-minute load average at the end (2 cores)", f"{os.getloadavg()[0]:.1f}"],
    ]
    command = "python -m benchmarks.upload_memory" + ("" if argv is None else " " + " ".join(argv))
    text = "\n".join(
        [
            "## Upload memory",
            "",
            f"Command: `{command}`. The development server (`python -m dashboard`), an empty "
            "store, maximum-size uploads posted as the page posts them.",
            "",
            markdown_table(["measure", "value"], rows),
        ]
    )
    print(text)
    write_section("upload-memory", text, Path(args.out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
