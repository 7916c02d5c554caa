"""Prepare, train and evaluate one configuration: the body of a cache miss."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from .config import TrainConfig
from .evaluate import (
    INTERVAL_LEVEL,
    conformal_halfwidths,
    forecast_table,
    observed,
    score_holdout,
    shrinkage_factors,
    target_rows,
)
from .network import set_shrinkage
from .training import ProgressCallback, StopCheck, predict, train
from .windows import (
    Prepared,
    Windows,
    cut_windows,
    forecast_inputs,
    prepare,
    training_windows,
)

if TYPE_CHECKING:
    import keras


def forecast_values(forecaster: keras.Model, prepared: Prepared, windows: Windows,
                    config: TrainConfig) -> np.ndarray:
    """Predictions in the variable's units, shape (n, horizon)."""
    scaled = predict(forecaster, windows, config)
    return prepared.from_scaled(scaled, target_rows(windows, config.horizon),
                                windows.location[:, None])


def train_and_evaluate(config: TrainConfig, monthly: pd.DataFrame,
                       progress: ProgressCallback | None = None,
                       should_stop: StopCheck | None = None) -> tuple[dict[str, Any], keras.Model]:
    """Train on windows up to the cutoff, then score the holdout and forecast past the data."""
    prepared = prepare(monthly, config)
    windows = training_windows(prepared, config)
    trained = train(config, windows, progress, should_stop)

    calibration_prepared, calibration = calibration_windows(prepared, config, windows,
                                                            trained.validation_rows)
    rows = target_rows(calibration, config.horizon)
    actual = observed(calibration_prepared, rows, calibration.location)
    predicted = forecast_values(trained.forecaster, calibration_prepared, calibration, config)
    factors = None
    if config.damped:
        level = calibration_prepared.level(rows, calibration.location[:, None])
        factors = shrinkage_factors(predicted - level, actual - level,
                                    origins=len(np.unique(calibration.start)))
        set_shrinkage(trained.forecaster, factors, prepared.zero_scaled)
        predicted = forecast_values(trained.forecaster, calibration_prepared, calibration, config)
    halfwidths = conformal_halfwidths(predicted - actual)

    holdout = forecast_inputs(prepared, config, prepared.cutoff_index)
    latest = forecast_inputs(prepared, config, None)
    record = score_holdout(prepared, holdout,
                           forecast_values(trained.forecaster, prepared, holdout, config),
                           halfwidths, config.horizon)
    record.update(
        cutoff=prepared.cutoff,
        interval_level=INTERVAL_LEVEL,
        interval_halfwidths=[round(float(w), 4) for w in halfwidths],
        forecast=forecast_table(prepared, latest,
                                forecast_values(trained.forecaster, prepared, latest, config),
                                halfwidths, config.horizon),
        history=trained.history,
        epochs_run=len(trained.history.get("loss", [])),
        train_seconds=round(trained.seconds, 3),
        training_windows=len(windows),
    )
    if factors is not None:
        record["shrinkage"] = [round(float(f), 4) for f in factors]
    return record, trained.forecaster


def calibration_windows(prepared: Prepared, config: TrainConfig, windows: Windows,
                        validation_rows: np.ndarray) -> tuple[Prepared, Windows]:
    """The windows whose residuals calibrate the intervals, and the Prepared to read them with.

    "validation": the validation windows as the network saw them. "out_of_sample": the same
    windows cut again with a climatology of only the months before the first of them, so their
    residuals carry the climatology's out-of-sample error as the holdout's do.
    """
    validation = _subset(windows, validation_rows)
    if config.calibration == "validation" or not len(validation):
        return prepared, validation
    first = max(int(validation.start.min()), 12)  # the first month any of them targets
    earlier = prepared.with_levels_before(first, config.harmonics)
    return earlier, cut_windows(earlier, config, validation.location, validation.start,
                                prepared.actual)


def _subset(windows: Windows, rows: np.ndarray) -> Windows:
    return Windows(windows.history[rows], windows.calendar[rows], windows.target[rows],
                   windows.location[rows], windows.start[rows])
