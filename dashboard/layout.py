"""The page: a header, the station picker beside the chart, scores, retrain, models, your data."""

from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import dash_table, dcc, html

from model import CLIMATOLOGY, NETWORK, SEASONAL_NAIVE, SERVED, TrainConfig

from . import ids
from .figures import FONT_STACK, message_figure
from .settings import Settings
from .validate import RECIPES

GRAPH_CONFIG = {"displaylogo": False, "topojsonURL": "/assets/topojson/",
                "modeBarButtonsToRemove": ["lasso2d", "select2d"]}
STATE_ORDER_NOTE = "Type a station or state; pick a state entry to add all its stations."


def build_layout(settings: Settings) -> html.Div:
    """The whole page; every dynamic part is filled by a callback."""
    return html.Div([
        dcc.Location(id=ids.URL, refresh=False),
        dcc.Store(id=ids.DATASET, storage_type="session"),
        dcc.Store(id=ids.MODEL_KEY),
        dcc.Store(id=ids.STORE_VERSION, data=0),
        dcc.Download(id=ids.DOWNLOAD),
        _header(),
        dbc.Container([
            html.Div(id=ids.NOTICE),
            dbc.Row([
                dbc.Col(_stations_card(), lg=3, className="mb-3"),
                dbc.Col(_chart_card(), lg=9, className="mb-3"),
            ]),
            _scores_card(),
            _compare_card(),
            dbc.Row([
                dbc.Col(_retrain_card(settings.base_config), lg=5, className="mb-3"),
                dbc.Col(_models_card(), lg=4, className="mb-3"),
                dbc.Col(_data_card(settings), lg=3, className="mb-3"),
            ]),
            html.Footer(
                "Data: Bureau of Meteorology daily observations via the weatherAUS data set "
                "(CC BY). Monthly mean of (min + max) / 2 in °C.", className="footer"),
        ], fluid=True, className="page"),
    ])


def _header() -> html.Header:
    return html.Header(dbc.Container([
        html.Div([
            html.H1("Australian monthly temperature forecasts", className="title"),
            html.P("A GRU encoder-decoder network, scored against climatology and seasonal-naive "
                   "baselines on held-out months.", className="subtitle"),
        ]),
        html.Div(id=ids.DATA_BADGE, className="data-badge"),
    ], fluid=True, className="header-inner"), className="header")


def _card(title: str, body: list, extra: object = None, **kwargs: object) -> dbc.Card:
    heading = html.Div([html.H2(title, className="card-title"), extra],
                       className="card-heading")
    return dbc.Card(dbc.CardBody([heading, *body]), **kwargs)


def _stations_card() -> dbc.Card:
    return _card("Stations", [
        dcc.Dropdown(id=ids.STATIONS, multi=True, placeholder="Search stations or states",
                     closeOnSelect=False, maxHeight=320, search_order="original"),
        html.Div([
            dbc.Button("Select all", id=ids.SELECT_ALL, size="sm", color="secondary",
                       outline=True),
            dbc.Button("Clear", id=ids.CLEAR, size="sm", color="secondary", outline=True),
        ], className="button-row"),
        html.Small(STATE_ORDER_NOTE, className="text-muted d-block mb-2"),
        dcc.Graph(id=ids.MAP, config={**GRAPH_CONFIG, "displayModeBar": False,
                                      "scrollZoom": False}, className="station-map"),
        html.Small("Click a station on the map to add or remove it.", className="text-muted"),
    ], className="h-100")


def _chart_card() -> dbc.Card:
    controls = html.Div([
        dbc.Checklist(id=ids.FORECASTS, inline=True, switch=True, value=[SERVED, NETWORK],
                      options=[{"label": "Served forecast", "value": SERVED},
                               {"label": "Network's own", "value": NETWORK}]),
        dbc.Checklist(id=ids.BASELINES, inline=True, switch=True, value=[], options=[
            {"label": "Climatology", "value": CLIMATOLOGY},
            {"label": "Seasonal naive", "value": SEASONAL_NAIVE}]),
        dbc.RadioItems(id=ids.CHART_MODE, inline=True, value="auto", options=[
            {"label": "Auto", "value": "auto"}, {"label": "One chart", "value": "overlay"},
            {"label": "Panel per station", "value": "panels"}]),
        dbc.Button("Download CSV", id=ids.DOWNLOAD_BUTTON, size="sm", color="primary",
                   outline=True),
    ], className="chart-controls")
    legend = html.Div([
        html.Span([html.I(className="key key-solid"), "observed"]),
        html.Span([html.I(className="key key-dash"), "served forecast on held-out months"]),
        html.Span([html.I(className="key key-dot"), "served forecast ahead, 80% interval"]),
        html.Span([html.I(className="key key-network"), "network's own forecast"]),
        html.Span([html.I(className="key key-thin"), "baselines (when switched on)"]),
    ], className="chart-key")
    return _card("Forecast", [
        html.Div(id=ids.SHOWN_MODEL, className="shown-model small mb-2"),
        controls,
        dcc.Loading(dcc.Graph(id=ids.CHART, figure=message_figure("Loading..."),
                              config=GRAPH_CONFIG), delay_show=400),
        legend,
        html.Div(id=ids.CHART_NOTE, className="small text-muted"),
    ], className="h-100")


