"""Plotly figures as pure functions of data frames: no store, no request, no Dash."""

from __future__ import annotations

import math

import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from .tables import METHOD_LABELS

PALETTE = ("#1f77b4", "#e4572e", "#2ca02c", "#9467bd", "#f2a541", "#17becf", "#d62728",
           "#8c564b", "#e377c2", "#4c5c68", "#bcbd22", "#2e4057", "#ff7f0e", "#66a182",
           "#7f3c8d")
BASELINE_DASH = {"climatology": "dot", "seasonal_naive": "dashdot"}
SMALL_MULTIPLES_FROM = 7  # "auto" draws one panel per station from this many stations on
FONT = dict(family="Inter, system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif", size=13)
# The parts of plotly_white the page uses: a small template is much cheaper to apply per request.
_AXIS = dict(gridcolor="#ebf0f8", linecolor="#ebf0f8", zerolinecolor="#ebf0f8", ticks="",
             automargin=True)
TEMPLATE = go.layout.Template(layout=dict(
    paper_bgcolor="white", plot_bgcolor="white", xaxis=_AXIS, yaxis=_AXIS,
    hoverlabel=dict(align="left"), colorway=PALETTE,
    geo=dict(bgcolor="white", landcolor="#e5ecf6", subunitcolor="white", showland=True,
             showlakes=True, lakecolor="white"),
))


def station_colours(stations: list[str]) -> dict[str, str]:
    """One colour per station, in selection order, shared by every element of the page."""
    return {station: PALETTE[index % len(PALETTE)] for index, station in enumerate(stations)}


def _rgba(colour: str, alpha: float) -> str:
    red, green, blue = (int(colour[i:i + 2], 16) for i in (1, 3, 5))
    return f"rgba({red},{green},{blue},{alpha})"


def message_figure(text: str, height: int = 420) -> go.Figure:
    """An empty chart that says why it is empty."""
    figure = go.Figure()
    figure.add_annotation(text=text, showarrow=False, font=dict(size=15, color="#6c757d"),
                          xref="paper", yref="paper", x=0.5, y=0.5)
    figure.update_layout(template=TEMPLATE, height=height, font=FONT,
                         xaxis=dict(visible=False), yaxis=dict(visible=False),
                         margin=dict(l=20, r=20, t=20, b=20))
    return figure


def use_small_multiples(mode: str, count: int) -> bool:
    """Whether a chart mode ('auto', 'overlay', 'panels') draws one panel per station."""
    return mode == "panels" or (mode == "auto" and count >= SMALL_MULTIPLES_FROM)


