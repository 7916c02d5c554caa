"""Prepare, train and evaluate one configuration: the body of a cache miss."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from .config import ConfigError, TrainConfig
from .evaluate import (
    INTERVAL_LEVEL,
    MIN_ORIGINS,
    conformal_halfwidths,
    damp,
    forecast_table,
    observed,
    persistence,
    score_holdout,
    shrinkage_factors,
    target_rows,
)
from .methods import CURVE, NETWORK, SERVED
from .record import Evaluation, Record
from .training import EpochReport, Networks, ProgressCallback, Trained, predict, train
from .windows import (
    Prepared,
    Windows,
    cut_windows,
    forecast_inputs,
    origin_windows,
    prepare,
    training_windows,
)

if TYPE_CHECKING:
    import keras


@dataclass(frozen=True)
class Sample:
    """Forecasts of windows the network was not fitted on, with the level and the actuals.

    All arrays are (n, horizon) in the variable's units; `anchor` is what the served forecast is
    damped toward (`anchor_forecast`); `origins` counts distinct forecast origins (months), the
    number that decides whether damping factors can be trusted.
    """

    network: np.ndarray
    anchor: np.ndarray
    actual: np.ndarray
    origins: int

    @classmethod
    def of(
        cls,
        forecaster: keras.Model,
        prepared: Prepared,
        windows: Windows,
        config: TrainConfig,
        origins: int,
    ) -> Sample:
        rows = target_rows(windows, config.horizon)
        return cls(
            forecast_values(forecaster, prepared, windows, config),
            anchor_forecast(prepared, windows, config),
            observed(prepared, rows, windows.location),
            origins,
        )

    @classmethod
    def pooled(cls, samples: list[Sample]) -> Sample:
        network, level, actual = (
            np.concatenate([getattr(s, name) for s in samples])
            for name in ("network", "anchor", "actual")
        )
        return cls(network, level, actual, sum(s.origins for s in samples))


def forecast_values(
    forecaster: keras.Model, prepared: Prepared, windows: Windows, config: TrainConfig
) -> np.ndarray:
    """The network's own predictions in the variable's units, shape (n, horizon)."""
    scaled = predict(forecaster, windows, config)
    return prepared.from_scaled(
        scaled, target_rows(windows, config.horizon), windows.location[:, None]
    )


def anchor_forecast(prepared: Prepared, windows: Windows, config: TrainConfig) -> np.ndarray:
    """What the served forecast is damped toward (config.anchor), (n, horizon)."""
    if config.anchor == "persistence":
        return persistence(prepared, windows, config.horizon)
    return prepared.level(target_rows(windows, config.horizon), windows.location[:, None])


def train_and_evaluate(
    config: TrainConfig,
    monthly: pd.DataFrame,
    progress: ProgressCallback | None = None,
) -> tuple[Evaluation, keras.Model]:
    """Train on windows up to the cutoff, calibrate, score the holdout and forecast past the data.

    The record keeps the network's own forecast beside the served one (the network's forecast
    damped toward its anchor by per-step factors fitted on the calibration sample).
    """
    prepared = prepare(monthly, config)
    windows = training_windows(prepared, config)
    trained = train(config, windows, progress)
    seconds = trained.seconds
    sample = None
    if config.calibration == "cross_fit":
        with trained.networks.lent() as networks:
            sample, fold_seconds = cross_fit_sample(config, monthly, prepared, progress, networks)
        seconds += fold_seconds
    if sample is None:
        sample = validation_sample(prepared, config, windows, trained)
    factors = (
        shrinkage_factors(
            sample.network - sample.anchor, sample.actual - sample.anchor, sample.origins
        )
        if config.damped
        else np.ones(config.horizon)
    )
    halfwidths = conformal_halfwidths(damp(sample.network, sample.anchor, factors) - sample.actual)

    def forecasts(windows: Windows) -> dict[str, np.ndarray]:
        return forecast_columns(trained.forecaster, prepared, windows, config, factors)

    holdout = forecast_inputs(prepared, config, prepared.cutoff_index)
    latest = forecast_inputs(prepared, config, None)
    scored = score_holdout(prepared, holdout, forecasts(holdout), halfwidths, config.horizon)
    evaluation = Evaluation(
        cutoff=prepared.cutoff,
        metrics=scored.metrics,
        per_location=scored.per_location,
        per_step_mae=scored.per_step_mae,
        interval_level=INTERVAL_LEVEL,
        interval_halfwidths=[round(float(w), 4) for w in halfwidths],
        interval_coverage=scored.interval_coverage,
        calibration_origins=sample.origins,
        predictions=scored.predictions,
        forecast=forecast_table(prepared, latest, forecasts(latest), halfwidths, config.horizon),
        history=trained.history,
        epochs_run=len(trained.history.get("loss", [])),
        train_seconds=round(seconds, 3),
        training_windows=len(windows),
        shrinkage=[round(float(f), 4) for f in factors] if config.damped else None,
    )
    return evaluation, trained.forecaster


def forecast_columns(
    forecaster: keras.Model,
    prepared: Prepared,
    windows: Windows,
    config: TrainConfig,
    factors: np.ndarray,
) -> dict[str, np.ndarray]:
    """The served forecast, the network's own and (with a harmonic level) the curve, (n, horizon).

    Args:
        factors: per-step weight of the network's departure from the anchor in the served one.
    """
    network = forecast_values(forecaster, prepared, windows, config)
    served = damp(network, anchor_forecast(prepared, windows, config), factors)
    values = {SERVED: served, NETWORK: network}
    if not (config.anomalies and config.harmonics):
        return values
    return {
        **values,
        CURVE: prepared.level(target_rows(windows, config.horizon), windows.location[:, None]),
    }


def forecast_from(
    record: Record, forecaster: keras.Model, monthly: pd.DataFrame
) -> dict[str, list]:
    """A stored network's forecast past the last month of `monthly`, served as its record serves.

    The data are prepared as for the network's training (levels and scale fitted on the months
    up to the record's cutoff); the record's damping weights and interval half-widths apply.
    On the data it was trained on, this is the record's own `forecast`.
    """
    config = record.config.replace(cutoff=record.cutoff)
    prepared = prepare(monthly, config)
    latest = forecast_inputs(prepared, config, None)
    factors = np.ones(config.horizon) if record.shrinkage is None else np.array(record.shrinkage)
    return forecast_table(
        prepared,
        latest,
        forecast_columns(forecaster, prepared, latest, config, factors),
        np.array(record.interval_halfwidths),
        config.horizon,
    )


def validation_sample(
    prepared: Prepared, config: TrainConfig, windows: Windows, trained: Trained
) -> Sample:
    """The validation windows, as trained ("validation") or with an earlier level.

    "out_of_sample" (and "cross_fit" with no fold): the same windows cut again with a
    climatology of only the months before the first of them, so their residuals carry the
    climatology's out-of-sample error as the holdout's do. For "cross_fit" they count no
    origins, so no damping factor is fitted on them.
    """
    validation = _subset(windows, trained.validation_rows)
    origins = 0 if config.calibration == "cross_fit" else len(np.unique(validation.start))
    if config.calibration == "validation" or not len(validation):
        return Sample.of(trained.forecaster, prepared, validation, config, origins)
    first = max(int(validation.start.min()), 12)  # the first month any of them targets
    earlier = prepared.with_levels_before(first, config.harmonics)
    recut = cut_windows(earlier, config, validation.location, validation.start, prepared.actual)
    return Sample.of(trained.forecaster, earlier, recut, config, origins)


def cross_fit_sample(
    config: TrainConfig,
    monthly: pd.DataFrame,
    prepared: Prepared,
    progress: ProgressCallback | None,
    networks: Networks,
) -> tuple[Sample | None, float]:
    """Out-of-fold forecasts from config.folds earlier cutoffs a year apart, and their seconds.

    Fold k trains on the months up to its cutoff (level and scale fitted there too) and forecasts
    the MIN_ORIGINS months of origins after it, whose targets all end by the outer cutoff: the
    holdout's situation, repeated. Folds stop at the first cutoff that leaves no training
    window; with none, the sample is None and the validation windows set the intervals alone
    (no damping factor is fitted on them: they chose the epoch, so they flatter the network).
    Each fold fits `networks` again from their initial state: the same architecture, one trace.
    """
    last_origin = prepared.cutoff_index - config.horizon + 1  # its targets end at the cutoff
    samples, seconds = [], 0.0
    for fold in range(1, config.folds + 1):
        fold_cutoff = last_origin - MIN_ORIGINS * fold
        if fold_cutoff < 0:
            break
        inner = config.replace(cutoff=prepared.months[fold_cutoff].strftime("%Y-%m"))
        try:
            fold_prepared = prepare(monthly, inner)
        except ConfigError:
            break  # earlier folds have even fewer months
        trained = train(
            inner,
            training_windows(fold_prepared, inner),
            _staged(progress, f"calibration {fold} of {config.folds}"),
            networks,
        )
        seconds += trained.seconds
        windows = origin_windows(fold_prepared, inner, fold_cutoff, MIN_ORIGINS)
        samples.append(
            Sample.of(
                trained.forecaster, fold_prepared, windows, inner, len(np.unique(windows.start))
            )
        )
    if not samples:
        return None, seconds
    return Sample.pooled(samples), seconds


def _staged(progress: ProgressCallback | None, stage: str) -> ProgressCallback | None:
    """A progress callback whose reports name the stage of the training they belong to."""
    if progress is None:
        return None
    return lambda report: progress(
        EpochReport(report.epoch, report.epochs, report.loss, report.val_loss, stage)
    )


def _subset(windows: Windows, rows: np.ndarray) -> Windows:
    return Windows(
        windows.history[rows],
        windows.calendar[rows],
        windows.target[rows],
        windows.location[rows],
        windows.start[rows],
    )
