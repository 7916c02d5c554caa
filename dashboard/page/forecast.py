"""The Forecast card: the chart of the shown model, its switches, and Download CSV."""

from __future__ import annotations

import re
from typing import Any, NamedTuple

import dash_bootstrap_components as dbc
import pandas as pd
from dash import Dash, Input, Output, State, dcc, html, no_update

from model import (
    BASELINES,
    FORECASTS,
    SERVED,
    VARIABLE_LABELS,
    Record,
    short_repr,
)

from ..data.sources import (
    VARIABLE,
    InputError,
    ModelGone,
    ShownModel,
    default_key,
    is_shipped,
    load_dataset,
)
from ..present.chart_controls import chart_key, method_options, shown_methods
from ..present.figures import forecast_figure, message_figure, use_small_multiples
from ..present.messages import alert, describe, when_trained
from ..present.tables import actuals_frame, export_frame, rows_of
from ..settings import Settings
from . import ids
from .common import GRAPH_CONFIG, card, check_choices, duplicate, outputs
from .state import open_view, unpack

BASELINE_CHOICES = BASELINES
FORECAST_CHOICES = FORECASTS
CHART_MODES = ("auto", "overlay", "panels")
PICK = "Pick one or more stations, in the list or on the map."


def layout() -> dbc.Card:
    """The card: which model is shown, the switches, the chart, its key and a note."""
    controls = html.Div(
        [
            dbc.Checklist(
                id=ids.FORECASTS,
                inline=True,
                switch=True,
                value=shown_methods(baseline=False),
                options=method_options(baseline=False),
            ),
            dbc.Checklist(
                id=ids.BASELINES,
                inline=True,
                switch=True,
                value=shown_methods(baseline=True),
                options=method_options(baseline=True),
            ),
            dbc.RadioItems(
                id=ids.CHART_MODE,
                name=ids.CHART_MODE,  # one Tab stop for the group; arrow keys choose
                inline=True,
                value="auto",
                options=[
                    {"label": "Auto", "value": "auto"},
                    {"label": "One chart", "value": "overlay"},
                    {"label": "Panel per station", "value": "panels"},
                ],
            ),
            dbc.Button(
                "Download CSV", id=ids.DOWNLOAD_BUTTON, size="sm", color="primary", outline=True
            ),
        ],
        className="chart-controls",
    )
    legend = chart_key()
    return card(
        "Forecast",
        [
            html.Div(id=ids.SHOWN_MODEL, className="shown-model small mb-2"),
            controls,
            dcc.Loading(
                dcc.Graph(
                    id=ids.CHART,
                    figure=message_figure("Loading..."),
                    config=GRAPH_CONFIG,
                    className="modebar-above",
                ),
                delay_show=400,
            ),
            legend,
            html.Div(id=ids.CHART_NOTE, className="small text-muted"),
            dcc.Download(id=ids.DOWNLOAD),
        ],
        className="h-100",
    )


class Chart(NamedTuple):
    figure: Any
    model: Any  # which model is shown, in words
    note: Any


class Download(NamedTuple):
    file: Any  # dcc.Download's content, filename and type
    notice: Any


CHART_OUTPUTS = outputs(
    Chart,
    figure=Output(ids.CHART, "figure"),
    model=Output(ids.SHOWN_MODEL, "children"),
    note=Output(ids.CHART_NOTE, "children"),
)
DOWNLOAD_OUTPUTS = outputs(
    Download,
    file=Output(ids.DOWNLOAD, "data"),
    notice=duplicate(Output(ids.NOTICE, "children"))[0],  # the view's notice line
)


def register(app: Dash, settings: Settings) -> None:
    """The chart follows the view and the switches; the button downloads what it shows."""

    @app.callback(
        *CHART_OUTPUTS,
        Input(ids.VIEW, "data"),
        Input(ids.BASELINES, "value"),
        Input(ids.CHART_MODE, "value"),
        Input(ids.FORECASTS, "value"),
    )
    def _chart(shown: Any, baselines: Any, mode: Any, forecasts: Any) -> Chart:
        return update_chart(settings, shown, baselines, mode, forecasts)

    @app.callback(
        *DOWNLOAD_OUTPUTS,
        Input(ids.DOWNLOAD_BUTTON, "n_clicks"),
        State(ids.VIEW, "data"),
        prevent_initial_call=True,
    )
    def _download(_clicks: Any, shown: Any) -> Download:
        return download_csv(settings, shown)


