"""Plotly figures as pure functions of data frames: no store, no request, no Dash.

Every figure is a plain plotly figure dict: building `go.Figure` objects validates every
property on every call, which cost tens of milliseconds a figure. The tests validate them.
"""

from __future__ import annotations

import html
import math
from typing import Any

import numpy as np
import pandas as pd

from model import CLIMATOLOGY, CURVE, NETWORK, SEASONAL_NAIVE, SERVED

from .tables import METHOD_LABELS

# The trace types of the plotly.js build the page loads (assets/plotly-geo.min.js, the partial
# bundle with scatter, scattergeo and choropleth: 1.4 MB instead of the full 4.8 MB).
BUNDLED_TRACES = {"scatter", "scattergeo", "choropleth"}

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
BASELINE_DASH = {CLIMATOLOGY: "dot", SEASONAL_NAIVE: "dashdot"}
# How each forecast is drawn on the held-out months, and beyond the data (the served one with
# its band): the served forecast thick, the network's own thinner, so both can be told apart.
FORECAST_LINES = {
    SERVED: ({"width": 2, "dash": "dash"}, {"width": 2, "dash": "dot"}),
    NETWORK: ({"width": 1.4, "dash": "longdashdot"}, {"width": 1.4, "dash": "longdashdot"}),
}
TRACE_SUFFIX = {SERVED: "served", NETWORK: "network"}  # "<station> served", ... in the figure
SMALL_MULTIPLES_FROM = 7  # "auto" draws one panel per station from this many stations on
FONT_STACK = "Inter, system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif"  # as assets' CSS
FONT = dict(family=FONT_STACK, size=13)
# The parts of plotly_white the page uses: a small template is much cheaper to apply per request.
_AXIS = dict(
    gridcolor="#ebf0f8", linecolor="#ebf0f8", zerolinecolor="#ebf0f8", ticks="", automargin=True
)
TEMPLATE = {
    "layout": dict(
        paper_bgcolor="white",
        plot_bgcolor="white",
        xaxis=_AXIS,
        yaxis=_AXIS,
        hoverlabel=dict(align="left"),
        colorway=list(PALETTE),
        geo=dict(
            bgcolor="white",
            landcolor="#e5ecf6",
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


def as_text(name: str) -> str:
    """Escape a name put into figure text: plotly renders tags such as <a> in names and hovers."""
    return html.escape(name, quote=False)


def _rgba(colour: str, alpha: float) -> str:
    red, green, blue = (int(colour[i : i + 2], 16) for i in (1, 3, 5))
    return f"rgba({red},{green},{blue},{alpha})"


def message_figure(text: str, height: int = 420) -> dict[str, Any]:
    """An empty chart that says why it is empty."""
    return {
        "data": [],
        "layout": {
            "template": TEMPLATE,
            "height": height,
            "font": FONT,
            "xaxis": {"visible": False},
            "yaxis": {"visible": False},
            "margin": {"l": 20, "r": 20, "t": 20, "b": 20},
            "annotations": [
                {
                    "text": text,
                    "showarrow": False,
                    "xref": "paper",
                    "yref": "paper",
                    "x": 0.5,
                    "y": 0.5,
                    "font": {"size": 15, "color": "#6c757d"},
                }
            ],
        },
    }


def use_small_multiples(mode: str, count: int) -> bool:
    """Whether a chart mode ('auto', 'overlay', 'panels') draws one panel per station."""
    return mode == "panels" or (mode == "auto" and count >= SMALL_MULTIPLES_FROM)


def forecast_figure(
    actuals: pd.DataFrame,
    predictions: pd.DataFrame,
    forecast: pd.DataFrame,
    stations: list[str],
    names: dict[str, str],
    cutoff: str | None,
    unit_label: str,
    baselines: tuple[str, ...] = (),
    panels: bool = False,
    forecasts: tuple[str, ...] = (SERVED,),
) -> dict[str, Any]:
    """Observed (solid), held-out predictions (dashed), forecast with its band, cutoff line.

    Args:
        actuals: location, month, actual.
        predictions: location, month, actual, model, network, climatology, seasonal_naive
            (holdout).
        forecast: location, month, model, network, lower, upper (beyond the data).
        names: display name of each station.
        cutoff: last training month as YYYY-MM, or None when no model is shown.
        forecasts: which of the served forecast and the network's own to draw.
    """
    colours = station_colours(stations)
    labels = {station: as_text(names[station]) for station in stations}
    grid = _grid(len(stations) if panels else 1)
    observed, held_out, ahead = (_columns(frame) for frame in (actuals, predictions, forecast))
    traces = []
    for index, station in enumerate(stations):
        axes = grid[index] if panels else grid[0]
        for trace in _station_traces(
            _rows(observed, station),
            _rows(held_out, station),
            _rows(ahead, station),
            station,
            labels[station],
            colours[station],
            baselines,
            forecasts,
            show_legend=not panels,
        ):
            traces.append({**trace, "xaxis": axes["x"], "yaxis": axes["y"]})
    layout = _layout(
        grid,
        [labels[s] for s in stations] if panels else None,
        actuals,
        forecast,
        cutoff,
        unit_label,
    )
    return {"data": traces, "layout": layout}


def _columns(frame: pd.DataFrame) -> dict[str, np.ndarray]:
    """A frame as numpy columns plotly serialises fast: months as days, numbers as floats."""
    return {
        name: frame[name].to_numpy(dtype="datetime64[D]")
        if name == "month"
        else frame[name].to_numpy()
        if name == "location"
        else frame[name].to_numpy(dtype=float, na_value=np.nan)
        for name in frame.columns
    }


def _rows(columns: dict[str, np.ndarray], station: str) -> dict[str, np.ndarray] | None:
    """One station's rows of numpy columns; None when it has none."""
    chosen = columns["location"] == station
    return {name: values[chosen] for name, values in columns.items()} if chosen.any() else None


def _grid(count: int) -> list[dict[str, Any]]:
    """Axes and paper domains of `count` panels, three per row, as make_subplots lays them."""
    columns, rows = min(3, count), math.ceil(count / 3)
    gap_x, gap_y = 0.05, min(0.08, 0.3 / rows)
    width, height = (1 - gap_x * (columns - 1)) / columns, (1 - gap_y * (rows - 1)) / rows
    cells = []
    for index in range(count):
        row, column = divmod(index, 3)
        suffix = "" if index == 0 else str(index + 1)
        left, top = column * (width + gap_x), 1 - row * (height + gap_y)
        cells.append(
            {
                "x": f"x{suffix}",
                "y": f"y{suffix}",
                "suffix": suffix,
                "x_domain": [left, left + width],
                "y_domain": [top - height, top],
                "bottom": index + 3 >= count,
            }
        )
    return cells


def _station_traces(
    observed: dict | None,
    held_out: dict | None,
    ahead: dict | None,
    station: str,
    name: str,
    colour: str,
    baselines: tuple[str, ...],
    forecasts: tuple[str, ...],
    show_legend: bool,
) -> list[dict[str, Any]]:
    common = {"type": "scatter", "legendgroup": station, "mode": "lines"}
    traces = []
    if observed is not None:
        months, values = _with_gaps(observed)
        traces.append(
            {
                **common,
                "x": months,
                "y": values,
                "name": name,
                "showlegend": show_legend,
                "line": {"color": colour, "width": 2},
                "hovertemplate": f"<b>{name}</b> actual %{{y:.1f}} °C<extra></extra>",
            }
        )
    if held_out is not None:
        months, actual = held_out["month"], held_out["actual"]
        for method in forecasts:
            if method not in held_out:
                continue
            label = METHOD_LABELS[method].lower()
            values = held_out[method]
            traces.append(
                {
                    **common,
                    "x": months,
                    "y": values,
                    "name": f"{name} {TRACE_SUFFIX[method]}",
                    "showlegend": False,
                    "line": {"color": colour, **FORECAST_LINES[method][0]},
                    "customdata": np.column_stack([actual, values - actual]),
                    "hovertemplate": (
                        f"<b>{name}</b> {label} %{{y:.1f}} °C, actual "
                        "%{customdata[0]:.1f} °C, error %{customdata[1]:+.1f} °C"
                        "<extra></extra>"
                    ),
                }
            )
        for method in baselines:
            if method in held_out:
                label = METHOD_LABELS[method].lower()
                traces.append(
                    {
                        **common,
                        "x": months,
                        "y": held_out[method],
                        "opacity": 0.75,
                        "name": f"{name} {label}",
                        "showlegend": False,
                        "line": {"color": colour, "width": 1.2, "dash": BASELINE_DASH[method]},
                        "hovertemplate": f"<b>{name}</b> {label} %{{y:.1f}} °C<extra></extra>",
                    }
                )
    if ahead is not None:
        months = ahead["month"]
        if SERVED in forecasts:
            model, lower, upper = (ahead[c] for c in (SERVED, "lower", "upper"))
            band = {
                **common,
                "x": months,
                "showlegend": False,
                "hoverinfo": "skip",
                "line": {"width": 0},
            }
            traces += [
                {**band, "y": upper, "name": f"{name} upper"},
                {
                    **band,
                    "y": lower,
                    "name": f"{name} lower",
                    "fill": "tonexty",
                    "fillcolor": _rgba(colour, 0.16),
                },
                {
                    **common,
                    "x": months,
                    "y": model,
                    "name": f"{name} forecast",
                    "showlegend": False,
                    "line": {"color": colour, **FORECAST_LINES[SERVED][1]},
                    "customdata": np.column_stack([lower, upper]),
                    "hovertemplate": (
                        f"<b>{name}</b> forecast %{{y:.1f}} °C (80%: "
                        "%{customdata[0]:.1f} to %{customdata[1]:.1f})"
                        "<extra></extra>"
                    ),
                },
            ]
        if NETWORK in forecasts and NETWORK in ahead:
            traces.append(
                {
                    **common,
                    "x": months,
                    "y": ahead[NETWORK],
                    "name": f"{name} network forecast",
                    "showlegend": False,
                    "line": {"color": colour, **FORECAST_LINES[NETWORK][1]},
                    "hovertemplate": f"<b>{name}</b> network's own forecast %{{y:.1f}} °C"
                    "<extra></extra>",
                }
            )
    return traces


def _with_gaps(observed: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Months and values with missing months as NaN, so the line breaks at a gap."""
    months = observed["month"].astype("datetime64[M]")
    every = np.arange(months.min(), months.max() + 1)
    values = np.full(len(every), np.nan)
    values[(months - every[0]).astype(int)] = observed["actual"]
    return every.astype("datetime64[D]"), values


def _layout(
    grid: list[dict[str, Any]],
    titles: list[str] | None,
    actuals: pd.DataFrame,
    forecast: pd.DataFrame,
    cutoff: str | None,
    unit_label: str,
) -> dict[str, Any]:
    panels = titles is not None
    x_range = _x_range(actuals, forecast, cutoff)
    line = (pd.Timestamp(cutoff) + pd.DateOffset(days=15)).strftime("%Y-%m-%d") if cutoff else None
    layout: dict[str, Any] = {
        "template": TEMPLATE,
        "font": FONT,
        "hoverlabel": {"namelength": -1},
        "height": max(460, 200 * math.ceil(len(grid) / 3) + 90) if panels else 480,
        "hovermode": "x" if panels else "x unified",
        "legend": {
            "orientation": "h",
            "yanchor": "top",
            "y": -0.08,
            "x": 0,
            "title": {"text": None},
        },
        "margin": {"l": 60, "r": 20, "t": 40 if panels else 30, "b": 40},
        "shapes": [],
        "annotations": [],
    }
    for cell in grid:
        layout[f"xaxis{cell['suffix']}"] = {
            "anchor": cell["y"],
            "domain": cell["x_domain"],
            "range": x_range,
            **({} if cell["x"] == "x" else {"matches": "x"}),
            "showticklabels": cell["bottom"],
            "showgrid": True,
            "gridcolor": "#eef0f2",
            "ticks": "outside",
            "ticklen": 4,
        }
        layout[f"yaxis{cell['suffix']}"] = {
            "anchor": cell["x"],
            "domain": cell["y_domain"],
            "showgrid": True,
            "gridcolor": "#eef0f2",
            "zeroline": False,
            **({"ticksuffix": "°"} if panels else {"title": {"text": unit_label}}),
        }
        if line:
            layout["shapes"].append(
                {
                    "type": "line",
                    "xref": cell["x"],
                    "yref": f"{cell['y']} domain",
                    "x0": line,
                    "x1": line,
                    "y0": 0,
                    "y1": 1,
                    "line": {"color": "#6c757d", "width": 1, "dash": "dash"},
                }
            )
    if panels:
        layout["annotations"] = [
            {
                "text": title,
                "showarrow": False,
                "xref": "paper",
                "yref": "paper",
                "x": sum(cell["x_domain"]) / 2,
                "y": cell["y_domain"][1],
                "xanchor": "center",
                "yanchor": "bottom",
                "font": {"size": 12},
            }
            for title, cell in zip(titles or [], grid, strict=True)
        ]
    elif line:  # in panels the label would collide with the station titles
        layout["annotations"].append(
            {
                "x": line,
                "y": 1,
                "xref": "x",
                "yref": "paper",
                "yanchor": "bottom",
                "xanchor": "left",
                "xshift": 4,
                "showarrow": False,
                "text": f"cutoff {cutoff}",
                "font": {"size": 11, "color": "#6c757d"},
            }
        )
    return layout


def _x_range(actuals: pd.DataFrame, forecast: pd.DataFrame, cutoff: str | None) -> list | None:
    """The last three years before the cutoff (or the data's end) through the forecast."""
    ends = [frame["month"].max() for frame in (actuals, forecast) if not frame.empty]
    if not ends:
        return None
    end = max(ends) + pd.DateOffset(months=1)
    start = (pd.Timestamp(cutoff) if cutoff else end) - pd.DateOffset(months=36)
    return [start.strftime("%Y-%m-%d"), end.strftime("%Y-%m-%d")]


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
                    "color": [colours[s] for s in frame["location"]] if is_chosen else "#adb5bd",
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
        "landcolor": "#f1f3f5",
        "showocean": True,
        "oceancolor": "#e7f1fb",
        "showcountries": True,
        "countrycolor": "#dee2e6",
        "coastlinecolor": "#adb5bd",
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


def _small_chart(
    traces: list[dict[str, Any]], height: int, x_title: str, y_title: str, **layout: Any
) -> dict[str, Any]:
    """A small line chart with its legend on top (loss curve, errors by step)."""
    return {
        "data": traces,
        "layout": {
            "template": TEMPLATE,
            "font": FONT,
            "height": height,
            "xaxis": {"title": {"text": x_title}},
            "yaxis": {"title": {"text": y_title}},
            "margin": {"l": 55, "r": 10, "t": 10, "b": 40},
            "legend": {"orientation": "h", "y": 1.02, "yanchor": "bottom", "x": 0},
            **layout,
        },
    }


def loss_figure(history: dict[str, list[float]]) -> dict[str, Any]:
    """Training and validation loss per epoch."""
    traces = []
    for name, label, colour in (
        ("loss", "training loss", "#1f77b4"),
        ("val_loss", "validation loss", "#e4572e"),
    ):
        values = history.get(name) or []
        if values:
            traces.append(
                {
                    "type": "scatter",
                    "x": list(range(1, len(values) + 1)),
                    "y": values,
                    "name": label,
                    "mode": "lines+markers",
                    "line": {"color": colour},
                    "marker": {"size": 4},
                }
            )
    return _small_chart(traces, 220, "epoch", "MSE (scaled)")


def step_figure(errors: pd.DataFrame) -> dict[str, Any]:
    """MAE by months ahead for the served forecast, the network's own, the curve, the baselines."""
    styles = {
        SERVED: {"color": "#1f77b4", "width": 2.5},
        NETWORK: {"color": "#e4572e", "width": 1.5, "dash": "longdashdot"},
        CURVE: {"color": "#2ca02c", "width": 1.5},
        CLIMATOLOGY: {"color": "#495057", "dash": "dot"},
        SEASONAL_NAIVE: {"color": "#adb5bd", "dash": "dashdot"},
    }
    traces = []
    for method, style in styles.items():
        rows = errors[errors["method"] == method]
        if not rows.empty:
            traces.append(
                {
                    "type": "scatter",
                    "x": rows["step"].tolist(),
                    "y": rows["mae"].tolist(),
                    "name": METHOD_LABELS[method],
                    "mode": "lines+markers",
                    "line": style,
                    "marker": {"size": 5},
                    "hovertemplate": f"{METHOD_LABELS[method]}: %{{y:.2f}} °C<extra></extra>",
                }
            )
    return _small_chart(traces, 260, "months ahead", "MAE (°C)", hovermode="x unified")


MODEL_PALETTE = ("#1f77b4", "#e4572e", "#2ca02c", "#9467bd")  # one per compared model
COMPARE_PANELS = 9  # stations drawn on the comparison chart at most


def compare_figure(
    actuals: pd.DataFrame,
    models: list[tuple[str, pd.DataFrame]],
    stations: list[str],
    names: dict[str, str],
    unit_label: str,
    forecasts: tuple[str, ...] = (NETWORK,),
) -> dict[str, Any]:
    """Several models' held-out predictions against the actuals, one panel per station.

    Args:
        actuals: location, month, actual.
        models: (label, held-out predictions with location, month, model, network) per model.
        forecasts: which of the served forecast and the network's own to draw for each model.
    """
    grid = _grid(len(stations))
    labels = {station: as_text(names[station]) for station in stations}
    held_out = [(label, _columns(frame)) for label, frame in models]
    months = [frame["month"] for _, frame in models if not frame.empty]
    first = min(m.min() for m in months) if months else None
    observed = _columns(
        actuals[actuals["month"] >= first - pd.DateOffset(months=12)]
        if first is not None
        else actuals
    )
    traces = []
    for index, station in enumerate(stations):
        axes = {"xaxis": grid[index]["x"], "yaxis": grid[index]["y"]}
        rows = _rows(observed, station)
        if rows is not None:
            x, y = _with_gaps(rows)
            traces.append(
                {
                    "type": "scatter",
                    "mode": "lines",
                    "x": x,
                    "y": y,
                    **axes,
                    "name": "observed",
                    "legendgroup": "observed",
                    "showlegend": index == 0,
                    "line": {"color": "#343a40", "width": 2},
                    "hovertemplate": f"<b>{labels[station]}</b> actual %{{y:.1f}} °C"
                    "<extra></extra>",
                }
            )
        for number, (label, columns) in enumerate(held_out):
            model_rows = _rows(columns, station)
            if model_rows is None:
                continue
            for method in forecasts:
                if method not in model_rows:
                    continue
                kind = METHOD_LABELS[method].lower()
                traces.append(
                    {
                        "type": "scatter",
                        "mode": "lines",
                        "x": model_rows["month"],
                        "y": model_rows[method],
                        **axes,
                        "name": f"{label}: {kind}",
                        "legendgroup": f"{label}: {kind}",
                        "showlegend": index == 0,
                        "line": {
                            "color": MODEL_PALETTE[number % len(MODEL_PALETTE)],
                            **FORECAST_LINES[method][0],
                        },
                        "hovertemplate": f"<b>{labels[station]}</b> {label} ({kind}) %{{y:.1f}} °C"
                        "<extra></extra>",
                    }
                )
    titles = [labels[s] for s in stations] if len(stations) > 1 else None
    layout = _layout(grid, titles, actuals.iloc[0:0], actuals.iloc[0:0], None, unit_label)
    layout["legend"] = {"orientation": "h", "yanchor": "bottom", "y": 1.02, "x": 0}
    layout["margin"]["t"] = 70
    layout["hovermode"] = "x unified" if titles is None else "x"
    if titles is not None:  # the legend sits above the station titles
        layout["legend"]["y"] = 1 + 60 / layout["height"]
    return {"data": traces, "layout": layout}
