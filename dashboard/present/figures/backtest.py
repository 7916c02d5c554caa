"""The backtest chart: every method's MAE at each cutoff, as dots joined by lines."""

from __future__ import annotations

from typing import Any

import pandas as pd

from model import METHODS

from ..theme import FONT, TEMPLATE

BACKTEST_HEIGHT = 320


def backtest_figure(maes: pd.DataFrame) -> dict[str, Any]:
    """MAE per cutoff (columns cutoff, method, mae), a line per method in its registry style.

    Cutoffs run oldest to newest, left to right.
    """
    traces = []
    for entry in METHODS:
        rows = maes[maes["method"] == entry.key].sort_values("cutoff")
        if rows.empty:
            continue
        traces.append(
            {
                "type": "scatter",
                "x": rows["cutoff"].tolist(),
                "y": rows["mae"].tolist(),
                "name": entry.label,
                "mode": "lines+markers",
                "line": {"color": entry.colour, "width": entry.width, "dash": entry.dash},
                "marker": {"size": 7, "color": entry.colour},
                "hovertemplate": f"{entry.label}: %{{y:.3f}} °C<extra></extra>",
            }
        )
    return {
        "data": traces,
        "layout": {
            "template": TEMPLATE,
            "font": FONT,
            "height": BACKTEST_HEIGHT,
            "xaxis": {"title": {"text": "cutoff (last training month)"}, "type": "category"},
            "yaxis": {"title": {"text": "MAE (°C)"}},
            "margin": {"l": 55, "r": 10, "t": 10, "b": 45},
            "legend": {"orientation": "h", "y": 1.02, "yanchor": "bottom", "x": 0},
            "hovermode": "x unified",
        },
    }
