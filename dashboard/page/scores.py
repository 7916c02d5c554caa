"""The Scores card: overall scores, the note on them, the per-station grid, the error by step."""

from __future__ import annotations

from typing import Any, NamedTuple

import dash_bootstrap_components as dbc
import pandas as pd
from dash import Dash, Input, Output, dcc, html

from model import CURVE, METHOD_KEYS, NETWORK, SERVED, Record, Scores, skill_vs_best

from ..data.sources import InputError
from ..present.figures import message_figure, step_figure
from ..present.grids import station_grid
from ..present.messages import alert, counted
from ..present.tables import (
    METHOD_LABELS,
    station_scores,
    step_errors,
    unscored,
)
from ..settings import Settings
from . import ids
from .common import STATIC_CONFIG, card, outputs
from .state import open_view


def layout() -> dbc.Card:
    """The card; every part is filled from the view."""
    return card(
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
                            dcc.Graph(id=ids.STEP_CHART, config=STATIC_CONFIG),
                        ],
                        lg=4,
                    ),
                ]
            ),
        ],
        className="mb-3",
    )


class ScoreParts(NamedTuple):
    cards: Any  # the overall score cards
    note: Any
    rows: list[dict[str, Any]]  # the per-station grid's rows
    steps: Any  # the error-by-step figure


SCORE_OUTPUTS = outputs(
    ScoreParts,
    cards=Output(ids.SCORE_CARDS, "children"),
    note=Output(ids.SCORE_NOTE, "children"),
    rows=Output(ids.STATION_TABLE, "rowData"),
    steps=Output(ids.STEP_CHART, "figure"),
)


def register(app: Dash, settings: Settings) -> None:
    """Every part follows the view."""

    @app.callback(*SCORE_OUTPUTS, Input(ids.VIEW, "data"))
    def _scores(shown: Any) -> ScoreParts:
        return update_scores(settings, shown)


def update_scores(settings: Settings, view: Any) -> ScoreParts:
    """Overall score cards, their note, the per-station rows and the by-step chart."""
    try:
        monthly, table, chosen, shown = open_view(settings, view)
    except InputError as error:
        return ScoreParts(alert(str(error)), None, [], message_figure(str(error), height=260))
    if shown is None:
        text = "Scores appear once a model is trained on this data."
        return ScoreParts(
            html.P(text, className="text-muted"), None, [], message_figure(text, height=260)
        )
    record = shown.record
    metrics = record.metrics
    cards = [
        _score(
            METHOD_LABELS[method], metrics[method], "primary" if method == SERVED else "secondary"
        )
        for method in METHOD_KEYS
        if method in metrics
    ]
    cards.append(_skill(metrics))
    coverage = record.interval_coverage
    scored = len(record.per_location)
    note = (
        f"{'All ' if scored > 1 else ''}{counted(scored, 'station')}, "
        f"{record.config.horizon} months after {record.cutoff}, "
        f"{metrics[SERVED].cells} station-months. The served forecast is what the product "
        "recommends; the network's own forecast is the trained network before calibration. "
        "MAE: mean absolute error; RMSE: root mean square error."
    )
    if coverage is not None:
        note += (
            f" The {record.interval_level:.0%} interval held {coverage:.0%} of the held-out values."
        )
    note += damping_note(record.shrinkage, record.calibration_origins, record.config.anchor)
    note += step_note(record.per_step_mae)
    note += unscored_note(
        monthly, record, chosen, dict(zip(table["location"], table["name"], strict=True))
    )
    rows = station_scores(record, table, chosen).to_dict("records")
    return ScoreParts(
        dbc.Row(cards, className="g-2 mb-2"), note, rows, step_figure(step_errors(record))
    )


def unscored_note(
    monthly: pd.DataFrame, record: Record, chosen: list[str], names: dict[str, str]
) -> str:
    """In words: which selected stations the model could not score, and why."""
    reasons = unscored(monthly, record)
    listed = [f"{names[s]} ({reasons[s]})" for s in chosen if s in reasons]
    return f" Not scored: {'; '.join(listed)}." if listed else ""


def step_note(per_step: dict[str, list]) -> str:
    """In words: at how many steps the network's own forecast beat the seasonal curve here."""
    network, curve = per_step.get(NETWORK), per_step.get(CURVE)
    if not network or not curve:
        return ""
    pairs = [(n, c) for n, c in zip(network, curve, strict=True) if n is not None and c is not None]
    wins = [step for step, (n, c) in enumerate(pairs, start=1) if n < c]
    if not wins:
        return (
            " On these held-out months the network's own forecast did not beat the seasonal "
            "curve at any step."
        )
    return (
        f" On these held-out months the network's own forecast beat the seasonal curve at "
        f"{len(wins)} of {len(pairs)} steps ahead (first: month {wins[0]})."
    )


ANCHOR_WORDS = {
    "level": "each station's smooth seasonal curve",
    "persistence": "anomaly persistence (each station's seasonal curve plus its last anomaly, "
    "fading month by month)",
}


def damping_note(factors: list[float] | None, origins: int | None, anchor: str) -> str:
    """In words: for how many months ahead the network's own correction is used, and how much."""
    if not factors:
        return ""
    used = sum(factor > 0 for factor in factors)  # the factors never rise with the step
    curve = ANCHOR_WORDS[anchor]
    sample = (
        f" The weights were fitted on forecasts from {origins} origins the network was "
        "not fitted on."
        if origins
        else ""
    )
    if not used:
        return (
            f" The network's correction did not validate at any step, so the served "
            f"forecast is {curve}.{sample}"
        )
    span = "1 month" if used == 1 else f"months 1-{used}"
    weights = (
        f"weight {factors[0]:.2f}"
        if used == 1 or factors[0] == factors[used - 1]
        else f"weight {factors[0]:.2f} falling to {factors[used - 1]:.2f}"
    )
    beyond = f"; further ahead the served forecast is {curve}" if used < len(factors) else ""
    return f" The network's correction is used for {span} ahead ({weights}){beyond}.{sample}"


def _score(label: str, scores: Scores, color: str) -> dbc.Col:
    mae, rmse = scores.mae, scores.rmse
    return dbc.Col(
        html.Div(
            [
                html.Div(label, className="score-label"),
                html.Div(
                    "n/a" if mae is None else f"{mae:.2f} °C", className=f"score-value {color}"
                ),
                html.Div(
                    "MAE" + ("" if rmse is None else f" · RMSE {rmse:.2f} °C"),
                    className="score-sub",
                ),
            ],
            className="score",
        ),
        xs=6,
        md=4,
        xl=2,
    )


def _skill(metrics: dict[str, Scores]) -> dbc.Col:
    """The card of the served forecast's skill against the best baseline."""
    gain, baseline = skill_vs_best(metrics)
    name = METHOD_LABELS[baseline].lower() if baseline else "any baseline"
    if gain is None:
        value, tone, words = "n/a", "", f"not scored against {name}"
    elif gain == 0:  # within 0.05%
        value, tone, words = "0.0%", "", f"ties with {name}"
    elif gain > 0:
        value, tone, words = f"{gain:+.1f}%", "good", f"better than {name}"
    else:
        value, tone, words = f"{gain:+.1f}%", "bad", f"worse than {name}"
    return dbc.Col(
        html.Div(
            [
                html.Div("Served skill vs the best baseline", className="score-label"),
                html.Div(value, className=f"score-value {tone}"),
                html.Div(
                    words,
                    className="score-sub",
                ),
            ],
            className="score",
        ),
        xs=6,
        md=4,
        xl=2,
    )
