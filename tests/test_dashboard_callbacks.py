"""Callback functions called directly, with honest and forged inputs.

They read copies of the two built-in models (trained on the embedded data), so only the test
that trains needs TensorFlow.
"""

from __future__ import annotations

import base64
import dataclasses
import io
import json
import logging
import re
import shutil
import stat

import flask
import pandas as pd
import plotly.graph_objects as go
import pytest
from dash import no_update
from helpers import BROWSER_SESSION, fill_disk

from dashboard import create_app
from dashboard.data.shipped import shipped_store
from dashboard.data.sources import (
    VARIABLE,
    InputError,
    find_record,
    load_dataset,
    save_upload,
    upload_path,
    user_store,
)
from dashboard.data.validate import parse_form
from dashboard.page import form, ids
from dashboard.page.compare import update_compare
from dashboard.page.forecast import download_csv, update_chart
from dashboard.page.frame import data_badge, page_words
from dashboard.page.models import ask_or_delete, delete_model, remember_trained, update_models
from dashboard.page.retrain import check_form, recipe_values, train_model
from dashboard.page.retrain import layout as retrain_layout
from dashboard.page.scores import unscored_note, update_scores
from dashboard.page.state import station_options, update_view
from dashboard.page.stations import update_map
from dashboard.page.training_panel import (
    PanelState,
    Sent,
    after_view,
    progress_event,
    update_panel,
)
from dashboard.page.your_data import update_sharing, upload_data
from dashboard.present.figures import BUNDLED_TRACES, loss_figure
from dashboard.present.grids import DIFFERS
from dashboard.server import access, jobs
from dashboard.settings import Settings
from model import DEFAULT, Dataset, Record, fingerprint, key_for, read_monthly

STATIONS = ["Cairns", "Darwin"]


@pytest.fixture
def settings(tmp_path, built_in):
    """A store holding copies of the two built-in models; the form is based on our default."""
    shutil.copytree(built_in.folder, tmp_path / "cache")
    return Settings(cache_dir=tmp_path / "cache", use_shipped=False, max_upload_mb=0.05)


@pytest.fixture
def dataset():
    """The embedded data set (known as None), which the built-in models were trained on."""
    return None


@pytest.fixture
def key(default_record):
    return default_record.key


@pytest.fixture
def uploaded(settings, small_monthly):
    """The id of a data set uploaded to `settings`: the embedded data of four stations."""
    return save_upload(settings, Dataset.of(small_monthly, VARIABLE))


def form_values(config, **changes):
    """What the retrain form sends for a config, with some values changed."""
    values = dict(
        recipe="default",
        window=config.window,
        horizon=config.horizon,
        epochs=config.epochs,
        units=config.units,
        cell=config.cell,
        bidirectional=config.bidirectional,
    )
    return {**values, **changes}


def sent(**changes):
    """A small valid form, with some values changed."""
    return {
        **dict(
            recipe="default", window=6, horizon=3, epochs=2, units=4, cell="gru", bidirectional=True
        ),
        **changes,
    }


def form_message(checked: dict, input_id: str):
    """The message check_form puts under one input."""
    return checked["messages"][form.INPUT_IDS.index(input_id)]


def as_view(stations, key=None, dataset=None, compare=None):
    """The view store the page sends: data set, stations, model shown, compared models."""
    return {
        "dataset": dataset,
        "stations": stations,
        "model": key,
        "compare": [] if compare is None else compare,
    }


def on(dataset):
    """A view of a data set with no stations or model chosen."""
    return as_view([], dataset=dataset)


def text(component) -> str:
    """All text inside a Dash component tree."""
    if component is None or isinstance(component, (str, int, float)):
        return "" if component is None else str(component)
    if isinstance(component, list):
        return " ".join(text(child) for child in component)
    return text(getattr(component, "children", None))


def test_url_decides_on_load_and_selection_writes_it(settings, dataset, key, article_record):
    link = f"?stations=Darwin,Atlantis&model={key}"
    loaded = update_view(settings, None, None, on(dataset), link)
    assert loaded.view == as_view(["Darwin"], key, dataset)
    assert loaded.stations == ["Darwin"] and loaded.compare == []
    assert sorted(option["value"] for option in loaded.compare_options) == sorted(
        [key, article_record.key]
    )
    assert "Atlantis" in text(loaded.notice)
    assert loaded.search == f"?stations=Darwin&model={key}"
    options = loaded.station_options
    assert {"label": "Norfolk Island: its only station", "value": "state:NF"} in options
    assert {"label": "Tasmania: all 2 stations", "value": "state:TAS"} in options
    picked = update_view(settings, ids.STATIONS, ["Darwin", "state:TAS"], loaded.view, link)
    assert picked.stations == ["Darwin", "Hobart", "Launceston"] == picked.view["stations"]
    assert picked.search == f"?stations=Darwin,Hobart,Launceston&model={key}"


def test_map_click_toggles_and_buttons_select_all_or_clear(settings, dataset, monthly):
    def after(event, value, stations):
        return update_view(settings, event, value, as_view(stations, dataset=dataset), "").view

    click = {"points": [{"customdata": "Hobart"}]}
    assert after(ids.MAP, click, STATIONS)["stations"] == [*STATIONS, "Hobart"]
    assert after(ids.MAP, click, [*STATIONS, "Hobart"])["stations"] == STATIONS
    assert len(after(ids.SELECT_ALL, 1, [])["stations"]) == monthly["location"].nunique()
    assert after(ids.CLEAR, 1, STATIONS)["stations"] == []


def test_view_button_and_finished_training_show_that_model(settings, dataset, key):
    for event in (ids.VIEW_MODEL, ids.TRAINED):
        shown = update_view(settings, event, key, as_view(STATIONS, dataset=dataset), "")
        assert shown.view["model"] == key and f"model={key}" in shown.search
        assert shown.notice is None
        refused = update_view(settings, event, "abc123", shown.view, shown.search)
        assert refused._replace(notice=no_update) == (no_update,) * 7
        assert "not in the store" in text(refused.notice)


def test_a_forged_view_is_refused_by_every_reader(settings, dataset):
    forged = {"stations": ["Cairns"]}
    assert "view must map dataset" in text(
        update_chart(settings, forged, [], "auto", ["served"]).note
    )
    assert "view must map dataset" in text(update_view(settings, ids.CLEAR, 1, forged, "").notice)


