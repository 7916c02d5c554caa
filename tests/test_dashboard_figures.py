"""Figure and table functions on a real tiny record: pure functions of data frames."""

from __future__ import annotations

import math
import re
from pathlib import Path
from urllib.parse import unquote

import pandas as pd
import plotly.graph_objects as go
import pytest

from dashboard import create_app
from dashboard.data.sources import record_rows, stations_of
from dashboard.present.chart_controls import chart_key
from dashboard.present.figures import (
    BUNDLED_TRACES,
    forecast_figure,
    loss_figure,
    message_figure,
    station_map,
    step_figure,
    use_small_multiples,
)
from dashboard.present.tables import (
    actuals_frame,
    export_frame,
    rows_of,
    station_scores,
    step_errors,
)
from dashboard.present.theme import (
    CSS_VARIABLES,
    GOOD,
    css_variables,
    dash_pattern,
    station_colours,
)
from dashboard.settings import Settings
from model import METHODS, Scores, skill, skill_vs_best

ASSETS = Path(__file__).resolve().parents[1] / "assets"


@pytest.fixture(scope="module")
def view(default_record, small_monthly):
    record = default_record
    stations = sorted(small_monthly["location"].unique())
    return dict(
        record=record,
        stations=stations,
        actuals=actuals_frame(small_monthly, stations),
        predictions=rows_of(record_rows(record.predictions), stations),
        forecast=rows_of(record_rows(record.forecast), stations),
        names={s: s for s in stations},
    )


def _figure(view, stations, **options):
    """The chart as plotly validates it: a figure dict plotly rejects fails here."""
    return go.Figure(
        forecast_figure(
            view["actuals"],
            view["predictions"],
            view["forecast"],
            stations,
            view["names"],
            view["record"].cutoff,
            "Temperature (°C)",
            **options,
        )
    )


def test_one_station_has_actual_prediction_forecast_band_and_cutoff(view):
    figure = _figure(view, ["Cairns"])
    by_name = {trace.name: trace for trace in figure.data}
    assert by_name["Cairns"].line.dash is None
    assert by_name["Cairns served"].line.dash == "dash"
    assert by_name["Cairns forecast"].line.dash == "dot"
    assert by_name["Cairns lower"].fill == "tonexty"
    assert "Cairns network" not in by_name  # the network's own line only when asked
    colours = {by_name[n].line.color for n in ("Cairns", "Cairns served", "Cairns forecast")}
    assert colours == {station_colours(["Cairns"])["Cairns"]}
    hover = by_name["Cairns served"].hovertemplate
    assert "served forecast" in hover and "actual" in hover and "error" in hover
    assert figure.layout.hovermode == "x unified"  # the month heads the hover box
    assert any(shape.type == "line" for shape in figure.layout.shapes)  # cutoff marker
    assert any("cutoff" in (note.text or "") for note in figure.layout.annotations)


def test_the_network_line_is_drawn_alone_or_beside_the_served_one(view):
    alone = {trace.name: trace for trace in _figure(view, ["Cairns"], forecasts=("network",)).data}
    assert {"Cairns network", "Cairns network forecast"} <= set(alone)
    assert not {"Cairns served", "Cairns forecast", "Cairns lower"} & set(alone)
    assert "network's own" in alone["Cairns network"].hovertemplate
    assert alone["Cairns network"].line.dash == "longdashdot"
    held_out = view["predictions"][view["predictions"]["location"] == "Cairns"]
    assert list(alone["Cairns network"].y) == pytest.approx(held_out["network"].tolist())
    both = {trace.name for trace in _figure(view, ["Cairns"], forecasts=("served", "network")).data}
    assert {"Cairns served", "Cairns network", "Cairns forecast"} <= both


def test_predictions_cover_the_holdout_after_the_cutoff(view):
    cutoff = pd.Timestamp(view["record"].cutoff)
    assert (view["predictions"]["month"] > cutoff).all()
    assert view["forecast"]["month"].min() > view["actuals"]["month"].max()


def test_a_gap_in_the_observations_breaks_the_line():
    months = pd.to_datetime(["2015-01-01", "2015-02-01", "2015-06-01"])
    actuals = pd.DataFrame({"location": "A", "month": months, "actual": [1.0, 2.0, 3.0]})
    empty = pd.DataFrame(columns=["location", "month", "actual", "served", "lower", "upper"])
    line = go.Figure(forecast_figure(actuals, empty, empty, ["A"], {"A": "A"}, None, "°C")).data[0]
    assert len(line.x) == 6 and pd.isna(list(line.y)).sum() == 3