def _scores_card() -> dbc.Card:
    table = dash_table.DataTable(
        id=ids.STATION_TABLE, sort_action="native", sort_mode="single", page_action="none",
        style_as_list_view=True, style_table={"overflowX": "auto", "maxHeight": "320px",
                                              "overflowY": "auto"},
        style_header={"fontWeight": "600", "backgroundColor": "#f8f9fa", "whiteSpace": "normal",
                      "height": "auto"},
        style_cell={"fontFamily": FONT_STACK, "fontSize": "0.875rem", "padding": "6px 10px",
                    "textAlign": "right"},
        style_cell_conditional=[{"if": {"column_id": c}, "textAlign": "left"}
                                for c in ("station", "state", "baseline")],
        style_data_conditional=[
            {"if": {"filter_query": "{skill} > 0", "column_id": "skill"}, "color": "#1b7f3b"},
            {"if": {"filter_query": "{skill} < 0", "column_id": "skill"}, "color": "#b02a37"},
        ],
        columns=[
            {"name": "Station", "id": "station"}, {"name": "State", "id": "state"},
            *({"name": label, "id": column, "type": "numeric",
               "format": {"specifier": ".2f"}} for label, column in (
                ("Served MAE", "model_mae"), ("Network MAE", "network_mae"),
                ("Climatology MAE", "climatology_mae"),
                ("Seasonal naive MAE", "seasonal_naive_mae"), ("Served RMSE", "model_rmse"))),
            {"name": "Skill vs better baseline (%)", "id": "skill", "type": "numeric",
             "format": {"specifier": "+.1f"}},
            {"name": "Better baseline", "id": "baseline"},
            {"name": "Months", "id": "months", "type": "numeric"},
        ],
    )
    return _card("Scores on held-out months", [
        html.Div(id=ids.SCORE_CARDS, className="score-cards"),
        html.Div(id=ids.SCORE_NOTE, className="small text-muted mb-3"),
        dbc.Row([
            dbc.Col([html.H3("Selected stations (errors in °C; click a header to sort)",
                             className="section-title"), table], lg=8),
            dbc.Col([html.H3("Error by months ahead (all stations)", className="section-title"),
                     dcc.Graph(id=ids.STEP_CHART, config={"displayModeBar": False})], lg=4),
        ]),
    ], className="mb-3")


def _compare_card() -> dbc.Card:
    number = {"type": "numeric", "format": {"specifier": ".2f"}}
    table = dash_table.DataTable(
        id=ids.COMPARE_TABLE, page_action="none", style_as_list_view=True,
        style_table={"overflowX": "auto"},
        style_header={"fontWeight": "600", "backgroundColor": "#f8f9fa", "whiteSpace": "normal",
                      "height": "auto"},
        style_cell={"fontFamily": FONT_STACK, "fontSize": "0.875rem", "padding": "6px 10px",
                    "textAlign": "right"},
        columns=[
            {"name": "Model", "id": "model"}, {"name": "Recipe", "id": "recipe"},
            {"name": "Cell", "id": "cell"}, {"name": "Direction", "id": "direction"},
            {"name": "Window", "id": "window"}, {"name": "Horizon", "id": "horizon"},
            {"name": "Units", "id": "units"}, {"name": "Epochs (max)", "id": "epochs"},
            {"name": "Network MAE", "id": "network_mae", **number},
            {"name": "Served MAE", "id": "model_mae", **number},
            {"name": "Served RMSE", "id": "model_rmse", **number},
            {"name": "Skill vs better baseline (%)", "id": "skill", "type": "numeric",
             "format": {"specifier": "+.1f"}},
            {"name": "Better baseline", "id": "baseline"},
            {"name": "80% coverage (%)", "id": "coverage", "type": "numeric"},
            {"name": "Training (s)", "id": "train_seconds", "type": "numeric"},
        ],
    )
    return _card("Compare models", [
        dcc.Dropdown(id=ids.COMPARE, multi=True, placeholder="Pick 2 to 4 models to compare",
                     className="mb-2"),
        dcc.Graph(id=ids.COMPARE_CHART, figure=message_figure("", height=300),
                  config=GRAPH_CONFIG),
        table,
        html.Div(id=ids.COMPARE_NOTE, className="small text-muted mt-2"),
    ], className="mb-3")


