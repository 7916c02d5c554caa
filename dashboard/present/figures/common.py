"""What the figures share: plotly's bundle, safe names, empty charts, panels and their axes."""

from __future__ import annotations

import html
import math
from typing import Any

import numpy as np
import pandas as pd

from ..theme import CHART_MUTED, FONT, PANEL_GRID, TEMPLATE

# The trace types of the plotly.js build the page loads (assets/plotly-geo.min.js, plotly's
# partial "geo" bundle: 1.4 MB instead of the full 4.8 MB). It holds these three; the figures
# draw scatter and scattergeo, and a test keeps every figure within the bundle.
BUNDLED_TRACES = {"scatter", "scattergeo", "choropleth"}


def as_text(name: str) -> str:
    """Escape a name put into figure text: plotly renders tags such as <a> in names and hovers."""
    return html.escape(name, quote=False)


def message_figure(text: str, height: int = 420) -> dict[str, Any]:
    """An empty chart that says why it is empty."""
    return {
        "data": [],
        "layout": {
            "template": TEMPLATE,
            "height": height,
            "font": FONT,
            "xaxis": {"visible": False},
            "yaxis": {"visible": False},
            "margin": {"l": 20, "r": 20, "t": 20, "b": 20},
            "annotations": [
                {
                    "text": text,
                    "showarrow": False,
                    "xref": "paper",
                    "yref": "paper",
                    "x": 0.5,
                    "y": 0.5,
                    "font": {"size": 15, "color": CHART_MUTED},
                }
            ],
        },
    }


def columns_of(frame: pd.DataFrame) -> dict[str, np.ndarray]:
    """A frame as numpy columns plotly serialises fast: months as days, numbers as floats."""
    return {
        name: frame[name].to_numpy(dtype="datetime64[D]")
        if name == "month"
        else frame[name].to_numpy()
        if name == "location"
        else frame[name].to_numpy(dtype=float, na_value=np.nan)
        for name in frame.columns
    }


def rows_of(columns: dict[str, np.ndarray], station: str) -> dict[str, np.ndarray] | None:
    """One station's rows of numpy columns; None when it has none."""
    chosen = columns["location"] == station
    return {name: values[chosen] for name, values in columns.items()} if chosen.any() else None


def panel_grid(count: int) -> list[dict[str, Any]]:
    """Axes and paper domains of `count` panels, three per row, as make_subplots lays them."""
    columns, rows = min(3, count), math.ceil(count / 3)
    gap_x, gap_y = 0.05, min(0.08, 0.3 / rows)
    width, height = (1 - gap_x * (columns - 1)) / columns, (1 - gap_y * (rows - 1)) / rows
    cells = []
    for index in range(count):
        row, column = divmod(index, 3)
        suffix = "" if index == 0 else str(index + 1)
        left, top = column * (width + gap_x), 1 - row * (height + gap_y)
        cells.append(
            {
                "x": f"x{suffix}",
                "y": f"y{suffix}",
                "suffix": suffix,
                "x_domain": [left, left + width],
                "y_domain": [top - height, top],
                "bottom": index + 3 >= count,
            }
        )
    return cells


def with_gaps(observed: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Months and values with missing months as NaN, so the line breaks at a gap."""
    months = observed["month"].astype("datetime64[M]")
    every = np.arange(months.min(), months.max() + 1)
    values = np.full(len(every), np.nan)
    values[(months - every[0]).astype(int)] = observed["actual"]
    return every.astype("datetime64[D]"), values


def panel_layout(
    grid: list[dict[str, Any]],
    titles: list[str] | None,
    actuals: pd.DataFrame,
    forecast: pd.DataFrame,
    cutoff: str | None,
    unit_label: str,
) -> dict[str, Any]:
    panels = titles is not None
    x_range = _x_range(actuals, forecast, cutoff)
    line = (pd.Timestamp(cutoff) + pd.DateOffset(days=15)).strftime("%Y-%m-%d") if cutoff else None
    layout: dict[str, Any] = {
        "template": TEMPLATE,
        "font": FONT,
        "hoverlabel": {"namelength": -1},
        "height": max(460, 200 * math.ceil(len(grid) / 3) + 90) if panels else 480,
        "hovermode": "x" if panels else "x unified",
        "legend": {
            "orientation": "h",
            "yanchor": "top",
            "y": -0.08,
            "x": 0,
            "title": {"text": None},
        },
        "margin": {"l": 60, "r": 20, "t": 40 if panels else 30, "b": 40},
        "shapes": [],
        "annotations": [],
    }
    for cell in grid:
        layout[f"xaxis{cell['suffix']}"] = {
            "anchor": cell["y"],
            "domain": cell["x_domain"],
            "range": x_range,
            **({} if cell["x"] == "x" else {"matches": "x"}),
            "showticklabels": cell["bottom"],
            "showgrid": True,
            "gridcolor": PANEL_GRID,
            "ticks": "outside",
            "ticklen": 4,
        }
        layout[f"yaxis{cell['suffix']}"] = {
            "anchor": cell["x"],
            "domain": cell["y_domain"],
            "showgrid": True,
            "gridcolor": PANEL_GRID,
            "zeroline": False,
            **({"ticksuffix": "°"} if panels else {"title": {"text": unit_label}}),
        }
        if line:
            layout["shapes"].append(
                {
                    "type": "line",
                    "xref": cell["x"],
                    "yref": f"{cell['y']} domain",
                    "x0": line,
                    "x1": line,
                    "y0": 0,
                    "y1": 1,
                    "line": {"color": CHART_MUTED, "width": 1, "dash": "dash"},
                }
            )
    if panels:
        layout["annotations"] = [
            {
                "text": title,
                "showarrow": False,
                "xref": "paper",
                "yref": "paper",
                "x": sum(cell["x_domain"]) / 2,
                "y": cell["y_domain"][1],
                "xanchor": "center",
                "yanchor": "bottom",
                "font": {"size": 12},
            }
            for title, cell in zip(titles or [], grid, strict=True)
        ]
    elif line:  # in panels the label would collide with the station titles
        layout["annotations"].append(
            {
                "x": line,
                "y": 1,
                "xref": "x",
                "yref": "paper",
                "yanchor": "bottom",
                "xanchor": "left",
                "xshift": 4,
                "showarrow": False,
                "text": f"cutoff {cutoff}",
                "font": {"size": 11, "color": CHART_MUTED},
            }
        )
    return layout


def _x_range(actuals: pd.DataFrame, forecast: pd.DataFrame, cutoff: str | None) -> list | None:
    """The last three years before the cutoff (or the data's end) through the forecast."""
    ends = [frame["month"].max() for frame in (actuals, forecast) if not frame.empty]
    if not ends:
        return None
    end = max(ends) + pd.DateOffset(months=1)
    start = (pd.Timestamp(cutoff) if cutoff else end) - pd.DateOffset(months=36)
    return [start.strftime("%Y-%m-%d"), end.strftime("%Y-%m-%d")]
