"""The forecast chart: observed months, every method switched on, the forecast with its band."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from model import METHODS, SERVED, Method

from ..theme import (
    AHEAD_DASH,
    BAND_ALPHA,
    BASELINE_OPACITY,
    OBSERVED_WIDTH,
    rgba,
    station_colours,
)
from .common import as_text, columns_of, panel_grid, panel_layout, rows_of, with_gaps

SMALL_MULTIPLES_FROM = 7  # "auto" draws one panel per station from this many stations on


def use_small_multiples(mode: str, count: int) -> bool:
    """Whether a chart mode ('auto', 'overlay', 'panels') draws one panel per station."""
    return mode == "panels" or (mode == "auto" and count >= SMALL_MULTIPLES_FROM)


def forecast_figure(
    actuals: pd.DataFrame,
    predictions: pd.DataFrame,
    forecast: pd.DataFrame,
    stations: list[str],
    names: dict[str, str],
    cutoff: str | None,
    unit_label: str,
    baselines: tuple[str, ...] = (),
    panels: bool = False,
    forecasts: tuple[str, ...] = (SERVED,),
) -> dict[str, Any]:
    """Observed (solid), each chosen method on the held-out months, the forecast past the data.

    Each method is drawn in its station's colour with the method's line style
    (model/methods.py); the served forecast past the data comes with its interval band.

    Args:
        actuals: location, month, actual.
        predictions: location, month, actual and one column per method (holdout).
        forecast: location, month, lower, upper and a column per forecast (beyond the data).
        names: display name of each station.
        cutoff: last training month as YYYY-MM, or None when no model is shown.
        baselines, forecasts: the keys of the methods to draw (the chart's two toggles).
    """
    chosen = set(baselines) | set(forecasts)
    drawn = [entry for entry in METHODS if entry.key in chosen]
    colours = station_colours(stations)
    labels = {station: as_text(names[station]) for station in stations}
    grid = panel_grid(len(stations) if panels else 1)
    observed, held_out, ahead = (columns_of(frame) for frame in (actuals, predictions, forecast))
    traces = []
    for index, station in enumerate(stations):
        axes = grid[index] if panels else grid[0]
        common = {
            "type": "scatter",
            "legendgroup": station,
            "mode": "lines",
            "showlegend": False,
            "xaxis": axes["x"],
            "yaxis": axes["y"],
        }
        name, colour = labels[station], colours[station]
        rows = rows_of(observed, station)
        if rows is not None:
            months, values = with_gaps(rows)
            traces.append(
                {
                    **common,
                    "x": months,
                    "y": values,
                    "name": name,
                    "showlegend": not panels,
                    "line": {"color": colour, "width": OBSERVED_WIDTH},
                    "hovertemplate": f"<b>{name}</b> actual %{{y:.1f}} °C<extra></extra>",
                }
            )
        rows = rows_of(held_out, station)
        if rows is not None:
            traces += [
                {**common, **_held_out(entry, rows, name, colour)}
                for entry in drawn
                if entry.key in rows
            ]
        rows = rows_of(ahead, station)
        if rows is not None:
            traces += [
                {**common, **trace}
                for entry in drawn
                if entry.key in rows
                for trace in _ahead(entry, rows, name, colour)
            ]
    layout = panel_layout(
        grid,
        [labels[s] for s in stations] if panels else None,
        actuals,
        forecast,
        cutoff,
        unit_label,
    )
    return {"data": traces, "layout": layout}


def _held_out(entry: Method, rows: dict[str, np.ndarray], name: str, colour: str) -> dict:
    """One method's line on a station's held-out months; a forecast's hover shows its error."""
    label, values = entry.label.lower(), rows[entry.key]
    trace: dict[str, Any] = {
        "x": rows["month"],
        "y": values,
        "name": f"{name} {entry.short}",
        "line": {"color": colour, "width": entry.width, "dash": entry.dash},
    }
    if entry.baseline:
        return {
            **trace,
            "opacity": BASELINE_OPACITY,
            "hovertemplate": f"<b>{name}</b> {label} %{{y:.1f}} °C<extra></extra>",
        }
    return {
        **trace,
        "customdata": np.column_stack([rows["actual"], values - rows["actual"]]),
        "hovertemplate": (
            f"<b>{name}</b> {label} %{{y:.1f}} °C, actual "
            "%{customdata[0]:.1f} °C, error %{customdata[1]:+.1f} °C<extra></extra>"
        ),
    }


def _ahead(entry: Method, rows: dict[str, np.ndarray], name: str, colour: str) -> list[dict]:
    """A forecast past the data: the served one dotted within its band, others as drawn."""
    months, values = rows["month"], rows[entry.key]
    if entry.key != SERVED:
        return [
            {
                "x": months,
                "y": values,
                "name": f"{name} {entry.short} forecast",
                "line": {"color": colour, "width": entry.width, "dash": entry.dash},
                "hovertemplate": f"<b>{name}</b> {entry.label.lower()} forecast %{{y:.1f}} °C"
                "<extra></extra>",
            }
        ]
    lower, upper = rows["lower"], rows["upper"]
    band = {"x": months, "hoverinfo": "skip", "line": {"width": 0}}
    return [
        {**band, "y": upper, "name": f"{name} upper"},
        {
            **band,
            "y": lower,
            "name": f"{name} lower",
            "fill": "tonexty",
            "fillcolor": rgba(colour, BAND_ALPHA),
        },
        {
            "x": months,
            "y": values,
            "name": f"{name} forecast",
            "line": {"color": colour, "width": entry.width, "dash": AHEAD_DASH},
            "customdata": np.column_stack([lower, upper]),
            "hovertemplate": (
                f"<b>{name}</b> forecast %{{y:.1f}} °C (80%: "
                "%{customdata[0]:.1f} to %{customdata[1]:.1f})<extra></extra>"
            ),
        },
    ]
