"""Dashboard load benchmark: gunicorn (2 workers) on loopback, 20 clients posting the chart.

Run from the repository root:

    python -m benchmarks.dashboard_load              # not under nice: the server inherits it
    python -m benchmarks.dashboard_load --seconds 0  # the first visit only, no load

Starts `gunicorn --workers 2 --bind 127.0.0.1:PORT dashboard.wsgi:server` with an empty temporary
store (the shipped default model is still offered), measures the time from process start to the
first 200 on `/`, then opens the page --visits times in headless Chromium, each time with a fresh
profile (an empty cache): the bytes and responses of that first visit (Resource Timing
transferSize, encodedBodySize and decodedBodySize of the page and of every response until the
page is idle) and the time from navigation start to a drawn forecast chart (its plot has traces
and an SVG trace; timed in the page with `performance.now()`). Then it runs --clients threads for
--seconds, each posting the chart callback (`/_dash-update-component`, built from the app's own
`/_dash-dependencies`) with a random set of 1-6 stations, a random model key (the shipped entry,
or none = the default) and random baseline and chart-mode choices. Reports requests, errors,
p50/p95/p99 latency and the served processes' peak RSS (sampled every 0.2 s), then stops the
server it started. Loopback only; bounded in time.
The client threads share the 2 cores with the server, so latencies are an upper bound.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np
import psutil
import requests

from benchmarks.common import (
    CHROME_ARGS,
    CHROMIUM,
    RESULTS,
    fmt,
    markdown_table,
    stop,
    write_section,
)
from model import NETWORK, SERVED

ROOT = Path(__file__).resolve().parents[1]
HOST = "127.0.0.1"  # never any other address
CHART_OUTPUT = "forecast-chart.figure"
# Injected before the page's own scripts: note when the forecast chart is first drawn.
CHART_PROBE = """
(function check() {
  const plot = document.querySelector('#forecast-chart .js-plotly-plot');
  if (plot && plot.data && plot.data.length && plot.querySelector('.main-svg .trace')) {
    window.chartDrawnAt = performance.now();
  } else {
    setTimeout(check, 5);
  }
})();
"""
RESPONSES = """
return [...performance.getEntriesByType('navigation'), ...performance.getEntriesByType('resource')]
  .map(e => [e.name, e.transferSize, e.encodedBodySize, e.decodedBodySize]);
"""
MB = 1e6


def free_port() -> int:
    """A free TCP port on loopback."""
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


def wait_first_ok(url: str, started: float, limit: float) -> float:
    """Seconds from `started` to the first 200 on url; raises after `limit` seconds."""
    while time.perf_counter() - started < limit:
        try:
            if requests.get(url, timeout=2).status_code == 200:
                return time.perf_counter() - started
        except requests.RequestException:
            pass
        time.sleep(0.05)
    raise TimeoutError(f"no 200 from {url} within {limit} s")


def chart_callback(base: str) -> dict[str, Any]:
    """The chart callback's spec from /_dash-dependencies."""
    for spec in requests.get(f"{base}/_dash-dependencies", timeout=10).json():
        if CHART_OUTPUT in spec["output"]:
            return spec
    raise LookupError(f"no callback outputs {CHART_OUTPUT}")


def payload(spec: dict[str, Any], values: dict[str, Any]) -> dict[str, Any]:
    """A /_dash-update-component body for spec with the given `id.property` values."""

    def item(dependency: dict[str, Any]) -> dict[str, Any]:
        name = f"{dependency['id']}.{dependency['property']}"
        return {
            "id": dependency["id"],
            "property": dependency["property"],
            "value": values.get(name),
        }

    outputs = [
        {"id": part.split(".")[0], "property": part.split(".")[1]}
        for part in spec["output"].strip(".").split("...")
    ]
    return {
        "output": spec["output"],
        "outputs": outputs,
        "inputs": [item(d) for d in spec["inputs"]],
        "state": [item(d) for d in spec.get("state", [])],
        "changedPropIds": [f"{spec['inputs'][0]['id']}.{spec['inputs'][0]['property']}"],
    }