def test_chart_scores_and_models_show_the_record(settings, dataset, key, default_record):
    figure, caption, note = update_chart(
        settings, as_view(STATIONS, key, dataset), ["climatology"], "auto", ["served", "network"]
    )
    names = {trace.name for trace in go.Figure(figure).data}
    assert {
        "Cairns",
        "Cairns served",
        "Cairns network",
        "Cairns forecast",
        "Cairns climatology",
    } <= names
    assert default_record.cutoff in note
    shown = "GRU, window 18, horizon 18, 16 units, up to 40 epochs (trained "  # not "cached"
    assert re.search(re.escape(shown) + r"\d\d \w{3} \d{4} \d\d:\d\d UTC\)", text(caption))
    cards, score_note, rows, steps = update_scores(settings, as_view(STATIONS, key, dataset))
    assert "Served skill vs the best baseline" in text(cards)
    assert "Served forecast" in text(cards) and "Network's own" in text(cards)
    assert [row["station"] for row in rows] == ["Cairns", "Darwin"]
    assert len(go.Figure(steps).data) == 6  # with the seasonal curve and persistence
    listed = text(update_models(settings, as_view([], key, dataset)))
    assert "window 18, horizon 18, 16 units" in listed and "showing" in listed
    assert "served MAE" in listed and "network MAE" in listed


@pytest.mark.parametrize(
    ("factors", "expected"),
    [
        (
            [0.56, 0.17, 0.17, 0.0],
            "used for months 1-3 ahead (weight 0.56 falling to 0.17); further "
            "ahead the served forecast is anomaly persistence (each station's seasonal curve",
        ),
        ([1.0, 1.0], "used for months 1-2 ahead (weight 1.00)."),
        ([0.4, 0.0], "used for 1 month ahead (weight 0.40); further ahead"),
        ([0.0, 0.0], "did not validate at any step, so the served forecast is anomaly persistence"),
    ],
)
def test_scores_say_how_far_ahead_the_network_correction_is_used(
    settings, dataset, key, factors, expected
):
    store = user_store(settings)
    store.write_record(dataclasses.replace(store.record(key), shrinkage=factors))
    assert expected in update_scores(settings, as_view(STATIONS, key, dataset)).note


def test_a_rewritten_record_is_shown_not_the_copy_read_before(settings, dataset, key):
    """The page keeps parsed records in memory; a retrained entry must replace that copy."""

    def network_line(figure):
        return next(trace for trace in go.Figure(figure).data if trace.name == "Cairns served")

    before = network_line(
        update_chart(settings, as_view(["Cairns"], key, dataset), [], "auto", ["served"]).figure
    )
    store = user_store(settings)
    record = store.record(key)
    served = [value + 5 for value in record.predictions["served"]]
    store.write_record(  # another file, so another version of it
        dataclasses.replace(record, predictions={**record.predictions, "served": served})
    )
    after = network_line(
        update_chart(settings, as_view(["Cairns"], key, dataset), [], "auto", ["served"]).figure
    )
    assert list(after.y) == pytest.approx([value + 5 for value in before.y])


def test_download_has_actuals_predictions_and_intervals(settings, dataset, key):
    download, notice = download_csv(settings, as_view(STATIONS, key, dataset))
    assert notice is None
    name = download["filename"]  # the model in words, not its internal key
    assert name.startswith("monthly-temperature-forecast-") and "-window-18-" in name
    assert name.endswith("-trained-to-2015-12.csv") and key not in name
    table = pd.read_csv(io.StringIO(download["content"]))  # a plain table: header, then data
    assert list(table.columns) == [
        "station",
        "state",
        "month",
        "part",
        "actual",
        "served",
        "lower_80",
        "upper_80",
        "network",
        "seasonal_curve",
        "climatology",
        "seasonal_naive",
        "persistence",
    ]
    assert set(table["station"]) == set(STATIONS) and set(table["state"]) == {"QLD", "NT"}
    assert set(table["part"]) == {"observed", "holdout", "forecast"}


@pytest.mark.parametrize(
    ("stations", "key", "data", "expected"),
    [
        (["Atlantis"], None, "good", "station 'Atlantis' is not in this data set"),
        ("Cairns", None, "good", "stations must be a list"),
        ([7], None, "good", "station 7 is not a station name"),
        (STATIONS, "../../etc/passwd", "good", "is not a store key"),
        (STATIONS, "abc123", "good", "model abc123 is not in the store"),
        (STATIONS, None, "../secret", "is not a data set fingerprint"),
        (STATIONS, None, "0123456789abcdef", "is not on this server"),
    ],
)
def test_forged_view_requests_get_a_clear_error(settings, dataset, stations, key, data, expected):
    figure, _, note = update_chart(
        settings,
        as_view(stations, key, dataset if data == "good" else data),
        [],
        "auto",
        ["served"],
    )
    assert expected in text(note)
    assert expected in go.Figure(figure).layout.annotations[0].text


def test_forged_chart_options_are_refused(settings, dataset):
    def note(*options):
        return text(update_chart(settings, as_view(STATIONS, None, dataset), *options).note)

    assert "chart mode" in note([], "3d", ["served"])
    assert "baselines" in note(["ets"], "auto", ["served"])
    assert "forecasts" in note([], "auto", "served")
    assert "forecasts" in note([], "auto", ["served", "<script>"])
    assert "map click" in text(update_view(settings, ids.MAP, {"x": 1}, on(dataset), "").notice)


HUGE = "x" * 2**20  # a 1 MB value in a forged request


@pytest.mark.parametrize(
    "send",
    [
        lambda s, d: update_chart(s, as_view(STATIONS, None, d), [], HUGE, ["served"]).note,
        lambda s, d: update_chart(s, as_view(STATIONS, None, d), [HUGE], "auto", ["served"]).note,
        lambda s, d: update_chart(s, as_view(STATIONS, None, d), [], "auto", [HUGE]).note,
        lambda s, d: update_chart(s, as_view([HUGE], None, d), [], "auto", ["served"]).note,
        lambda s, d: (
            update_chart(s, as_view(["state:" + HUGE], None, d), [], "auto", ["served"]).note
        ),
        lambda s, d: update_chart(s, as_view(STATIONS, HUGE, d), [], "auto", ["served"]).note,
        lambda s, d: update_chart(s, as_view(STATIONS, None, HUGE), [], "auto", ["served"]).note,
        lambda s, d: update_compare(s, as_view(STATIONS, None, d, [HUGE]), ["served"]).note,
        lambda s, d: (
            update_view(
                s, ids.MAP, {"points": [{"customdata": [HUGE]}]}, as_view([], dataset=d), ""
            ).notice
        ),
        lambda s, d: update_view(s, ids.MAP, {"x": HUGE}, as_view([], dataset=d), "").notice,
        lambda s, d: update_view(s, None, None, as_view([], dataset=d), f"?stations={HUGE}").notice,
        lambda s, d: form_message(check_form(s, sent(recipe=HUGE), on(d)), "recipe"),
        lambda s, d: form_message(check_form(s, sent(window=HUGE), on(d)), "window"),
        lambda s, d: form_message(check_form(s, sent(cell=HUGE), on(d)), "cell"),
        lambda s, d: form_message(check_form(s, sent(bidirectional=HUGE), on(d)), "bidirectional"),
    ],
    ids=[
        "mode",
        "baselines",
        "forecasts",
        "station",
        "state",
        "model",
        "dataset",
        "compare",
        "click-station",
        "click",
        "link",
        "recipe",
        "window",
        "cell",
        "bidirectional",
    ],
)
def test_error_messages_quote_a_huge_value_only_in_part(settings, dataset, send):
    message = text(send(settings, dataset))
    assert "xxxxxxxxxx..." in message and len(message) < 200, message[:300]


