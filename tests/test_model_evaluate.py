"""Baselines, metrics and conformal intervals on the holdout."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from sklearn.isotonic import IsotonicRegression

from model import TrainConfig, prepare
from model.evaluate import (
    climatology,
    conformal_halfwidths,
    errors,
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
            rows.append({"location": location, "month": month, "temp": value,
                         "min_temp": value, "max_temp": value, "rainfall": 1.0})
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


def test_scores_use_the_same_cells_for_every_method(holdout):
    prepared, windows, config = holdout
    model = climatology(prepared, windows, config.horizon) + 0.5
    model[0, 2] = np.nan  # a cell the model cannot predict is dropped for every method
    scores = score_holdout(prepared, windows, {"model": model}, np.full(config.horizon, 1.0),
                           config.horizon)
    cells = {method: values["cells"] for method, values in scores["metrics"].items()}
    assert cells == {"model": 11, "seasonal_naive": 11, "climatology": 11}
    # The model is climatology + 0.5, and the actuals are climatology + 3 (the yearly step).
    assert scores["metrics"]["model"]["mae"] == pytest.approx(2.5)
    assert scores["metrics"]["climatology"]["mae"] == pytest.approx(3.0)
    assert scores["per_location"]["Beta"]["model"]["mae"] == pytest.approx(2.5)
    assert scores["interval_coverage"] == 0.0
    assert len(scores["predictions"]["month"]) == 12
    assert scores["predictions"]["month"][:2] == ["2015-01", "2015-02"]


def test_errors_are_mae_and_rmse_over_finite_cells():
    result = errors(np.array([1.0, 2.0, np.nan]), np.array([0.0, 4.0, 1.0]))
    assert result == {"mae": 1.5, "rmse": pytest.approx(np.sqrt(2.5)), "cells": 2}
    assert errors(np.array([np.nan]), np.array([1.0]))["mae"] is None


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


@settings(max_examples=300, deadline=None)
@given(anomaly_pairs())
def test_damping_matches_sklearn_isotonic_regression(pair):
    predicted, actual = pair
    usable = np.isfinite(predicted) & np.isfinite(actual)
    p, a = np.where(usable, predicted, 0.0), np.where(usable, actual, 0.0)
    power, cross = (p * p).sum(axis=0), (p * a).sum(axis=0)
    isotonic = IsotonicRegression(increasing=False, y_min=0.0, y_max=1.0)
    expected = isotonic.fit_transform(np.arange(len(power)), cross / power, sample_weight=power)
    np.testing.assert_allclose(shrinkage_factors(predicted, actual, origins=12), expected,
                               rtol=1e-9, atol=1e-12)