def test_baselines_are_drawn_only_when_asked(view):
    plain = {trace.name for trace in _figure(view, ["Darwin"]).data}
    both = {
        trace.name
        for trace in _figure(view, ["Darwin"], baselines=("climatology", "seasonal_naive")).data
    }
    assert both - plain == {"Darwin climatology", "Darwin seasonal naive"}


def test_many_stations_get_one_panel_each():
    stations = [f"S{i}" for i in range(15)]
    months = pd.date_range("2015-01-01", periods=24, freq="MS")
    actuals = pd.DataFrame(
        [(s, m, 20.0) for s in stations for m in months], columns=["location", "month", "actual"]
    )
    empty = pd.DataFrame(columns=["location", "month", "actual", "served", "lower", "upper"])
    figure = go.Figure(
        forecast_figure(
            actuals, empty, empty, stations, {s: s for s in stations}, None, "°C", panels=True
        )
    )
    assert len({trace.xaxis for trace in figure.data}) == 15
    assert [note.text for note in figure.layout.annotations][:2] == ["S0", "S1"]
    assert figure.layout.height >= 200 * 5
    assert len(set(station_colours(stations).values())) == 15
    assert use_small_multiples("auto", 15) and not use_small_multiples("auto", 5)
    assert use_small_multiples("panels", 1) and not use_small_multiples("overlay", 15)


MARKUP = '<a href="https://evil.example/login">Sydney (official)</a> & co'
SHOWN = '&lt;a href="https://evil.example/login"&gt;Sydney (official)&lt;/a&gt; &amp; co'


def _figure_texts(figure: dict) -> list[str]:
    """Every string plotly renders as rich text: trace names, hovers, hover text, annotations."""
    texts = [annotation["text"] for annotation in figure["layout"].get("annotations", [])]
    for trace in figure["data"]:
        texts += [trace.get("name", ""), trace.get("hovertemplate", ""), *trace.get("text", [])]
    return texts


@pytest.mark.parametrize("panels", [False, True])
def test_a_station_name_is_shown_as_text_never_as_markup(view, panels):
    predictions = view["predictions"].replace({"location": {"Cairns": MARKUP}})
    forecast = view["forecast"].replace({"location": {"Cairns": MARKUP}})
    actuals = view["actuals"].replace({"location": {"Cairns": MARKUP}})
    figure = forecast_figure(
        actuals,
        predictions,
        forecast,
        [MARKUP],
        {MARKUP: MARKUP},
        view["record"].cutoff,
        "°C",
        ("climatology",),
        panels,
    )
    go.Figure(figure)  # still a valid figure
    texts = _figure_texts(figure)
    assert len(texts) >= 6 and not any("<a" in text or "& co" in text for text in texts)
    assert figure["data"][0]["name"] == SHOWN
    assert sum(SHOWN in text for text in texts) >= 6


def test_station_map_hover_shows_a_station_name_as_text(monthly):
    table = stations_of(monthly).assign(name=MARKUP)
    texts = _figure_texts(station_map(table, ["Darwin"], "None"))
    assert texts and not any("<a" in text for text in texts)
    assert f"{SHOWN} (NT)" in texts


def test_station_map_colours_the_selection(monthly):
    table = stations_of(monthly)
    figure = go.Figure(station_map(table, ["Darwin", "Hobart"], "None"))
    chosen = figure.data[1]
    assert list(chosen.customdata) == ["Darwin", "Hobart"]
    assert list(chosen.marker.color) == list(station_colours(["Darwin", "Hobart"]).values())
    assert len(figure.data[0].customdata) == len(table) - 2


