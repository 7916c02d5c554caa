"""Many processes at once train once; kill -9 never leaves a broken entry, nor a silent page.

Real `python -m model train` processes on a two-station monthly file with the CLI_FAST config.
Killing the training process is also how the page's Cancel stops a training (Dash's job
managers kill the job's process), so this is the cancel test too. Then the page's side: a
training job of the running app (`python -m dashboard`) killed with -9, or dying at its start
on a full disk, is told to the page in words within a few polls and leaves no lock file
(`check_a_killed_job_is_told`, which the production tests run against Celery too).
"""

from __future__ import annotations

import json
import os
import random
import signal
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import psutil
import pytest
import requests
from helpers import (
    CLI_FAST,
    entry_files,
    fill_disk,
    start_cli_train,
    temporaries,
    two_stations,
    wait_for,
)

from benchmarks.dashboard_load import payload
from benchmarks.training_load import LONG, TINY, User, dashboard_server, train_callback
from dashboard.page import ids
from dashboard.page.training_panel import PanelState
from dashboard.server import session
from model import Store, key_for, load_monthly
from model.data import write_monthly

pytestmark = pytest.mark.slow
PROCESSES = 8
TRIALS = 10


@pytest.fixture(scope="module")
def data_file(tmp_path_factory, monthly) -> Path:
    path = tmp_path_factory.mktemp("data") / "two_stations.csv"
    write_monthly(two_stations(monthly), path)
    return path


@pytest.mark.timeout(240)
def test_eight_processes_asking_at_once_train_exactly_once(tmp_path, data_file):
    cache = tmp_path / "store"
    processes = [start_cli_train(cache, data_file, seed=11) for _ in range(PROCESSES)]
    launched_before_any_entry = not list(cache.glob("*.json"))
    outputs = [process.communicate(timeout=200) for process in processes]
    for process, (_, stderr) in zip(processes, outputs, strict=True):
        assert process.returncode == 0, stderr[-2000:]
    results = [json.loads(stdout) for stdout, _ in outputs]
    trained = sum(not result.pop("cache_hit") for result in results)
    print(
        f"single-flight: {PROCESSES} processes, {trained} training run(s), "
        f"all launched before any entry existed: {launched_before_any_entry}"
    )
    assert launched_before_any_entry
    assert trained == 1
    assert all(result == results[0] for result in results)
    store = Store(cache)
    key = results[0]["key"]
    assert entry_files(store) == [f"{key}.gates.json", f"{key}.json", f"{key}.keras"]
    assert [entry.key for entry in store.entries()] == [key]
    assert temporaries(store) == []
    assert not list(cache.glob("*.lock"))  # the trainer removed it; the waiters left none


def check_store(store: Store, monthly) -> list[str]:
    """Assert every record file present verifies and loads; return the listed keys."""
    on_disk = {path.stem for path in store.folder.glob("[!.]*.json") if path.stem.isalnum()}
    listed = [entry.key for entry in store.entries()]  # may include records written since
    assert on_disk <= set(listed)
    for key in listed:
        store.verify(key)
        assert store.load_network(key) is not None
    return listed


def kill_at_random_moment(trial: int, cache: Path, data: Path, rng: random.Random) -> str:
    """Start a training; kill -9 it at a random time or just after one of its files appears."""
    seed = 1000 + trial
    key = key_for(CLI_FAST.replace(seed=seed), load_monthly(data))
    trigger = ("time", f".{key}.keras.", f"{key}.keras", f".{key}.json.")[trial % 4]
    delay = rng.uniform(0.0, 12.0) if trigger == "time" else rng.uniform(0.0, 0.02)
    process = start_cli_train(cache, data, seed=seed)
    started = time.monotonic()
    seen = False
    try:
        while process.poll() is None and time.monotonic() - started < 150:
            seen = trigger != "time" and any(
                path.name.startswith(trigger) for path in cache.glob(f"*{key}*")
            )
            if trigger == "time" or seen:
                time.sleep(delay)
                break
            time.sleep(0.002)
        outcome = "finished before the kill" if process.poll() is not None else "killed"
        if process.poll() is None:
            os.kill(process.pid, signal.SIGKILL)
        process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=30)
    moment = (
        "at a random time"
        if trigger == "time"
        else f"after {trigger}* appeared"
        if seen
        else f"(it ended before {trigger}* was seen)"
    )
    return f"trial {trial}: {outcome} {delay:.3f} s {moment} ({time.monotonic() - started:.1f} s)"


