"""Baselines, metrics and conformal intervals on the holdout."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from model import TrainConfig, prepare
from model.evaluate import (
    climatology,
    conformal_halfwidths,
    errors,
    persistence,
    score_holdout,
    seasonal_naive,
    shrinkage_factors,
)
from model.windows import forecast_inputs


def synthetic_monthly(years: int = 6) -> pd.DataFrame:
    """Two stations with a pure seasonal cycle plus a yearly step, so baselines are predictable."""
    months = pd.date_range("2010-01-01", periods=12 * years, freq="MS")
    rows = []
    for offset, location in ((0.0, "Alpha"), (5.0, "Beta")):
        for index, month in enumerate(months):
            value = offset + 10 * np.sin(2 * np.pi * month.month / 12) + index // 12
            rows.append(
                {
                    "location": location,
                    "month": month,
                    "temp": value,
                    "min_temp": value,
                    "max_temp": value,
                    "rainfall": 1.0,
                }
            )
    return pd.DataFrame(rows)


@pytest.fixture
def holdout():
    monthly = synthetic_monthly()
    config = TrainConfig(window=6, horizon=6, cutoff="2014-12")
    prepared = prepare(monthly, config)
    return prepared, forecast_inputs(prepared, config, prepared.cutoff_index), config


def test_seasonal_naive_repeats_the_last_twelve_months(holdout):
    prepared, windows, config = holdout
    predicted = seasonal_naive(prepared, windows, config.horizon)
    cutoff = prepared.cutoff_index
    expected = prepared.actual[cutoff - 11 : cutoff - 5].T
    np.testing.assert_allclose(predicted, expected)


def test_climatology_is_the_calendar_month_mean_of_training_years(holdout):
    prepared, windows, config = holdout
    predicted = climatology(prepared, windows, config.horizon)
    # Training years 2010-2014 add steps 0..4 to the cycle: their mean step is 2.
    first_month = 10 * np.sin(2 * np.pi * 1 / 12) + 2
    assert predicted[0, 0] == pytest.approx(first_month)
    assert predicted[1, 0] == pytest.approx(first_month + 5)


def test_persistence_decays_the_anomaly_at_the_cutoff_by_the_pooled_lag_one_slope(holdout):
    prepared, windows, config = holdout
    predicted = persistence(prepared, windows, config.horizon)
    # Training years 2010-2014 add steps 0..4 to the cycle: the fitted curve is the cycle + 2
    # (the climatology here), the anomalies -2..2 by year, the cutoff's +2. Consecutive pairs:
    # 11 a year within years (sum of a^2: 10 each) and 4 across them (sum 4), over 116.
    phi = (11 * 10 + 4) / (12 * 10 - 4)
    decay = phi ** np.arange(1, config.horizon + 1)
    curve = climatology(prepared, windows, config.horizon)
    np.testing.assert_allclose(predicted, curve + 2 * decay[None, :], atol=1e-9)


def test_scores_use_the_same_cells_for_every_method(holdout):
    prepared, windows, config = holdout
    model = climatology(prepared, windows, config.horizon) + 0.5
    model[0, 2] = np.nan  # a cell the model cannot predict is dropped for every method
    scores = score_holdout(
        prepared, windows, {"served": model}, np.full(config.horizon, 1.0), config.horizon
    )
    cells = {method: values.cells for method, values in scores.metrics.items()}
    assert cells == {"served": 11, "seasonal_naive": 11, "climatology": 11, "persistence": 11}
    # The model is climatology + 0.5, and the actuals are climatology + 3 (the yearly step).
    assert scores.metrics["served"].mae == pytest.approx(2.5)
    assert scores.metrics["climatology"].mae == pytest.approx(3.0)
    assert scores.per_location["Beta"]["served"].mae == pytest.approx(2.5)
    assert scores.interval_coverage == 0.0
    assert len(scores.predictions["month"]) == 12
    assert scores.predictions["month"][:2] == ["2015-01", "2015-02"]


def test_errors_are_mae_and_rmse_over_finite_cells():
    result = errors(np.array([1.0, 2.0, np.nan]), np.array([0.0, 4.0, 1.0]))
    assert (result.mae, result.rmse, result.cells) == (1.5, pytest.approx(np.sqrt(2.5)), 2)
    assert errors(np.array([np.nan]), np.array([1.0])).mae is None


def test_conformal_halfwidth_covers_the_requested_share():
    rng = np.random.default_rng(0)
    residuals = rng.normal(size=(500, 3))
    widths = conformal_halfwidths(residuals, level=0.8)
    fresh = rng.normal(size=(20000, 3))
    coverage = (np.abs(fresh) <= widths).mean(axis=0)
    assert np.all((coverage > 0.77) & (coverage < 0.83))


def test_a_step_without_residuals_takes_the_wider_of_its_nearest_widths():
    residuals = np.array([[1.0, np.nan, -3.0, np.nan], [-1.0, np.nan, 3.0, np.nan]])
    assert conformal_halfwidths(residuals, level=0.8).tolist() == [1.0, 3.0, 3.0, 3.0]


def test_damping_keeps_what_validates_and_needs_a_year_of_origins():
    rng = np.random.default_rng(0)
    predicted = rng.normal(size=(400, 3))
    actual = predicted * np.array([0.9, 0.5, -0.3]) + rng.normal(scale=0.1, size=(400, 3))
    factors = shrinkage_factors(predicted, actual, origins=12)
    assert factors == pytest.approx([0.9, 0.5, 0.0], abs=0.03)  # a step that anti-validates is off
    assert shrinkage_factors(predicted, actual, origins=11).tolist() == [0.0, 0.0, 0.0]


@st.composite
def anomaly_pairs(draw) -> tuple[np.ndarray, np.ndarray]:
    """Predicted and actual anomalies (n, horizon): a usable first row, then some NaN cells."""
    rows, steps = draw(st.integers(0, 20)), draw(st.integers(1, 18))
    value = st.floats(-5, 5, allow_subnormal=False)
    first = draw(arrays(float, (2, steps), elements=value))
    first[0] = np.copysign(np.maximum(np.abs(first[0]), 0.1), first[0])  # some power every step
    cells = st.one_of(value, st.just(np.nan))
    predicted, actual = (draw(arrays(float, (rows, steps), elements=cells)) for _ in range(2))
    return np.vstack([first[:1], predicted]), np.vstack([first[1:], actual])


def test_damping_pools_rising_steps_weighted_by_power():
    predicted = np.array([[1.0, 2.0, 1.0]])  # power 1, 4, 1
    actual = predicted * np.array([0.2, 0.7, 0.1])  # slopes rise from step 1 to 2: pooled
    assert shrinkage_factors(predicted, actual, origins=12) == pytest.approx([0.6, 0.6, 0.1])


def test_a_step_without_usable_cells_takes_a_value_between_its_neighbours():
    predicted = np.array([[1.0, np.nan, 1.0, 0.0]])
    actual = np.array([[0.5, 1.0, 0.3, 1.0]])
    assert shrinkage_factors(predicted, actual, origins=12) == pytest.approx([0.5, 0.4, 0.3, 0.3])
    assert shrinkage_factors(predicted[:, 1:2], actual[:, 1:2], origins=12).tolist() == [0.0]


def weighted_error(factors: np.ndarray, predicted: np.ndarray, actual: np.ndarray) -> float:
    """Squared error of actual ~ factors * predicted over the usable cells."""
    return float(np.nansum((actual - factors * predicted) ** 2))


@settings(max_examples=200, deadline=None)
@given(anomaly_pairs())
def test_damping_is_the_least_squares_non_increasing_fit_in_0_1(pair):
    predicted, actual = pair
    factors = shrinkage_factors(predicted, actual, origins=12)
    assert np.all(np.diff(factors) <= 1e-12) and np.all((factors >= 0) & (factors <= 1))
    usable = np.isfinite(predicted) & np.isfinite(actual)
    slopes = np.clip(
        np.nansum(np.where(usable, predicted * actual, np.nan), axis=0)
        / np.nansum(np.where(usable, predicted**2, np.nan), axis=0),
        0,
        1,
    )
    pooled = np.nansum(np.where(usable, predicted * actual, np.nan)) / np.nansum(
        np.where(usable, predicted**2, np.nan)
    )
    for other in (np.minimum.accumulate(slopes), np.full_like(slopes, np.clip(pooled, 0, 1))):
        assert (
            weighted_error(factors, predicted, actual)
            <= weighted_error(other, predicted, actual) + 1e-9
        )
