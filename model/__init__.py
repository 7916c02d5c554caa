"""Monthly temperature forecasts for Australian stations: data, networks, evaluation, cache.

Everything the dashboard needs is importable from here without importing TensorFlow. Names are
imported on first use, so a command that only reads the cache never loads pandas.
"""

from __future__ import annotations

import importlib
from typing import Any

_HOMES = {
    "config": ("DEFAULT", "RECIPES", "ConfigError", "Recipe", "TrainConfig"),
    "schema": ("VARIABLE_LABELS", "DataError", "short_repr"),
    "methods": (
        "BASELINES",
        "CLIMATOLOGY",
        "CURVE",
        "FORECASTS",
        "METHODS",
        "METHOD_KEYS",
        "NETWORK",
        "PERSISTENCE",
        "SEASONAL_NAIVE",
        "SERVED",
        "Method",
        "best_baseline",
        "method",
        "skill",
        "skill_vs_best",
    ),
    "record": ("Evaluation", "Record", "Scores"),
    "backtest": (
        "Backtest",
        "BacktestProgress",
        "backtest_cutoffs",
        "cached_backtest",
        "run_backtest",
    ),
    "data": (
        "Dataset",
        "aggregate_monthly",
        "fingerprint",
        "load_monthly",
        "locations_in",
        "positions_of",
        "read_daily_csv",
        "read_monthly",
        "write_monthly",
    ),
    "files": ("PRIVATE", "SHARED", "file_version", "write_atomic"),
    "store": ("Store", "StoreError", "default_cache_dir", "key_for"),
    "gates": (
        "CellWeights",
        "EncoderWindow",
        "GatesError",
        "Replay",
        "encoder_window",
        "export_gates",
        "gates_path",
        "read_gates",
        "replay_encoder",
    ),
    "training": ("EpochReport",),
    "windows": ("prepare",),
    "logs": ("LOG_LEVELS", "check_log_level", "configure_logging"),
}
_HOME_OF = {name: module for module, names in _HOMES.items() for name in names}
__all__ = sorted(_HOME_OF)


def __getattr__(name: str) -> Any:
    if name not in _HOME_OF:
        raise AttributeError(f"module 'model' has no attribute {name!r}")
    return getattr(importlib.import_module(f".{_HOME_OF[name]}", __name__), name)
