"""What the cards share: a card's frame, named callback results, the input that fired."""

from __future__ import annotations

from typing import Any, TypeVar

import dash_bootstrap_components as dbc
from dash import Output, ctx, dcc, html, no_update
from dash.development.base_component import Component

from model import Scores, short_repr

from ..data.sources import InputError
from ..present.tables import mae_of
from . import ids

# No chart may offer to send its data anywhere: plotly.js's default adds "Share chart...",
# which uploads the figure (an upload's data too) to Plotly Cloud.
LOCAL_ONLY: dcc.Graph.Config = {
    "showSendToCloud": False,
    "showEditInChartStudio": False,
    "showLink": False,
    "plotlyServerURL": "",
}
STATIC_CONFIG: dcc.Graph.Config = {**LOCAL_ONLY, "displayModeBar": False}  # a chart without tools
GRAPH_CONFIG: dcc.Graph.Config = {  # every chart's with tools; the map adds its zoom tools
    **LOCAL_ONLY,
    "displaylogo": False,
    "topojsonURL": "/assets/topojson/",
    "modeBarButtonsToRemove": ["lasso2d", "select2d"],
}


def card(title: str, body: list, extra: Component | None = None, **kwargs: object) -> dbc.Card:
    """A card with its title (and an optional control beside it) above its body."""
    heading = html.Div([html.H2(title, className="card-title"), extra], className="card-heading")
    return dbc.Card(dbc.CardBody([heading, *body]), **kwargs)


def outputs(result: type[tuple], **specs: Output) -> list[Output]:
    """The Dash outputs of a callback's result type, named once: one per field, in its order."""
    fields = getattr(result, "_fields", ())
    if set(specs) != set(fields):
        raise TypeError(f"{result.__name__} outputs must name {', '.join(fields)}")
    return [specs[name] for name in fields]


def duplicate(*declared: Output) -> list[Output]:
    """The same outputs, for a second callback that may also write them."""
    return [Output(o.component_id, o.component_property, allow_duplicate=True) for o in declared]


Result = TypeVar("Result", bound=tuple)


def unchanged(result: type[Result]) -> Result:
    """A result that changes nothing on the page."""
    make = getattr(result, "_make")  # noqa: B009  # a NamedTuple's, which type[tuple] hides
    return make([no_update] * len(getattr(result, "_fields")))  # noqa: B009


def fired() -> tuple[str | None, object]:
    """(id, value) of the input that fired the callback; (None, None) on the initial call.

    When several fired at once (a page load), the URL wins. A pattern-matching button gives
    its type and the key it names, or None when the browser sent no click (a list redrawn).
    """
    sent = {item["prop_id"].split(".")[0]: item.get("value") for item in ctx.triggered}
    if ids.URL in sent:
        return ids.URL, sent[ids.URL]
    triggered = ctx.triggered_id
    if isinstance(triggered, dict):
        clicked = ctx.triggered and ctx.triggered[0].get("value")
        return triggered.get("type"), triggered.get("key") if clicked else None
    if not isinstance(triggered, str):
        return None, None
    return triggered, sent.get(triggered)


def check_choices(name: str, value: Any, choices: tuple[str, ...]) -> None:
    """InputError unless value is a list of some of the choices."""
    if not isinstance(value, list) or any(item not in choices for item in value):
        raise InputError(f"{name} {short_repr(value)} must be a list of {' and '.join(choices)}")


def mae_text(metrics: dict[str, Scores], method: str) -> str:
    """A method's MAE in words: '0.87 °C', or 'n/a' when it was not scored."""
    mae = mae_of(metrics, method)
    return "n/a" if mae is None else f"{mae:.2f} °C"
