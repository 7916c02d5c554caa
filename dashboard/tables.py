"""Turn a store record and a data set into the frames the figures, tables and CSV export use."""

from __future__ import annotations

from typing import Any

import pandas as pd

from .sources import VARIABLE

METHOD_LABELS = {"model": "Network", "climatology": "Climatology",
                 "seasonal_naive": "Seasonal naive"}


def actuals_frame(monthly: pd.DataFrame, stations: list[str]) -> pd.DataFrame:
    """Observed monthly values of the stations: location, month, actual."""
    kept = (monthly["location"].isin(stations) & monthly[VARIABLE].notna()).to_numpy()
    return pd.DataFrame({"location": monthly["location"].to_numpy()[kept],
                         "month": monthly["month"].to_numpy()[kept],
                         "actual": monthly[VARIABLE].to_numpy()[kept]})


def rows_of(frame: pd.DataFrame, stations: list[str]) -> pd.DataFrame:
    """The rows of the given stations."""
    return frame[frame["location"].isin(stations)].reset_index(drop=True)


def skill(model_mae: float | None, climatology_mae: float | None) -> float | None:
    """Percent by which the network's MAE beats climatology's (negative: worse)."""
    if model_mae is None or not climatology_mae:
        return None
    return round(100 * (1 - model_mae / climatology_mae), 1)


def station_scores(record: dict[str, Any], stations: pd.DataFrame,
                   selected: list[str]) -> pd.DataFrame:
    """One row per selected station with the holdout errors of each method and the skill."""
    rows = []
    for location in selected:
        scores = record["per_location"].get(location)
        if scores is None:
            continue
        meta = stations.loc[stations["location"] == location].iloc[0]
        rows.append({
            "station": meta["name"], "state": meta["state"],
            "model_mae": _round(scores["model"]["mae"]),
            "climatology_mae": _round(scores["climatology"]["mae"]),
            "seasonal_naive_mae": _round(scores["seasonal_naive"]["mae"]),
            "model_rmse": _round(scores["model"]["rmse"]),
            "skill": skill(scores["model"]["mae"], scores["climatology"]["mae"]),
            "months": scores["model"]["cells"],
        })
    return pd.DataFrame(rows, columns=["station", "state", "model_mae", "climatology_mae",
                                       "seasonal_naive_mae", "model_rmse", "skill", "months"])


def step_errors(record: dict[str, Any]) -> pd.DataFrame:
    """MAE per months-ahead step: step, method, mae."""
    rows = [{"step": step + 1, "method": method, "mae": mae}
            for method, values in record.get("per_step_mae", {}).items()
            for step, mae in enumerate(values)]
    return pd.DataFrame(rows, columns=["step", "method", "mae"])


def export_frame(actuals: pd.DataFrame, predictions: pd.DataFrame,
                 forecast: pd.DataFrame) -> pd.DataFrame:
    """Everything the chart shows as one table, one row per station and month."""
    observed = actuals.assign(part="observed")
    held_out = predictions.drop(columns=["actual"], errors="ignore").assign(part="holdout")
    ahead = forecast.assign(part="forecast")
    modelled = pd.concat([held_out, ahead], ignore_index=True).rename(
        columns={"model": "predicted", "lower": "lower_80", "upper": "upper_80"})
    table = observed.drop(columns="part").merge(modelled, on=["location", "month"], how="outer")
    table["part"] = table["part"].fillna("observed")
    table["month"] = table["month"].dt.strftime("%Y-%m")
    columns = ["location", "month", "part", "actual", "predicted", "lower_80", "upper_80",
               "climatology", "seasonal_naive"]
    return table.reindex(columns=columns).sort_values(["location", "month"], ignore_index=True)


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 3)