@pytest.mark.parametrize(
    ("changes", "field", "expected"),
    [
        (dict(epochs=10**9), "epochs", "epochs must be between 1 and 1000 (got 1000000000)"),
        (dict(window=1000), "window", "window must be between 3 and 60 (got 1000)"),
        (dict(window=-6), "window", "window must be between 3 and 60 (got -6)"),
        (dict(epochs=2.5), "epochs", "epochs must be a whole number between 1 and 1000 (got 2.5)"),
        (dict(window="6"), "window", "window must be a whole number between 3 and 60 (got '6')"),
        (dict(units=None), "units", "units is required: a whole number from 1 to 512"),
        (dict(cell="transformer"), "cell", "cell ('transformer') must be one of gru, lstm"),
        (dict(bidirectional="yes"), "bidirectional", "bidirectional must be true or false"),
        (dict(window=60, horizon=36), ids.FORM_HINT, "window + 2 × horizon must be at most"),
        (dict(recipe="transformer"), "recipe", "recipe ('transformer') must be one of default"),
        (dict(recipe=["default"]), "recipe", "recipe (['default']) must be one of default"),
    ],
)
def test_forged_or_wrong_training_settings_train_nothing(
    settings, dataset, changes, field, expected
):
    before = {entry.key for entry in user_store(settings).entries()}
    values = form_values(DEFAULT, **changes)
    checked = check_form(settings, values, on(dataset))
    assert expected in (
        text(checked["hint"]) if field == ids.FORM_HINT else form_message(checked, field)
    )
    invalid = {n.name for n, flag in zip(form.NUMBERS, checked["invalid"], strict=True) if flag}
    assert invalid == (
        {"window", "horizon"}
        if field == ids.FORM_HINT
        else {field} & {number.name for number in form.NUMBERS}
    )
    progress = []
    assert train_model(settings, progress.append, values, on(dataset)) is no_update
    [ended] = progress  # no progress, only the word on why nothing was trained
    assert expected in ended["message"]["text"] and ended["message"]["color"] == "danger"
    assert {entry.key for entry in user_store(settings).entries()} == before


def test_cached_settings_return_at_once_labelled_cached(settings, dataset, key):
    assert "In the cache" in text(check_form(settings, form_values(DEFAULT), on(dataset))["hint"])
    progress = []
    assert train_model(settings, progress.append, form_values(DEFAULT), on(dataset)) == key
    assert "Cached" in progress[-1]["message"]["text"] and progress[-1]["key"] == key
    assert (progress[-1]["percent"], progress[-1]["label"]) == (100, "cached")


@pytest.mark.slow
def test_training_reports_every_epoch_and_shows_the_new_model(tmp_path, small_monthly, tiny_config):
    settings = Settings(cache_dir=tmp_path / "cache", base_config=tiny_config, use_shipped=False)
    dataset = save_upload(settings, Dataset.of(small_monthly, VARIABLE))
    values = form_values(tiny_config, units=3, bidirectional=False)
    assert "Not trained yet" in text(check_form(settings, values, on(dataset))["hint"])
    progress = []
    jobs.record_request(settings, BROWSER_SESSION)  # the page's post of Train
    shown = train_model(settings, progress.append, values, on(dataset))
    assert shown is not no_update and "Trained" in progress[-1]["message"]["text"]
    record_path = user_store(settings).record_path(shown)
    assert stat.S_IMODE(record_path.stat().st_mode) == 0o600  # owner-only, as uploads are
    labels = [event["label"] for event in progress]
    assert labels[0] == "starting..." and "epoch 1 of 2" in labels
    assert labels[-1].startswith("epoch 2 of 2")
    assert len(go.Figure(loss_figure(progress[-1]["history"])).data) == 2  # loss and val_loss
    listed = update_models(settings, as_view([], shown, dataset))
    assert "window 6, horizon 3, 3 units" in text(listed) and "Delete" in text(listed)
    assert access.owns_model(settings, shown, BROWSER_SESSION)  # the trainer may delete it


def test_models_are_compared_on_one_chart_with_their_differences_named(
    settings, dataset, key, article_record
):
    other = article_record
    pair = [key, other.key]
    compared = update_compare(
        settings, as_view(["Cairns", "Darwin"], key, dataset, pair), ["network"]
    )
    traces = go.Figure(compared.figure).data
    assert {"observed", "Model 1: network's own", "Model 2: network's own"} <= {
        trace.name for trace in traces
    }
    assert len({trace.xaxis for trace in traces}) == 2  # a panel per station
    lines = {trace.name: list(trace.y) for trace in traces if trace.xaxis == "x"}
    assert lines["Model 1: network's own"] != lines["Model 2: network's own"]
    assert [(row["model"], row["direction"], row["units"]) for row in compared.rows] == [
        ("Model 1", "forward", 16),
        ("Model 2", "bidirectional", 32),
    ]
    highlighted = {c["field"] for c in compared.columns if c.get("cellStyle") == DIFFERS}
    assert highlighted == {
        "recipe",
        "direction",
        "units",
        "epochs",
    }
    picked = update_view(settings, ids.COMPARE, pair, as_view(["Cairns"], key, dataset), "")
    search = picked.search
    assert search == f"?stations=Cairns&model={key}&compare={key},{other.key}"
    opened = update_view(settings, None, None, on(dataset), search)
    assert opened.compare == pair
    assert {option["value"] for option in opened.compare_options} == set(pair)
    user_store(settings).delete(other.key)  # the list and the link drop a deleted model
    after = update_view(settings, ids.STORE_VERSION, 1, picked.view, search)
    assert after.compare == [key] == after.view["compare"] and other.key not in after.search
    note = update_chart(
        settings, as_view(["Cairns"], other.key, dataset), [], "auto", ["served"]
    ).note  # a tab still showing the deleted model
    assert "Show the default model" in text(note) and key in str(note)


def test_comparison_needs_two_to_four_known_models(settings, dataset, key):
    def note(compare):
        compared = update_compare(settings, as_view(STATIONS, None, dataset, compare), ["served"])
        return text(compared.note) + go.Figure(compared.figure).layout.annotations[0].text

    assert "Pick 2 to 4 models" in note([key])
    assert "at most 4 models" in note([key] * 5)
    assert "not in the store" in note([key, "abc123"])
    assert "at most 4 models" in note("abc")
    opened = update_view(settings, None, None, on(dataset), f"?compare={key},abc123")
    assert opened.compare == [key] and "compared models" in text(opened.notice)


def claim(settings, *keys):
    """Make this test's browser session the trainer of these models (as if it trained them)."""
    for key in keys:
        access.claim_model(settings, key, flask.g.session_id)


