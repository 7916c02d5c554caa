"""Training load benchmark: three sessions, one flooding, on `python -m dashboard` (default mode).

Run from the repository root:

    python -m benchmarks.training_load

Starts `python -m dashboard` on loopback with an empty temporary store, `--grace` seconds of
job grace and the default number of training slots (the number of cores). Three sessions, each
with its own cookie, post the Retrain callback as the page does (`/_dash-update-component`,
built from the app's `/_dash-dependencies`):

- A, a user: one training of the tiny config (window 3, horizon 1, 1 epoch, 2 units), polled;
- B, a flood: --flood trainings of a long config (the article's recipe: batch size 1, no early
  stopping; 300 epochs, 16 units) at once, all polled
  (a script keeping its page open) until A is done; then B goes silent while its admitted
  training still runs, which must stop after the grace;
- C, a user: one tiny training, a second after the flood, polled.

A bystander GETs `/` every 0.5 s throughout. The server's process tree is sampled every 0.2 s
(processes, summed RSS). Reported: the waiting time of A and C (the post until the first
progress that is not a queue place), how many of B's trainings were refused, how long B's
running training went on after B went silent, the peak of concurrent processes and RSS, `/`
latency, and the defunct processes left at the end. Loopback only; bounded in time.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import psutil
import requests

from benchmarks.common import RESULTS, fmt, markdown_table, write_section
from benchmarks.dashboard_load import HOST, ROOT, free_port, payload, tree_rss, wait_first_ok
from dashboard.server import jobs, session
from dashboard.settings import Settings

TINY = {"recipe.value": "default", "window.value": 3, "horizon.value": 1, "epochs.value": 1}
TINY |= {"units.value": 2, "cell.value": "gru", "bidirectional.value": False}
# The article's recipe: batch size 1 and no early stopping, so it runs until it is stopped.
LONG = {**TINY, "recipe.value": "article", "epochs.value": 300, "units.value": 16}
LIMIT = 600  # seconds: the whole run is bounded
TIMEOUT = 180  # seconds for one request (the machine may be busy)


def train_callback(base: str) -> dict[str, Any]:
    """The Retrain callback's spec (the background one triggered by the Train button)."""
    for spec in requests.get(f"{base}/_dash-dependencies", timeout=10).json():
        if spec.get("background") and spec["inputs"][0]["id"] == "train":
            return spec
    raise LookupError("no background callback is triggered by the Train button")


