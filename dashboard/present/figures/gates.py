"""Inside the GRU: one station's input window, the encoder's mean gates and its hidden state.

Panels share the months: the input the encoder reads, then for each direction the gates'
means over the units as lines and the hidden state of every unit as a heatmap. The page's
plotly bundle has no heatmap trace, so a heatmap is drawn as filled scatter shapes, one trace
per colour step, under an invisible marker per cell that carries its hover and the colour bar.
The colours span the window's largest |hidden state| (rounded up to a tenth), so small states
still show; the colour bar says how far.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from model import Replay

from ..theme import CHART_MUTED, FONT, GATES, HIDDEN_SCALE, NEUTRAL, PANEL_GRID, TEMPLATE, rgba

# The article's words for each part of the cell (an LSTM's gates in the same spirit).
WORDS = {
    "update": "how much of the old state is kept",
    "reset": "how much of the old state the new candidate sees",
    "candidate": "what is new",
    "hidden": "what is carried to the next month",
    "forget": "how much of the old cell state is kept",
    "input": "how much of the candidate is written into the cell state",
    "output": "how much of the cell state is shown as the hidden state",
}
LINES = {"gru": ("update", "reset"), "lstm": ("input", "forget", "output")}
# Panel titles, short enough for a phone; the card's key and the hovers hold the words.
DIRECTIONS = ("Forward (first to last)", "Backward (last to first)")
STEPS = 10  # colour steps of the hidden state's heatmap over [-limit, limit]
HEIGHTS = {"input": 130, "gates": 150}  # px per panel; a heatmap's grows with the units
GAP = 62  # px between panels: the tick labels above, then the next one's title


def heatmap_height(units: int) -> int:
    """Pixels of a hidden-state panel: rows of at least 6 px, between 140 and 320 px."""
    return int(min(320, max(140, 7 * units)))


def gates_figure(
    months: pd.DatetimeIndex, values: np.ndarray, value_label: str, replays: list[Replay]
) -> dict[str, Any]:
    """The input, each direction's mean gates and its hidden state, month by month.

    Args:
        months: the input window's months; values: the input in °C (anomaly or value).
        value_label: what `values` are, for the first panel's axis.
        replays: the forward direction's replay, then the backward one's if any.
    """
    cell = "gru" if "update" in replays[0].gates else "lstm"
    units = replays[0].hidden.shape[1]
    middle = (months + pd.DateOffset(days=14)).strftime("%Y-%m-%d").tolist()
    edges = pd.date_range(months[0], periods=len(months) + 1, freq="MS").strftime("%Y-%m-%d")
    panels = [("input", HEIGHTS["input"])]
    for index in range(len(replays)):
        panels += [(f"gates{index}", HEIGHTS["gates"]), (f"hidden{index}", heatmap_height(units))]
    total = sum(height for _, height in panels) + GAP * len(panels)
    domains, top = {}, 1.0
    for name, height in panels:
        top -= GAP / total
        domains[name] = [max(0.0, round(top - height / total, 6)), round(top, 6)]
        top -= height / total
    titles = {"input": f"Input: {value_label}"}
    traces: list[dict[str, Any]] = [
        {
            "type": "scatter",
            "x": middle,
            "y": values.tolist(),
            "name": "input",
            "mode": "lines+markers",
            "line": {"color": NEUTRAL, "width": 2},
            "marker": {"size": 5},
            "showlegend": False,
            "hovertemplate": f"%{{x|%b %Y}}: %{{y:.2f}} °C<extra>{value_label}</extra>",
            "xaxis": "x",
            "yaxis": "y",
        }
    ]
    layout: dict[str, Any] = {
        "template": TEMPLATE,
        "font": FONT,
        "height": total + 40,
        "margin": {"l": 60, "r": 20, "t": 10, "b": 30},
        "hovermode": "closest",
        "legend": {"orientation": "h", "x": 0, "y": -30 / total, "yanchor": "top"},
        "yaxis": _axis(domains["input"], "°C", "x"),
    }
    for index, replayed in enumerate(replays):
        gates_axis, hidden_axis = 2 + 2 * index, 3 + 2 * index
        titles[f"gates{index}"] = _titled(index, len(replays), "mean gates")
        titles[f"hidden{index}"] = _titled(index, len(replays), "hidden state")
        layout[f"yaxis{gates_axis}"] = {
            **_axis(domains[f"gates{index}"], f"mean of {units}", f"x{gates_axis}"),
            "range": [-0.05, 1.05],
            "tickvals": [0, 0.5, 1],
        }
        layout[f"yaxis{hidden_axis}"] = {
            **_axis(domains[f"hidden{index}"], "unit", f"x{hidden_axis}"),
            "range": [units + 0.5, 0.5],  # unit 1 at the top
            "tickmode": "auto",
            "nticks": min(units, 8),
        }
        for gate in LINES[cell]:
            traces.append(
                {
                    "type": "scatter",
                    "x": middle,
                    "y": replayed.gates[gate].mean(axis=1).tolist(),
                    "name": f"{gate} gate",
                    "legendgroup": gate,
                    "showlegend": index == 0,
                    "mode": "lines+markers",
                    "line": {"color": GATES[gate], "width": 2},
                    "marker": {"size": 4},
                    "hovertemplate": f"%{{x|%b %Y}}: %{{y:.2f}}, {WORDS[gate]} (mean)"
                    f"<extra>{gate} gate</extra>",
                    "xaxis": f"x{gates_axis}",
                    "yaxis": f"y{gates_axis}",
                }
            )
        traces += _heatmap(replayed, middle, edges, hidden_axis, domains[f"hidden{index}"], cell)
    for number in range(1, len(panels) + 1):
        suffix = "" if number == 1 else str(number)
        layout[f"xaxis{suffix}"] = {
            "anchor": f"y{suffix}",
            "domain": [0, 1],
            "range": [edges[0], edges[-1]],
            **({} if number == 1 else {"matches": "x"}),
            "showgrid": False,
            "ticks": "outside",
            "ticklen": 3,
            "tickfont": {"size": 10},
        }
    layout["annotations"] = [
        {
            "text": text,
            "showarrow": False,
            "xref": "paper",
            "yref": "paper",
            "x": 0,
            "y": domains[name][1],
            "xanchor": "left",
            "yanchor": "bottom",
            "yshift": 6,
            "font": {"size": 12, "color": CHART_MUTED},
        }
        for name, text in titles.items()
    ]
    return {"data": traces, "layout": layout}


def _titled(index: int, directions: int, part: str) -> str:
    """A panel's title: the part, after its direction when there are two."""
    return f"{DIRECTIONS[index]}: {part}" if directions > 1 else part.capitalize()