def test_delete_asks_first_then_removes_the_entry_and_falls_back(
    settings, dataset, key, article_record
):
    claim(settings, key, article_record.key)
    asked = ask_or_delete(settings, ids.DELETE_MODEL, key, None, [], 3)
    assert asked.pending == key and asked.asking and "Delete GRU, window 18" in asked.question
    kept = ask_or_delete(settings, ids.DELETE_NO, 1, key, [], 3)
    assert (kept.pending, kept.asking) == (None, False)
    assert user_store(settings).record_path(key).is_file()
    deleted = ask_or_delete(settings, ids.DELETE_YES, 1, key, [], 3)
    assert deleted.version == 4 and "Deleted" in text(deleted.message)
    assert (deleted.pending, deleted.asking) == (None, False)
    assert not user_store(settings).record_path(key).is_file()
    note = update_chart(settings, as_view(STATIONS, key, dataset), [], "auto", ["served"]).note
    assert "Show the default model" in text(note) and article_record.key in str(note)
    view = update_view(settings, ids.STORE_VERSION, 4, as_view(STATIONS, key, dataset), "").view
    assert view["model"] == article_record.key
    ask_or_delete(settings, ids.DELETE_YES, 1, article_record.key, [], 4)
    view = update_view(settings, ids.STORE_VERSION, 5, view, "").view
    assert view["model"] is None and "No models" in text(update_models(settings, view))
    note = update_chart(settings, as_view(STATIONS, key, dataset), [], "auto", ["served"]).note
    assert "not in the store" in text(note)  # no model left to offer
    assert "not in the store" in text(delete_model(settings, key, 4)[1])


@pytest.mark.parametrize("damage", ["better metric", "cut short"])
def test_a_damaged_record_is_refused_on_the_page_listed_and_deleted(settings, dataset, key, damage):
    record_file = user_store(settings).record_path(key)
    if damage == "better metric":
        data = json.loads(record_file.read_text())
        data["metrics"]["served"]["mae"] = 0.01  # flattering, and never computed
        record_file.write_text(json.dumps(data))
        reason = "record does not match its recorded record_sha256 (edited or damaged)"
    else:
        record_file.write_text(record_file.read_text()[:500])
        reason = "unreadable record"
    figure, _, note = update_chart(
        settings, as_view(STATIONS, key, dataset), [], "auto", ["served"]
    )
    assert f"model {key} cannot be used" in text(note) and reason in text(note)
    assert "0.01" not in json.dumps(figure)
    flask.g.session_id = "another-session-0123456789abcdefg"
    assert key not in str(update_models(settings, as_view(STATIONS, None, dataset)))
    flask.g.session_id = BROWSER_SESSION
    claim(settings, key)  # who trained it may delete it
    listed = update_models(settings, as_view(STATIONS, None, dataset))
    assert f"Model {key} damaged" in text(listed) and reason in text(listed)
    question = ask_or_delete(settings, ids.DELETE_MODEL, key, None, [], 3).question
    assert question.startswith(f"Delete the damaged model {key}?")
    version, message = delete_model(settings, key, 3)
    assert version == 4 and text(message) == f"Deleted the damaged model {key}."
    assert not list(user_store(settings).folder.glob(f"{key}.*"))
    assert key not in text(update_models(settings, as_view(STATIONS, None, dataset)))


def test_an_upload_on_a_full_disk_says_so_and_keeps_nothing(small_disk):
    settings = Settings(cache_dir=small_disk / "cache", use_shipped=False)
    settings.cache_dir.mkdir()
    fill_disk(small_disk)
    rows = "Date,Location,MinTemp,MaxTemp,Rainfall\n" + "".join(
        f"2015-{m:02d}-{d:02d},Alpha,{10 + m},{20 + m},0\n"
        for m in range(1, 13)
        for d in range(1, 29)
    )
    event, message = upload_data(settings, ids.UPLOAD, _data_url(rows.encode()), "alpha.csv")
    assert event is no_update
    assert text(message) == (
        "The server's disk is full: alpha.csv could not be written, so nothing was saved."
    )
    assert [path.name for path in small_disk.rglob("*") if path.is_file()] == ["filler"]


@pytest.mark.slow
def test_a_training_on_a_full_disk_says_so_and_keeps_nothing(
    small_disk, small_monthly, tiny_config
):
    settings = Settings(cache_dir=small_disk / "cache", base_config=tiny_config, use_shipped=False)
    dataset = save_upload(settings, Dataset.of(small_monthly, VARIABLE))

    def files() -> list[str]:
        """What is kept on the disk: all but the jobs folder's empty lock files of the queue."""
        kept = small_disk.rglob("*")
        return sorted(p.name for p in kept if p.is_file() and "jobs" not in p.parts)

    jobs.record_request(settings, BROWSER_SESSION)  # the page's post of Train
    before = files()  # the upload, from before the disk filled
    fill_disk(small_disk)
    progress = []
    assert (
        train_model(settings, progress.append, form_values(tiny_config), on(dataset)) is no_update
    )
    assert progress[-1]["message"]["text"] == (
        "The server's disk is full: the trained model could not be written, so nothing was saved."
    )
    assert files() == sorted([*before, "filler"])


def test_an_uploaded_data_set_is_read_once_per_version_of_its_file(settings, uploaded):
    dataset = uploaded
    first = load_dataset(settings, dataset)
    assert load_dataset(settings, dataset) is first and first.fingerprint == dataset
    one_station = first.monthly[first.monthly["location"] == STATIONS[0]]
    path = upload_path(settings, dataset)
    one_station.assign(month=one_station["month"].dt.strftime("%Y-%m")).to_csv(path, index=False)
    again = load_dataset(settings, dataset)  # a new version of the file is read and hashed anew
    assert sorted(again.monthly["location"].unique()) == STATIONS[:1]
    assert again.fingerprint == fingerprint(one_station, VARIABLE) != dataset
    path.unlink()
    with pytest.raises(InputError, match="is not on this server"):
        load_dataset(settings, dataset)


def test_an_uploaded_data_set_is_kept_owner_only(settings, uploaded, small_monthly):
    path = upload_path(settings, uploaded)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    kept = sorted(entry.name for entry in path.parent.iterdir())  # no temporary, no lock left
    assert kept == [f"{uploaded}.access.json", path.name]
    assert load_dataset(settings, uploaded).fingerprint == fingerprint(small_monthly, VARIABLE)


def _data_url(payload: bytes) -> str:
    return "data:text/csv;base64," + base64.b64encode(payload).decode()