class User:
    """A browser session: its own cookie, posting trainings and polling them like the page."""

    def __init__(self, base: str, spec: dict[str, Any]) -> None:
        self.base, self.spec = base, spec
        self.http = requests.Session()
        self.http.get(f"{base}/", timeout=TIMEOUT)  # the page: sets the session cookie
        self.errors: list[str] = []

    def start(self, values: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
        body = payload(self.spec, {**values, "train.n_clicks": 1, "view.data": None})
        answer = self.http.post(f"{self.base}/_dash-update-component", json=body, timeout=TIMEOUT)
        answer.raise_for_status()
        return body, answer.json()

    @property
    def session_id(self) -> str:
        return str(self.http.cookies[session.COOKIE]).partition(".")[0]  # the id, not its signature

    def poll(self, body: dict[str, Any], job: dict[str, str]) -> dict[str, Any] | None:
        """One poll of a job as the page sends it; None when the job ended with no answer."""
        query = {"cacheKey": job["cacheKey"], "job": job["job"]}
        answer = self.http.post(
            f"{self.base}/_dash-update-component", params=query, json=body, timeout=TIMEOUT
        )
        if answer.status_code == 204:
            return None
        if answer.status_code != 200:  # counted, and polled again as the page would
            self.errors.append(f"{answer.status_code} {answer.text[:200]!r}")
            return {}
        return answer.json()

    def keep_polling(self, posted: list, answers: dict[int, str | None], open_: threading.Event):
        """Poll every posted job like an open page, noting answers, until `open_` is cleared."""
        reports: dict[int, Any] = {}
        while open_.is_set() and len(answers) < len(posted):
            for number, (body, job) in enumerate(posted):
                if number not in answers:
                    reply = self.poll(body, job)
                    reports[number] = _report(reply, reports.get(number))
                    if reply is None or "response" in reply:
                        answers[number] = _message(reply, reports[number])
            time.sleep(0.5)

    def follow(self, body: dict[str, Any], job: dict[str, str]) -> dict[str, Any]:
        """Poll until the answer; note when the first non-queue progress came."""
        started, report = None, None
        deadline = time.perf_counter() + LIMIT
        while time.perf_counter() < deadline:
            reply = self.poll(body, job)
            if reply is None:
                answer = _message(reply, report)
                return {"started": started, "ended": time.perf_counter(), "answer": answer}
            report = _report(reply, report)
            label = (report or {}).get("label")
            if started is None and label and not label.startswith("queued"):
                started = time.perf_counter()
            if "response" in reply:
                answer = _message(reply, report)
                return {"started": started, "ended": time.perf_counter(), "answer": answer}
            time.sleep(0.5)
        raise TimeoutError("a training gave no answer in time")


@contextmanager
def dashboard_server(store: Path, **variables: str) -> Iterator[tuple[str, subprocess.Popen, Path]]:
    """Run `python -m dashboard` (diskcache jobs) on a free loopback port until the block ends.

    `variables`: settings' environment variables; the others take their defaults. Yields
    (base URL, the server process, its log file in the store folder).
    """
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith("TEMPERATURE_FORECAST_") and name != "REDIS_URL"
    }
    env |= {"TEMPERATURE_FORECAST_CACHE": str(store), "TF_CPP_MIN_LOG_LEVEL": "3", **variables}
    store.mkdir(parents=True, exist_ok=True)
    port = free_port()
    log_path = store / "server.log"
    started = time.perf_counter()
    with log_path.open("wb") as log_file:  # a file: a full pipe would stall the server
        server = subprocess.Popen(
            [sys.executable, "-m", "dashboard", "--port", str(port)],
            cwd=ROOT,
            env=env,
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_first_ok(f"http://{HOST}:{port}/", started, limit=120)
        yield f"http://{HOST}:{port}", server, log_path
    finally:
        server.terminate()
        server.wait(timeout=60)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--flood", type=int, default=10, help="trainings session B posts")
    parser.add_argument("--grace", type=float, default=20.0, help="seconds of job grace")
    parser.add_argument("--out", default=str(RESULTS))
    args = parser.parse_args(argv)
    args.flood = min(args.flood, 30)

    with tempfile.TemporaryDirectory(prefix="training-load-") as cache:
        grace = {"TEMPERATURE_FORECAST_JOB_GRACE_S": str(args.grace)}
        with dashboard_server(Path(cache), **grace) as (base, server, log_path):
            rows = run(base, server, args, Path(cache))
        log = log_path.read_text(errors="replace")
    problems = [line for line in log.splitlines() if " ERROR " in line or "Traceback" in line]
    print("\n".join(problems[:20]), file=sys.stderr)  # the server's errors, if any
    stops = sum("page has sent nothing" in line for line in log.splitlines())
    rows.append(["trainings stopped for want of polls (server log)", stops])
    text = "\n".join(
        [
            "## Training load",
            "",
            f"Command: `python -m benchmarks.training_load {' '.join(argv or sys.argv[1:])}`."
            f" `python -m dashboard` (diskcache jobs), {os.cpu_count()} cores, so "
            f"{os.cpu_count()} training slots; job grace {args.grace:g} s. Session A posts one "
            f"tiny training (1 epoch, 2 units) and polls it; session B posts {args.flood} long "
            "trainings (the article's recipe: batch 1, no early stopping; 300 epochs, 16 units) "
            "at once and polls them all until A is done, then "
            "goes silent while its admitted training runs; session C posts one tiny training a "
            "second after B and polls it. A bystander GETs `/` every 0.5 s. "
            "Waiting time: from the post to the first progress that is not a queue place. "
            "Before the training slots and queue every post was a process of its own: 16 at once "
            "used 11.2 GB, and a 5-second job waited 136 s behind an abandoned flood.",
            "",
            markdown_table(["measure", "value"], rows),
        ]
    )
    print(text)
    write_section("training_load", text, Path(args.out))
    return 0


def run(base: str, server: subprocess.Popen, args: argparse.Namespace, cache: Path) -> list:
    spec = train_callback(base)
    a, b, c = (User(base, spec) for _ in range(3))
    tree = psutil.Process(server.pid)
    peaks = {"processes": 0, "rss": 0.0}
    latencies: list[float] = []
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            total, _ = tree_rss(tree)
            peaks["rss"] = max(peaks["rss"], total)
            peaks["processes"] = max(peaks["processes"], len(tree.children(recursive=True)))
            time.sleep(0.2)

    def bystander() -> None:
        http = requests.Session()
        while not done.is_set():
            begun = time.perf_counter()
            http.get(f"{base}/", timeout=TIMEOUT).raise_for_status()
            latencies.append(time.perf_counter() - begun)
            time.sleep(0.5)

    watchers = [threading.Thread(target=sample), threading.Thread(target=bystander)]
    for watcher in watchers:
        watcher.start()
    try:
        posted_a = time.perf_counter()
        job_a = a.start(TINY)
        flood = [b.start({**LONG, "units.value": 16 + n}) for n in range(args.flood)]
        b_open, answers = threading.Event(), dict[int, str | None]()
        b_open.set()
        b_page = threading.Thread(target=b.keep_polling, args=(flood, answers, b_open))
        b_page.start()
        time.sleep(1)
        posted_c = time.perf_counter()
        job_c = c.start({**TINY, "units.value": 3})
        result_a: dict[str, Any] = {}
        b_stopped: dict[str, float] = {}
        settings = Settings(cache_dir=cache)

        def follow_a_then_silence_b() -> None:
            result_a.update(a.follow(*job_a))
            b_open.clear()  # B's page goes silent while its training runs: it must stop
            b_page.join()
            silent = time.perf_counter()
            while jobs.is_running(settings, b.session_id):
                if time.perf_counter() - silent > LIMIT:
                    return
                time.sleep(0.2)
            b_stopped["after"] = time.perf_counter() - silent

        follower = threading.Thread(target=follow_a_then_silence_b)
        follower.start()
        result_c = c.follow(*job_c)
        follower.join()
        if "after" not in b_stopped:
            raise TimeoutError("B's training never stopped")
        for number, (body, job) in enumerate(flood):
            if number not in answers:
                answers[number] = b.follow(body, job)["answer"]
        refused = sum("already running" in (answer or "") for answer in answers.values())
        stopped = [answer for answer in answers.values() if "already running" not in (answer or "")]
        time.sleep(1)
        requests.get(f"{base}/", timeout=TIMEOUT)  # any request reaps ended job processes
        time.sleep(0.5)
        zombies = sum(
            child.status() == psutil.STATUS_ZOMBIE for child in tree.children(recursive=True)
        )
        saved = len(list(cache.glob("*.keras")))
    finally:
        done.set()
        for watcher in watchers:
            watcher.join()
    print("poll errors:", a.errors[:3], b.errors[:3], c.errors[:3], file=sys.stderr)
    waits = np.array(latencies) * 1000  # ms
    return [
        ["A: waiting time / total (s)", _span(result_a, posted_a)],
        ["C: waiting time / total (s)", _span(result_c, posted_c)],
        ["C's answer", _quote(result_c["answer"])],
        [f"B: trainings refused at once (of {args.flood})", refused],
        ["B's admitted training's answer", "; ".join(_quote(answer) for answer in stopped)],
        [
            "B's training: stopped this long after its page went silent (s)",
            fmt(b_stopped["after"], 1),
        ],
        ["models saved (A and C only expected)", saved],
        ["peak concurrent processes under the server", peaks["processes"]],
        ["peak RSS of the server and its jobs, summed (MB)", fmt(peaks["rss"], 0)],
        [
            "bystander GET / latency p50 / p95 / max (ms)",
            f"{np.percentile(waits, 50):.0f} / {np.percentile(waits, 95):.0f} / {waits.max():.0f}"
            f" ({len(waits)} requests)",
        ],
        ["defunct processes at the end", zombies],
        [
            "polls answered with an error (A, B, C)",
            f"{len(a.errors)}, {len(b.errors)}, {len(c.errors)}",
        ],
    ]


def _report(reply: dict[str, Any] | None, last: Any) -> Any:
    """The job's last report: this poll's (with the answer, a side update), else the one before."""
    reply = reply or {}
    side = reply.get("sideUpdate", {}).get("job-progress", {}).get("data")
    return side or reply.get("progress", {}).get("job-progress.data", last)


def _message(reply: dict[str, Any] | None, report: Any) -> str | None:
    """The Retrain message of a job that answered (in its last report); None for one that ended
    without an answer (cancelled, stopped with its page)."""
    message = (report or {}).get("message") if reply is not None else None
    return None if message is None else str(message.get("text", ""))


def _span(result: dict[str, Any], posted: float) -> str:
    start = result["started"]
    waited = fmt(start - posted, 1) if start is not None else "-"
    return f"{waited} / {fmt(result['ended'] - posted, 1)}"


def _quote(message: str | None) -> str:
    return "(none)" if message is None else message[:120].replace("|", "/")


if __name__ == "__main__":
    sys.exit(main())
