"""The Compare card: 2 to 4 cached models' held-out lines on one chart, and their settings."""

from __future__ import annotations

from typing import Any, NamedTuple

import dash_bootstrap_components as dbc
from dash import Dash, Input, Output, dcc, html

from model import VARIABLE_LABELS

from ..data.sources import (
    VARIABLE,
    InputError,
    find_model,
    load_dataset,
    stations_of,
)
from ..data.validate import parse_compare, parse_stations
from ..present.figures import COMPARE_PANELS, compare_figure, message_figure
from ..present.grids import compare_columns, compare_grid
from ..present.messages import alert
from ..present.tables import actuals_frame, compare_rows, rows_of
from ..settings import Settings
from . import ids
from .common import GRAPH_CONFIG, card, check_choices, outputs
from .forecast import FORECAST_CHOICES, PICK
from .state import unpack

PICK_MODELS = "Pick 2 to 4 models above to compare their held-out predictions."
EMPTY_HEIGHT = 90  # a line of text, not a blank chart, until two models are picked


def layout() -> dbc.Card:
    """The card: the models picked (a part of the view), the chart, the grid and a note."""
    return card(
        "Compare models",
        [
            dcc.Dropdown(
                id=ids.COMPARE,
                multi=True,
                placeholder="Pick models",  # short: a phone shows it whole
                className="mb-2",
            ),
            dcc.Graph(
                id=ids.COMPARE_CHART,
                figure=message_figure(PICK_MODELS, height=EMPTY_HEIGHT),
                config=GRAPH_CONFIG,
                className="modebar-above",
            ),
            compare_grid(),
            html.Div(id=ids.COMPARE_NOTE, className="small text-muted mt-2"),
        ],
        className="mb-3",
    )


class Comparison(NamedTuple):
    figure: Any
    rows: list[dict[str, Any]]  # one per model: settings and scores
    columns: list[dict[str, Any]]  # the grid's columns, differing settings highlighted
    note: Any


COMPARE_OUTPUTS = outputs(
    Comparison,
    figure=Output(ids.COMPARE_CHART, "figure"),
    rows=Output(ids.COMPARE_TABLE, "rowData"),
    columns=Output(ids.COMPARE_TABLE, "columnDefs"),
    note=Output(ids.COMPARE_NOTE, "children"),
)


def register(app: Dash, settings: Settings) -> None:
    """The comparison follows the view (its compared keys) and the forecast switches."""

    @app.callback(*COMPARE_OUTPUTS, Input(ids.VIEW, "data"), Input(ids.FORECASTS, "value"))
    def _compare(shown: Any, forecasts: Any) -> Comparison:
        return update_compare(settings, shown, forecasts)


def _empty(text: str, note: Any = None) -> Comparison:
    return Comparison(message_figure(text, height=EMPTY_HEIGHT), [], compare_columns([]), note)


def update_compare(settings: Settings, view: Any, forecasts: Any) -> Comparison:
    """The comparison chart, the grid's rows and columns, and a note."""
    try:
        dataset, stations, _, compare = unpack(view)
        keys = parse_compare(compare)
        check_choices("forecasts", forecasts, FORECAST_CHOICES)
        data = load_dataset(settings, dataset)
        table = stations_of(data.monthly)
        chosen = parse_stations(stations, table)
        shown = [find_model(settings, key) for key in keys]
        for model in shown:
            if model.record.data_fingerprint != data.fingerprint:
                raise InputError(f"model {model.record.key} was trained on another data set")
    except InputError as error:
        return _empty(str(error), alert(str(error)))
    if len(keys) < 2:
        return _empty(PICK_MODELS)
    if not chosen:
        return _empty(PICK)
    drawn = chosen[:COMPARE_PANELS]
    names = dict(zip(table["location"], table["name"], strict=True))
    models = [
        (f"Model {number}", rows_of(model.predictions, drawn))
        for number, model in enumerate(shown, start=1)
    ]
    figure = compare_figure(
        actuals_frame(data.monthly, drawn),
        models,
        drawn,
        names,
        VARIABLE_LABELS[VARIABLE],
        tuple(forecasts),
    )
    rows = compare_rows([model.record for model in shown])
    note = (
        "Highlighted: the settings that differ. Errors are over all stations of each model's "
        "own held-out months, so models with another horizon are scored on other months."
    )
    if len(chosen) > len(drawn):
        note += f" The chart shows the first {len(drawn)} of the {len(chosen)} selected stations."
    return Comparison(figure, rows, compare_columns(rows), note)