def test_upload_becomes_the_session_data_set(settings):
    rows = ["Date,Location,MinTemp,MaxTemp,Rainfall"]
    rows += [
        f"2015-{m:02d}-{d:02d},Alpha,{10 + m},{20 + m},0"
        for m in range(1, 13)
        for d in range(1, 29)
    ]
    event, message = upload_data(
        settings, ids.UPLOAD, _data_url("\n".join(rows).encode()), "alpha.csv"
    )
    view = update_view(settings, ids.UPLOADED, event, as_view(STATIONS, "abc123"), "").view
    assert view == as_view(["Alpha"], None, event["dataset"]) and len(view["dataset"]) == 16
    dataset = view["dataset"]
    assert "Using alpha.csv: 1 station, Jan 2015 to Dec 2015" in text(message)
    assert "1 station," in text(data_badge(settings, view))
    figure, caption, note = update_chart(
        settings, as_view(["Alpha"], None, dataset), [], "auto", ["served", "network"]
    )
    assert "No model trained on this data yet" in note and caption == "No model shown."
    assert [trace.name for trace in go.Figure(figure).data] == ["Alpha"]
    assert upload_data(settings, ids.RESET_DATA, None, None).event == {"dataset": None}


def test_station_names_that_look_missing_survive_an_upload(settings):
    """pandas reads NA, None, null and NaN as missing by default; here they are station names."""
    names = ["NA", "None", "null", "NaN"]
    rows = ["Date,Location,MinTemp,MaxTemp,Rainfall"]
    rows += [
        f"2015-{m:02d}-{d:02d},{name},{10 + m},{20 + m},0"
        for name in names
        for m in range(1, 6)  # 5 months: the fewest a training fits in
        for d in range(1, 13)
    ]
    event, _ = upload_data(settings, ids.UPLOAD, _data_url("\n".join(rows).encode()), "na.csv")
    adopted = update_view(settings, ids.UPLOADED, event, None, "")
    dataset = adopted.view["dataset"]
    assert sorted(adopted.stations) == sorted(names)
    assert {option["value"] for option in adopted.station_options} >= set(names)
    figure, _, note = update_chart(
        settings, as_view(["NA", "None"], None, dataset), [], "auto", ["served"]
    )
    assert [trace.name for trace in go.Figure(figure).data] == ["NA", "None"]
    assert "No model trained on this data yet" in note


def test_an_upload_says_the_longest_settings_it_allows_or_why_it_cannot_train(settings):
    def upload(months: int) -> tuple[object, str]:
        rows = "Date,Location,MinTemp,MaxTemp,Rainfall\n" + "".join(
            f"{2015 + m // 12}-{m % 12 + 1:02d}-{d:02d},Alpha,{m % 12},{m % 12 + 10},0\n"
            for m in range(months)
            for d in range(1, 11)
        )
        event, message = upload_data(settings, ids.UPLOAD, _data_url(rows.encode()), "a.csv")
        return event, text(message)

    event, message = upload(3)
    assert event is no_update
    assert "Not used: a.csv spans 3 months; training needs at least 5" in message
    event, message = upload(24)
    assert isinstance(event, dict)
    assert "a window of up to 22 months (at horizon 1) and a horizon of up to 10" in message


def test_an_upload_with_an_empty_station_name_is_refused_naming_the_row(settings):
    csv = b"Date,Location,MinTemp,MaxTemp,Rainfall\n2015-01-01,A,1,2,0\n2015-01-02,,1,2,0\n"
    event, message = upload_data(settings, ids.UPLOAD, _data_url(csv), "blank.csv")
    assert event is no_update
    assert "blank.csv: column Location, row 3: empty location" in text(message)


@pytest.mark.parametrize(
    ("contents", "expected"),
    [
        (
            _data_url(b"Date,Location,MinTemp,MaxTemp,Rainfall\n2015-13-01,A,1,2,0\n"),
            "bad.csv: column Date, row 2: not a date",
        ),
        (_data_url(b"a;b\n1;2\n"), "missing required column"),
        (_data_url(b"x" * 60_000), "bad.csv is 0.1 MB; the limit is 0.05 MB"),
        ("data:text/csv;base64,@@@@", "not valid base64"),
        (["not", "a", "file"], "the upload is not a file"),
    ],
    ids=["bad-date", "not-weatheraus", "too-big", "bad-base64", "not-a-file"],
)
def test_bad_uploads_change_nothing(settings, contents, expected, caplog):
    with caplog.at_level(logging.INFO, logger="dashboard"):
        event, message = upload_data(settings, ids.UPLOAD, contents, "bad.csv")
    assert event is no_update
    assert expected in text(message)
    [line] = [entry.getMessage() for entry in caplog.records]
    assert line.startswith("upload refused: ") and expected in line


def test_a_cancel_from_the_page_is_logged(settings, caplog):
    running = PanelState(phase="running", trains=1)._asdict()
    with caplog.at_level(logging.INFO, logger="dashboard"):
        cancelled = update_panel(settings, Sent(1, 1, None, True, None), running)
    assert "nothing was saved" in text(cancelled.message)
    assert [entry.getMessage() for entry in caplog.records] == [
        "training cancelled from the page; its background job is stopped"
    ]


def test_server_refuses_oversized_requests(settings):
    app = create_app(settings)
    assert app.server.config["MAX_CONTENT_LENGTH"] == 2 * settings.max_upload_bytes
    response = app.server.test_client().post(
        "/_dash-update-component",
        data=b"x" * (3 * settings.max_upload_bytes),
        content_type="application/json",
    )
    assert response.status_code == 413


def test_server_answers_forged_callback_requests_with_400_and_keeps_serving(settings):
    client = create_app(settings).server.test_client()
    for body, expected in (
        ([1, 2], "the body is not a JSON object"),
        ({"output": "nope.children", "inputs": []}, "no callback has the output 'nope.children'"),
        ({"inputs": []}, "no callback has the output None"),
    ):
        response = client.post("/_dash-update-component", json=body)
        assert response.status_code == 400 and expected in response.get_data(as_text=True)
    assert client.get("/").status_code == 200


def _request(app, output_id: str, **changes) -> dict:
    """A well-formed callback request body for the callback of `output_id`, then `changes`."""
    output = next(key for key in app.callback_map if f"{output_id}." in key)
    callback = app.callback_map[output]
    outputs = [
        {"id": declared.component_id, "property": declared.component_property}
        for declared in callback["output"]
    ]
    body = {
        "output": output,
        "outputs": outputs,
        "changedPropIds": [],
        "inputs": [{**dependency, "value": None} for dependency in callback["inputs"]],
        "state": [{**dependency, "value": None} for dependency in callback["state"]],
    }
    return {**body, **changes}


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"inputs": 7}, "inputs must be a list of 4 item(s)"),
        ({"inputs": {"id": "stations"}}, "inputs must be a list of 4 item(s)"),
        ({"inputs": []}, "inputs must be a list of 4 item(s)"),
        (
            {"inputs": [1, 2, 3, 4]},
            "every item of inputs must be an object with an id and a property",
        ),
        ({"inputs": [[1]] * 4}, "every item of inputs"),
        ({"inputs": [{"id": 5, "property": "value"}] * 4}, "every item of inputs"),
        ({"state": "view"}, "state must be a list of 0 item(s)"),
        ({"outputs": [5]}, "outputs must be 3 object(s) naming the callback's outputs"),
        ({"outputs": []}, "outputs must be 3 object(s)"),
        ({"outputs": [{"id": "data-badge", "property": "children"}] * 3}, "outputs must be 3"),
        ({"changedPropIds": [[1]]}, "changedPropIds must be a list of strings"),
        ({"output": "upload-ready.data"}, "no callback has the output"),  # runs in the browser
    ],
    ids=[
        "int",
        "object",
        "empty",
        "numbers",
        "lists",
        "id-not-text",
        "state",
        "outputs",
        "no-outputs",
        "other-outputs",
        "changed",
        "clientside",
    ],
)
def test_callback_requests_with_odd_inputs_get_400(settings, changes, expected):
    app = create_app(settings)
    response = app.server.test_client().post(
        "/_dash-update-component", json=_request(app, ids.CHART, **changes)
    )
    assert response.status_code == 400
    assert expected in response.get_data(as_text=True)


