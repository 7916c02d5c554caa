"""Per-station windows, cutoff handling and training-only scaling."""

from __future__ import annotations

import numpy as np
import pytest

from model import ConfigError, TrainConfig, prepare
from model.windows import forecast_inputs, training_windows


def test_windows_never_straddle_stations_or_long_gaps(monthly):
    config = TrainConfig(window=12, horizon=6)
    prepared = prepare(monthly, config)
    windows = training_windows(prepared, config)
    span = np.arange(-config.window, config.horizon)
    for location, start in zip(windows.location, windows.start, strict=True):
        rows = start + span
        # every month of the window is present in that one station's gap-filled series
        assert np.isfinite(prepared.filled[rows, location]).all()
    melbourne = prepared.locations.index("Melbourne")
    gap = np.flatnonzero(np.isnan(prepared.filled[:, melbourne]))
    gap = gap[(gap > 80)]  # the 2015-2016 gap, after the early months
    mine = windows.start[windows.location == melbourne]
    assert not any(start - config.window <= gap[0] < start + config.horizon for start in mine)


def test_every_training_target_ends_at_or_before_the_cutoff(monthly):
    config = TrainConfig(window=18, horizon=18, cutoff="2014-06")
    prepared = prepare(monthly, config)
    windows = training_windows(prepared, config)
    last_target = windows.start + config.horizon - 1
    assert last_target.max() == prepared.cutoff_index
    assert prepared.cutoff == "2014-06"


def test_windows_are_time_ordered_for_a_validation_split(monthly):
    config = TrainConfig(window=6, horizon=3)
    windows = training_windows(prepare(monthly, config), config)
    assert (np.diff(windows.start) >= 0).all()


def test_scaler_and_climatology_use_training_months_only(small_monthly):
    config = TrainConfig(window=6, horizon=3, cutoff="2012-11")
    cairns_cutoff = (small_monthly["location"] == "Cairns") & (small_monthly["month"] == "2012-11")
    data = small_monthly[~cairns_cutoff]  # a missing cutoff month may be filled from the past only
    prepared = prepare(data, config)
    changed = data.copy()
    after = changed["month"] > "2012-11-01"
    changed.loc[after, "temp"] += 30  # a wild future must not move the scale or the climatology
    reprepared = prepare(changed, config)
    assert reprepared.scaler.data_min_ == prepared.scaler.data_min_
    assert reprepared.scaler.data_max_ == prepared.scaler.data_max_
    np.testing.assert_array_equal(reprepared.climatology, prepared.climatology)
    scaled = prepared.to_scaled(prepared.filled)[: prepared.cutoff_index + 1]
    assert np.nanmin(scaled) == pytest.approx(-1) and np.nanmax(scaled) == pytest.approx(1)


@pytest.mark.parametrize("anomalies", [True, False], ids=["default", "article"])
def test_minmax_scaling_maps_the_training_range_to_minus_one_one(small_monthly, anomalies):
    prepared = prepare(small_monthly, TrainConfig(window=6, horizon=3, anomalies=anomalies))
    rows = np.arange(len(prepared.months))
    shifted = prepared.filled - prepared.level(rows)
    low, high = (
        np.nanmin(shifted[: prepared.cutoff_index + 1]),
        np.nanmax(shifted[: prepared.cutoff_index + 1]),
    )
    scaled = prepared.to_scaled(prepared.filled)
    np.testing.assert_allclose(scaled, (shifted - low) / (high - low) * 2 - 1, rtol=0, atol=1e-12)
    locations = np.arange(len(prepared.locations))
    np.testing.assert_allclose(
        prepared.from_scaled(scaled, rows[:, None], locations[None, :]),
        prepared.filled,
        rtol=0,
        atol=1e-12,
    )


def test_default_cutoff_is_last_month_minus_horizon(monthly):
    assert prepare(monthly, TrainConfig(window=6, horizon=18)).cutoff == "2015-12"
    assert prepare(monthly, TrainConfig(window=6, horizon=6)).cutoff == "2016-12"


def test_impossible_window_names_window_horizon_and_cutoff(monthly):
    with pytest.raises(ConfigError) as raised:
        prepare(monthly, TrainConfig(window=60, horizon=36, cutoff="2012-12"))
    assert str(raised.value) == (
        "window 60 + horizon 36 leave no training window before cutoff 2012-12"
    )
    with pytest.raises(ConfigError, match="cutoff \\(2030-01\\) must lie inside the data"):
        prepare(monthly, TrainConfig(cutoff="2030-01"))
    short = monthly[monthly["month"] >= "2016-06-01"]
    with pytest.raises(ConfigError) as raised:
        prepare(short, TrainConfig(window=12, horizon=18))
    assert str(raised.value) == (
        "the data cover 13 months (2016-06 to 2017-06): too few for window 12 + horizon 18"
    )
    with pytest.raises(ConfigError) as raised:  # 2012-12 is missing at every station
        prepare(monthly, TrainConfig(window=18, horizon=6, cutoff="2012-12"))
    assert str(raised.value) == (
        "cutoff (2012-12) leaves no station with 18 gap-free months up "
        "to it, so there would be no holdout to score"
    )


def test_holdout_inputs_end_at_the_cutoff_and_skip_stations_with_gaps(monthly):
    config = TrainConfig(window=18, horizon=18)
    prepared = prepare(monthly, config)
    holdout = forecast_inputs(prepared, config, prepared.cutoff_index)
    assert (holdout.start == prepared.cutoff_index + 1).all()
    names = {prepared.locations[i] for i in holdout.location}
    assert len(names) == 48 and "Melbourne" not in names  # Melbourne's gap covers the cutoff
    latest = forecast_inputs(prepared, config, None)
    assert (latest.start == len(prepared.months)).all()
    assert np.isnan(latest.target).all()  # beyond the data: nothing observed yet
