"""Plotly figures as pure functions of data frames: no store, no request, no Dash.

One module per figure: the forecast chart, the station map, the comparison, the small charts
(loss, errors by step); `common` holds what they share. Every figure is a plain plotly figure
dict: building `go.Figure` objects validates every property on every call, which cost tens of
milliseconds a figure. The tests validate them.
"""

from __future__ import annotations

from .common import BUNDLED_TRACES, as_text, message_figure
from .compare import COMPARE_PANELS, compare_figure
from .forecast import forecast_figure, use_small_multiples
from .small import loss_figure, step_figure
from .station_map import MAP_HEIGHT, station_map

__all__ = [
    "BUNDLED_TRACES",
    "COMPARE_PANELS",
    "MAP_HEIGHT",
    "as_text",
    "compare_figure",
    "forecast_figure",
    "loss_figure",
    "message_figure",
    "station_map",
    "step_figure",
    "use_small_multiples",
]