def test_deeply_nested_json_gets_400_and_well_formed_requests_still_work(settings, dataset):
    app = create_app(dataclasses.replace(settings, max_upload_mb=1))  # room for 200 kB of JSON
    client = app.server.test_client()
    deep = b"[" * 100_000 + b"]" * 100_000
    for payload in (
        deep,
        json.dumps(_request(app, ids.CHART)).replace("null", deep.decode(), 1).encode(),
    ):
        response = client.post(
            "/_dash-update-component", data=payload, content_type="application/json"
        )
        assert response.status_code == 400
        assert "nested too deeply" in response.get_data(as_text=True)
    chart = _request(app, ids.CHART)
    for dependency, value in zip(
        chart["inputs"], (as_view(["Cairns"], None, dataset), [], "auto", ["served"]), strict=True
    ):
        dependency["value"] = value
    assert client.post("/_dash-update-component", json=chart).status_code == 200
    delete = _request(app, ids.MODEL_MESSAGE)
    delete["inputs"][0] = []  # a pattern-matching input: a list
    assert client.post("/_dash-update-component", json=delete).status_code == 200


@pytest.mark.parametrize(
    ("window", "horizon", "fits"),
    [(44, 36, True), (45, 36, False), (60, 28, True), (60, 29, False)],
)
def test_the_data_fit_message_states_the_true_limit(window, horizon, fits):
    """On the built-in data (116 months) window + 2 x horizon <= 116 trains, one more does not."""
    monthly = load_dataset(Settings(), None).monthly
    values = sent(window=window, horizon=horizon)
    config, errors = parse_form(values, Settings().base_config, monthly)
    assert (config is not None) == fits
    if not fits:
        assert "window + 2 × horizon must be at most 116" in errors[ids.FORM_HINT]


def _event(run, percent, label, message=None, key=None):
    """A progress event of the job started by Train click `run`, as it reaches the panel."""
    history = {"loss": [0.5, 0.4], "val_loss": [0.6]}
    return {**progress_event(percent, label, history, message, key), "run": run}


def test_the_panel_follows_its_job_from_train_to_its_last_word(settings, key):
    panel = update_panel(settings, Sent(1, None, None, None, None), PanelState()._asdict())
    assert (panel.percent, panel.label, panel.message) == (0, "", None)
    assert (panel.train_off, panel.cancel_off, panel.watch_off) == (True, False, True)
    assert panel.state["phase"] == "running"
    stale = _event(0, 100, "cached", ("Cached: an older job's word", "info"), key)
    panel = update_panel(settings, Sent(1, None, stale, True, None), panel.state)
    assert panel.percent is no_update and panel.state["phase"] == "running"  # not this click's
    panel = update_panel(
        settings, Sent(1, None, _event(1, 50, "epoch 1 of 2"), True, 1), panel.state
    )
    assert (panel.percent, panel.label) == (50, "epoch 1 of 2") and panel.message is no_update
    assert len(go.Figure(panel.loss).data) == 2
    done = _event(1, 100, "epoch 2 of 2, done", ("Trained it.", "success"), key)
    panel = update_panel(settings, Sent(1, None, done, True, 1), panel.state)
    assert "Trained it." in text(panel.message) and panel.label == "epoch 2 of 2, done"
    assert (panel.train_off, panel.cancel_off) == (False, True)
    assert panel.state["phase"] == "idle" and panel.state["about"] == key
    unchanged = update_panel(settings, Sent(1, None, done, False, 1), panel.state)
    assert unchanged._replace(state=no_update) == (no_update,) * 9  # the job's end: said already


def test_a_job_that_ends_without_a_word_gives_train_back(settings):
    running = update_panel(settings, Sent(1, None, None, True, None), None).state
    panel = update_panel(settings, Sent(1, None, None, False, None), running)
    assert (panel.train_off, panel.cancel_off, panel.state["phase"]) == (False, True, "idle")


def test_cancel_empties_the_panel_even_when_dash_dropped_its_request(settings):
    """The Cancel click's own request may be dropped: the job's end comes with the count."""
    running = update_panel(
        settings, Sent(1, None, _event(1, 40, "epoch 4 of 10"), True, None), None
    )
    panel = update_panel(
        settings, Sent(1, 1, _event(1, 40, "epoch 4 of 10"), False, None), running.state
    )
    assert "cancelled" in text(panel.message) and (panel.percent, panel.label) == (0, "")
    assert (panel.train_off, panel.cancel_off, panel.state["phase"]) == (False, True, "idle")
    again = update_panel(
        settings, Sent(1, 1, _event(1, 40, "epoch 4 of 10"), False, None), panel.state
    )
    assert again.label is no_update  # the cancelled job's last epoch is not shown again


def test_training_messages_go_with_their_job_or_model(key):
    idle = PanelState(about=key)._asdict()
    assert after_view(as_view(STATIONS, key), idle) == (no_update,) * 4  # still its model
    running = PanelState(phase="running", trains=1, about=key)._asdict()
    assert after_view(as_view(STATIONS, "other"), running) == (no_update,) * 4
    moved = after_view(as_view(STATIONS, "other"), idle)
    assert (moved.message, moved.percent, moved.label) == (None, 0, "")


@pytest.mark.parametrize("forged", [7, "running", {"phase": "launch"}, {"trains": -1}, [1]])
def test_a_forged_panel_state_is_the_initial_state(settings, forged):
    panel = update_panel(settings, Sent(1, None, None, None, None), forged)
    assert panel.state == PanelState(phase="running", trains=1, looked=True)._asdict()


def test_picking_a_recipe_sets_the_form_to_its_settings(settings):
    article = recipe_values(settings, "article")
    assert article == dict(
        window=18, horizon=18, epochs=50, units=32, cell="gru", bidirectional=True
    )
    ours = {k: v for k, v in form_values(settings.base_config).items() if k != form.RECIPE}
    assert recipe_values(settings, "default") == ours
    assert set(recipe_values(settings, "transformer").values()) == {no_update}


