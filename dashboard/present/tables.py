"""Turn a store record and a data set into the frames the figures, tables and CSV export use."""

from __future__ import annotations

from typing import Any

import pandas as pd

from model import (
    BASELINES,
    CLIMATOLOGY,
    CURVE,
    NETWORK,
    SEASONAL_NAIVE,
    SERVED,
    Record,
    Scores,
)

from ..data.sources import VARIABLE

METHOD_LABELS = {
    SERVED: "Served forecast",
    NETWORK: "Network's own",
    CURVE: "Seasonal curve",
    CLIMATOLOGY: "Climatology",
    SEASONAL_NAIVE: "Seasonal naive",
}


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


def skill(model_mae: float | None, baseline_mae: float | None) -> float | None:
    """Percent by which a forecast's MAE beats a baseline's (negative: worse)."""
    if model_mae is None or not baseline_mae:
        return None
    return round(100 * (1 - model_mae / baseline_mae), 1)


def mae_of(scores: dict[str, Scores], method: str) -> float | None:
    """A method's MAE in a method -> scores mapping; None when it was not scored."""
    return scores[method].mae if method in scores else None


def better_baseline(scores: dict[str, Scores]) -> str | None:
    """The baseline with the lower MAE in a method -> scores mapping (None if neither scored)."""
    scored = [name for name in BASELINES if mae_of(scores, name) is not None]
    return min(scored, key=lambda name: scores[name].mae) if scored else None


def skill_vs_better(scores: dict[str, Scores]) -> tuple[float | None, str | None]:
    """The served forecast's skill against the better baseline, and that baseline's name."""
    baseline = better_baseline(scores)
    if baseline is None:
        return None, None
    return skill(mae_of(scores, SERVED), scores[baseline].mae), baseline


STATION_COLUMNS = [
    "station",
    "state",
    "model_mae",
    "network_mae",
    "climatology_mae",
    "seasonal_naive_mae",
    "model_rmse",
    "skill",
    "baseline",
    "months",
]


def station_scores(record: Record, stations: pd.DataFrame, selected: list[str]) -> pd.DataFrame:
    """One row per selected station: holdout errors of each method, skill vs the better baseline."""
    rows = []
    for location in selected:
        scores = record.per_location.get(location)
        if scores is None:
            continue
        meta = stations.loc[stations["location"] == location].iloc[0]
        gain, baseline = skill_vs_better(scores)
        rows.append(
            {
                "station": meta["name"],
                "state": meta["state"],
                **{
                    f"{method}_mae": _round(mae_of(scores, method))
                    for method in (SERVED, NETWORK, *BASELINES)
                },
                "model_rmse": _round(scores[SERVED].rmse),
                "skill": gain,
                "baseline": METHOD_LABELS[baseline].lower() if baseline else None,
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


def export_frame(
    actuals: pd.DataFrame, predictions: pd.DataFrame, forecast: pd.DataFrame
) -> pd.DataFrame:
    """Everything the chart shows as one table, one row per station and month."""
    observed = actuals.assign(part="observed")
    held_out = predictions.drop(columns=["actual"], errors="ignore").assign(part="holdout")
    ahead = forecast.drop(columns=["actual"], errors="ignore").assign(part="forecast")
    modelled = pd.concat([held_out, ahead], ignore_index=True).rename(
        columns={SERVED: "served", NETWORK: "network", "lower": "lower_80", "upper": "upper_80"}
    )
    table = observed.drop(columns="part").merge(modelled, on=["location", "month"], how="outer")
    table["part"] = table["part"].fillna("observed")
    table["month"] = table["month"].dt.strftime("%Y-%m")
    columns = [
        "location",
        "month",
        "part",
        "actual",
        "served",
        "lower_80",
        "upper_80",
        "network",
        *BASELINES,
    ]
    return table.reindex(columns=columns).sort_values(["location", "month"], ignore_index=True)


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


COMPARE_SETTINGS = ("recipe", "cell", "direction", "window", "horizon", "units", "epochs")


def compare_rows(records: list[Record]) -> list[dict[str, Any]]:
    """One row per compared model: its settings, errors, skill, coverage and training time."""
    rows = []
    for number, record in enumerate(records, start=1):
        config, metrics = record.config, record.metrics
        gain, baseline = skill_vs_better(metrics)
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
                "network_mae": _round(mae_of(metrics, NETWORK)),
                "model_mae": _round(metrics[SERVED].mae),
                "model_rmse": _round(metrics[SERVED].rmse),
                "skill": gain,
                "baseline": METHOD_LABELS[baseline].lower() if baseline else None,
                "coverage": None if coverage is None else round(100 * coverage, 1),
                "train_seconds": round(record.train_seconds, 1),
            }
        )
    return rows


def differing_settings(rows: list[dict[str, Any]]) -> list[str]:
    """The settings columns whose value is not the same for every compared model."""
    return [name for name in COMPARE_SETTINGS if len({row[name] for row in rows}) > 1]
