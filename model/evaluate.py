"""Score forecasts after the cutoff against the baselines, and attach conformal intervals."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from sklearn.isotonic import IsotonicRegression

from .methods import CLIMATOLOGY, PERSISTENCE, SEASONAL_NAIVE, SERVED
from .record import Scores
from .windows import Prepared, Windows, seasonal_level

INTERVAL_LEVEL = 0.8
# Fewer forecast origins (months) than a year cannot tell a network's skill from one season's
# luck: the stations share their weather, so windows from one origin are nearly one sample.
MIN_ORIGINS = 12


def target_rows(windows: Windows, horizon: int) -> np.ndarray:
    """Month row of every (window, step) cell, shape (n, horizon)."""
    return windows.start[:, None] + np.arange(horizon)[None, :]


def observed(prepared: Prepared, rows: np.ndarray, location: np.ndarray) -> np.ndarray:
    """Observed values at month rows of the given locations; NaN beyond the data or missing."""
    inside = rows < len(prepared.months)
    values = np.full(rows.shape, np.nan)
    locations = np.broadcast_to(location[:, None], rows.shape)
    values[inside] = prepared.actual[rows[inside], locations[inside]]
    return values


def seasonal_naive(prepared: Prepared, windows: Windows, horizon: int) -> np.ndarray:
    """Repeat the last 12 months before each window's first target month."""
    rows = target_rows(windows, horizon)
    last_input = windows.start[:, None] - 1
    source = rows - 12 * np.ceil((rows - last_input) / 12).astype(int)
    return prepared.filled[source, np.broadcast_to(windows.location[:, None], rows.shape)]


def climatology(prepared: Prepared, windows: Windows, horizon: int) -> np.ndarray:
    """Each station's calendar-month mean over the training months."""
    rows = target_rows(windows, horizon)
    return prepared.climatology[prepared.calendar_month(rows), windows.location[:, None]]


def persistence(prepared: Prepared, windows: Windows, horizon: int) -> np.ndarray:
    """The 2-harmonic seasonal curve plus phi^h times the anomaly at the forecast origin.

    The curve is fitted per station on the training months; phi is the lag-1 regression
    coefficient of the anomalies of consecutive observed (not interpolated) training months,
    all stations pooled, so h months ahead the anomaly has decayed by phi^h.
    """
    months = prepared.cutoff_index + 1
    training = prepared.actual[:months]
    curve = seasonal_level(training, prepared.months[:months], 2, prepared.climatology)
    assert curve is not None  # two harmonics always give a curve
    anomaly = training - curve[prepared.calendar_month(np.arange(months))]
    before, after = anomaly[:-1], anomaly[1:]
    pairs = np.isfinite(before) & np.isfinite(after)
    power = (before[pairs] ** 2).sum()
    phi = (before[pairs] * after[pairs]).sum() / power if power else 0.0
    origin = windows.start - 1  # the last input month: the holdout's is the cutoff
    level = curve[prepared.calendar_month(origin), windows.location]
    last = prepared.filled[origin, windows.location] - level
    rows = target_rows(windows, horizon)
    decay = phi ** np.arange(1, horizon + 1)
    return curve[prepared.calendar_month(rows), windows.location[:, None]] + decay * last[:, None]


# Each baseline's forecast of a window's target months, (n, horizon), by its key in
# model/methods.py: every one is scored on the holdout beside the network's forecasts.
BASELINE_FORECASTS: dict[str, Callable[[Prepared, Windows, int], np.ndarray]] = {
    CLIMATOLOGY: climatology,
    SEASONAL_NAIVE: seasonal_naive,
    PERSISTENCE: persistence,
}


def errors(predicted: np.ndarray, actual: np.ndarray) -> Scores:
    """MAE and RMSE over the finite cells (None when there are none)."""
    difference = (predicted - actual)[np.isfinite(predicted - actual)]
    if not difference.size:
        return Scores(None, None, 0)
    return Scores(
        float(np.mean(np.abs(difference))),
        float(np.sqrt(np.mean(difference**2))),
        int(difference.size),
    )


def conformal_halfwidths(residuals: np.ndarray, level: float = INTERVAL_LEVEL) -> np.ndarray:
    """Split-conformal half-width per horizon step from absolute validation residuals (n, h).

    A step with no residual (every validation window misses that month, as when a month is
    missing at every station) takes the wider of its nearest calibrated steps.
    """
    widths = np.full(residuals.shape[1], np.nan)
    for step, column in enumerate(np.abs(residuals).T):
        column = column[np.isfinite(column)]
        if column.size:
            rank = min(1.0, math.ceil((column.size + 1) * level) / column.size)
            widths[step] = np.quantile(column, rank, method="higher")
    known = np.flatnonzero(np.isfinite(widths))
    for missing in np.flatnonzero(np.isnan(widths)):
        nearest = np.concatenate([known[known < missing][-1:], known[known > missing][:1]])
        widths[missing] = widths[nearest].max()
    return widths


