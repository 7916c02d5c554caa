"""Many processes at once train once; kill -9 never leaves a broken entry.

Real `python -m model train` processes on a two-station monthly file with the CLI_FAST config.
Killing the training process is also how the page's Cancel stops a training (Dash's job
managers kill the job's process), so this is the cancel test too.
"""

from __future__ import annotations

import json
import os
import random
import signal
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from helpers import (
    CLI_FAST,
    entry_files,
    start_cli_train,
    temporaries,
    two_stations,
)

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
    assert entry_files(store) == [f"{key}.json", f"{key}.keras"]
    assert [entry.key for entry in store.entries()] == [key]
    assert temporaries(store) == []
    assert not list(cache.glob("*.lock"))  # the trainer removed it; the waiters left none


def check_store(store: Store, monthly) -> list[str]:
    """Assert every record file present verifies and loads; return the listed keys."""
    on_disk = {path.stem for path in store.folder.glob("[!.]*.json")}
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