def _axis(domain: list[float], title: str, anchor: str) -> dict[str, Any]:
    return {
        "domain": domain,
        "anchor": anchor,
        "title": {"text": title},
        "showgrid": True,
        "gridcolor": PANEL_GRID,
        "zeroline": False,
    }


def colour_limit(hidden: np.ndarray) -> float:
    """The |hidden state| the heatmap's strongest colours stand for: its largest, to a tenth up."""
    return float(max(0.1, np.ceil(np.abs(hidden).max() * 10 - 1e-9) / 10))


def hidden_colour(share: float) -> str:
    """The heatmap's colour at `share` of the way from 0 to the limit (-1 to 1): blue to red."""
    low, mid, high = (np.array([int(c[i : i + 2], 16) for i in (1, 3, 5)]) for c in HIDDEN_SCALE)
    end = high if share > 0 else low
    red, green, blue = np.round(mid + (end - mid) * min(abs(share), 1.0)).astype(int)
    return f"#{red:02x}{green:02x}{blue:02x}"


def _heatmap(
    replayed: Replay,
    middle: list[str],
    edges: pd.Index,
    axis: int,
    domain: list[float],
    cell: str,
) -> list[dict[str, Any]]:
    """Units x months of the hidden state: a filled trace per colour step, then the hover."""
    hidden = replayed.hidden  # (months, units)
    months, units = hidden.shape
    limit = colour_limit(hidden)
    step = np.clip(((hidden / limit + 1) / 2 * STEPS).astype(int), 0, STEPS - 1)
    traces = []
    for level in range(STEPS):
        month_of, unit_of = np.nonzero(step == level)
        if not len(month_of):
            continue
        x: list[str | None] = []
        y: list[float | None] = []
        for month, unit in zip(month_of, unit_of, strict=True):
            left, right, row = edges[month], edges[month + 1], unit + 1
            x += [left, right, right, left, left, None]
            y += [row - 0.5, row - 0.5, row + 0.5, row + 0.5, row - 0.5, None]
        centre = -1 + (level + 0.5) * 2 / STEPS
        traces.append(
            {
                "type": "scatter",
                "x": x,
                "y": y,
                "mode": "lines",
                "fill": "toself",
                "fillcolor": hidden_colour(centre),
                "line": {"width": 0.5, "color": rgba("#ffffff", 0.6)},
                "hoverinfo": "skip",
                "showlegend": False,
                "xaxis": f"x{axis}",
                "yaxis": f"y{axis}",
            }
        )
    cells = np.indices((months, units)).reshape(2, -1)  # every (month, unit), month-major
    shown = ["candidate", *LINES[cell]]
    custom = np.stack([replayed.gates[name][cells[0], cells[1]] for name in shown], axis=1)
    lines = "<br>".join(
        f"{name}: %{{customdata[{column}]:.2f}}" for column, name in enumerate(shown)
    )
    traces.append(
        {
            "type": "scatter",
            "name": "hidden state",
            "x": [middle[month] for month in cells[0]],
            "y": (cells[1] + 1).tolist(),
            "mode": "markers",
            "marker": {
                "color": hidden[cells[0], cells[1]].round(4).tolist(),
                "cmin": -limit,
                "cmax": limit,
                "colorscale": [[0, HIDDEN_SCALE[0]], [0.5, HIDDEN_SCALE[1]], [1, HIDDEN_SCALE[2]]],
                "opacity": 0,
                "size": 8,
                "showscale": True,
                "colorbar": {
                    "y": domain[0],
                    "yanchor": "bottom",
                    "len": domain[1] - domain[0],
                    "thickness": 10,
                    "tickvals": [-limit, 0, limit],
                    "outlinewidth": 0,
                },
            },
            "customdata": custom.round(4).tolist(),
            "hovertemplate": "%{x|%b %Y}, unit %{y}<br>hidden state: %{marker.color:.2f}<br>"
            + lines
            + "<extra></extra>",
            "showlegend": False,
            "xaxis": f"x{axis}",
            "yaxis": f"y{axis}",
        }
    )
    return traces
