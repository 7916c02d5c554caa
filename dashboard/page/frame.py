"""The page's frame: the header, the view's stores and the cards in their grid.

`register` registers every card's callbacks; each card module (stations, forecast, scores,
compare, inside_gru, retrain, models, your_data) holds its layout and its callbacks side by
side, and state.py the view they all read.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import dash_bootstrap_components as dbc
from dash import Dash, Input, Output, dcc, html

from model import BASELINES, method

from ..data.sources import InputError, load_dataset
from ..present.messages import counted
from ..settings import Settings
from . import (
    backtest,
    compare,
    forecast,
    ids,
    inside_gru,
    models,
    retrain,
    scores,
    state,
    stations,
    your_data,
)
from .common import outputs
from .state import unpack

CARDS = (stations, forecast, scores, compare, backtest, inside_gru, retrain, models, your_data)


def build_layout(settings: Settings) -> html.Div:
    """The whole page; every dynamic part is filled by a callback."""
    return html.Div(
        [
            dcc.Location(id=ids.URL, refresh=False),
            # the view in session storage: the session's data set survives a reload
            dcc.Store(id=ids.VIEW, storage_type="session"),
            dcc.Store(id=ids.TRAINED),
            dcc.Store(id=ids.UPLOADED),
            dcc.Store(id=ids.STORE_VERSION, data=0),
            _header(),
            dbc.Container(
                [
                    html.Div(id=ids.NOTICE),
                    dbc.Row(
                        [
                            dbc.Col(stations.layout(), lg=3, className="mb-3"),
                            dbc.Col(forecast.layout(), lg=9, className="mb-3"),
                        ]
                    ),
                    scores.layout(),
                    compare.layout(),
                    backtest.layout(),
                    inside_gru.layout(),
                    dbc.Row(
                        [
                            dbc.Col(retrain.layout(settings.base_config), lg=5, className="mb-3"),
                            dbc.Col(models.layout(), lg=4, className="mb-3"),
                            dbc.Col(your_data.layout(settings), lg=3, className="mb-3"),
                        ]
                    ),
                    html.Footer(id=ids.FOOTER, className="footer"),
                ],
                fluid=True,
                className="page",
                tag="main",
            ),
        ]
    )


def _header() -> html.Header:
    return html.Header(
        dbc.Container(
            [
                html.Div(
                    [
                        html.H1(id=ids.TITLE, className="title"),
                        html.P(
                            "A GRU encoder-decoder network, scored against "
                            + ", ".join(method(key).short for key in BASELINES)
                            + " on held-out months.",
                            className="subtitle",
                        ),
                    ]
                ),
                html.Div(id=ids.DATA_BADGE, className="data-badge"),
            ],
            fluid=True,
            className="header-inner",
        ),
        className="header",
    )


class Words(NamedTuple):
    title: str
    credit: str  # the footer: where the data come from


WORDS_OUTPUTS = outputs(
    Words, title=Output(ids.TITLE, "children"), credit=Output(ids.FOOTER, "children")
)
BUILT_IN_WORDS = Words(
    "Australian monthly temperature forecasts",
    "Data: Bureau of Meteorology daily observations via the weatherAUS data set "
    "(CC BY). Monthly mean of (min + max) / 2 in °C.",
)
UPLOAD_WORDS = Words(
    "Monthly temperature forecasts for your stations",
    "Data: the daily observations you uploaded, as monthly means of (min + max) / 2 "
    "in °C. The map places the stations it knows and those your file gives a position.",
)


def register(app: Dash, settings: Settings) -> None:
    """Register every callback of the page on app: the view's, the header's, each card's."""
    state.register(app, settings)

    @app.callback(Output(ids.DATA_BADGE, "children"), Input(ids.VIEW, "data"))
    def _badge(shown: Any) -> Any:
        return data_badge(settings, shown)

    @app.callback(*WORDS_OUTPUTS, Input(ids.VIEW, "data"))
    def _words(shown: Any) -> Words:
        return page_words(shown)

    for module in CARDS:
        module.register(app, settings)


def data_badge(settings: Settings, view: Any) -> Any:
    """What data the page shows: built-in or uploaded, how many stations, which months."""
    try:
        dataset = unpack(view)[0]
        monthly = load_dataset(settings, dataset).monthly
    except InputError as error:
        return str(error)
    months = monthly["month"]
    source = "Built-in data" if dataset is None else "Your uploaded data"
    return [
        html.Strong(source),
        html.Br(),
        f"{counted(monthly['location'].nunique(), 'station')}, "
        f"{months.min():%b %Y} to {months.max():%b %Y}",
    ]


def page_words(view: Any) -> Words:
    """The title and the data credit that fit the view's data set: built in or uploaded."""
    try:
        dataset = unpack(view)[0]
    except InputError:
        dataset = None
    return BUILT_IN_WORDS if dataset is None else UPLOAD_WORDS
