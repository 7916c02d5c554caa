"""The Inside the GRU card: the shown model's encoder replayed over one station's input window.

The window is the one the forecast beyond the data starts from, rebuilt as training feeds it;
the encoder's weights come from the gates file beside the network (model/gates.py), so the
replay needs no TensorFlow.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, NamedTuple

import dash_bootstrap_components as dbc
from dash import Dash, Input, Output, dcc, html

from model import GatesError, Record, encoder_window, gates_path, read_gates, replay_encoder

from ..data.sources import InputError, stores
from ..present.figures import message_figure
from ..present.figures.gates import LINES, WORDS, gates_figure
from ..present.messages import alert
from ..settings import Settings
from . import ids
from .common import GRAPH_CONFIG, card, outputs
from .forecast import PICK
from .state import open_view

EMPTY_HEIGHT = 160


def layout() -> dbc.Card:
    """The card: which station, what the parts of the cell mean, the chart and a note."""
    return card(
        "Inside the GRU",
        [
            html.P(
                "The shown model's encoder, replayed month by month over the input window "
                "its forecast beyond the data starts from.",
                className="small text-muted mb-2",
            ),
            html.Div(
                [
                    html.Label("Station", htmlFor=ids.GATES_STATION, className="small me-2"),
                    dcc.Dropdown(
                        id=ids.GATES_STATION,
                        clearable=False,
                        searchable=False,
                        placeholder="Pick a station",
                        className="gates-station",
                    ),
                ],
                className="mb-2",
            ),
            html.Ul(id=ids.GATES_KEY, className="small mb-2"),
            dcc.Graph(
                id=ids.GATES_CHART,
                figure=message_figure("Loading...", height=EMPTY_HEIGHT),
                config=GRAPH_CONFIG,
                className="modebar-above",
            ),
            html.Div(id=ids.GATES_NOTE, className="small text-muted"),
        ],
        className="mb-3",
    )


class Inside(NamedTuple):
    figure: Any
    options: Any  # the station dropdown's: the view's selected stations
    station: Any  # the station shown
    key: Any  # what each part of the cell means, in the article's words
    note: Any


INSIDE_OUTPUTS = outputs(
    Inside,
    figure=Output(ids.GATES_CHART, "figure"),
    options=Output(ids.GATES_STATION, "options"),
    station=Output(ids.GATES_STATION, "value"),
    key=Output(ids.GATES_KEY, "children"),
    note=Output(ids.GATES_NOTE, "children"),
)


def register(app: Dash, settings: Settings) -> None:
    """The card follows the view (model and stations) and its own station dropdown."""

    @app.callback(*INSIDE_OUTPUTS, Input(ids.VIEW, "data"), Input(ids.GATES_STATION, "value"))
    def _inside(shown: Any, station: Any) -> Inside:
        return update_inside(settings, shown, station)


def _message(text: str, options: Any = (), station: Any = None, note: Any = None) -> Inside:
    return Inside(message_figure(text, height=EMPTY_HEIGHT), list(options), station, [], note)


def update_inside(settings: Settings, view: Any, station: Any) -> Inside:
    """The replay of the shown model's encoder for the picked station (else the first one)."""
    try:
        monthly, table, chosen, shown = open_view(settings, view)
    except InputError as error:
        return _message(str(error), note=alert(str(error)))
    names = dict(zip(table["location"], table["name"], strict=True))
    options = [{"label": names[s], "value": s} for s in chosen]
    if not chosen:
        return _message(PICK)
    picked = station if isinstance(station, str) and station in chosen else chosen[0]
    if shown is None:
        return _message("No model trained on this data yet.", options, picked)
    record = shown.record
    config = record.config
    key = _words(config.cell)
    try:
        directions = read_gates(_gates_file(settings, record), record.network_sha256)
    except GatesError as error:
        text = f"Cannot look inside this model: {error}."
        return Inside(message_figure(text, EMPTY_HEIGHT), options, picked, key, alert(text))
    window = encoder_window(config, record.cutoff, monthly, picked)
    if window is None:
        text = f"{names[picked]} has no forecast beyond the data (too few recent months)."
        return Inside(message_figure(text, EMPTY_HEIGHT), options, picked, key, None)
    cell = directions[0]
    fits = (cell.cell, cell.units, cell.features, len(directions)) == (
        config.cell,
        config.units,
        window.inputs.shape[1],
        2 if config.bidirectional else 1,
    )
    if not fits:
        text = "Cannot look inside this model: its gates file does not fit its network."
        return Inside(message_figure(text, EMPTY_HEIGHT), options, picked, key, alert(text))
    label = "°C anomaly from the seasonal level" if config.anomalies else "°C"
    replays = replay_encoder(directions, window.inputs)
    first, last = (f"{month:%b %Y}" for month in (window.months[0], window.months[-1]))
    note = (
        f"{names[picked]}: the {len(window.months)} months {first} to {last}, from which the "
        "forecast beyond the data starts. Gates lie between 0 and 1."
    )
    if config.bidirectional:
        note += (
            " The backward direction reads the months last to first, so its state at the "
            "first month is what it passes on."
        )
    if config.ensemble > 1:
        note += f" Shown: the first of the ensemble's {config.ensemble} networks."
    figure = gates_figure(window.months, window.values, label, replays)
    return Inside(figure, options, picked, key, note)


def _gates_file(settings: Settings, record: Record) -> Path:
    """The gates file of a record, in the first store that holds the record (as find_model)."""
    for store in stores(settings):
        if store.record_path(record.key).is_file():
            return gates_path(store.folder, record.key)
    return gates_path(stores(settings)[0].folder, record.key)


def _words(cell: str) -> list[html.Li]:
    """The article's words for each part of the cell that the chart shows."""
    parts = [f"{gate} gate" for gate in LINES[cell]]
    parts += ["candidate (in each cell's hover)", "hidden state (the heatmap)"]
    meanings = [*(WORDS[gate] for gate in LINES[cell]), WORDS["candidate"], WORDS["hidden"]]
    return [
        html.Li([html.Strong(part.capitalize()), f": {meaning}."])
        for part, meaning in zip(parts, meanings, strict=True)
    ]