def _shown_rows(shown: ShownModel | None, chosen: list[str]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(predictions, forecast) rows of the chosen stations; empty frames without a model."""
    if shown is None:
        empty = pd.DataFrame(columns=["location", "month", SERVED, "lower", "upper", "actual"])
        return empty, empty
    return rows_of(shown.predictions, chosen), rows_of(shown.forecast, chosen)


def update_chart(settings: Settings, view: Any, baselines: Any, mode: Any, forecasts: Any) -> Chart:
    """The forecast chart, the model it shows and a line about it."""
    try:
        if mode not in CHART_MODES:
            raise InputError(
                f"chart mode {short_repr(mode)} must be one of {', '.join(CHART_MODES)}"
            )
        check_choices("baselines", baselines, BASELINE_CHOICES)
        check_choices("forecasts", forecasts, FORECAST_CHOICES)
        monthly, table, chosen, shown = open_view(settings, view)
    except ModelGone as error:
        return Chart(message_figure(str(error)), None, _offer_default(settings, view, error))
    except InputError as error:
        return Chart(message_figure(str(error)), None, alert(str(error)))
    record = shown.record if shown else None
    caption = shown_model(settings, record)
    if not chosen:
        return Chart(message_figure(PICK), caption, None)
    names = dict(zip(table["location"], table["name"], strict=True))
    predictions, forecast = _shown_rows(shown, chosen)
    figure = forecast_figure(
        actuals_frame(monthly, chosen),
        predictions,
        forecast,
        chosen,
        names,
        record.cutoff if record else None,
        VARIABLE_LABELS[VARIABLE],
        tuple(baselines),
        use_small_multiples(mode, len(chosen)),
        tuple(forecasts),
    )
    if record is None:
        return Chart(
            figure, caption, "No model trained on this data yet: train one in Retrain below."
        )
    missing = sorted(set(chosen) - set(forecast["location"]))
    note = (
        f"Trained up to {record.cutoff}; {record.config.horizon} held-out months "
        f"follow, then the forecast beyond the data."
    )
    if missing:
        note += f" No forecast for {', '.join(names[m] for m in missing)} (too few recent months)."
    return Chart(figure, caption, note)


def _offer_default(settings: Settings, view: Any, error: ModelGone) -> Any:
    """The note when the model shown was deleted: a button back to the data set's default."""
    try:
        key = default_key(settings, load_dataset(settings, unpack(view)[0]))
    except InputError:
        key = None
    if key is None:
        return alert(f"{error}.", "warning")
    return dbc.Alert(
        [
            f"The model shown is gone: {error}. ",
            dbc.Button(
                "Show the default model",
                id={"type": ids.SHOW_DEFAULT, "key": key},
                size="sm",
                color="primary",
                className="ms-1",
            ),
        ],
        color="warning",
        className="py-2 small",
    )


def shown_model(settings: Settings, record: Record | None) -> Any:
    """Which model the chart shows: its settings, and whether it is built in or when trained."""
    if record is None:
        return "No model shown."
    origin = (
        "built in"
        if is_shipped(settings, record.key)
        else f"trained {when_trained(record.created)}"
    )
    return [html.Strong("Model shown: "), f"{describe(record.config)} ({origin})"]


def download_csv(settings: Settings, view: Any) -> Download:
    """The displayed actuals, predictions and intervals as CSV."""
    try:
        monthly, stations, chosen, shown = open_view(settings, view)
        if not chosen:
            raise InputError("no stations selected: pick at least one to download")
    except InputError as error:
        return Download(no_update, alert(str(error)))
    table = export_frame(actuals_frame(monthly, chosen), *_shown_rows(shown, chosen))
    named = stations[["location", "name", "state"]].rename(columns={"name": "station"})
    table = named.merge(table, on="location", how="right").drop(columns="location")
    name = csv_name(shown.record if shown else None)
    return Download(dict(content=table.to_csv(index=False), filename=name, type="text/csv"), None)


def csv_name(record: Record | None) -> str:
    """The download's file name: what it holds and the model behind it, in words.

    The file itself is a plain table (one header row, then data) that a spreadsheet or
    `pandas.read_csv` opens as it is, so the model is described here, not in comment lines.
    """
    words = ["monthly temperature"]
    if record is None:
        words.append("observed only")
    else:
        words += ["forecast", describe(record.config), f"trained to {record.cutoff}"]
    slug = "-".join(re.findall(r"[a-z0-9]+", " ".join(words).lower()))
    return f"{slug}.csv"