@pytest.mark.timeout(300)
def test_kill_9_at_random_moments_never_lists_or_loads_a_broken_entry(tmp_path, data_file):
    seed = int(os.environ.get("RELIABILITY_SEED", "2"))  # set it to try other kill moments
    rng = random.Random(seed)
    cache = tmp_path / "store"
    cache.mkdir()
    store = Store(cache)
    monthly = load_monthly(data_file)
    print(f"crash trials: seed {seed}")
    with ThreadPoolExecutor(max_workers=2) as lanes:  # two trainings at once share the store
        futures = [
            lanes.submit(
                kill_at_random_moment, trial, cache, data_file, random.Random(rng.random())
            )
            for trial in range(TRIALS)
        ]
        for future in futures:
            print(future.result())
            check_store(store, monthly)
    listed = check_store(store, monthly)
    print(
        f"after {TRIALS} kills: {len(listed)} complete entries, "
        f"{len(temporaries(store))} orphaned temporary files (never listed)"
    )
    keys = {
        seed: key_for(CLI_FAST.replace(seed=seed), monthly) for seed in range(1000, 1000 + TRIALS)
    }
    killed = [seed for seed, key in keys.items() if key not in listed]
    assert set(listed) <= set(keys.values())  # the test computes the keys the CLI writes
    assert killed, "every trial finished before its kill"
    orphaned = {name.split(".")[1] for name in temporaries(store)}  # .KEY.keras.XXXX.tmp.keras
    killed.sort(key=lambda seed: keys[seed] not in orphaned)  # prefer a key with orphans
    record, hit = store.get_or_train(CLI_FAST.replace(seed=killed[0]), monthly)
    assert not hit
    print(f"retrained killed key {record.key} (it had orphans: {record.key in orphaned})")
    assert not [name for name in temporaries(store) if record.key in name]  # orphans removed
    assert store.load_network(record.key) is not None
    assert record.key in check_store(store, monthly)


def claim_of(store: Path, user: User) -> dict:
    """The session's training claim in the store (the job's id and, once it trains, its pid)."""
    path = store / "jobs" / "sessions" / f"{session.hashed(user.session_id)}.claim"
    return json.loads(path.read_text())


def label_of(reply: dict | None) -> str:
    return str((reply or {}).get("progress", {}).get("job-progress.data", {}).get("label", ""))


def panel_after_the_job_ended(user: User) -> dict:
    """The Retrain panel's answer when its running job stopped with no last report, as the
    page asks it when Dash sets `job-running` to false."""
    spec = next(
        c
        for c in requests.get(f"{user.base}/_dash-dependencies", timeout=30).json()
        if f"{ids.TRAIN_MESSAGE}.children" in c["output"]
        and not c.get("background")
        and any(i["id"] == ids.JOB_RUNNING for i in c["inputs"])
    )
    state = PanelState(phase="running", trains=1, looked=True, seen_running=True)._asdict()
    values = {
        f"{ids.TRAIN}.n_clicks": 1,
        f"{ids.JOB_RUNNING}.data": False,
        f"{ids.TRAINING}.data": state,
    }
    body = payload(spec, values)
    body["changedPropIds"] = [f"{ids.JOB_RUNNING}.data"]
    answer = user.http.post(f"{user.base}/_dash-update-component", json=body, timeout=60)
    answer.raise_for_status()
    return answer.json()["response"]


def polls_until_ended(user: User, body: dict, job: dict, limit: int = 60) -> int:
    """Poll the job as the page does until Dash says it ended (204); return how many polls."""
    for number in range(1, limit + 1):
        reply = user.poll(body, job)
        if reply is None:
            return number
        assert "response" not in reply, reply
        time.sleep(0.5)
    raise AssertionError(f"the job still runs after {limit} polls")


