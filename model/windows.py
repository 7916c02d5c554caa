"""Cut per-location training windows and model inputs, scaled on training months only."""

from __future__ import annotations

import dataclasses
import warnings
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from .config import ConfigError, TrainConfig, months_before
from .data import DataError, fill_short_gaps, series_table

if TYPE_CHECKING:
    from sklearn.preprocessing import MinMaxScaler


@dataclass(frozen=True)
class Prepared:
    """Month x location arrays for one variable, with the climatology and scaler of a cutoff."""

    months: pd.DatetimeIndex
    locations: list[str]
    actual: np.ndarray  # observed values, NaN where missing
    filled: np.ndarray  # short gaps interpolated; NaN marks a gap that splits the series
    cutoff_index: int
    climatology: np.ndarray  # (12, locations): calendar-month mean of observed training months
    anomalies: bool
    scaler: MinMaxScaler  # to (-1, 1), fitted on the training months' values minus the level
    seasonal: np.ndarray | None = None  # (12, locations) level of the anomalies; None = climatology

    @property
    def cutoff(self) -> str:
        return self.months[self.cutoff_index].strftime("%Y-%m")

    def calendar_month(self, rows: np.ndarray) -> np.ndarray:
        """Calendar month (0-11) of month rows counted from the first month (also past the end)."""
        return (self.months[0].month - 1 + rows) % 12

    def level(self, rows: np.ndarray, location: np.ndarray | None = None) -> np.ndarray:
        """The level subtracted before scaling: the climatology for anomalies, else zero."""
        cal = self.calendar_month(rows)
        base = self.climatology if self.seasonal is None else self.seasonal
        level = base[cal] if location is None else base[cal, location]
        return level if self.anomalies else np.zeros_like(level)

    def to_scaled(self, table: np.ndarray) -> np.ndarray:
        """Map a month x location table (from the first month) to the network's (-1, 1) scale."""
        shifted = table - self.level(np.arange(len(table)))
        return self.scaler.transform(shifted.reshape(-1, 1)).reshape(shifted.shape)

    def with_levels_before(self, row: int, harmonics: int) -> Prepared:
        """The same data with the climatology and seasonal level of the months before `row`."""
        climatology, seasonal = fit_levels(self.actual[:row], self.months[:row], harmonics)
        return dataclasses.replace(self, climatology=climatology, seasonal=seasonal)

    def from_scaled(self, scaled: np.ndarray, rows: np.ndarray, location: np.ndarray) -> np.ndarray:
        """Invert to_scaled for values at month rows of the given locations (broadcast)."""
        shifted = self.scaler.inverse_transform(scaled.reshape(-1, 1)).reshape(scaled.shape)
        return shifted + self.level(rows, location)


@dataclass(frozen=True)
class Windows:
    """Network inputs and targets; row i belongs to location[i], its target starting at start[i]."""

    history: np.ndarray  # (n, window, features)
    calendar: np.ndarray  # (n, horizon, 2) month-of-year of the target months
    target: np.ndarray  # (n, horizon, 1), scaled; NaN where not observed
    location: np.ndarray  # (n,) index into Prepared.locations
    start: np.ndarray  # (n,) month index of the first target month

    def inputs(self, config: TrainConfig) -> list[np.ndarray]:
        """The arrays the network takes, in the order of its inputs."""
        return [self.history, self.calendar] if config.calendar else [self.history]

    def __len__(self) -> int:
        return len(self.location)


def default_cutoff(months: pd.DatetimeIndex, horizon: int) -> pd.Timestamp:
    """Return the last month of the data minus the horizon."""
    return pd.Timestamp(months_before(f"{months[-1]:%Y-%m}", horizon))


