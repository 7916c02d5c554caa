"""The forecast chart's method switches and its key of line styles, from the method registry."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from dash import html

from model import METHODS, SERVED, Method, method

from .theme import AHEAD_DASH, NEUTRAL, OBSERVED_WIDTH, dash_pattern

KEY_WIDTH, KEY_HEIGHT = 26, 8  # pixels of one line sample in the key


def method_options(baseline: bool) -> list[dict[str, str]]:
    """The switches of the forecasts (baseline False) or of the baselines (True)."""
    return [
        {"label": entry.label, "value": entry.key}
        for entry in METHODS
        if entry.baseline == baseline
    ]


def shown_methods(baseline: bool) -> list[str]:
    """The keys switched on when the page opens, of the forecasts or of the baselines."""
    return [entry.key for entry in METHODS if entry.baseline == baseline and entry.shown]


def line_sample(dash: str, width: float, band: bool = False) -> html.Img:
    """A short line drawn as the chart draws it (an SVG image), optionally within a band."""
    middle = KEY_HEIGHT / 2
    shade = f'<rect width="{KEY_WIDTH}" height="{KEY_HEIGHT}" fill="{NEUTRAL}" opacity="0.15"/>'
    svg = (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{KEY_WIDTH}" height="{KEY_HEIGHT}">'
        f"{shade if band else ''}"
        f'<line x1="0" y1="{middle}" x2="{KEY_WIDTH}" y2="{middle}" stroke="{NEUTRAL}" '
        f'stroke-width="{width}" stroke-dasharray="{dash_pattern(dash, width)}"/></svg>'
    )
    return html.Img(
        src="data:image/svg+xml," + quote(svg),
        width=KEY_WIDTH,
        height=KEY_HEIGHT,
        alt="",
        className="key",
    )


def _item(sample: html.Img, words: str) -> html.Span:
    return html.Span([sample, words])


def _method_item(entry: Method) -> html.Span:
    where = " on held-out months" if entry.key == SERVED else ""
    return _item(line_sample(entry.dash, entry.width), f"{entry.label.lower()}{where}")


def chart_key() -> html.Div:
    """What each line style of the chart means: observed, every method, the forecast ahead."""
    served = method(SERVED)
    items: list[Any] = [_item(line_sample("solid", OBSERVED_WIDTH), "observed")]
    items += [_method_item(entry) for entry in METHODS if entry.key == SERVED]
    items.append(
        _item(
            line_sample(AHEAD_DASH, served.width, band=True),
            f"{served.label.lower()} ahead, 80% interval",
        )
    )
    items += [_method_item(entry) for entry in METHODS if entry.key != SERVED]
    return html.Div(items, className="chart-key")
