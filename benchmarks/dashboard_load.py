"""Dashboard load benchmark: gunicorn (2 workers) on loopback, 20 clients posting the chart.

Run from the repository root:

    python -m benchmarks.dashboard_load      # not under nice: the server inherits it

Starts `gunicorn --workers 2 --bind 127.0.0.1:PORT dashboard.wsgi:server` with an empty temporary
store (the shipped default model is still offered), measures the time from process start to the
first 200 on `/`, then runs --clients threads for --seconds, each posting the chart callback
(`/_dash-update-component`, built from the app's own `/_dash-dependencies`) with a random set of
1-6 stations, a random model key (the shipped entry, or none = the default) and random baseline
and chart-mode choices. Reports requests, errors, p50/p95/p99 latency and the served processes'
peak RSS (sampled every 0.2 s), then stops the server it started. Loopback only; bounded in time.
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

from benchmarks.common import RESULTS, fmt, markdown_table, write_section

ROOT = Path(__file__).resolve().parents[1]
HOST = "127.0.0.1"  # never any other address
CHART_OUTPUT = "forecast-chart.figure"


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
        return {"id": dependency["id"], "property": dependency["property"],
                "value": values.get(name)}

    outputs = [{"id": part.split(".")[0], "property": part.split(".")[1]}
               for part in spec["output"].strip(".").split("...")]
    return {"output": spec["output"], "outputs": outputs,
            "inputs": [item(d) for d in spec["inputs"]],
            "state": [item(d) for d in spec.get("state", [])],
            "changedPropIds": [f"{spec['inputs'][0]['id']}.{spec['inputs'][0]['property']}"]}


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
    parser.add_argument("--out", default=str(RESULTS))
    args = parser.parse_args(argv)
    args.seconds = min(args.seconds, 120.0)  # bounded whatever is asked
    args.clients = min(args.clients, 64)

    from model import locations_in, read_monthly

    stations = list(locations_in(read_monthly()))
    keys = [None] + [path.stem for path in (ROOT / "dashboard" / "shipped").glob("*.json")]
    port = free_port()
    base = f"http://{HOST}:{port}"
    with tempfile.TemporaryDirectory(prefix="load-cache-") as cache:
        env = {**os.environ, "TEMPERATURE_FORECAST_CACHE": cache, "TF_CPP_MIN_LOG_LEVEL": "3"}
        started = time.perf_counter()
        server = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "--workers", str(args.workers), "--bind",
             f"{HOST}:{port}", "--timeout", "60", "dashboard.wsgi:server"],
            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        try:
            first_ok = wait_first_ok(f"{base}/", started, limit=60)
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
                        "stations.value": rng.sample(stations, rng.randint(1, 6)),
                        "model-key.data": rng.choice(keys),
                        "baselines.value": rng.choice([[], ["climatology"],
                                                       ["climatology", "seasonal_naive"]]),
                        "chart-mode.value": rng.choice(["auto", "overlay", "panels"]),
                        "forecasts.value": rng.choice([["model"], ["model", "network"]]),
                        "dataset.data": None,
                    }
                    body = payload(spec, values)
                    began = time.perf_counter()
                    try:
                        response = session.post(f"{base}/_dash-update-component", json=body,
                                                timeout=30)
                        elapsed = time.perf_counter() - began
                        ok = response.status_code == 200 and "response" in response.json()
                        problem = None if ok else f"status {response.status_code}"
                    except (requests.RequestException, ValueError) as error:
                        elapsed, problem = time.perf_counter() - began, type(error).__name__
                    with lock:
                        latencies.append(elapsed)
                        if problem:
                            failures.append(problem)

            threads = [threading.Thread(target=client, args=(i,), daemon=True)
                       for i in range(args.clients)]
            for thread in threads:
                thread.start()
            while any(thread.is_alive() for thread in threads):
                total, largest = tree_rss(master)
                peak["total"] = max(peak["total"], total)
                peak["largest"] = max(peak["largest"], largest)
                time.sleep(0.2)
        finally:
            server.terminate()
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
    millis = np.array(latencies) * 1000
    rows = [
        ["1-minute load average at the end (2 cores)", f"{os.getloadavg()[0]:.1f}"],
        ["server", f"gunicorn, {args.workers} workers, {HOST} only"],
        ["clients x duration", f"{args.clients} x {args.seconds:.0f} s"],
        ["requests", str(len(latencies))],
        ["throughput", fmt(len(latencies) / args.seconds, 1) + " req/s"],
        ["errors", str(len(failures))
         + (f" ({', '.join(sorted(set(failures)))})" if failures else "")],
        ["latency p50 / p95 / p99", " / ".join(fmt(np.percentile(millis, q), 0)
                                                for q in (50, 95, 99)) + " ms"],
        ["peak RSS, all server processes (master + workers)", fmt(peak["total"], 0) + " MB"],
        ["peak RSS, largest single process", fmt(peak["largest"], 0) + " MB"],
        ["process start to first 200 on /", fmt(first_ok, 2) + " s"],
    ]
    command = ("nice " if os.nice(0) else "") + "python -m benchmarks.dashboard_load " + " ".join(
        argv if argv is not None else sys.argv[1:])
    text = "\n".join([
        "## Dashboard under load", "",
        f"Command: `{command.strip()}`. Each request posts the chart callback with random "
        f"stations (1-6), model key (shipped default or none) and chart options; the client "
        f"threads run on the same {os.cpu_count()} cores as the server.", "",
        markdown_table(["measure", "value"], rows)])
    print(text)
    print(json.dumps({"errors_sample": failures[:5]}), file=sys.stderr)
    write_section("dashboard_load", text, Path(args.out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