def measure_first_visit(url: str, profile: Path) -> dict[str, Any]:
    """Open url in headless Chromium with a fresh profile; ms to the drawn chart and responses.

    Responses are (url, transferSize, encodedBodySize, decodedBodySize) of the page and of every
    resource until none is added for a second (the page is idle).
    """
    from selenium import webdriver

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in (*CHROME_ARGS, f"--user-data-dir={profile}"):
        options.add_argument(argument)
    driver = webdriver.Chrome(options=options)
    try:
        driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": CHART_PROBE})
        driver.get(url)
        drawn = None
        deadline = time.monotonic() + 60
        while drawn is None and time.monotonic() < deadline:
            drawn = driver.execute_script("return window.chartDrawnAt || null;")
            time.sleep(0.1)
        if drawn is None:
            raise TimeoutError(f"the forecast chart of {url} was not drawn within 60 s")
        responses, quiet_since = [], time.monotonic()
        while time.monotonic() - quiet_since < 1.0 and time.monotonic() < deadline + 30:
            current = driver.execute_script(RESPONSES)
            if len(current) != len(responses):
                responses, quiet_since = current, time.monotonic()
            time.sleep(0.2)
        return {"chart_ms": drawn, "responses": responses}
    finally:
        driver.quit()


def first_visit_rows(visits: list[dict[str, Any]], load: tuple[float, float]) -> list[list[str]]:
    """Table rows: bytes and responses of the first visit, and the time to the drawn chart."""
    responses = visits[0]["responses"]
    sent, body, plain = (sum(r[i] for r in responses) for i in (1, 2, 3))
    largest = max(responses, key=lambda r: r[3])
    chart = [visit["chart_ms"] for visit in visits]
    counts = sorted({len(visit["responses"]) for visit in visits})
    return [
        [
            "responses (the page and every resource until idle)",
            " / ".join(map(str, counts)) + (" (differs between visits)" if len(counts) > 1 else ""),
        ],
        ["transferred: headers + bodies as sent (sum of transferSize)", fmt(sent / MB, 2) + " MB"],
        ["bodies as sent (sum of encodedBodySize)", fmt(body / MB, 2) + " MB"],
        ["bodies uncompressed (sum of decodedBodySize)", fmt(plain / MB, 2) + " MB"],
        [
            f"largest response: {largest[0].split('/')[-1].split('?')[0]}, sent / uncompressed",
            f"{fmt(largest[2] / MB, 2)} / {fmt(largest[3] / MB, 2)} MB",
        ],
        [
            f"navigation start to drawn forecast chart, median of {len(chart)} fresh profiles",
            f"{fmt(float(np.median(chart)) / 1000, 2)} s ("
            + ", ".join(fmt(ms / 1000, 2) for ms in chart)
            + ")",
        ],
        [
            "1-minute load average before / after the visits (2 cores)",
            f"{load[0]:.1f} / {load[1]:.1f}",
        ],
    ]


