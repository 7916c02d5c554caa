"""The station map: every placed station, the selected ones in their chart colour."""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

from ..theme import FONT, MAP, OTHER_STATION, TEMPLATE, station_colours
from .common import as_text, message_figure

MAP_HEIGHT = 320  # assets/dashboard.css halves it on phones: change both together
MIN_MAP_SPAN = 20.0  # degrees of longitude the map shows at least
MAP_MARKER = {False: 11, True: 14}  # pixel sizes of other and selected stations, at any zoom


def station_map(stations: pd.DataFrame, selected: list[str], revision: str) -> dict[str, Any]:
    """Stations that have a position, on a map fitted to them; selected ones in their chart colour.

    Scroll or the + / - buttons zoom and dragging pans; markers keep their size in pixels, so
    stations a few kilometres apart come apart when zoomed in. The zoom stays while the
    selection changes and resets when `revision` (the data set) does.
    """
    colours = station_colours(selected)
    placed = stations.dropna(subset=["lat", "lon"])
    if placed.empty:
        return message_figure("No positions to show", height=MAP_HEIGHT)
    chosen = placed["location"].isin(selected)
    traces = []
    for is_chosen, frame in ((False, placed[~chosen]), (True, placed[chosen])):
        traces.append(
            {
                "type": "scattergeo",
                "mode": "markers",
                "showlegend": False,
                "lat": frame["lat"].to_numpy(),
                "lon": frame["lon"].to_numpy(),
                "customdata": frame["location"].tolist(),
                "text": (frame["name"] + " (" + frame["state"] + ")").map(as_text).tolist(),
                "marker": {
                    "size": MAP_MARKER[is_chosen],
                    "color": [colours[s] for s in frame["location"]]
                    if is_chosen
                    else OTHER_STATION,
                    "line": {"width": 1.5 if is_chosen else 1, "color": "white"},
                },
                "hovertemplate": "%{text}<br>"
                + ("click to remove" if is_chosen else "click to add")
                + "<extra></extra>",
            }
        )
    lat_range, lon_range = square_box(placed["lat"], placed["lon"])
    centre = (sum(lat_range) / 2, sum(lon_range) / 2)
    geo = {
        # The stations' box with its centre and scale given, not plotly's fitbounds: a redraw
        # keeps a user's zoom only where it changed a value the figure sets (uirevision).
        "projection": {"type": "mercator", "scale": 1, "rotation": {"lon": centre[1]}},
        "center": {"lat": centre[0], "lon": centre[1]},
        "lonaxis": {"range": lon_range},
        "lataxis": {"range": lat_range},
        "resolution": 110,
        "showland": True,
        "landcolor": MAP["land"],
        "showocean": True,
        "oceancolor": MAP["ocean"],
        "showcountries": True,
        "countrycolor": MAP["countries"],
        "coastlinecolor": MAP["coast"],
        "showframe": False,
        "showlakes": False,
    }
    return {
        "data": traces,
        "layout": {
            "template": TEMPLATE,
            "geo": geo,
            "height": MAP_HEIGHT,
            "font": FONT,
            "margin": {"l": 0, "r": 0, "t": 0, "b": 0},
            "clickmode": "event",
            "dragmode": "pan",
            "uirevision": revision,
        },
    }


def square_box(lat: pd.Series, lon: pd.Series, pad: float = 2.0) -> tuple[list, list]:
    """([south, north], [west, east]) around some positions, as tall as wide on a Mercator map.

    The map is about square, so the shorter side is widened: no blank band above and below.
    At least MIN_MAP_SPAN degrees wide, so one station still shows its region.
    """
    north, south = min(float(lat.max()) + pad, 80.0), max(float(lat.min()) - pad, -80.0)
    middle = (float(lon.max()) + float(lon.min())) / 2
    half = max(float(lon.max()) - float(lon.min()) + 2 * pad, MIN_MAP_SPAN) / 2
    east, west = middle + half, middle - half
    low, high = _mercator(south), _mercator(north)
    width = math.radians(east - west)
    if high - low < width:  # add height, evenly in Mercator units
        middle = (low + high) / 2
        south, north = _latitude(middle - width / 2), _latitude(middle + width / 2)
    else:
        middle = (east + west) / 2
        east, west = middle + math.degrees(high - low) / 2, middle - math.degrees(high - low) / 2
    return [south, north], [west, east]


def _mercator(latitude: float) -> float:
    return math.log(math.tan(math.pi / 4 + math.radians(latitude) / 2))


def _latitude(mercator: float) -> float:
    return math.degrees(2 * math.atan(math.exp(mercator)) - math.pi / 2)
