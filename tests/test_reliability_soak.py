"""Twelve tiny trainings in one process: RSS grows only by what TensorFlow keeps per fit.

TensorFlow keeps every traced training step (a custom gradient per step in a global registry),
about 26 MB per network fit here. The processes that train stay bounded by design: the page's
default job manager and the command line train in a fresh process each time, and a Celery
worker child is replaced after `--max-tasks-per-child` jobs (README, Production).
"""

from __future__ import annotations

import gc

import numpy as np
import psutil
import pytest
from helpers import FAST, two_stations

from model import Store

# Ten measured trainings fit the growth to well under 1 MB (the RSS of one point varies by a
# few MB), far inside the 14 MB between what TensorFlow keeps and the bound.
TRAININGS = 12
WARM_UP = 2  # the first trainings load TensorFlow's kernels and caches
BOUND_MB = 40.0  # 25.7 MB measured per training (one network fit each); more is our own leak


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_a_dozen_trainings_in_one_process_grow_rss_boundedly(tmp_path, monthly):
    data = two_stations(monthly)
    store = Store(tmp_path / "store")
    process = psutil.Process()
    rss_mb = []
    for index in range(TRAININGS):
        _, hit = store.get_or_train(FAST.replace(seed=300 + index), data)
        assert not hit
        gc.collect()
        rss_mb.append(process.memory_info().rss / 2**20)
    measured = np.array(rss_mb[WARM_UP:])
    per_training = float(np.polyfit(np.arange(len(measured)), measured, 1)[0])
    print(
        f"soak: {TRAININGS} trainings, RSS {rss_mb[0]:.0f} -> {rss_mb[-1]:.0f} MB, "
        f"growth {per_training:.1f} MB per training after {WARM_UP} warm-up trainings"
    )
    assert len(store.entries()) == TRAININGS
    assert per_training < BOUND_MB
