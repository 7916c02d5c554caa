"""Reliability 3: a training started then cancelled leaves no entry, file, lock or process."""

from __future__ import annotations

import random
import threading

import psutil
import pytest
from filelock import FileLock
from reliability_helpers import FAST, entry_files, temporaries, two_stations

from model import EpochReport, Store, TrainingCancelled, key_for

CYCLES = 10


def cancel_once(store: Store, data, config, rng: random.Random, from_thread: bool) -> None:
    """Start a training and cancel it, from another thread at a random moment before the first
    epoch ends, or at a random epoch's end; then check nothing is left."""
    reports: list[EpochReport] = []
    stop = threading.Event()
    if from_thread:
        cancel_epoch = 1
        timer = threading.Timer(rng.uniform(0.0, 0.5), stop.set)
        timer.start()
        should_stop = stop.is_set
    else:
        cancel_epoch = rng.randint(1, config.epochs)

        def should_stop() -> bool:
            return len(reports) >= cancel_epoch

    with pytest.raises(TrainingCancelled, match=f"after epoch {cancel_epoch}"):
        store.get_or_train(config, data, progress=reports.append, should_stop=should_stop)
    if from_thread:
        timer.join()
    assert len(reports) == cancel_epoch
    assert entry_files(store) == [] and temporaries(store) == []
    assert store.entries() == [] and store.lookup(config, data) is None
    lock = FileLock(str(store.folder / f"{key_for(config, data)}.lock"))
    lock.acquire(timeout=0)  # released: the next request for this key may train at once
    lock.release()


@pytest.mark.timeout(400)
def test_cancel_ten_times_leaves_nothing_behind(tmp_path, monthly):
    data = two_stations(monthly)
    store = Store(tmp_path / "store")
    rng = random.Random(3)
    children_before = {child.pid for child in psutil.Process().children(recursive=True)}
    for cycle in range(CYCLES):
        config = FAST.replace(seed=200 + cycle, epochs=3)
        cancel_once(store, data, config, rng, from_thread=cycle % 2 == 0)
    children_after = {child.pid for child in psutil.Process().children(recursive=True)}
    print(f"cancel: {CYCLES} cycles, 0 entries, 0 temporary files, "
          f"{len(children_after - children_before)} leftover processes")
    assert children_after <= children_before
