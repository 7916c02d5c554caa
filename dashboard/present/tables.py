"""Turn a store record and a data set into the frames the figures, tables and CSV export use."""

from __future__ import annotations

from typing import Any

import pandas as pd

from model import METHODS, SERVED, Record, Scores, method, skill_vs_best

from ..data.sources import VARIABLE

METHOD_LABELS = {entry.key: entry.label for entry in METHODS}


def actuals_frame(monthly: pd.DataFrame, stations: list[str]) -> pd.DataFrame:
    """Observed monthly values of the stations: location, month, actual."""
    kept = (monthly["location"].isin(stations) & monthly[VARIABLE].notna()).to_numpy()
    return pd.DataFrame(
        {
            "location": monthly["location"].to_numpy()[kept],
            "month": monthly["month"].to_numpy()[kept],
            "actual": monthly[VARIABLE].to_numpy()[kept],
        }
    )


def rows_of(frame: pd.DataFrame, stations: list[str]) -> pd.DataFrame:
    """The rows of the given stations."""
    return frame[frame["location"].isin(stations)].reset_index(drop=True)


def mae_of(scores: dict[str, Scores], key: str) -> float | None:
    """A method's MAE in a method -> scores mapping; None when it was not scored."""
    return scores[key].mae if key in scores else None


def mae_column(key: str) -> str:
    """The station and comparison rows' field holding a method's MAE."""
    return f"{key}_mae"


SERVED_RMSE = f"{SERVED}_rmse"
STATION_COLUMNS = [
    "station",
    "state",
    *(mae_column(entry.key) for entry in METHODS),
    SERVED_RMSE,
    "skill",
    "baseline",
    "months",
]


def _maes(scores: dict[str, Scores]) -> dict[str, float | None]:
    return {mae_column(entry.key): _round(mae_of(scores, entry.key)) for entry in METHODS}


def baseline_words(baseline: str | None) -> str | None:
    """How a row names the best baseline ("seasonal naive")."""
    return method(baseline).short if baseline else None


def station_scores(record: Record, stations: pd.DataFrame, selected: list[str]) -> pd.DataFrame:
    """One row per selected station: holdout errors of each method, skill vs the best baseline."""
    rows = []
    for location in selected:
        scores = record.per_location.get(location)
        if scores is None:
            continue
        meta = stations.loc[stations["location"] == location].iloc[0]
        gain, baseline = skill_vs_best(scores)
        rows.append(
            {
                "station": meta["name"],
                "state": meta["state"],
                **_maes(scores),
                SERVED_RMSE: _round(scores[SERVED].rmse),
                "skill": gain,
                "baseline": baseline_words(baseline),
                "months": scores[SERVED].cells,
            }
        )
    return pd.DataFrame(rows, columns=STATION_COLUMNS)


def unscored(monthly: pd.DataFrame, record: Record) -> dict[str, str]:
    """The stations of a data set the model could not score or forecast, each with why."""
    observed = monthly.loc[monthly[VARIABLE].notna()].groupby("location")["month"].max()
    cutoff = pd.Timestamp(record.cutoff)
    reasons = {}
    for station in monthly["location"].unique():
        if station in record.per_location:
            continue
        last = observed.get(station)
        if last is None:
            reasons[station] = "no data"
        elif last <= cutoff:
            reasons[station] = f"data end in {last:%b %Y}, before the held-out months"
        else:
            reasons[station] = (
                f"too many missing months in the {record.config.window} months up to "
                f"{record.cutoff}"
            )
    return reasons


def step_errors(record: Record) -> pd.DataFrame:
    """MAE per months-ahead step: step, method, mae."""
    rows = [
        {"step": step + 1, "method": method, "mae": mae}
        for method, values in record.per_step_mae.items()
        for step, mae in enumerate(values)
    ]
    return pd.DataFrame(rows, columns=["step", "method", "mae"])


INTERVAL_COLUMNS = {"lower": "lower_80", "upper": "upper_80"}  # the served forecast's band


def export_columns() -> list[str]:
    """The CSV export's columns: the served forecast with its band first, then every method."""
    served = method(SERVED).csv
    others = [entry.csv for entry in METHODS if entry.key != SERVED]
    return ["location", "month", "part", "actual", served, *INTERVAL_COLUMNS.values(), *others]


def export_frame(
    actuals: pd.DataFrame, predictions: pd.DataFrame, forecast: pd.DataFrame
) -> pd.DataFrame:
    """Everything the chart shows as one table, one row per station and month."""
    observed = actuals.assign(part="observed")
    held_out = predictions.drop(columns=["actual"], errors="ignore").assign(part="holdout")
    ahead = forecast.drop(columns=["actual"], errors="ignore").assign(part="forecast")
    modelled = pd.concat([held_out, ahead], ignore_index=True).rename(
        columns={**{entry.key: entry.csv for entry in METHODS}, **INTERVAL_COLUMNS}
    )
    table = observed.drop(columns="part").merge(modelled, on=["location", "month"], how="outer")
    table["part"] = table["part"].fillna("observed")
    table["month"] = table["month"].dt.strftime("%Y-%m")
    return table.reindex(columns=export_columns()).sort_values(
        ["location", "month"], ignore_index=True
    )


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


COMPARE_SETTINGS = ("recipe", "cell", "direction", "window", "horizon", "units", "epochs")


def compare_rows(records: list[Record]) -> list[dict[str, Any]]:
    """One row per compared model: its settings, errors, skill, coverage and training time."""
    rows = []
    for number, record in enumerate(records, start=1):
        config, metrics = record.config, record.metrics
        gain, baseline = skill_vs_best(metrics)
        coverage = record.interval_coverage
        rows.append(
            {
                "model": f"Model {number}",
                "recipe": "default" if config.anomalies else "article's",
                "cell": config.cell.upper(),
                "direction": "bidirectional" if config.bidirectional else "forward",
                **{
                    name: getattr(config, name) for name in ("window", "horizon", "units", "epochs")
                },
                **_maes(metrics),
                SERVED_RMSE: _round(metrics[SERVED].rmse),
                "skill": gain,
                "baseline": baseline_words(baseline),
                "coverage": None if coverage is None else round(100 * coverage, 1),
                "train_seconds": round(record.train_seconds, 1),
            }
        )
    return rows


def differing_settings(rows: list[dict[str, Any]]) -> list[str]:
    """The settings columns whose value is not the same for every compared model."""
    return [name for name in COMPARE_SETTINGS if len({row[name] for row in rows}) > 1]