def tree_rss(process: psutil.Process) -> tuple[float, float]:
    """(total RSS MB of a process and its children, largest single RSS MB)."""
    members = [process, *process.children(recursive=True)]
    sizes = []
    for member in members:
        try:
            sizes.append(member.memory_info().rss / 2**20)
        except psutil.NoSuchProcess:
            continue
    return sum(sizes), max(sizes, default=0.0)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument(
        "--visits",
        type=int,
        default=3,
        help="first visits, each by a fresh Chromium profile (0: none)",
    )
    parser.add_argument("--out", default=str(RESULTS))
    args = parser.parse_args(argv)
    args.seconds = min(args.seconds, 120.0)  # bounded whatever is asked
    args.clients = min(args.clients, 64)
    args.visits = min(args.visits, 10)

    from model import locations_in, read_monthly

    stations = list(locations_in(read_monthly()))
    keys = [None] + [path.stem for path in (ROOT / "dashboard" / "shipped").glob("*.json")]
    port = free_port()
    base = f"http://{HOST}:{port}"
    with tempfile.TemporaryDirectory(prefix="load-cache-") as cache:
        env = {**os.environ, "TEMPERATURE_FORECAST_CACHE": cache, "TF_CPP_MIN_LOG_LEVEL": "3"}
        started = time.perf_counter()
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "--workers",
                str(args.workers),
                "--bind",
                f"{HOST}:{port}",
                "--timeout",
                "60",
                "dashboard.wsgi:server",
            ],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        try:
            first_ok = wait_first_ok(f"{base}/", started, limit=60)
            visits = []
            load_before = os.getloadavg()[0]
            for _ in range(args.visits):
                with tempfile.TemporaryDirectory(prefix="load-profile-") as profile:
                    visits.append(measure_first_visit(f"{base}/", Path(profile)))
            load_after = os.getloadavg()[0]
            if args.seconds <= 0:
                return write_first_visit(visits, (load_before, load_after), args, argv)
            spec = chart_callback(base)
            master = psutil.Process(server.pid)
            latencies: list[float] = []
            failures: list[str] = []
            lock = threading.Lock()
            deadline = time.perf_counter() + args.seconds
            peak = {"total": 0.0, "largest": 0.0}

            def client(index: int) -> None:
                rng = random.Random(index)
                session = requests.Session()
                while time.perf_counter() < deadline:
                    values = {
                        "view.data": {
                            "dataset": None,
                            "stations": rng.sample(stations, rng.randint(1, 6)),
                            "model": rng.choice(keys),
                            "compare": [],
                        },
                        "baselines.value": rng.choice(
                            [[], ["climatology"], ["climatology", "seasonal_naive"]]
                        ),
                        "chart-mode.value": rng.choice(["auto", "overlay", "panels"]),
                        "forecasts.value": rng.choice([[SERVED], [SERVED, NETWORK]]),
                    }
                    body = payload(spec, values)
                    began = time.perf_counter()
                    try:
                        response = session.post(
                            f"{base}/_dash-update-component", json=body, timeout=30
                        )
                        elapsed = time.perf_counter() - began
                        ok = response.status_code == 200 and "response" in response.json()
                        problem = None if ok else f"status {response.status_code}"
                    except (requests.RequestException, ValueError) as error:
                        elapsed, problem = time.perf_counter() - began, type(error).__name__
                    with lock:
                        latencies.append(elapsed)
                        if problem:
                            failures.append(problem)

            threads = [
                threading.Thread(target=client, args=(i,), daemon=True) for i in range(args.clients)
            ]
            for thread in threads:
                thread.start()
            while any(thread.is_alive() for thread in threads):
                total, largest = tree_rss(master)
                peak["total"] = max(peak["total"], total)
                peak["largest"] = max(peak["largest"], largest)
                time.sleep(0.2)
        finally:
            stop(server)
    millis = np.array(latencies) * 1000
    rows = [
        ["1-minute load average at the end (2 cores)", f"{os.getloadavg()[0]:.1f}"],
        ["server", f"gunicorn, {args.workers} workers, {HOST} only"],
        ["clients x duration", f"{args.clients} x {args.seconds:.0f} s"],
        ["requests", str(len(latencies))],
        ["throughput", fmt(len(latencies) / args.seconds, 1) + " req/s"],
        [
            "errors",
            str(len(failures)) + (f" ({', '.join(sorted(set(failures)))})" if failures else ""),
        ],
        [
            "latency p50 / p95 / p99",
            " / ".join(fmt(np.percentile(millis, q), 0) for q in (50, 95, 99)) + " ms",
        ],
        ["peak RSS, all server processes (master + workers)", fmt(peak["total"], 0) + " MB"],
        ["peak RSS, largest single process", fmt(peak["largest"], 0) + " MB"],
        ["process start to first 200 on /", fmt(first_ok, 2) + " s"],
    ]
    text = "\n".join(
        [
            "## Dashboard under load",
            "",
            f"Command: `{command_line(argv)}`. Each request posts the chart callback with random "
            f"stations (1-6), model key (shipped default or none) and chart options; the client "
            f"threads run on the same {os.cpu_count()} cores as the server.",
            "",
            markdown_table(["measure", "value"], rows),
        ]
    )
    print(text)
    print(json.dumps({"errors_sample": failures[:5]}), file=sys.stderr)
    write_section("dashboard_load", text, Path(args.out))
    return write_first_visit(visits, (load_before, load_after), args, argv)


def command_line(argv: list[str] | None) -> str:
    """How this script was run, for the results."""
    command = (
        ("nice " if os.nice(0) else "")
        + "python -m benchmarks.dashboard_load "
        + " ".join(argv if argv is not None else sys.argv[1:])
    )
    return command.strip()


def write_first_visit(
    visits: list[dict[str, Any]],
    load: tuple[float, float],
    args: argparse.Namespace,
    argv: list[str] | None,
) -> int:
    """Print the first-visit table and write it to its section of the results."""
    if not visits:
        return 0
    text = "\n".join(
        [
            "## Dashboard first visit",
            "",
            f"Command: `{command_line(argv)}`. The same gunicorn server ({args.workers} workers, "
            f"{HOST}), before any load; each visit is a new headless Chromium with a fresh "
            "profile (an empty cache) opening `/` with the built-in data and model. Sizes from "
            "the Resource Timing API, counted until no response was added for a second.",
            "",
            markdown_table(["measure", "value"], first_visit_rows(visits, load)),
        ]
    )
    print(text)
    write_section("dashboard_first_visit", text, Path(args.out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
