"""The page's colours, fonts and line styles, defined once for the figures, the grids and the CSS.

A forecast method's own colour and line style are in its registry entry (model/methods.py);
here is everything else the charts draw with. `assets/dashboard.css` reads the colours it
shares with the charts as CSS variables (`--ink`, `--muted`, ...) that the page's head sets
from `CSS_VARIABLES` (`css_variables()`), so they have one home: this module.
"""

from __future__ import annotations

import html

# Stations: one colour each, in selection order, shared by the chart, the map and the panels.
PALETTE = (
    "#1f77b4",
    "#e4572e",
    "#2ca02c",
    "#9467bd",
    "#f2a541",
    "#17becf",
    "#d62728",
    "#8c564b",
    "#e377c2",
    "#4c5c68",
    "#bcbd22",
    "#2e4057",
    "#ff7f0e",
    "#66a182",
    "#7f3c8d",
)
MODEL_PALETTE = PALETTE[:4]  # one per compared model, in the chart and the comparison table
ACCENT = PALETTE[0]
INK = "#1f2933"  # body text
MUTED = "#5c636a"  # secondary text: 5.6:1 on the page's grey, WCAG AA for small text
CHART_MUTED = "#6c757d"  # the cutoff line and the charts' notes
OBSERVED = "#343a40"  # the observed line where stations share a panel's colours (comparison)
NEUTRAL = "#495057"  # a line that stands for no station (the chart key, secondary scores)
OTHER_STATION = "#adb5bd"  # a station on the map that is not selected
GOOD, BAD = "#1b7f3b", "#b02a37"  # skill above and below zero
HIGHLIGHT = "#fff3cd"  # a comparison setting that differs between the models
HEADER = "#f8f9fa"  # the grids' header row
GRID_LINES = "#ebf0f8"
PANEL_GRID = "#eef0f2"
LOSS = {"loss": PALETTE[0], "val_loss": PALETTE[1]}  # training and validation loss
# Inside the GRU: each gate's mean line (an LSTM's forget gate keeps, as a GRU's update gate),
# and the hidden state's colours at -1, 0 and +1.
GATES = dict(
    update=PALETTE[0], reset=PALETTE[1], forget=PALETTE[0], input=PALETTE[1], output=PALETTE[2]
)
HIDDEN_SCALE = ("#2166ac", "#f7f7f7", "#b2182b")

# How the chart draws parts that are not one method's: the observed line, the served forecast
# past the data (with its band), the baselines' transparency.
OBSERVED_WIDTH = 2
AHEAD_DASH = "dot"
BAND_ALPHA = 0.16
BASELINE_OPACITY = 0.75

FONT_STACK = "Inter, system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif"
FONT = dict(family=FONT_STACK, size=13)

MAP = dict(
    land="#f1f3f5",
    ocean="#e7f1fb",
    countries="#dee2e6",
    coast=OTHER_STATION,
    template_land="#e5ecf6",
)

# The CSS variables assets/dashboard.css uses, set in the page's head (css_variables).
CSS_VARIABLES = {
    "ink": INK,
    "muted": MUTED,
    "accent": ACCENT,
    "neutral": NEUTRAL,
    "good": GOOD,
    "bad": BAD,
    "font": FONT_STACK,
}

# The parts of plotly_white the page uses: a small template is much cheaper to apply per request.
_AXIS = dict(gridcolor=GRID_LINES, linecolor=GRID_LINES, zerolinecolor=GRID_LINES, ticks="")
TEMPLATE = {
    "layout": dict(
        paper_bgcolor="white",
        plot_bgcolor="white",
        xaxis={**_AXIS, "automargin": True},
        yaxis={**_AXIS, "automargin": True},
        hoverlabel=dict(align="left"),
        colorway=list(PALETTE),
        geo=dict(
            bgcolor="white",
            landcolor=MAP["template_land"],
            subunitcolor="white",
            showland=True,
            showlakes=True,
            lakecolor="white",
        ),
    )
}


def station_colours(stations: list[str]) -> dict[str, str]:
    """One colour per station, in selection order, shared by every element of the page."""
    return {station: PALETTE[index % len(PALETTE)] for index, station in enumerate(stations)}


def rgba(colour: str, alpha: float) -> str:
    """A #rrggbb colour with some transparency, as plotly and CSS take it."""
    red, green, blue = (int(colour[i : i + 2], 16) for i in (1, 3, 5))
    return f"rgba({red},{green},{blue},{alpha})"


def css_variables() -> str:
    """The :root rule that gives assets/dashboard.css the theme's colours and font."""
    body = " ".join(f"--{name}: {value};" for name, value in CSS_VARIABLES.items())
    return f":root {{ {html.escape(body, quote=False)} }}"


def dash_pattern(dash: str, width: float) -> str:
    """A plotly line dash as an SVG stroke-dasharray, as plotly.js draws it at that width.

    A named dash scales with the width; a dash given as lengths ("8px,3px") is kept.
    """
    unit = max(width, 3)
    factors = {
        "solid": (),
        "dot": (1, 1),
        "dash": (3, 3),
        "longdash": (5, 5),
        "dashdot": (3, 1, 1, 1),
        "longdashdot": (5, 2, 1, 2),
    }
    if dash not in factors:
        return dash.replace("px", "")
    return ",".join(f"{factor * unit:g}" for factor in factors[dash]) or "none"
