"""The rolling-origin backtest: one config trained at several cutoffs, every method scored.

Each cutoff is a full training through the Store (the cross-fitting folds included, as the
config says), so every network is cached under its own key and a repeated backtest reads
records only: no TensorFlow is imported when every cutoff is cached.

    >>> result = run_backtest(DEFAULT, read_monthly(), Store())  # doctest: +SKIP
    >>> result.mean[SERVED], result.wins
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .config import TrainConfig, months_before
from .methods import METHOD_KEYS
from .record import Record
from .store import Store, resolve_cutoff

if TYPE_CHECKING:
    import pandas as pd

    from .training import EpochReport

CUTOFFS, EVERY = 6, 6  # the protocol: 6 cutoffs, 6 months apart, ending at the model's cutoff


@dataclass(frozen=True)
class BacktestProgress:
    """What a progress callback receives: which training of how many, and its epoch report.

    `epoch` is None when a cutoff starts (or was found in the cache: `cached`).
    """

    index: int  # 1-based
    count: int
    cutoff: str
    epoch: EpochReport | None = None
    cached: bool = False


BacktestCallback = Callable[[BacktestProgress], None]


@dataclass(frozen=True)
class Backtest:
    """Every method's scores at each cutoff, and what they add up to.

    Args:
        config: the config backtested (its own cutoff unresolved, as given).
        cutoffs: newest first; keys: the store key of each cutoff's record.
        methods: the registered methods every record scored, in the registry's order.
        mae: method -> MAE at each cutoff (same order as cutoffs); cells: cells scored per cutoff.
        per_step: method -> mean over cutoffs of the MAE at each step ahead.
        mean, low, high: method -> mean, min and max of its per-cutoff MAE.
        wins: method -> cutoffs at which its MAE is the lowest (ties: the first registered).
        trained: how many cutoffs this call trained (0: all from the cache).
        records: the record at each cutoff (same order), for a caller that scores them further.
    """

    config: TrainConfig
    cutoffs: list[str]
    keys: list[str]
    methods: list[str]
    mae: dict[str, list[float | None]]
    cells: list[int]
    per_step: dict[str, list[float | None]]
    mean: dict[str, float | None]
    low: dict[str, float | None]
    high: dict[str, float | None]
    wins: dict[str, int]
    trained: int = 0
    records: tuple[Record, ...] = ()

    @classmethod
    def of(cls, config: TrainConfig, records: Sequence[Record], trained: int = 0) -> Backtest:
        """Sum up the records of one config at its cutoffs (newest first)."""
        methods = [m for m in METHOD_KEYS if all(m in record.metrics for record in records)]
        mae = {m: [record.metrics[m].mae for record in records] for m in methods}
        per_step = {
            m: [_mean(column) for column in zip(*(r.per_step_mae[m] for r in records), strict=True)]
            for m in methods
        }
        wins = dict.fromkeys(methods, 0)
        for index in range(len(records)):
            scored = [m for m in methods if mae[m][index] is not None]
            if scored:
                wins[min(scored, key=lambda m: mae[m][index] or 0.0)] += 1
        return cls(
            config=config,
            cutoffs=[record.cutoff for record in records],
            keys=[record.key for record in records],
            methods=methods,
            mae=mae,
            cells=[record.metrics[methods[0]].cells if methods else 0 for record in records],
            per_step=per_step,
            mean={m: _mean(mae[m]) for m in methods},
            low={m: _extreme(min, mae[m]) for m in methods},
            high={m: _extreme(max, mae[m]) for m in methods},
            wins=wins,
            trained=trained,
            records=tuple(records),
        )

    def to_json(self) -> dict[str, Any]:
        """The result as plain JSON (the CLI's `backtest --json`)."""
        return {
            "config": self.config.to_dict(),
            "cutoffs": self.cutoffs,
            "keys": self.keys,
            "trained": self.trained,
            "cells": self.cells,
            "methods": {
                m: {
                    "mae": self.mae[m],
                    "mean": self.mean[m],
                    "min": self.low[m],
                    "max": self.high[m],
                    "wins": self.wins[m],
                    "per_step_mae": self.per_step[m],
                }
                for m in self.methods
            },
        }


def _mean(values: Sequence[float | None]) -> float | None:
    finite = [v for v in values if v is not None and math.isfinite(v)]
    return sum(finite) / len(finite) if finite else None


def _extreme(pick: Callable[..., float], values: Sequence[float | None]) -> float | None:
    finite = [v for v in values if v is not None]
    return pick(finite) if finite else None


def backtest_cutoffs(
    config: TrainConfig, monthly: pd.DataFrame, count: int = CUTOFFS, every: int = EVERY
) -> list[str]:
    """The config's cutoff on this data and the `count - 1` before it, `every` months apart."""
    last = resolve_cutoff(config, monthly)
    return [months_before(last, every * k) for k in range(count)]


def cached_backtest(
    config: TrainConfig,
    monthly: pd.DataFrame,
    stores: Sequence[Store],
    data_print: str | None = None,
    cutoffs: Sequence[str] | None = None,
) -> Backtest | None:
    """The backtest read from the first store holding each cutoff, or None if one is missing."""
    from .data import fingerprint

    data_print = data_print or fingerprint(monthly, config.variable)
    records = []
    for cutoff in cutoffs or backtest_cutoffs(config, monthly):
        found = _find(stores, config.replace(cutoff=cutoff), monthly, data_print)
        if found is None:
            return None
        records.append(found)
    return Backtest.of(config, records)


def _find(
    stores: Sequence[Store], config: TrainConfig, monthly: pd.DataFrame, data_print: str | None
) -> Record | None:
    for store in stores:
        record = store.lookup(config, monthly, data_print)
        if record is not None:
            return record
    return None


def run_backtest(
    config: TrainConfig,
    monthly: pd.DataFrame,
    store: Store,
    progress: BacktestCallback | None = None,
    stop: Callable[[], None] | None = None,
    data_print: str | None = None,
    cutoffs: Sequence[str] | None = None,
    also: Sequence[Store] = (),
) -> Backtest:
    """Train (or read from the cache) the config at each cutoff and sum the records up.

    Args:
        progress: called as each cutoff starts and after each of its epochs.
        stop: called before each training and after each epoch; it raises to stop the
            backtest (the cutoffs trained so far stay in the store).
        data_print: the data's fingerprint, if known.
        cutoffs: newest first; default: the protocol's (`backtest_cutoffs`).
        also: read-only stores looked in before `store` (what they hold is not trained again).
    """
    from .data import fingerprint

    data_print = data_print or fingerprint(monthly, config.variable)
    chosen = list(cutoffs or backtest_cutoffs(config, monthly))
    records, trained = [], 0
    for index, cutoff in enumerate(chosen, start=1):
        at = config.replace(cutoff=cutoff)
        if stop is not None:
            stop()
        record = _find([*also, store], at, monthly, data_print)
        if progress is not None:
            progress(BacktestProgress(index, len(chosen), cutoff, cached=record is not None))
        if record is None:

            def epoch_done(report: EpochReport, index: int = index, cutoff: str = cutoff) -> None:
                if stop is not None:
                    stop()
                if progress is not None:
                    progress(BacktestProgress(index, len(chosen), cutoff, report))

            record, hit = store.get_or_train(at, monthly, epoch_done, data_print)
            trained += not hit
        records.append(record)
    return Backtest.of(config, records, trained)
