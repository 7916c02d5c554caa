"""The page: a header, the station picker beside the chart, scores, retrain, models, your data."""

from __future__ import annotations

from typing import Any

import dash_bootstrap_components as dbc
from dash import dcc, html
from dash.development.base_component import Component

from model import TrainConfig

from ..present.chart_controls import chart_key, method_options, shown_methods
from ..present.figures import message_figure
from ..present.grids import compare_grid, station_grid
from ..settings import Settings
from . import form, ids

GRAPH_CONFIG: dcc.Graph.Config = {
    "displaylogo": False,
    "topojsonURL": "/assets/topojson/",
    "modeBarButtonsToRemove": ["lasso2d", "select2d"],
}
# Zoom by scroll or buttons, pan by dragging; the buttons are the map's only tools.
MAP_CONFIG: dcc.Graph.Config = {
    **GRAPH_CONFIG,
    "scrollZoom": True,
    "displayModeBar": True,
    "modeBarButtons": [["zoomInGeo", "zoomOutGeo", "resetGeo"]],
}
STATE_ORDER_NOTE = "Type a station or state; pick a state entry to add all its stations."


def build_layout(settings: Settings) -> html.Div:
    """The whole page; every dynamic part is filled by a callback."""
    return html.Div(
        [
            dcc.Location(id=ids.URL, refresh=False),
            dcc.Store(
                id=ids.VIEW, storage_type="session"
            ),  # the session's data set survives reload
            dcc.Store(id=ids.TRAINED),
            dcc.Store(id=ids.UPLOADED),
            dcc.Store(id=ids.STORE_VERSION, data=0),
            dcc.Download(id=ids.DOWNLOAD),
            _header(),
            dbc.Container(
                [
                    html.Div(id=ids.NOTICE),
                    dbc.Row(
                        [
                            dbc.Col(_stations_card(), lg=3, className="mb-3"),
                            dbc.Col(_chart_card(), lg=9, className="mb-3"),
                        ]
                    ),
                    _scores_card(),
                    _compare_card(),
                    dbc.Row(
                        [
                            dbc.Col(_retrain_card(settings.base_config), lg=5, className="mb-3"),
                            dbc.Col(_models_card(), lg=4, className="mb-3"),
                            dbc.Col(_data_card(settings), lg=3, className="mb-3"),
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
                            "A GRU encoder-decoder network, scored against climatology and "
                            "seasonal-naive baselines on held-out months.",
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


def _card(title: str, body: list, extra: Component | None = None, **kwargs: object) -> dbc.Card:
    heading = html.Div([html.H2(title, className="card-title"), extra], className="card-heading")
    return dbc.Card(dbc.CardBody([heading, *body]), **kwargs)


def _stations_card() -> dbc.Card:
    return _card(
        "Stations",
        [
            dcc.Dropdown(
                id=ids.STATIONS,
                multi=True,
                placeholder="Search stations or states",
                closeOnSelect=False,
                maxHeight=320,
                search_order="original",
            ),
            html.Div(
                [
                    dbc.Button(
                        "Select all", id=ids.SELECT_ALL, size="sm", color="secondary", outline=True
                    ),
                    dbc.Button("Clear", id=ids.CLEAR, size="sm", color="secondary", outline=True),
                ],
                className="button-row",
            ),
            # The two hints are for a mouse and a wide screen: phones (under sm) go without.
            html.Small(STATE_ORDER_NOTE, className="text-muted d-none d-sm-block mb-2"),
            dcc.Graph(id=ids.MAP, config=MAP_CONFIG, className="station-map"),
            dcc.Store(id=ids.MAP_FIGURE),
            html.Small(
                "Click a station on the map to add or remove it; scroll or + / - to zoom, "
                "drag to pan.",
                className="text-muted d-none d-sm-block",
            ),
            html.Small(id=ids.MAP_UNPLACED, className="text-muted d-block mt-1"),
        ],
        className="h-100",
    )


def _chart_card() -> dbc.Card:
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
    return _card(
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
        ],
        className="h-100",
    )


def _scores_card() -> dbc.Card:
    return _card(
        "Scores on held-out months",
        [
            html.Div(id=ids.SCORE_CARDS, className="score-cards"),
            html.Div(id=ids.SCORE_NOTE, className="small text-muted mb-3"),
            dbc.Row(
                [
                    dbc.Col(
                        [
                            html.H3(
                                "Selected stations (errors in °C; click a header to sort)",
                                className="section-title",
                            ),
                            station_grid(),
                        ],
                        lg=8,
                    ),
                    dbc.Col(
                        [
                            html.H3(
                                "Error by months ahead (all stations)", className="section-title"
                            ),
                            dcc.Graph(id=ids.STEP_CHART, config={"displayModeBar": False}),
                        ],
                        lg=4,
                    ),
                ]
            ),
        ],
        className="mb-3",
    )


def _compare_card() -> dbc.Card:
    return _card(
        "Compare models",
        [
            dcc.Dropdown(
                id=ids.COMPARE,
                multi=True,
                placeholder="Pick 2 to 4 models to compare",
                className="mb-2",
            ),
            dcc.Graph(
                id=ids.COMPARE_CHART,
                figure=message_figure("", height=300),
                config=GRAPH_CONFIG,
                className="modebar-above",
            ),
            compare_grid(),
            html.Div(id=ids.COMPARE_NOTE, className="small text-muted mt-2"),
        ],
        className="mb-3",
    )


def _form_field(field: form.Field, base: TrainConfig) -> dbc.Col:
    """One retrain field, built from its spec: label, control, range hint, error line."""
    value = getattr(base, field.name)
    if field.is_number:
        # No min/max on the input: the browser would send an out-of-range value as empty and
        # the server could only say "required"; the range is shown and checked server-side.
        control: Any = dbc.InputGroup(
            [
                dbc.Input(
                    id=field.name, type="number", value=value, debounce=True, inputMode="numeric"
                ),
                dbc.InputGroupText(field.unit),
            ],
            size="sm",
        )
        hint = html.Small(field.hint, className="text-muted")
    elif field.name == "bidirectional":
        control, hint = dbc.Switch(id=field.name, label="Bidirectional", value=value), None
    else:
        control = dbc.RadioItems(
            id=field.name,
            name=field.name,
            inline=True,
            value=value,
            options=[{"label": label, "value": cell} for cell, label in form.CELL_LABELS.items()],
        )
        hint = None
    return dbc.Col(
        [
            dbc.Label(field.label, html_for=field.name, className="form-label"),
            control,
            hint,
            html.Div(id=form.feedback_id(field.name), className="field-error"),
        ],
        xs=6,
        className="mb-2",
    )


def _retrain_card(base: TrainConfig) -> dbc.Card:
    form_row = dbc.Row(
        [
            dbc.Col(
                [
                    dbc.Label("Recipe", className="form-label"),
                    dbc.RadioItems(
                        id=form.RECIPE,
                        name=form.RECIPE,
                        value="default",
                        options=[
                            {"label": label, "value": value}
                            for value, label in form.RECIPES.items()
                        ],
                    ),
                    html.Div(id=form.feedback_id(form.RECIPE), className="field-error"),
                ],
                xs=12,
                className="mb-2",
            ),
            *(_form_field(field, base) for field in form.FIELDS),
        ]
    )
    note = (
        f"Other settings follow the recipe. Default: ensemble of {base.ensemble}, early "
        f"stopping after {base.patience} epochs without improvement, batch {base.batch_size}; "
        "the article's: batch 1, every epoch run, no calibration (slow: about 20 s an epoch)."
    )
    return _card(
        "Retrain",
        [
            html.P(
                "Settings for a new training; the model shown is named above the chart.",
                className="small text-muted mb-2",
            ),
            form_row,
            html.Div(id=ids.FORM_HINT, className="small mb-2"),
            html.Div(
                [
                    dbc.Button("Train", id=ids.TRAIN, color="primary"),
                    dbc.Button(
                        "Cancel", id=ids.CANCEL, color="secondary", outline=True, disabled=True
                    ),
                ],
                className="button-row",
            ),
            html.Div(
                [
                    dbc.Progress(
                        id=ids.PROGRESS,
                        value=0,
                        label="",
                        striped=True,
                        animated=True,
                        className="mb-2",
                    ),
                    dcc.Graph(id=ids.LOSS_CHART, config={"displayModeBar": False}),
                ],
                id=ids.PROGRESS_BOX,
                style={"display": "none"},
                # the bar's name (assets/names.js); Dash's stubs do not type data-* props
                **{"data-name": "Training progress"},  # type: ignore[arg-type]
            ),
            html.Div(id=ids.TRAIN_MESSAGE),
            dcc.Interval(id=ids.JOB_WATCH, interval=1000),
            html.Small(note, className="text-muted"),
        ],
        className="h-100",
    )


def _models_card() -> dbc.Card:
    dialog = dbc.Modal(
        [
            dbc.ModalHeader(dbc.ModalTitle("Delete this model?")),
            dbc.ModalBody(id=ids.DELETE_QUESTION),
            dbc.ModalFooter(
                [
                    dbc.Button("Keep it", id=ids.DELETE_NO, color="secondary", outline=True),
                    dbc.Button("Delete", id=ids.DELETE_YES, color="danger"),
                ]
            ),
        ],
        id=ids.DELETE_DIALOG,
        is_open=False,
    )
    return _card(
        "Models",
        [
            html.Div(id=ids.MODEL_MESSAGE),
            html.Div(id=ids.MODEL_LIST, className="model-list"),
            dialog,
            dcc.Store(id=ids.DELETE_PENDING),
            dcc.Store(id=ids.TRAINED_HERE, storage_type="session", data=[]),
        ],
        className="h-100",
    )


def _data_card(settings: Settings) -> dbc.Card:
    return _card(
        "Your data",
        [
            html.P(
                [
                    "Upload daily observations in the weatherAUS layout: columns ",
                    html.Code("Date"),
                    ", ",
                    html.Code("Location"),
                    ", ",
                    html.Code("MinTemp"),
                    ", ",
                    html.Code("MaxTemp"),
                    ", ",
                    html.Code("Rainfall"),
                    ".",
                ],
                className="small",
            ),
            # The label names the file input for screen readers and opens the file chooser
            # on a click (so the drop zone itself does not, or it would open twice).
            html.Label(
                dcc.Upload(
                    id=ids.UPLOAD,
                    multiple=False,
                    disable_click=True,
                    className="upload-zone",
                    children=html.Div(
                        [
                            "Drop a CSV here or ",
                            html.A("choose a file"),
                            html.Div(
                                f".csv or .csv.gz, up to {settings.max_upload_mb:g} MB",
                                className="small text-muted",
                            ),
                        ]
                    ),
                ),
                className="d-block mb-0",
            ),
            dcc.Store(id=ids.UPLOAD_READY),
            html.Div(id=ids.UPLOAD_MESSAGE, className="mt-2"),
            dbc.Button(
                "Back to the built-in data",
                id=ids.RESET_DATA,
                size="sm",
                color="link",
                className="px-0",
            ),
            _sharing(),
        ],
        className="h-100",
    )


def _sharing() -> html.Div:
    """Share controls: only the uploader of the data set in view sees them."""
    return html.Div(
        [
            html.Div(
                [
                    dbc.Button("Share this data set", id=ids.SHARE, size="sm", outline=True),
                    dbc.Button(
                        "Stop sharing", id=ids.STOP_SHARING, size="sm", color="link", disabled=True
                    ),
                ],
                className="button-row",
            ),
            dbc.InputGroup(
                [
                    dbc.Input(
                        id=ids.SHARE_LINK, readonly=True, size="sm", placeholder="Not shared"
                    ),
                    dcc.Clipboard(
                        target_id=ids.SHARE_LINK, title="Copy the link", className="btn btn-sm"
                    ),
                ],
                size="sm",
                className="mt-1",
            ),
            html.Div(id=ids.SHARE_NOTE, className="small text-muted mt-1"),
        ],
        id=ids.SHARING,
        hidden=True,
        className="mt-2",
    )