def prepare(monthly: pd.DataFrame, config: TrainConfig) -> Prepared:
    """Build the arrays for config.variable and check the config fits the data."""
    table = series_table(monthly, config.variable)
    months = table.index
    if config.cutoff is None:
        cutoff = default_cutoff(months, config.horizon)
    else:
        cutoff = pd.Timestamp(config.cutoff + "-01")
    if config.cutoff is None and cutoff < months[0]:
        raise ConfigError(
            f"the data cover {len(months)} months ({months[0]:%Y-%m} to {months[-1]:%Y-%m}): "
            f"too few for window {config.window} + horizon {config.horizon}"
        )
    if not months[0] <= cutoff <= months[-1]:
        raise ConfigError(
            f"cutoff ({cutoff:%Y-%m}) must lie inside the data "
            f"({months[0]:%Y-%m} to {months[-1]:%Y-%m})"
        )
    cutoff_index = months.get_loc(cutoff)
    actual = table.to_numpy(dtype=float)
    filled = fill_short_gaps(table).to_numpy(dtype=float)
    # Up to the cutoff, interpolate from training months only: no value after it leaks back.
    filled[: cutoff_index + 1] = fill_short_gaps(table.iloc[: cutoff_index + 1]).to_numpy(float)
    climatology, seasonal = fit_levels(
        actual[: cutoff_index + 1], months[: cutoff_index + 1], config.harmonics
    )
    from sklearn.preprocessing import MinMaxScaler  # not at the top: the web process imports us

    prepared = Prepared(
        months,
        list(table.columns),
        actual,
        filled,
        cutoff_index,
        climatology,
        config.anomalies,
        MinMaxScaler(feature_range=(-1, 1)),
        seasonal,
    )
    training_rows = np.arange(cutoff_index + 1)
    shifted = filled[: cutoff_index + 1] - prepared.level(training_rows)
    if not np.isfinite(shifted).any():
        raise DataError(f"no observed {config.variable} values before cutoff {cutoff:%Y-%m}")
    prepared.scaler.fit(shifted.reshape(-1, 1))  # one range for all stations, as the article
    if not len(training_windows(prepared, config)):
        raise ConfigError(
            f"window {config.window} + horizon {config.horizon} leave no training window "
            f"before cutoff {prepared.cutoff}"
        )
    if not len(_input_stations(prepared, config, cutoff_index)[0]):
        raise ConfigError(
            f"cutoff ({prepared.cutoff}) leaves no station with {config.window} gap-free months "
            "up to it, so there would be no holdout to score"
        )
    return prepared


def fit_levels(
    training: np.ndarray, months: pd.DatetimeIndex, harmonics: int
) -> tuple[np.ndarray, np.ndarray | None]:
    """The calendar-month climatology of training months and, with harmonics, its smooth fit."""
    climatology = _climatology(training, months)
    return climatology, seasonal_level(training, months, harmonics, climatology)


def _climatology(training: np.ndarray, months: pd.DatetimeIndex) -> np.ndarray:
    """Calendar-month mean per station; a month never observed falls back to the station mean."""
    calendar_month = months.month.to_numpy() - 1
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN slices give NaN, handled below
        climatology = np.stack(
            [np.nanmean(training[calendar_month == month], axis=0) for month in range(12)]
        )
        station_mean = np.nanmean(training, axis=0)
    return np.where(np.isfinite(climatology), climatology, station_mean)


def seasonal_level(
    training: np.ndarray, months: pd.DatetimeIndex, harmonics: int, climatology: np.ndarray
) -> np.ndarray | None:
    """Per-station least-squares fit of `harmonics` annual harmonics, as (12, locations).

    None when harmonics is 0; a station with fewer than two years of observed training months
    keeps its calendar-month climatology.
    """
    if not harmonics:
        return None
    angle = 2 * np.pi * (months.month.to_numpy() - 1) / 12
    calendar_angle = 2 * np.pi * np.arange(12) / 12

    def design(angles: np.ndarray) -> np.ndarray:
        columns = [np.ones_like(angles)]
        for order in range(1, harmonics + 1):
            columns += [np.sin(order * angles), np.cos(order * angles)]
        return np.stack(columns, axis=1)

    fit_design, calendar_design = design(angle), design(calendar_angle)
    level = climatology.copy()
    for station in range(training.shape[1]):
        seen = np.isfinite(training[:, station])
        if seen.sum() < 24:
            continue
        beta, *_ = np.linalg.lstsq(fit_design[seen], training[seen, station], rcond=None)
        level[:, station] = calendar_design @ beta
    return level


