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
    target_rows,
)
from .training import ProgressCallback, StopCheck, predict, split_validation, train
from .windows import Prepared, Windows, forecast_inputs, prepare, training_windows

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

    _, validation_rows = split_validation(windows, config.validation_fraction)
    validation = _subset(windows, validation_rows)
    residuals = forecast_values(trained.forecaster, prepared, validation, config) - observed(
        prepared, target_rows(validation, config.horizon), validation.location)
    halfwidths = conformal_halfwidths(residuals)

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
    return record, trained.forecaster


def _subset(windows: Windows, rows: np.ndarray) -> Windows:
    return Windows(windows.history[rows], windows.calendar[rows], windows.target[rows],
                   windows.location[rows], windows.start[rows])