def test_station_scores_skill_and_export(view, monthly):
    record, stations = view["record"], view["stations"]
    scores = station_scores(record, stations_of(monthly), stations)
    assert list(scores["station"]) == stations
    row = scores.iloc[0]
    better = min(row["climatology_mae"], row["seasonal_naive_mae"])
    assert row["skill"] == pytest.approx(skill(row["served_mae"], better), abs=0.5)
    assert row["network_mae"] is not None
    assert skill(0.9, 1.0) == 10.0 and skill(1.1, 1.0) == -10.0 and skill(None, 1.0) is None
    table = export_frame(view["actuals"], view["predictions"], view["forecast"])
    assert set(table["part"]) == {"observed", "holdout", "forecast"}
    holdout = table[table["part"] == "holdout"]
    assert holdout["actual"].notna().any() and holdout["served"].notna().all()
    assert holdout["network"].notna().all()
    assert table[table["part"] == "forecast"]["lower_80"].notna().all()


def test_skill_is_against_the_best_baseline_and_names_it():
    """A station where seasonal naive wins must not look better than the baselines."""
    scores = {
        "served": Scores(0.9, 1.0, 10),
        "climatology": Scores(1.0, 1.1, 10),
        "seasonal_naive": Scores(0.8, 0.9, 10),
    }
    assert skill_vs_best(scores) == (-12.5, "seasonal_naive")
    scores["seasonal_naive"] = Scores(None, None, 0)
    assert skill_vs_best(scores) == (10.0, "climatology")


def test_export_without_a_model_keeps_the_observed_values(view):
    empty = pd.DataFrame(columns=["location", "month", "served", "lower", "upper", "actual"])
    table = export_frame(view["actuals"], empty, empty)
    assert set(table["part"]) == {"observed"}
    assert table["actual"].notna().all() and len(table) == len(view["actuals"])


def test_small_figures(view):
    steps = step_errors(view["record"])
    assert set(steps["method"]) == {
        "served",
        "network",
        "seasonal_curve",
        "climatology",
        "seasonal_naive",
        "persistence",
    }
    assert len(go.Figure(step_figure(steps)).data) == 6
    assert len(go.Figure(loss_figure({"loss": [0.5, 0.4], "val_loss": [0.6]})).data) == 2
    assert "nothing" in go.Figure(message_figure("nothing here")).layout.annotations[0].text


def test_station_map_frames_every_station_in_a_square_that_keeps_a_zoom(monthly):
    """The box holds every station, as tall as wide on the map; the data set names the zoom."""
    table = stations_of(monthly)
    figure = station_map(table, ["Darwin"], "None")
    geo = figure["layout"]["geo"]
    (south, north), (west, east) = geo["lataxis"]["range"], geo["lonaxis"]["range"]
    assert south < table["lat"].min() and north > table["lat"].max()
    assert west < table["lon"].min() and east > table["lon"].max()
    tall = math.log(math.tan(math.pi / 4 + math.radians(north) / 2)) - math.log(
        math.tan(math.pi / 4 + math.radians(south) / 2)
    )
    assert tall == pytest.approx(math.radians(east - west))
    assert figure["layout"]["uirevision"] == "None" and figure["layout"]["dragmode"] == "pan"
    go.Figure(figure)


def test_bundled_traces_are_the_trace_types_of_the_loaded_bundle():
    bundle = (ASSETS / "plotly-geo.min.js").read_text(encoding="utf-8")
    assert set(re.findall(r'moduleType:"trace",name:"(\w+)"', bundle)) == BUNDLED_TRACES


def test_the_stylesheet_reads_the_theme_colours_from_the_page_head(tmp_path):
    css = (ASSETS / "dashboard.css").read_text(encoding="utf-8")
    used = set(re.findall(r"var\(--([\w-]+)\)", css))
    own = set(re.findall(r"--([\w-]+):", css))
    assert used <= own | set(CSS_VARIABLES) and not own & set(CSS_VARIABLES)  # one home each
    page = create_app(Settings(cache_dir=tmp_path)).index_string
    assert css_variables() in page and page.index(css_variables()) < page.index("{%css%}")
    assert f"--good: {GOOD};" in css_variables()


def test_the_chart_key_names_every_method_in_its_line_style():
    items = chart_key().children
    words = [item.children[1] for item in items]
    assert words[0] == "observed" and len(items) == len(METHODS) + 2  # and the served ahead
    assert {entry.label.lower() for entry in METHODS} <= {w.split(" on ")[0] for w in words}
    served = unquote(items[1].children[0].src)
    assert 'stroke-dasharray="9,9"' in served  # plotly's "dash" at width 2
    assert dash_pattern("longdashdot", 1.4) == "15,6,3,6" and dash_pattern("2px,4px", 1) == "2,4"