def forecast_figure(actuals: pd.DataFrame, predictions: pd.DataFrame, forecast: pd.DataFrame,
                    stations: list[str], names: dict[str, str], cutoff: str | None,
                    unit_label: str, baselines: tuple[str, ...] = (),
                    panels: bool = False) -> go.Figure:
    """Observed (solid), held-out predictions (dashed), forecast with its band, cutoff line.

    Args:
        actuals: location, month, actual.
        predictions: location, month, actual, model, climatology, seasonal_naive (holdout).
        forecast: location, month, model, lower, upper (beyond the data).
        names: display name of each station.
        cutoff: last training month as YYYY-MM, or None when no model is shown.
    """
    colours = station_colours(stations)
    rows = math.ceil(len(stations) / 3) if panels else 1
    columns = min(3, len(stations)) if panels else 1
    figure = make_subplots(rows=rows, cols=columns, shared_xaxes=True,
                           subplot_titles=[names[s] for s in stations] if panels else None,
                           vertical_spacing=min(0.08, 0.3 / rows), horizontal_spacing=0.05)
    for index, station in enumerate(stations):
        cell = dict(row=index // 3 + 1, col=index % 3 + 1) if panels else dict(row=1, col=1)
        traces = _station_traces(actuals, predictions, forecast, station, names[station],
                                 colours[station], baselines, show_legend=not panels)
        for trace in traces:
            figure.add_trace(trace, **cell)
    _finish_layout(figure, actuals, forecast, cutoff, unit_label, rows, panels)
    return figure


def _station_traces(actuals: pd.DataFrame, predictions: pd.DataFrame, forecast: pd.DataFrame,
                    station: str, name: str, colour: str, baselines: tuple[str, ...],
                    show_legend: bool) -> list[go.Scatter]:
    observed = _with_gaps(actuals[actuals["location"] == station])
    held_out = predictions[predictions["location"] == station]
    ahead = forecast[forecast["location"] == station]
    common = dict(legendgroup=station, mode="lines")
    traces = [go.Scatter(
        x=observed["month"], y=observed["actual"], name=name, showlegend=show_legend,
        line=dict(color=colour, width=2), **common,
        hovertemplate=f"<b>{name}</b> actual %{{y:.1f}} °C<extra></extra>",
    )]
    if not held_out.empty:
        error = held_out["model"] - held_out["actual"]
        traces.append(go.Scatter(
            x=held_out["month"], y=held_out["model"], name=f"{name} network", showlegend=False,
            line=dict(color=colour, width=2, dash="dash"), **common,
            customdata=list(zip(held_out["actual"], error, strict=True)),
            hovertemplate=(f"<b>{name}</b> predicted %{{y:.1f}} °C, actual %{{customdata[0]:.1f}}"
                           " °C, error %{customdata[1]:+.1f} °C<extra></extra>"),
        ))
    for method in baselines:
        if method in held_out:
            traces.append(go.Scatter(
                x=held_out["month"], y=held_out[method], showlegend=False,
                name=f"{name} {METHOD_LABELS[method].lower()}", opacity=0.75,
                line=dict(color=colour, width=1.2, dash=BASELINE_DASH[method]), **common,
                hovertemplate=(f"<b>{name}</b> {METHOD_LABELS[method].lower()} "
                               "%{y:.1f} °C<extra></extra>"),
            ))
    if not ahead.empty:
        traces += [
            go.Scatter(x=ahead["month"], y=ahead["upper"], line=dict(width=0), showlegend=False,
                       hoverinfo="skip", name=f"{name} upper", **common),
            go.Scatter(x=ahead["month"], y=ahead["lower"], line=dict(width=0), fill="tonexty",
                       fillcolor=_rgba(colour, 0.16), showlegend=False, hoverinfo="skip",
                       name=f"{name} lower", **common),
            go.Scatter(
                x=ahead["month"], y=ahead["model"], name=f"{name} forecast", showlegend=False,
                line=dict(color=colour, width=2, dash="dot"), **common,
                customdata=list(zip(ahead["lower"], ahead["upper"], strict=True)),
                hovertemplate=(f"<b>{name}</b> forecast %{{y:.1f}} °C (80%: "
                               "%{customdata[0]:.1f} to %{customdata[1]:.1f})<extra></extra>"),
            ),
        ]
    return traces


def _with_gaps(observed: pd.DataFrame) -> pd.DataFrame:
    """Insert missing months as NaN so the line breaks at a gap instead of bridging it."""
    if observed.empty:
        return observed
    months = pd.date_range(observed["month"].min(), observed["month"].max(), freq="MS")
    return observed.set_index("month").reindex(months).rename_axis("month").reset_index()


def _finish_layout(figure: go.Figure, actuals: pd.DataFrame, forecast: pd.DataFrame,
                   cutoff: str | None, unit_label: str, rows: int, panels: bool) -> None:
    ends = [frame["month"].max() for frame in (actuals, forecast) if not frame.empty]
    if ends:
        end = max(ends) + pd.DateOffset(months=1)
        start = (pd.Timestamp(cutoff) if cutoff else end) - pd.DateOffset(months=36)
        figure.update_xaxes(range=[start, end])
    if cutoff:
        line = pd.Timestamp(cutoff) + pd.DateOffset(days=15)
        figure.add_vline(x=line, line=dict(color="#6c757d", width=1, dash="dash"),
                         row="all", col="all")
        if not panels:  # in panels the label would collide with the station titles
            figure.add_annotation(x=line, y=1, yref="paper", yanchor="bottom", showarrow=False,
                                  text=f"cutoff {cutoff}", font=dict(size=11, color="#6c757d"),
                                  xanchor="left", xshift=4)
    figure.update_xaxes(showgrid=True, gridcolor="#eef0f2", ticks="outside", ticklen=4)
    figure.update_yaxes(showgrid=True, gridcolor="#eef0f2", zeroline=False)
    if panels:
        figure.update_annotations(font=dict(size=12))
        figure.update_yaxes(title_text=None, ticksuffix="°")
    else:
        figure.update_yaxes(title_text=unit_label)
    figure.update_layout(
        template=TEMPLATE, font=FONT, height=max(460, 200 * rows + 90) if panels else 480,
        hovermode="x unified" if not panels else "x", hoverlabel=dict(namelength=-1),
        legend=dict(orientation="h", yanchor="top", y=-0.08, x=0, title_text=None),
        margin=dict(l=60, r=20, t=40 if panels else 30, b=40),
    )


def station_map(stations: pd.DataFrame, selected: list[str]) -> go.Figure:
    """Stations on an outline map of Australia; selected ones in their chart colour."""
    colours = station_colours(selected)
    placed = stations.dropna(subset=["lat", "lon"])
    chosen = placed["location"].isin(selected)
    figure = go.Figure()
    for is_chosen, frame in ((False, placed[~chosen]), (True, placed[chosen])):
        figure.add_trace(go.Scattergeo(
            lat=frame["lat"], lon=frame["lon"], customdata=frame["location"],
            text=frame["name"] + " (" + frame["state"] + ")",
            mode="markers",
            marker=dict(
                size=12 if is_chosen else 8,
                color=[colours[s] for s in frame["location"]] if is_chosen else "#adb5bd",
                line=dict(width=1.5 if is_chosen else 0.5, color="white"),
            ),
            hovertemplate="%{text}<br>" + ("click to remove" if is_chosen else "click to add")
                          + "<extra></extra>",
            showlegend=False,
        ))
    figure.update_geos(
        projection_type="mercator", resolution=110, fitbounds="locations", showland=True,
        landcolor="#f1f3f5", showocean=True, oceancolor="#e7f1fb", showcountries=False,
        coastlinecolor="#adb5bd", showframe=False, showlakes=False,
    )
    figure.update_layout(height=250, margin=dict(l=0, r=0, t=0, b=0), font=FONT,
                         clickmode="event", dragmode=False)
    return figure


def loss_figure(history: dict[str, list[float]]) -> go.Figure:
    """Training and validation loss per epoch."""
    figure = go.Figure()
    for name, label, colour in (("loss", "training loss", "#1f77b4"),
                                ("val_loss", "validation loss", "#e4572e")):
        values = history.get(name) or []
        if values:
            figure.add_trace(go.Scatter(x=list(range(1, len(values) + 1)), y=values, name=label,
                                        mode="lines+markers", line=dict(color=colour),
                                        marker=dict(size=4)))
    figure.update_layout(template=TEMPLATE, font=FONT, height=220, xaxis_title="epoch",
                         yaxis_title="MSE (scaled)", margin=dict(l=55, r=10, t=10, b=40),
                         legend=dict(orientation="h", y=1.02, yanchor="bottom", x=0))
    return figure


def step_figure(errors: pd.DataFrame) -> go.Figure:
    """MAE by months ahead for the network and both baselines."""
    figure = go.Figure()
    styles = {"model": dict(color="#1f77b4", width=2.5), "climatology": dict(color="#495057",
              dash="dot"), "seasonal_naive": dict(color="#adb5bd", dash="dashdot")}
    for method, style in styles.items():
        rows = errors[errors["method"] == method]
        if not rows.empty:
            figure.add_trace(go.Scatter(
                x=rows["step"], y=rows["mae"], name=METHOD_LABELS[method], mode="lines+markers",
                line=style, marker=dict(size=5),
                hovertemplate=f"{METHOD_LABELS[method]}: %{{y:.2f}} °C<extra></extra>"))
    figure.update_layout(template=TEMPLATE, font=FONT, height=260, hovermode="x unified",
                         xaxis_title="months ahead", yaxis_title="MAE (°C)",
                         margin=dict(l=55, r=10, t=10, b=40),
                         legend=dict(orientation="h", y=1.02, yanchor="bottom", x=0))
    return figure
