"""Bounded training through the real app: `python -m dashboard`, diskcache job processes.

Sessions are HTTP clients with their own cookies posting the Retrain callback as the page
does (benchmarks/training_load.py's User). One training slot, a 3-second grace.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import psutil
import pytest
import requests
from helpers import wait_for

from benchmarks.training_load import LONG, TINY, User, dashboard_server, train_callback

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]


@pytest.fixture
def server(tmp_path):
    settings = {"TEMPERATURE_FORECAST_MAX_TRAININGS": "1", "TEMPERATURE_FORECAST_JOB_GRACE_S": "3"}
    with dashboard_server(tmp_path / "store", **settings) as (url, process, log):
        yield {"url": url, "process": process, "log": log, "store": tmp_path / "store"}


def poll(user: User, body: dict, job: dict) -> dict:
    """One poll as the page sends it ({} for a job that ended with no answer)."""
    return user.poll(body, job) or {}


def label_of(reply: dict) -> str:
    return str(reply.get("progress", {}).get("job-progress.data", {}).get("label", ""))


def test_one_slot_queues_refuses_a_second_and_stops_an_unpolled_training(server):
    spec = train_callback(server["url"])
    first, second = User(server["url"], spec), User(server["url"], spec)
    body, job = first.start(LONG)
    labels: list[str] = []
    wait_for(
        lambda: labels.append(label_of(poll(first, body, job))) or "epoch" in labels[-1],
        300,
        "the first training to report an epoch",
    )
    # The same session again: refused at once, whatever the queue.
    again_body, again_job = first.start({**LONG, "units.value": 17})
    replies: list[dict] = []
    wait_for(
        lambda: replies.append(poll(first, again_body, again_job)) or "response" in replies[-1],
        120,
        "the same session's second training to be answered",
    )
    assert "already running" in str(replies)  # the job's last report says why
    # Another session waits for the one slot, and sees its place, while the first page is open.
    first_open = threading.Event()
    first_open.set()
    first_page = threading.Thread(target=first.keep_polling, args=([(body, job)], {}, first_open))
    first_page.start()
    other_body, other_job = second.start(TINY)
    seen: list[str] = []
    wait_for(
        lambda: seen.append(label_of(poll(second, other_body, other_job))) or "queued" in seen[-1],
        120,
        "the other session's training to show its place in the queue",
    )
    assert "queued: number 1 in line" in seen
    # The first page goes silent: its training stops, saves nothing, frees the slot.
    first_open.clear()
    first_page.join()
    stopped = time.monotonic()
    answer: dict = {}

    def second_page_polls(condition: Callable[[], bool]) -> bool:
        """The second page goes on polling its own training while we wait."""
        if "response" not in answer:
            answer.update(poll(second, other_body, other_job))
        return condition()

    wait_for(
        lambda: second_page_polls(
            lambda: "page has sent nothing" in server["log"].read_text(errors="replace")
        ),
        120,
        "the unpolled training to stop",
    )
    print(f"unpolled training stopped {time.monotonic() - stopped:.1f} s after its last poll")
    wait_for(
        lambda: second_page_polls(lambda: "response" in answer),
        300,
        "the waiting training to run and finish",
    )
    assert "Trained" in str(answer["progress"])  # the job's last report, its word
    assert len(list(server["store"].glob("*.keras"))) == 1  # only the polled one was saved
    requests.get(server["url"], timeout=60)  # any request reaps the ended job processes
    tree = psutil.Process(server["process"].pid)
    wait_for(
        lambda: not [c for c in tree.children() if c.status() == psutil.STATUS_ZOMBIE],
        30,
        "no defunct job process",
    )
