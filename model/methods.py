"""The forecast methods a record scores: one registry, read by the record, the page and the CSV.

A method is defined once, here: its key (in the record's scores and columns), its words, how its
line is drawn and its CSV column. Adding a baseline is its computation in `evaluate.py`
(`BASELINE_FORECASTS`) and one entry below (the cache key hashes the registered keys, so every
stored record, which lacks the new method, is trained again); the record, the command line,
and the page's chart switches and key, score cards, grids, comparison and CSV export list
whatever is registered.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class Method:
    """One forecast scored on the held-out months.

    Args:
        key: its name in the record (metrics, per_location, per_step_mae, columns).
        label: its name on the page ("Served forecast"); short: in running text and trace
            names beside a station ("served").
        colour: its line's colour where methods, not stations, have colours (errors by step).
        dash: its plotly line dash on every chart; width: its line width in pixels.
        csv: its column in the CSV export.
        baseline: skill is measured against the best of the baselines.
        shown: drawn on the chart until switched off.
    """

    key: str
    label: str
    short: str
    colour: str
    dash: str
    width: float
    csv: str
    baseline: bool = False
    shown: bool = False


SERVED, NETWORK, CURVE = "served", "network", "seasonal_curve"
CLIMATOLOGY, SEASONAL_NAIVE, PERSISTENCE = "climatology", "seasonal_naive", "persistence"

# In the order the page lists them. The served forecast is the calibrated blend the product
# recommends (every record has it); the network's own is the trained network before damping;
# the seasonal curve (configs with harmonic anomalies only) is the level the network's
# anomalies are measured from.
METHODS: tuple[Method, ...] = (
    Method(
        key=SERVED,
        label="Served forecast",
        short="served",
        colour="#1f77b4",
        dash="dash",
        width=2,
        csv="served",
        shown=True,
    ),
    Method(
        key=NETWORK,
        label="Network's own",
        short="network",
        colour="#e4572e",
        dash="longdashdot",
        width=1.4,
        csv="network",
        shown=True,
    ),
    Method(
        key=CURVE,
        label="Seasonal curve",
        short="seasonal curve",
        colour="#2ca02c",
        dash="longdash",
        width=1.2,
        csv="seasonal_curve",
    ),
    Method(
        key=CLIMATOLOGY,
        label="Climatology",
        short="climatology",
        colour="#495057",
        dash="dot",
        width=1.2,
        csv="climatology",
        baseline=True,
    ),
    Method(
        key=SEASONAL_NAIVE,
        label="Seasonal naive",
        short="seasonal naive",
        colour="#adb5bd",
        dash="dashdot",
        width=1.2,
        csv="seasonal_naive",
        baseline=True,
    ),
    Method(
        key=PERSISTENCE,
        label="Anomaly persistence",
        short="anomaly persistence",
        colour="#9467bd",
        dash="8px,3px,2px,3px,2px,3px",
        width=1.2,
        csv="persistence",
        baseline=True,
    ),
)
METHOD_KEYS = tuple(method.key for method in METHODS)
BASELINES = tuple(method.key for method in METHODS if method.baseline)
FORECASTS = tuple(method.key for method in METHODS if not method.baseline)


def method(key: str) -> Method:
    """The registered method of a key (KeyError names an unknown one)."""
    for candidate in METHODS:
        if candidate.key == key:
            return candidate
    raise KeyError(f"no forecast method {key!r}; registered: {', '.join(METHOD_KEYS)}")


class _Scored(Protocol):
    @property
    def mae(self) -> float | None: ...


def skill(mae: float | None, baseline_mae: float | None) -> float | None:
    """Percent by which a forecast's MAE beats a baseline's (negative: worse), to 0.1; a
    difference under 0.05% is 0.0, never -0.0."""
    if mae is None or not baseline_mae:
        return None
    return round(100 * (1 - mae / baseline_mae), 1) + 0.0  # -0.0 + 0.0 is 0.0


def best_baseline(scores: Mapping[str, _Scored]) -> str | None:
    """The baseline with the lowest MAE in a method -> scores mapping (None if none scored)."""
    scored = [key for key in BASELINES if key in scores and scores[key].mae is not None]
    return min(scored, key=lambda key: scores[key].mae or 0.0) if scored else None


def skill_vs_best(scores: Mapping[str, _Scored]) -> tuple[float | None, str | None]:
    """The served forecast's skill against the best baseline, and that baseline's key."""
    baseline = best_baseline(scores)
    if baseline is None:
        return None, None
    served = scores[SERVED].mae if SERVED in scores else None
    return skill(served, scores[baseline].mae), baseline