def month_features(month_rows: np.ndarray, first_month: pd.Timestamp) -> np.ndarray:
    """Encode the month of year of month rows (counted from first_month) as (sine, cosine)."""
    angle = 2 * np.pi * ((first_month.month - 1 + month_rows) % 12) / 12
    return np.stack([np.sin(angle), np.cos(angle)], axis=-1)


def _window_starts(valid: np.ndarray, span: int, last_end: int) -> np.ndarray:
    """Starts s of every run valid[s : s + span] that is all True and ends at or before last_end."""
    valid = valid[: last_end + 1].astype(int)
    if len(valid) < span:
        return np.empty(0, dtype=int)
    sums = np.convolve(valid, np.ones(span, dtype=int), mode="valid")
    return np.flatnonzero(sums == span)


def cut_windows(
    prepared: Prepared,
    config: TrainConfig,
    location: np.ndarray,
    start: np.ndarray,
    targets: np.ndarray,
) -> Windows:
    """Windows whose targets begin at month `start`; inputs come from the gap-filled series."""
    in_rows = start[:, None] + np.arange(-config.window, 0)[None, :]
    out_rows = start[:, None] + np.arange(config.horizon)[None, :]
    total = len(prepared.months)
    history = prepared.to_scaled(prepared.filled)[in_rows, location[:, None]]
    history = history[..., None]
    if config.calendar:
        history = np.concatenate([history, month_features(in_rows, prepared.months[0])], axis=-1)
    scaled_targets = prepared.to_scaled(targets)
    inside = out_rows < total
    target = np.full(out_rows.shape, np.nan)
    columns = np.broadcast_to(location[:, None], out_rows.shape)
    target[inside] = scaled_targets[out_rows[inside], columns[inside]]
    calendar = month_features(out_rows, prepared.months[0])
    return Windows(
        history.astype("float32"),
        calendar.astype("float32"),
        target[..., None].astype("float32"),
        location,
        start,
    )


def training_windows(prepared: Prepared, config: TrainConfig) -> Windows:
    """Every gap-free window of one location whose target ends at or before the cutoff."""
    span = config.window + config.horizon
    locations, starts = [], []
    for index in range(len(prepared.locations)):
        valid = np.isfinite(prepared.filled[:, index])
        window_starts = _window_starts(valid, span, prepared.cutoff_index)
        locations.append(np.full(len(window_starts), index))
        starts.append(window_starts + config.window)
    location = np.concatenate(locations).astype(int)
    start = np.concatenate(starts).astype(int)
    order = np.lexsort((location, start))  # time-ordered, so validation can take the latest
    return cut_windows(prepared, config, location[order], start[order], prepared.filled)


def forecast_inputs(prepared: Prepared, config: TrainConfig, end_index: int | None) -> Windows:
    """Inputs of the `window` months ending at end_index (None: each station's latest month).

    A station is included only when those months are gap-free; targets are the observed values.
    """
    location, start = _input_stations(prepared, config, end_index)
    return cut_windows(prepared, config, location, start, prepared.actual)


def origin_windows(prepared: Prepared, config: TrainConfig, first_end: int, count: int) -> Windows:
    """Forecast inputs ending at each of `count` months from first_end, targets observed."""
    found = [
        _input_stations(prepared, config, end)
        for end in range(first_end, min(first_end + count, len(prepared.months)))
    ]
    location = np.concatenate([stations for stations, _ in found]).astype(int)
    start = np.concatenate([starts for _, starts in found]).astype(int)
    return cut_windows(prepared, config, location, start, prepared.actual)


def _input_stations(
    prepared: Prepared, config: TrainConfig, end_index: int | None
) -> tuple[np.ndarray, np.ndarray]:
    """(station index, first target month) of every station with a forecast input window."""
    locations, starts = [], []
    for index in range(len(prepared.locations)):
        valid = np.isfinite(prepared.filled[:, index])
        end = end_index if end_index is not None else len(valid) - 1
        if end_index is None and not valid[end]:
            continue  # a station that stopped reporting has no forecast from the latest data
        if not np.isfinite(prepared.climatology[:, index]).all():
            continue  # no training months: nothing to scale its inputs with
        first = end - config.window + 1
        if first >= 0 and valid[first : end + 1].all():
            locations.append(index)
            starts.append(end + 1)
    return np.array(locations, dtype=int), np.array(starts, dtype=int)
