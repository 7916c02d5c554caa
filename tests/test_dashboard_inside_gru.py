"""The Inside the GRU card's callback and figure, on copies of the built-in models."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pytest
from helpers import REPO, runs_without_tensorflow
from plotly.utils import PlotlyJSONEncoder

from dashboard.data.sources import VARIABLE, save_upload
from dashboard.page import ids
from dashboard.page.forecast import update_chart
from dashboard.page.inside_gru import layout, update_inside
from dashboard.page.state import update_view
from dashboard.present.figures import BUNDLED_TRACES
from dashboard.present.figures.gates import WORDS, gates_figure
from dashboard.settings import Settings
from model import (
    CellWeights,
    Dataset,
    encoder_window,
    gates_path,
    read_gates,
    replay_encoder,
)

STATIONS = ["Cairns", "Darwin"]


@pytest.fixture
def settings(tmp_path, built_in):
    """A store holding copies of the two built-in models with their gates files."""
    shutil.copytree(built_in.folder, tmp_path / "cache")
    return Settings(cache_dir=tmp_path / "cache", use_shipped=False)


def as_view(stations, key=None, dataset=None):
    return {"dataset": dataset, "stations": stations, "model": key, "compare": []}


def text(component) -> str:
    """The text a user reads in a component tree."""
    if component is None:
        return ""
    if isinstance(component, str):
        return component
    if isinstance(component, list | tuple):
        return "".join(text(part) for part in component)
    return text(getattr(component, "children", None))


def traces(figure, name):
    return [trace for trace in figure["data"] if trace.get("name") == name]


def hidden_cells(figure) -> list[tuple[int, int]]:
    """(months, units) of each hidden-state heatmap, from its cells' hover markers."""
    return [
        (len(set(trace["x"])), len(set(trace["y"]))) for trace in traces(figure, "hidden state")
    ]


def test_the_card_replays_the_default_for_the_first_selected_station(
    settings, default_record, monthly
):
    inside = update_inside(settings, as_view(STATIONS, default_record.key), None)
    assert inside.station == "Cairns"
    assert inside.options == [
        {"label": "Cairns", "value": "Cairns"},
        {"label": "Darwin", "value": "Darwin"},
    ]
    figure = inside.figure
    assert [len(trace["x"]) for trace in traces(figure, "input")] == [18]
    assert [len(t["y"]) for t in traces(figure, "update gate") + traces(figure, "reset gate")] == [
        18,
        18,
    ]
    assert hidden_cells(figure) == [(18, 16)]  # 18 months, 16 units, one direction
    words = text(inside.key)
    for part in ("update", "reset", "candidate", "hidden"):
        assert WORDS[part] in words
    assert "Cairns: the 18 months Jan 2016 to Jun 2017" in text(inside.note)
    assert "forecast beyond the data" in text(inside.note)

    window = encoder_window(default_record.config, default_record.cutoff, monthly, "Cairns")
    gates = read_gates(
        gates_path(settings.cache_dir, default_record.key), default_record.network_sha256
    )
    (replayed,) = replay_encoder(gates, window.inputs)
    np.testing.assert_allclose(traces(figure, "input")[0]["y"], window.values)
    np.testing.assert_allclose(
        traces(figure, "update gate")[0]["y"], replayed.gates["update"].mean(1)
    )
    shown = np.array(traces(figure, "hidden state")[0]["marker"]["color"]).reshape(18, 16)
    np.testing.assert_allclose(shown, replayed.hidden, atol=1e-4)


def test_picking_another_station_replays_its_window(settings, default_record):
    view = as_view(STATIONS, default_record.key)
    cairns, darwin = (update_inside(settings, view, station) for station in STATIONS)
    assert darwin.station == "Darwin" and darwin.options == cairns.options
    assert traces(darwin.figure, "input")[0]["y"] != traces(cairns.figure, "input")[0]["y"]
    assert "Darwin: the 18 months" in text(darwin.note)


@pytest.mark.parametrize("sent", ["Hobart", {"station": "Darwin"}, 3, ""])
def test_a_station_not_selected_or_forged_falls_back_to_the_first(settings, default_record, sent):
    inside = update_inside(settings, as_view(STATIONS, default_record.key), sent)
    assert inside.station == "Cairns" and hidden_cells(inside.figure) == [(18, 16)]


def test_a_bidirectional_encoder_is_shown_in_both_directions(settings, article_record):
    inside = update_inside(settings, as_view(STATIONS, article_record.key), "Darwin")
    figure = inside.figure
    assert hidden_cells(figure) == [(18, 32), (18, 32)]
    assert len(traces(figure, "update gate")) == len(traces(figure, "reset gate")) == 2
    titles = [note["text"] for note in figure["layout"]["annotations"]]
    assert "Input: °C" in titles
    assert "Forward (first to last): hidden state" in titles
    assert "Backward (last to first): mean gates" in titles
    assert "backward direction reads the months last to first" in text(inside.note)