def test_a_model_trained_in_this_session_is_deleted_without_asking(settings, key):
    claim(settings, key)
    trained_here = remember_trained(key, remember_trained("abc", None))
    assert trained_here == ["abc", key]
    deleted = ask_or_delete(settings, ids.DELETE_MODEL, key, None, trained_here, 0)
    assert deleted.version == 1 and "Deleted" in text(deleted.message) and not deleted.asking


def test_stations_the_model_could_not_score_are_named_with_the_reason():
    """Melbourne has gaps before the built-in cutoff; a station whose data stop early too."""
    monthly = read_monthly()
    record = Record.from_json(
        json.loads(shipped_store().record_path(key_for(DEFAULT, monthly)).read_text())
    )
    assert "Melbourne" not in record.per_location
    early = monthly[monthly["location"] == "Cairns"].assign(location="Early")
    early = early[early["month"] <= "2015-06"]
    both = pd.concat([monthly, early], ignore_index=True)
    note = unscored_note(
        both,
        record,
        ["Cairns", "Melbourne", "Early"],
        {"Cairns": "Cairns", "Melbourne": "Melbourne", "Early": "Early"},
    )
    assert note == (
        f" Not scored: Melbourne (too many missing months in the 18 months up to "
        f"{record.cutoff}); Early (data end in Jun 2015, before the held-out months)."
    )


def test_title_and_credit_fit_the_data_set():
    title, credit = page_words(as_view([], dataset=None))
    assert "Australian" in title and "Bureau of Meteorology" in credit
    title, credit = page_words(as_view([], dataset="0123456789abcdef"))
    assert "Australian" not in title and "Bureau" not in credit and "you uploaded" in credit


@pytest.mark.parametrize("forged", [["a"], {"k": 1}, "../x", 7, None])
def test_a_forged_trained_key_is_not_remembered(forged):
    assert remember_trained(forged, ["abc"]) is no_update
    assert remember_trained("abc123", [forged, "abc"]) == ["abc", "abc123"]


def _placed_upload(positions: dict[str, str]) -> bytes:
    """A year of days for each station, with Latitude,Longitude cells as given."""
    rows = ["Date,Location,MinTemp,MaxTemp,Rainfall,Latitude,Longitude"]
    rows += [
        f"2015-{m:02d}-{d:02d},{station},{5 + m},{15 + m},0,{position}"
        for station, position in positions.items()
        for m in range(1, 13)
        for d in range(1, 13)
    ]
    return "\n".join(rows).encode()


def _map_points(figure) -> dict[str, tuple[float, float]]:
    return {
        station: (lat, lon)
        for trace in figure["data"]
        for station, lat, lon in zip(trace["customdata"], trace["lat"], trace["lon"], strict=True)
    }


def test_an_upload_places_the_stations_it_gives_a_position_and_lists_the_others(settings):
    """Seattle by its columns, Sydney by the known table; Nowhere is named under the map."""
    csv = _placed_upload({"Seattle": "47.6062,-122.3321", "Sydney": ",", "Nowhere": ","})
    event, message = upload_data(settings, ids.UPLOAD, _data_url(csv), "placed.csv")
    assert "Using placed.csv: 3 stations" in text(message)
    view = update_view(settings, ids.UPLOADED, event, None, "").view
    figure, note = update_map(settings, view)  # read back from the saved upload
    go.Figure(figure)
    assert _map_points(figure) == {"Seattle": (47.606, -122.332), "Sydney": (-33.87, 151.21)}
    assert note == (
        "Not on the map (no position): Nowhere. Add Latitude and Longitude columns to your "
        "file to place them."
    )
    lat, lon = (
        figure["layout"]["geo"]["lataxis"]["range"],
        figure["layout"]["geo"]["lonaxis"]["range"],
    )
    assert lat[0] < -33.87 and lat[1] > 47.606 and lon[0] < -122.332 and lon[1] > 151.21


def test_an_upload_without_positions_lists_its_stations_under_the_map(settings):
    csv = _placed_upload({"Alpha": ",", "Beta": ","}).replace(b",,", b"")
    event, _ = upload_data(
        settings, ids.UPLOAD, _data_url(csv.replace(b",Latitude,Longitude", b"")), "a.csv"
    )
    view = update_view(settings, ids.UPLOADED, event, None, "").view
    figure, note = update_map(settings, view)
    assert "No positions to show" in str(figure)
    assert note.startswith("Not on the map (no position): Alpha, Beta.")
    assert (
        update_map(settings, as_view(STATIONS)).unplaced is None
    )  # every built-in station is placed


def test_a_bad_position_in_an_upload_changes_nothing(settings):
    csv = _placed_upload({"Seattle": "47.6,-122.3", "Moon": "95,10"})
    event, message = upload_data(settings, ids.UPLOAD, _data_url(csv), "placed.csv")
    assert event is no_update
    assert "placed.csv: column Latitude, row 146: not a number from -90 to 90 ('95')" in text(
        message
    )
    assert not settings.uploads_dir.exists() or not any(settings.uploads_dir.iterdir())


def test_the_station_list_marks_stations_without_a_forecast(settings, key, monthly):
    """Melbourne (gaps before the cutoff) says why before it is picked; other stations do not."""
    opened = update_view(settings, None, None, None, "")
    view = opened.view
    labels = {option["value"]: option["label"] for option in opened.station_options}
    cutoff = find_record(settings, view["model"]).cutoff
    assert labels["Melbourne"] == (
        f"Melbourne (VIC) - no forecast: too many missing months in the 18 months up to {cutoff}"
    )
    assert labels["Cairns"] == "Cairns (QLD)"
    assert sum("no forecast" in label for label in labels.values()) == sum(
        station not in find_record(settings, view["model"]).per_location
        for station in monthly["location"].unique()
    )
    early = monthly[monthly["location"] == "Cairns"].assign(location="Early")
    early = early[early["month"] <= "2015-06"]
    marked = station_options(pd.concat([monthly, early]), find_record(settings, key))
    assert {
        "label": "Early (Other) - no forecast: data end in Jun 2015, before the held-out months",
        "value": "Early",
    } in marked
    assert not any("no forecast" in o["label"] for o in station_options(monthly, None))


def test_the_station_marks_follow_the_model_shown(settings, key, monthly):
    """Showing another model rewrites the station list (and its value, which it would drop)."""
    view = as_view(STATIONS, None)
    shown = update_view(settings, ids.VIEW_MODEL, key, view, "")
    assert shown.stations == STATIONS
    assert any("no forecast" in o["label"] for o in shown.station_options)
    unchanged = update_view(settings, ids.STATIONS, ["Darwin"], as_view(STATIONS, key), "")
    assert unchanged.station_options is no_update


