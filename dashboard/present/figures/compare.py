"""The comparison chart: several models' held-out predictions, one panel per station."""

from __future__ import annotations

from typing import Any

import pandas as pd

from model import METHODS, NETWORK

from ..theme import MODEL_PALETTE, OBSERVED, OBSERVED_WIDTH
from .common import as_text, columns_of, panel_grid, panel_layout, rows_of, with_gaps

COMPARE_PANELS = 9  # stations drawn on the comparison chart at most


def compare_figure(
    actuals: pd.DataFrame,
    models: list[tuple[str, pd.DataFrame]],
    stations: list[str],
    names: dict[str, str],
    unit_label: str,
    forecasts: tuple[str, ...] = (NETWORK,),
) -> dict[str, Any]:
    """Several models' held-out predictions against the actuals, one panel per station.

    Args:
        actuals: location, month, actual.
        models: (label, held-out predictions: location, month, a column per method) per model.
        forecasts: which of the served forecast and the network's own to draw for each model.
    """
    grid = panel_grid(len(stations))
    labels = {station: as_text(names[station]) for station in stations}
    held_out = [(label, columns_of(frame)) for label, frame in models]
    months = [frame["month"] for _, frame in models if not frame.empty]
    first = min(m.min() for m in months) if months else None
    observed = columns_of(
        actuals[actuals["month"] >= first - pd.DateOffset(months=12)]
        if first is not None
        else actuals
    )
    traces = []
    for index, station in enumerate(stations):
        axes = {"xaxis": grid[index]["x"], "yaxis": grid[index]["y"]}
        rows = rows_of(observed, station)
        if rows is not None:
            x, y = with_gaps(rows)
            traces.append(
                {
                    "type": "scatter",
                    "mode": "lines",
                    "x": x,
                    "y": y,
                    **axes,
                    "name": "observed",
                    "legendgroup": "observed",
                    "showlegend": index == 0,
                    "line": {"color": OBSERVED, "width": OBSERVED_WIDTH},
                    "hovertemplate": f"<b>{labels[station]}</b> actual %{{y:.1f}} °C"
                    "<extra></extra>",
                }
            )
        for number, (label, columns) in enumerate(held_out):
            model_rows = rows_of(columns, station)
            if model_rows is None:
                continue
            for entry in METHODS:
                if entry.key not in forecasts or entry.key not in model_rows:
                    continue
                kind = entry.label.lower()
                traces.append(
                    {
                        "type": "scatter",
                        "mode": "lines",
                        "x": model_rows["month"],
                        "y": model_rows[entry.key],
                        **axes,
                        "name": f"{label}: {kind}",
                        "legendgroup": f"{label}: {kind}",
                        "showlegend": index == 0,
                        "line": {
                            "color": MODEL_PALETTE[number % len(MODEL_PALETTE)],
                            "width": entry.width,
                            "dash": entry.dash,
                        },
                        "hovertemplate": f"<b>{labels[station]}</b> {label} ({kind}) %{{y:.1f}} °C"
                        "<extra></extra>",
                    }
                )
    titles = [labels[s] for s in stations] if len(stations) > 1 else None
    layout = panel_layout(grid, titles, actuals.iloc[0:0], actuals.iloc[0:0], None, unit_label)
    layout["legend"] = {"orientation": "h", "yanchor": "bottom", "y": 1.02, "x": 0}
    layout["margin"]["t"] = 70
    layout["hovermode"] = "x unified" if titles is None else "x"
    if titles is not None:  # the legend sits above the station titles
        layout["legend"]["y"] = 1 + 60 / layout["height"]
    return {"data": traces, "layout": layout}