def check_a_killed_job_is_told(url: str, store: Path) -> str:
    """Start a long training, kill -9 its process mid-epoch; the page is told within a few polls.

    Returns a line of figures for the log.
    """
    user = User(url, train_callback(url))
    body, job = user.start(LONG)
    wait_for(lambda: "epoch" in label_of(user.poll(body, job)), 300, "an epoch of the training")
    assert list(store.glob("*.lock")), "the training holds its key's lock"
    os.kill(claim_of(store, user)["pid"], signal.SIGKILL)
    killed = time.monotonic()
    polls = polls_until_ended(user, body, job)
    panel = panel_after_the_job_ended(user)
    seconds = time.monotonic() - killed
    message = json.dumps(panel[ids.TRAIN_MESSAGE])
    assert "The training stopped unexpectedly; nothing was saved" in message, message
    assert "its process was killed" in message
    assert panel[ids.TRAIN]["disabled"] is False  # Train works again
    assert not list(store.glob("*.lock"))  # the dead training's lock file is gone
    # the session is free to train again (settings no other test of a shared store trains)
    again_body, again_job = user.start({**TINY, "units.value": 29})
    wait_for(
        lambda: "Trained" in json.dumps(user.poll(again_body, again_job) or {}),
        300,
        "the next training of the session",
    )
    return f"kill -9 told after {polls} poll(s), {seconds:.1f} s to the page's message"


@pytest.mark.timeout(600)
def test_a_killed_training_job_is_told_to_its_page_and_leaves_no_lock(tmp_path):
    with dashboard_server(tmp_path / "store") as (url, _, _):
        print("default mode:", check_a_killed_job_is_told(url, tmp_path / "store"))


@pytest.mark.timeout(300)
def test_a_job_dying_at_its_start_on_a_full_disk_is_told_to_its_page(small_disk):
    store = small_disk / "store"
    with dashboard_server(store) as (url, server, log):
        user = User(url, train_callback(url))
        fill_disk(small_disk)
        body, job = user.start(TINY)
        polls = polls_until_ended(user, body, job)
        message = json.dumps(panel_after_the_job_ended(user)[ids.TRAIN_MESSAGE])
        assert "The training stopped unexpectedly; nothing was saved" in message, message
        assert "the server's disk is full" in message
        print(f"full disk: the job's death told after {polls} poll(s): {json.loads(message)}")
        assert "disk is full" in log.read_text(errors="replace")  # sqlite's, in the job
        helpers = psutil.Process(server.pid).children(recursive=True)  # the fork server
    psutil.wait_procs(helpers, timeout=30)  # gone before the disk is unmounted


def message_of(reply: dict | None) -> str | None:
    """The Retrain message a job's answer carries (its last report, a side update)."""
    data = (reply or {}).get("sideUpdate", {}).get("job-progress", {}).get("data") or {}
    return (data.get("message") or {}).get("text")


def check_one_training_per_session(url: str) -> str:
    """Five Train posts from one session, then another user's 3 s later, all polled like pages.

    The session's second to fifth are refused at the first poll; its first and the other
    user's train, first come first served. Returns a line of figures for the log.
    """
    spec = train_callback(url)
    flood, other = User(url, spec), User(url, spec)
    posted = time.monotonic()
    # settings no other test of a shared store trains, so none is answered from the cache
    posts = [(flood, *flood.start({**TINY, "units.value": 20 + n})) for n in range(5)]
    time.sleep(3)
    posts.append((other, *other.start({**TINY, "units.value": 25})))
    answers: dict[int, str | None] = {}
    ended: dict[int, float] = {}
    polls = dict.fromkeys(range(len(posts)), 0)
    while len(answers) < len(posts) and time.monotonic() - posted < 400:
        for number, (user, body, job) in enumerate(posts):
            if number in answers:
                continue
            polls[number] += 1
            reply = user.poll(body, job)
            if reply is None or "response" in reply:
                answers[number], ended[number] = message_of(reply), time.monotonic() - posted
        time.sleep(0.5)
    assert len(answers) == len(posts), f"unanswered after 400 s: {answers}"
    refused = [n for n, text in answers.items() if "already running" in (text or "")]
    assert refused == [1, 2, 3, 4], answers
    assert all(polls[n] == 1 for n in refused), polls  # answered at the first poll
    assert "Trained" in str(answers[0]) and "Trained" in str(answers[5]), answers
    return (
        f"{len(refused)} of 5 posts from one session refused at the first poll; its first "
        f"answered at {ended[0]:.1f} s, the other user's (posted 3 s later) "
        f"{ended[5] - 3:.1f} s after its post"
    )


@pytest.mark.timeout(600)
def test_one_training_per_session_refused_at_once_the_others_first_come_first_served(tmp_path):
    with dashboard_server(tmp_path / "store") as (url, _, _):
        print("default mode flood:", check_one_training_per_session(url))
