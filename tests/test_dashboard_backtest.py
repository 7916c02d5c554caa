"""The Backtest card's callbacks, called directly: the built-in default's shipped backtest, a
model not backtested yet, the job's answer from the cache, and the CLI's same numbers."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import plotly.graph_objects as go
import pytest
from helpers import REPO, runs_without_tensorflow

from dashboard.data.shipped import BACKTEST_FOLDER, SHIPPED_FOLDER, shipped_backtest_stores
from dashboard.page import ids
from dashboard.page.backtest import backtest_job, mae_frame, show_backtest
from dashboard.present.figures import BUNDLED_TRACES
from dashboard.present.figures.backtest import backtest_figure
from dashboard.settings import Settings
from model import DEFAULT, METHOD_KEYS, SERVED, backtest_cutoffs, cached_backtest


@pytest.fixture
def settings(tmp_path):
    """An empty store beside the shipped models and the default's shipped backtest."""
    return Settings(cache_dir=tmp_path / "cache", use_shipped=True)


def view_of(key):
    return {"dataset": None, "stations": ["Cairns"], "model": key, "compare": []}


def ids_in(component) -> set[str]:
    """Every id in a component tree."""
    found = {getattr(component, "id", None)}
    children = getattr(component, "children", None)
    for child in children if isinstance(children, list) else [children]:
        if child is not None and not isinstance(child, str):
            found |= ids_in(child)
    return found - {None}


def rows_of(table) -> list[list[str]]:
    """The text of a dbc.Table's body rows."""
    body = table.children[1]
    return [[cell.children for cell in row.children] for row in body.children]


def test_the_shipped_backtest_is_the_built_in_defaults(monthly, default_record):
    result = cached_backtest(DEFAULT, monthly, shipped_backtest_stores())
    assert result is not None, "rebuild it: python -m dashboard build-default --backtest"
    assert result.cutoffs == backtest_cutoffs(DEFAULT, monthly)
    assert result.keys[0] == default_record.key  # the newest cutoff is the default itself
    shipped = {path.name.split(".")[0] for path in BACKTEST_FOLDER.glob("*.json")}  # gates too
    assert shipped == set(result.keys[1:])  # nothing stale ships
    assert not (SHIPPED_FOLDER / "backtest" / f"{default_record.key}.json").exists()


def test_the_built_in_default_shows_six_cutoffs_of_every_method(settings, default_record):
    view = show_backtest(settings, view_of(default_record.key), None)
    methods = [m for m in METHOD_KEYS if m in default_record.metrics]
    go.Figure(view.figure)  # a valid plotly figure
    assert {trace["type"] for trace in view.figure["data"]} <= BUNDLED_TRACES
    drawn = {trace["name"]: trace["x"] for trace in view.figure["data"]}
    assert len(drawn) == len(methods) == 6
    assert all(len(cutoffs) == 6 for cutoffs in drawn.values())
    assert "6 cutoffs, 2013-06 to 2015-12" in view.status.children
    summary, steps = view.tables[1].children, view.tables[3].children
    assert {summary.id, steps.id} == {ids.BACKTEST_SUMMARY, ids.BACKTEST_STEPS}
    rows = rows_of(summary)
    assert len(rows) == 6
    assert sum(int(row[3].split(" of ")[0]) for row in rows) == 6  # each cutoff has one winner
    assert all(len(row) == 1 + DEFAULT.horizon for row in rows_of(steps))
    assert view.message is None


CARD_WITHOUT_TENSORFLOW = """
import sys, tempfile
from dashboard.data.shipped import shipped_store
from dashboard.page.backtest import show_backtest
from dashboard.settings import Settings
settings = Settings(cache_dir=tempfile.mkdtemp())
for record in shipped_store().entries():
    view = {"dataset": None, "stations": ["Cairns"], "model": record.key, "compare": []}
    assert show_backtest(settings, view, None).figure["data"] is not None
"""


@pytest.mark.slow  # a process of its own: another test in this one may have loaded TensorFlow
def test_the_card_shows_without_tensorflow():
    runs_without_tensorflow(CARD_WITHOUT_TENSORFLOW)


def test_a_model_not_backtested_says_so_and_offers_the_button(settings, article_record):
    view = show_backtest(settings, view_of(article_record.key), None)
    assert view.status.children.startswith("Not computed yet for this model")
    assert "min" in view.status.children  # how long one of its trainings took
    assert view.tables is None
    assert view.figure["layout"]["annotations"][0]["text"].startswith("Not computed yet")


def test_a_stored_backtest_is_the_jobs_answer_at_once(settings, default_record):
    said = []
    done = backtest_job(
        settings, lambda percent, label: said.append(label), view_of(default_record.key)
    )
    assert done == {
        "key": default_record.key,
        "message": {"text": "The backtest was in the cache: shown now.", "color": "info"},
    }
    assert said == []  # no slot taken, nothing trained
    shown = show_backtest(settings, view_of(default_record.key), done)
    assert shown.message.children == "The backtest was in the cache: shown now."
    other = show_backtest(settings, view_of(default_record.key), {**done, "key": "other"})
    assert other.message is None  # a word about another model is not shown


@pytest.mark.parametrize(
    "view", [{"dataset": None}, view_of("no-such key"), view_of(None), view_of("0" * 20)]
)
def test_a_bad_view_is_said_not_raised(settings, view):
    shown = show_backtest(settings, view, None)
    assert shown.tables is None and shown.status.color == "danger"


def test_the_figure_draws_cutoffs_oldest_first_in_registry_styles(
    settings, default_record, monthly
):
    result = cached_backtest(DEFAULT, monthly, shipped_backtest_stores())
    figure = backtest_figure(mae_frame(result))
    served = next(t for t in figure["data"] if t["name"] == "Served forecast")
    assert served["x"] == sorted(result.cutoffs)
    assert served["y"] == list(reversed(result.mae[SERVED]))
    assert served["mode"] == "lines+markers"


def test_the_cli_gives_the_pages_numbers(tmp_path, settings, default_record, monthly):
    """`python -m model backtest --json` on a store holding the same records: the same result."""
    folder = tmp_path / "flat"
    folder.mkdir()
    for source in (SHIPPED_FOLDER, BACKTEST_FOLDER):
        for path in source.glob("*.*"):
            if path.suffix in (".json", ".keras"):
                shutil.copy(path, folder / path.name)
    answer = subprocess.run(
        [sys.executable, "-m", "model", "backtest", "--json", "--cache-dir", str(folder)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=REPO,
    )
    assert answer.returncode == 0, answer.stderr
    cli = json.loads(answer.stdout)
    page = cached_backtest(DEFAULT, monthly, shipped_backtest_stores())
    assert cli == page.to_json()
    assert cli["trained"] == 0
    shown = show_backtest(settings, view_of(default_record.key), None)
    plotted = {t["name"]: t["y"] for t in shown.figure["data"]}
    assert plotted["Served forecast"] == list(reversed(cli["methods"][SERVED]["mae"]))
