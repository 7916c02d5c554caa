"""The forecast methods' registry, and every place of the page that lists the methods."""

from __future__ import annotations

import io
import shutil

import pandas as pd
import plotly.graph_objects as go
import pytest

from dashboard.page import ids
from dashboard.page.compare import update_compare
from dashboard.page.forecast import download_csv, update_chart
from dashboard.page.frame import build_layout
from dashboard.page.scores import update_scores
from dashboard.present.grids import STATION_COLUMNS
from dashboard.settings import Settings
from model import BASELINES, FORECASTS, METHOD_KEYS, METHODS, Scores, method, skill_vs_best
from model.evaluate import BASELINE_FORECASTS


@pytest.fixture
def settings(tmp_path, built_in):
    shutil.copytree(built_in.folder, tmp_path / "cache")
    return Settings(cache_dir=tmp_path / "cache", use_shipped=False)


def _view(key, compare=()):
    return {"dataset": None, "stations": ["Cairns"], "model": key, "compare": list(compare)}


def test_each_method_is_defined_once_and_each_baseline_is_computed():
    assert len(set(METHOD_KEYS)) == len(METHODS) == len({m.csv for m in METHODS})
    assert set(BASELINE_FORECASTS) == set(BASELINES)  # a registered baseline is computed
    assert set(FORECASTS) | set(BASELINES) == set(METHOD_KEYS)
    assert method("served").label == "Served forecast"
    with pytest.raises(KeyError, match="no forecast method 'model'"):
        method("model")


def test_skill_is_against_the_best_of_every_baseline():
    scores = {key: Scores(1.0, 1.0, 10) for key in BASELINES} | {"served": Scores(0.5, 0.6, 10)}
    best = BASELINES[-1]
    scores[best] = Scores(0.8, 0.9, 10)
    assert skill_vs_best(scores) == (37.5, best)


def test_every_registered_method_is_on_the_toggles_grids_chart_scores_and_csv(
    settings, default_record, article_record
):
    """The default record scores every method: the page lists each, with no list of its own."""
    assert set(default_record.metrics) == set(METHOD_KEYS)
    layout = build_layout(settings)
    toggles = {
        option["value"]
        for component in layout._traverse()
        if getattr(component, "id", None) in (ids.FORECASTS, ids.BASELINES)
        for option in component.options
    }
    assert toggles == set(METHOD_KEYS)
    station_fields = {column["field"] for column in STATION_COLUMNS}
    view = _view(default_record.key, [default_record.key, article_record.key])
    compared = update_compare(settings, view, list(FORECASTS))
    rows, columns = compared.rows, compared.columns
    compare_fields = {column["field"] for column in columns}
    for key in METHOD_KEYS:
        assert f"{key}_mae" in station_fields and f"{key}_mae" in compare_fields
        assert rows[0][f"{key}_mae"] is not None

    figure = update_chart(settings, view, list(BASELINES), "overlay", list(FORECASTS)).figure
    names = {trace.name for trace in go.Figure(figure).data}
    assert {f"Cairns {entry.short}" for entry in METHODS} <= names

    scores = update_scores(settings, view)
    cards, station_rows, steps = scores.cards, scores.rows, scores.steps
    assert all(entry.label in repr(cards) for entry in METHODS)  # a card each
    assert all(station_rows[0][f"{key}_mae"] is not None for key in METHOD_KEYS)
    assert {trace.name for trace in go.Figure(steps).data} == {entry.label for entry in METHODS}

    download = download_csv(settings, view).file
    table = pd.read_csv(io.StringIO(download["content"]))
    held_out = table[table["part"] == "holdout"]
    for entry in METHODS:
        assert held_out[entry.csv].notna().all(), entry.csv


def test_a_tie_with_the_best_baseline_reads_as_a_tie():
    """Within 0.05% the skill is 0.0, not -0.0 shown in red as 'worse'."""
    scores = {
        "served": Scores(0.92992, 1.0, 10),
        "persistence": Scores(0.92975, 1.0, 10),
        "climatology": Scores(0.976, 1.1, 10),
    }
    gain, baseline = skill_vs_best(scores)
    assert (gain, baseline) == (0.0, "persistence") and f"{gain:+.1f}" == "+0.0"


def test_the_default_ties_persistence_on_its_holdout_and_its_card_says_so(tmp_path, default_record):
    settings = Settings(cache_dir=tmp_path / "cache", use_shipped=True)
    cards = repr(update_scores(settings, _view(default_record.key)).cards)
    assert "Div(children='0.0%', className='score-value ')" in cards
    assert "ties with anomaly persistence" in cards and "-0.0" not in cards
