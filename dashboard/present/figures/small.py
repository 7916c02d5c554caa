"""The small charts: the loss per epoch and the errors by months ahead."""

from __future__ import annotations

from typing import Any

import pandas as pd

from model import METHODS

from ..theme import FONT, LOSS, TEMPLATE


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
    for name, label in (("loss", "training loss"), ("val_loss", "validation loss")):
        values = history.get(name) or []
        if values:
            traces.append(
                {
                    "type": "scatter",
                    "x": list(range(1, len(values) + 1)),
                    "y": values,
                    "name": label,
                    "mode": "lines+markers",
                    "line": {"color": LOSS[name]},
                    "marker": {"size": 4},
                }
            )
    return _small_chart(traces, 220, "epoch", "MSE (scaled)")


def step_figure(errors: pd.DataFrame) -> dict[str, Any]:
    """MAE by months ahead of every method the record scored, each in its colour and line."""
    traces = []
    for entry in METHODS:
        rows = errors[errors["method"] == entry.key]
        if not rows.empty:
            traces.append(
                {
                    "type": "scatter",
                    "x": rows["step"].tolist(),
                    "y": rows["mae"].tolist(),
                    "name": entry.label,
                    "mode": "lines+markers",
                    "line": {"color": entry.colour, "width": entry.width, "dash": entry.dash},
                    "marker": {"size": 5},
                    "hovertemplate": f"{entry.label}: %{{y:.2f}} °C<extra></extra>",
                }
            )
    return _small_chart(traces, 260, "months ahead", "MAE (°C)", hovermode="x unified")