def test_only_its_trainer_or_the_operator_deletes_a_model_others_hide_it(
    settings, dataset, key, article_record
):
    claim(settings, key)
    flask.g.session_id = "another-browser-session-00000000"
    refused = delete_model(settings, key, 0)  # a forged delete from another session
    assert refused[0] is no_update and "only its trainer or the operator" in text(refused[1])
    assert user_store(settings).record_path(key).is_file()
    listed = str(update_models(settings, as_view(STATIONS, key, dataset)))
    assert "Hide" in listed and "'Delete'" not in listed
    hidden = ask_or_delete(settings, ids.DELETE_MODEL, key, None, [], 0)
    assert hidden.version == 1 and "Hidden from your lists" in text(hidden.message)
    view = update_view(settings, ids.STORE_VERSION, 1, as_view(STATIONS, key, dataset), "").view
    assert view["model"] == article_record.key  # the tab moved off the hidden model
    assert (
        key not in str(update_models(settings, view))
        and user_store(settings).record_path(key).is_file()
    )
    assert "Show 1 hidden model" in text(update_models(settings, view))
    assert ask_or_delete(settings, ids.SHOW_HIDDEN, "all", None, [], 1).version == 2
    assert key in str(update_models(settings, view))
    flask.g.session_id = BROWSER_SESSION  # the trainer may
    assert "Deleted" in text(delete_model(settings, key, 2)[1])


def test_the_operator_signs_in_with_the_token_and_may_delete_any_model(tmp_path, built_in, key):
    shutil.copytree(built_in.folder, tmp_path / "cache")
    settings = Settings(cache_dir=tmp_path / "cache", use_shipped=False, operator_token="s3cret")
    client = create_app(settings).server.test_client()
    assert client.post("/operator", data={"token": "guess"}).status_code == 403
    assert client.post("/operator", data={"token": "s3cret"}).status_code == 302
    delete = _request(
        create_app(settings), ids.MODEL_MESSAGE, changedPropIds=["delete-yes.n_clicks"]
    )
    delete["inputs"][0] = delete["inputs"][3] = []  # the pattern-matching inputs: lists
    delete["inputs"][1]["value"] = 1  # "Delete" in the dialog that asked about this key
    for state, value in zip(delete["state"], (key, [], 0), strict=True):
        state["value"] = value
    response = client.post("/_dash-update-component", json=delete)
    assert "Deleted" in response.get_data(as_text=True)
    assert not user_store(settings).record_path(key).is_file()


OTHER_SESSION = "another-browser-session-00000000"


def test_an_upload_is_private_until_its_uploader_shares_it_and_revoking_takes_it_back(
    settings, uploaded
):
    page = "http://127.0.0.1:8050/?stations=Cairns"
    hidden, link, _, _ = update_sharing(settings, None, on(uploaded), page)
    assert not hidden and link == ""  # the uploader sees the controls, nothing shared yet
    flask.g.session_id = OTHER_SESSION
    assert update_sharing(settings, None, on(uploaded), page).hidden  # no controls for others
    with pytest.raises(InputError, match="not shared with you"):
        load_dataset(settings, uploaded)
    assert "not shared with you" in text(update_models(settings, on(uploaded)))
    opened = update_view(settings, None, None, on(uploaded), "")
    assert opened.view["dataset"] is None and "not shared with you" in text(opened.notice)

    flask.g.session_id = BROWSER_SESSION
    _, link, stop_disabled, note = update_sharing(settings, ids.SHARE, on(uploaded), page)
    assert link.startswith("http://127.0.0.1:8050/?share=") and not stop_disabled
    assert "until you stop sharing" in note
    search = "?" + link.split("?", 1)[1]

    flask.g.session_id = OTHER_SESSION
    opened = update_view(settings, None, None, None, search)
    assert opened.view["dataset"] == uploaded and opened.notice is None
    assert "share" not in opened.search
    assert load_dataset(settings, uploaded).fingerprint == uploaded
    forged = search[:-3] + "xyz"
    flask.g.session_id = "a-third-browser-session-00000000"
    opened = update_view(settings, None, None, None, forged)
    assert opened.view["dataset"] is None and "does not open a data set" in text(opened.notice)

    flask.g.session_id = BROWSER_SESSION
    stopped = update_sharing(settings, ids.STOP_SHARING, on(uploaded), page)
    assert (stopped.link, stopped.stop_disabled) == ("", True)
    flask.g.session_id = OTHER_SESSION
    with pytest.raises(InputError, match="not shared with you"):
        load_dataset(settings, uploaded)  # access taken back
    opened = update_view(settings, None, None, None, search)
    assert opened.view["dataset"] is None and "stopped sharing" in text(opened.notice)


def test_a_link_to_a_model_on_an_unshared_upload_says_it_is_not_shared(settings, uploaded, trained):
    store, record = trained
    for path in store.folder.glob(f"{record.key}.*"):
        shutil.copy(path, settings.cache_dir)
    flask.g.session_id = OTHER_SESSION
    opened = update_view(settings, None, None, None, f"?model={record.key}")
    assert opened.view["model"] != record.key and opened.view["dataset"] is None
    assert "trained on uploaded data that is not shared with you" in text(opened.notice)
    flask.g.session_id = BROWSER_SESSION  # the uploader opens it
    opened = update_view(settings, None, None, None, f"?model={record.key}")
    assert (opened.view["model"], opened.view["dataset"]) == (record.key, uploaded)
    assert opened.notice is None


def test_every_figure_draws_with_the_partial_plotly_bundle_the_page_loads(
    settings, key, article_record
):
    view = as_view(STATIONS, key, None, [key, article_record.key])
    figures = [
        update_chart(settings, view, ["climatology", "seasonal_naive"], "auto", ["served"]).figure,
        update_chart(settings, as_view(STATIONS * 4, key), [], "panels", ["network"]).figure,
        update_map(settings, view).figure,
        update_scores(settings, view).steps,
        update_compare(settings, view, ["served", "network"]).figure,
        loss_figure({"loss": [0.5, 0.4], "val_loss": [0.6, 0.5]}),
    ]
    drawn = {trace.get("type", "scatter") for figure in figures for trace in figure["data"]}
    assert drawn and drawn <= BUNDLED_TRACES  # another trace type would draw nothing


def test_a_form_field_is_drawn_and_read_by_its_kind():
    """A new knob is one Field: its control, its check and its range follow from its kind."""
    drawn = {
        component.id: type(component).__name__
        for component in retrain_layout(DEFAULT)._traverse()
        if isinstance(getattr(component, "id", None), str)
    }
    assert [drawn[name] for name in ("recipe", "window", "cell", "bidirectional")] == [
        "RadioItems",
        "Input",
        "RadioItems",
        "Switch",
    ]
    highway = form.Field("highway", "Highway", "bool", switch="Linear skip path")
    assert highway.read(True) is True
    with pytest.raises(ValueError, match="highway must be true or false"):
        highway.read("on")
    with pytest.raises(ValueError, match="does not fit its config"):
        form.Field("bidirectional", "Direction", "int")
