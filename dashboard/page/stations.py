"""The Stations card: the searchable list, Select all and Clear, and the clickable map."""

from __future__ import annotations

from typing import Any, NamedTuple

import dash_bootstrap_components as dbc
import pandas as pd
from dash import Dash, Input, Output, dcc, html

from ..data.sources import InputError, load_dataset, stations_of
from ..data.validate import parse_stations
from ..present.figures import MAP_HEIGHT, message_figure, station_map
from ..settings import Settings
from . import ids
from .common import GRAPH_CONFIG, card, outputs
from .state import unpack

# Zoom by scroll or buttons, pan by dragging; the buttons are the map's only tools.
MAP_CONFIG: dcc.Graph.Config = {
    **GRAPH_CONFIG,
    "scrollZoom": True,
    "displayModeBar": True,
    "modeBarButtons": [["zoomInGeo", "zoomOutGeo", "resetGeo"]],
}
STATE_ORDER_NOTE = "Type a station or state; pick a state entry to add all its stations."


def layout() -> dbc.Card:
    """The card; the list's options and value and the map come from the view."""
    return card(
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


class Map(NamedTuple):
    figure: Any  # the server's map, which the browser draws at the user's zoom
    unplaced: str | None  # the stations it cannot place


MAP_OUTPUTS = outputs(
    Map, figure=Output(ids.MAP_FIGURE, "data"), unplaced=Output(ids.MAP_UNPLACED, "children")
)


def register(app: Dash, settings: Settings) -> None:
    """The map follows the view; the list, buttons and clicks are events of the view."""

    @app.callback(*MAP_OUTPUTS, Input(ids.VIEW, "data"))
    def _map(shown: Any) -> Map:
        return update_map(settings, shown)

    app.clientside_callback(KEEP_MAP_VIEW, Output(ids.MAP, "figure"), Input(ids.MAP_FIGURE, "data"))


def update_map(settings: Settings, view: Any) -> Map:
    """The station map with the selection highlighted, and the stations it cannot place."""
    try:
        dataset, stations, _, _ = unpack(view)
        table = stations_of(load_dataset(settings, dataset).monthly)
        chosen = parse_stations(stations, table)
    except InputError as error:
        return Map(message_figure(str(error), height=MAP_HEIGHT), None)
    return Map(station_map(table, chosen, str(dataset)), unplaced_note(table))


def unplaced_note(table: pd.DataFrame) -> str | None:
    """In words: the stations without a position, which the map cannot show."""
    names = table.loc[table["lat"].isna() | table["lon"].isna(), "name"].tolist()
    if not names:
        return None
    return (
        f"Not on the map (no position): {', '.join(names)}. Add Latitude and Longitude "
        "columns to your file to place them."
    )


# Draw the server's map at the zoom and centre the user left it at, unless the data set changed
# (its uirevision). Plotly's own uirevision lost the zoom when a click redrew the map.
KEEP_MAP_VIEW = """
function (figure) {
    const plot = document.querySelector("#MAP .js-plotly-plot");
    const shown = plot && plot._fullLayout && plot._fullLayout.geo;
    // the label drawn before a click would still say "click to add": the next hover redraws it
    if (plot && window.Plotly) { window.Plotly.Fx.unhover(plot); }
    if (!figure || !figure.layout.geo || !shown || !plot.layout
            || plot.layout.uirevision !== figure.layout.uirevision) {
        return figure;
    }
    const projection = Object.assign({}, figure.layout.geo.projection, {
        scale: shown.projection.scale,
        rotation: Object.assign({}, shown.projection.rotation),
    });
    const geo = Object.assign({}, figure.layout.geo, {
        projection: projection,
        center: {lat: shown.center.lat, lon: shown.center.lon},
    });
    return Object.assign({}, figure, {layout: Object.assign({}, figure.layout, {geo: geo})});
}
""".replace("#MAP", "#" + ids.MAP)