@pytest.mark.parametrize(
    ("damage", "says"),
    [
        ("removed", "has no gates file"),
        ("truncated", "cannot be read"),
        ("of another network", "is not of this model's network"),
        ("of another shape", "does not fit its network"),
    ],
)
def test_a_missing_or_damaged_gates_file_is_said_and_changes_nothing_else(
    settings, default_record, damage, says
):
    view = as_view(STATIONS, default_record.key)
    chart_before = _chart(settings, view)
    path = gates_path(settings.cache_dir, default_record.key)
    if damage == "removed":
        path.unlink()
    elif damage == "truncated":
        path.write_text(path.read_text()[:300])
    else:
        other = json.loads(gates_path(settings.cache_dir, _other_key(settings, path)).read_text())
        if damage == "of another shape":  # the article's weights, said to be the default's
            other["network_sha256"] = default_record.network_sha256
        path.write_text(json.dumps(other))
    inside = update_inside(settings, view, "Darwin")
    assert says in text(inside.note) and "Cannot look inside this model" in text(inside.note)
    assert says in inside.figure["layout"]["annotations"][0]["text"]
    assert inside.station == "Darwin" and len(inside.options) == 2
    assert _chart(settings, view) == chart_before
    assert update_view(settings, ids.STATIONS, ["Darwin"], view, "").view["stations"] == ["Darwin"]


def _chart(settings, view) -> str:
    """The forecast card's figure and note as the browser gets them."""
    chart = update_chart(settings, view, [], "auto", ["served"])
    return json.dumps([chart.figure, text(chart.note)], cls=PlotlyJSONEncoder)


def _other_key(settings, gates):
    """The key of the other built-in model than the one of this gates file."""
    return next(
        path.name.split(".")[0]
        for path in settings.cache_dir.glob("*.gates.json")
        if path.name != gates.name
    )


def test_without_stations_or_a_model_the_card_says_what_to_do(settings, default_record, monthly):
    empty = update_inside(settings, as_view([], default_record.key), None)
    assert "Pick one or more stations" in empty.figure["layout"]["annotations"][0]["text"]
    assert empty.options == [] and empty.station is None
    upload = save_upload(settings, Dataset.of(monthly[monthly["location"] == "Hobart"], VARIABLE))
    bare = update_inside(settings, as_view(["Hobart"], None, upload), None)
    assert "No model trained on this data yet" in bare.figure["layout"]["annotations"][0]["text"]
    forged = update_inside(settings, {"model": "x"}, None)
    assert "view must map" in text(forged.note)


def test_the_figures_are_valid_plotly_within_the_page_s_bundle(settings, article_record):
    figure = update_inside(settings, as_view(STATIONS, article_record.key), None).figure
    go.Figure(figure)  # validates every property
    assert {trace["type"] for trace in figure["data"]} <= BUNDLED_TRACES


def test_an_lstm_shows_its_input_forget_and_output_gates():
    rng = np.random.default_rng(5)
    weights = CellWeights(
        "lstm", rng.normal(size=(1, 12)), rng.normal(size=(3, 12)), rng.normal(size=12)
    )
    months = pd.date_range("2020-01", periods=4, freq="MS")
    replays = replay_encoder([weights], np.ones((4, 1)))
    figure = gates_figure(months, np.arange(4.0), "°C", replays)
    names = {trace.get("name") for trace in figure["data"]}
    assert {"input gate", "forget gate", "output gate"} <= names
    assert "update gate" not in names and hidden_cells(figure) == [(4, 3)]


def test_the_card_s_chart_offers_to_send_nothing():
    graph = next(
        component
        for component in layout()._traverse()
        if getattr(component, "id", None) == ids.GATES_CHART
    )
    assert graph.config["showSendToCloud"] is False and graph.config["showLink"] is False


CARD_WITHOUT_TENSORFLOW = """
import sys, tempfile, flask
from dashboard.page.inside_gru import update_inside
from dashboard.settings import Settings
from dashboard.data.shipped import shipped_store
settings = Settings(cache_dir=tempfile.mkdtemp())
with flask.Flask(__name__).test_request_context():
    flask.g.session_id = "tests-browser-session-0123456789"
    for record in shipped_store().entries():
        view = {"dataset": None, "stations": ["Cairns"], "model": record.key, "compare": []}
        assert update_inside(settings, view, None).figure["data"]
"""


@pytest.mark.slow  # a process of its own
def test_the_card_replays_without_tensorflow():
    runs_without_tensorflow(CARD_WITHOUT_TENSORFLOW)


@pytest.mark.slow  # loads a network with TensorFlow, in a process of its own
def test_export_gates_writes_the_missing_file_of_a_stored_model(settings, default_record):
    path = gates_path(settings.cache_dir, default_record.key)
    shipped = path.read_text()
    path.unlink()
    view = as_view(STATIONS, default_record.key)
    assert "has no gates file" in text(update_inside(settings, view, None).note)
    result = subprocess.run(
        [sys.executable, "-m", "dashboard", "export-gates"],
        cwd=REPO,
        env={**os.environ, "TEMPERATURE_FORECAST_CACHE": str(settings.cache_dir)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.splitlines() == [f"wrote {path}"]  # the built-in ones have theirs
    assert json.loads(path.read_text()) == json.loads(shipped)
    assert hidden_cells(update_inside(settings, view, None).figure) == [(18, 16)]