def _number(label: str, field_id: str, value: int, low: int, high: int, unit: str) -> dbc.Col:
    return dbc.Col([
        dbc.Label(label, html_for=field_id, className="form-label"),
        dbc.InputGroup([
            dbc.Input(id=field_id, type="number", value=value, min=low, max=high, step=1,
                      debounce=True),
            dbc.InputGroupText(unit),
        ], size="sm"),
        html.Div(id=f"{field_id}-feedback", className="field-error"),
    ], xs=6, className="mb-2")


def _retrain_card(base: TrainConfig) -> dbc.Card:
    form = dbc.Row([
        dbc.Col([
            dbc.Label("Recipe", className="form-label"),
            dbc.RadioItems(id=ids.RECIPE, value="default",
                           options=[{"label": label, "value": value}
                                    for value, label in RECIPES.items()]),
            html.Div(id=f"{ids.RECIPE}-feedback", className="field-error"),
        ], xs=12, className="mb-2"),
        _number("Window", ids.WINDOW, base.window, 3, 60, "months"),
        _number("Horizon", ids.HORIZON, base.horizon, 1, 36, "months"),
        _number("Epochs", ids.EPOCHS, base.epochs, 1, 1000, "max"),
        _number("Units", ids.UNITS, base.units, 1, 512, "per layer"),
        dbc.Col([
            dbc.Label("Cell", className="form-label"),
            dbc.RadioItems(id=ids.CELL, inline=True, value=base.cell,
                           options=[{"label": "GRU", "value": "gru"},
                                    {"label": "LSTM", "value": "lstm"}]),
            html.Div(id=f"{ids.CELL}-feedback", className="field-error"),
        ], xs=6),
        dbc.Col([
            dbc.Label("Direction", className="form-label"),
            dbc.Switch(id=ids.BIDIRECTIONAL, label="Bidirectional", value=base.bidirectional),
            html.Div(id=f"{ids.BIDIRECTIONAL}-feedback", className="field-error"),
        ], xs=6),
    ])
    note = (f"Other settings follow the recipe. Default: ensemble of {base.ensemble}, early "
            f"stopping after {base.patience} epochs without improvement, batch {base.batch_size}; "
            "the article's: batch 1, every epoch run, no calibration (slow: about 20 s an epoch).")
    return _card("Retrain", [
        html.P("Settings for a new training; the model shown is named above the chart.",
               className="small text-muted mb-2"),
        form,
        html.Div(id=ids.FORM_HINT, className="small mb-2"),
        html.Div([
            dbc.Button("Train", id=ids.TRAIN, color="primary"),
            dbc.Button("Cancel", id=ids.CANCEL, color="secondary", outline=True, disabled=True),
        ], className="button-row"),
        html.Div([
            dbc.Progress(id=ids.PROGRESS, value=0, label="", striped=True, animated=True,
                         className="mb-2"),
            dcc.Graph(id=ids.LOSS_CHART, config={"displayModeBar": False}),
        ], id=ids.PROGRESS_BOX, style={"display": "none"}),
        html.Div(id=ids.TRAIN_MESSAGE),
        html.Small(note, className="text-muted"),
    ], className="h-100")


def _models_card() -> dbc.Card:
    return _card("Models", [
        html.Div(id=ids.MODEL_MESSAGE),
        html.Div(id=ids.MODEL_LIST, className="model-list"),
    ], className="h-100")


def _data_card(settings: Settings) -> dbc.Card:
    return _card("Your data", [
        html.P(["Upload daily observations in the weatherAUS layout: columns ",
                html.Code("Date"), ", ", html.Code("Location"), ", ", html.Code("MinTemp"), ", ",
                html.Code("MaxTemp"), ", ", html.Code("Rainfall"), "."], className="small"),
        dcc.Upload(id=ids.UPLOAD, multiple=False, className="upload-zone", children=html.Div([
            "Drop a CSV here or ", html.A("choose a file"),
            html.Div(f".csv or .csv.gz, up to {settings.max_upload_mb:g} MB",
                     className="small text-muted"),
        ])),
        dcc.Store(id=ids.UPLOAD_READY),
        html.Div(id=ids.UPLOAD_MESSAGE, className="mt-2"),
        dbc.Button("Back to the built-in data", id=ids.RESET_DATA, size="sm", color="link",
                   className="px-0"),
    ], className="h-100")
