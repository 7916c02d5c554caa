"""Monthly temperature forecasts for Australian stations: data, networks, evaluation, cache.

Everything the dashboard needs is importable from here without importing TensorFlow.
"""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # keep TensorFlow's C++ start-up chatter quiet

from .config import DEFAULT, PRESETS, ConfigError, TrainConfig  # noqa: E402
from .data import (  # noqa: E402
    VARIABLE_LABELS,
    DataError,
    aggregate_monthly,
    fingerprint,
    load_monthly,
    locations_in,
    read_daily_csv,
    read_monthly,
)
from .store import Store, StoreError, default_cache_dir, key_for  # noqa: E402
from .training import EpochReport, TrainingCancelled  # noqa: E402
from .windows import prepare  # noqa: E402

__all__ = [
    "DEFAULT", "PRESETS", "VARIABLE_LABELS", "ConfigError", "DataError", "EpochReport", "Store",
    "StoreError", "TrainConfig", "TrainingCancelled", "aggregate_monthly", "default_cache_dir",
    "fingerprint", "key_for", "load_monthly", "locations_in", "prepare", "read_daily_csv",
    "read_monthly",
]