def shrinkage_factors(predicted: np.ndarray, actual: np.ndarray, origins: int) -> np.ndarray:
    """Per-step factors s for actual ~ s * predicted, non-increasing with the step, in [0, 1].

    Least squares under those constraints: an isotonic regression of the per-step slopes,
    weighted by the predictions' power, so noise cannot switch steps on and off. A step without
    usable cells takes a value between its neighbours' (the nearest one's at either end). Both
    arrays are anomalies (departures from the level), shape (n, horizon). With windows from
    fewer than MIN_ORIGINS distinct forecast origins every factor is 0: the forecast is the level.
    """
    usable = np.isfinite(predicted) & np.isfinite(actual)
    p, a = np.where(usable, predicted, 0.0), np.where(usable, actual, 0.0)
    power, cross = (p * p).sum(axis=0), (p * a).sum(axis=0)
    if origins < MIN_ORIGINS or not power.any():
        return np.zeros(predicted.shape[1])
    slopes = np.divide(cross, power, out=np.zeros_like(power), where=power > 0)
    steps = np.arange(len(power))
    isotonic = IsotonicRegression(increasing=False, y_min=0.0, y_max=1.0, out_of_bounds="clip")
    return isotonic.fit(steps, slopes, sample_weight=power).predict(steps)


def damp(network: np.ndarray, anchor: np.ndarray, factors: np.ndarray) -> np.ndarray:
    """The served forecast: the anchor plus each step's factor times the network's departure
    from it (the anchor: the seasonal level or anomaly persistence, TrainConfig.anchor)."""
    return anchor + factors[None, :] * (network - anchor)


@dataclass(frozen=True)
class Holdout:
    """The scores of every method on the held-out cells, and the cells as columns."""

    metrics: dict[str, Scores]
    per_location: dict[str, dict[str, Scores]]
    per_step_mae: dict[str, list[float | None]]
    interval_coverage: float | None
    predictions: dict[str, list]


def score_holdout(
    prepared: Prepared,
    windows: Windows,
    forecasts: dict[str, np.ndarray],
    halfwidths: np.ndarray,
    horizon: int,
) -> Holdout:
    """Scores of the forecasts and every baseline on exactly the same holdout cells.

    Args:
        forecasts: (n, horizon) values by method; SERVED is required and gets the intervals.
    """
    actual = observed(prepared, target_rows(windows, horizon), windows.location)
    predictions = {
        **forecasts,
        **{
            key: forecast(prepared, windows, horizon)
            for key, forecast in BASELINE_FORECASTS.items()
        },
    }
    usable = np.isfinite(actual)
    for values in predictions.values():
        usable &= np.isfinite(values)
    masked = {name: np.where(usable, values, np.nan) for name, values in predictions.items()}
    per_location = {}
    for row, index in enumerate(windows.location):
        name = prepared.locations[index]
        per_location[name] = {
            method: errors(values[row], actual[row]) for method, values in masked.items()
        }
    per_step = {
        method: [errors(values[:, step], actual[:, step]).mae for step in range(horizon)]
        for method, values in masked.items()
    }
    served = forecasts[SERVED]
    inside = np.abs(masked[SERVED] - actual) <= halfwidths[None, :]
    return Holdout(
        metrics={method: errors(values, actual) for method, values in masked.items()},
        per_location=per_location,
        per_step_mae=per_step,
        interval_coverage=float(inside[usable].mean()) if usable.any() else None,
        predictions=_table(
            prepared,
            windows,
            horizon,
            actual=actual,
            **predictions,
            lower=served - halfwidths,
            upper=served + halfwidths,
        ),
    )


def forecast_table(
    prepared: Prepared,
    windows: Windows,
    forecasts: dict[str, np.ndarray],
    halfwidths: np.ndarray,
    horizon: int,
) -> dict[str, list]:
    """The forecasts beyond the data, the served one with its interval, as columns."""
    served = forecasts[SERVED]
    return _table(
        prepared,
        windows,
        horizon,
        **forecasts,
        lower=served - halfwidths,
        upper=served + halfwidths,
    )


def _table(prepared: Prepared, windows: Windows, horizon: int, **columns: np.ndarray) -> dict:
    """Flatten (window, step) arrays into JSON columns: location, month, step and values."""
    rows = target_rows(windows, horizon)
    first = prepared.months[0]
    month_numbers = first.year * 12 + first.month - 1 + rows.ravel()
    table: dict[str, list] = {
        "location": [prepared.locations[i] for i in np.repeat(windows.location, horizon)],
        "month": [f"{number // 12:04d}-{number % 12 + 1:02d}" for number in month_numbers],
        "step": np.tile(np.arange(1, horizon + 1), len(windows)).tolist(),
    }
    for name, values in columns.items():
        table[name] = [None if not np.isfinite(v) else round(float(v), 4) for v in values.ravel()]
    return table
