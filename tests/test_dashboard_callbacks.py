"""Callback functions called directly, with honest and forged inputs.

They read copies of the two built-in models (trained on the embedded data), so only the test
that trains needs TensorFlow.
"""

from __future__ import annotations

import base64
import dataclasses
import json
import shutil
import stat

import plotly.graph_objects as go
import pytest
from dash import no_update

from dashboard import create_app, ids
from dashboard.callbacks import (
    FORM_ERROR_FIELDS,
    check_form,
    data_badge,
    delete_model,
    download_csv,
    pick_model,
    select_stations,
    sync_view,
    train_model,
    update_chart,
    update_compare,
    update_models,
    update_scores,
    upload_data,
)
from dashboard.settings import Settings
from dashboard.sources import (
    VARIABLE,
    InputError,
    load_dataset,
    save_upload,
    upload_path,
    user_store,
)
from model import DEFAULT, Dataset, fingerprint

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


def form(config, **changes):
    values = dict(recipe="default", window=config.window, horizon=config.horizon,
                  epochs=config.epochs, units=config.units, cell=config.cell,
                  bidirectional=config.bidirectional)
    return {**values, **changes}


def text(component) -> str:
    """All text inside a Dash component tree."""
    if component is None or isinstance(component, (str, int, float)):
        return "" if component is None else str(component)
    if isinstance(component, list):
        return " ".join(text(child) for child in component)
    return text(getattr(component, "children", None))


def test_url_decides_on_load_and_selection_writes_it(settings, dataset, key, article_record):
    search, stations, shown, data, notice, options, compare, models = sync_view(
        settings, None, f"?stations=Darwin,Atlantis&model={key}", None, None, dataset)
    assert stations == ["Darwin"] and shown == key and data == dataset and compare == []
    assert sorted(option["value"] for option in models) == sorted([key, article_record.key])
    assert "Atlantis" in text(notice)
    assert search == f"?stations=Darwin&model={key}"
    assert {"label": "Norfolk Island: its only station", "value": "state:NF"} in options
    assert {"label": "Tasmania: all 2 stations", "value": "state:TAS"} in options
    search, stations, *_ = sync_view(settings, ids.STATIONS, search, ["Darwin", "state:TAS"],
                                     key, dataset)
    assert stations == ["Darwin", "Hobart", "Launceston"]
    assert search == f"?stations=Darwin,Hobart,Launceston&model={key}"


def test_map_click_toggles_and_buttons_select_all_or_clear(settings, dataset, monthly):
    click = {"points": [{"customdata": "Hobart"}]}
    assert select_stations(settings, ids.MAP, click, STATIONS, dataset)[0] == [*STATIONS, "Hobart"]
    assert select_stations(settings, ids.MAP, click, [*STATIONS, "Hobart"], dataset)[0] == \
        STATIONS
    assert len(select_stations(settings, ids.SELECT_ALL, None, [], dataset)[0]) == \
        monthly["location"].nunique()
    assert select_stations(settings, ids.CLEAR, None, STATIONS, dataset)[0] == []


def test_chart_scores_and_models_show_the_record(settings, dataset, key, default_record):
    figure, caption, note = update_chart(settings, STATIONS, key, dataset, ["climatology"],
                                         "auto", ["model", "network"])
    names = {trace.name for trace in go.Figure(figure).data}
    assert {"Cairns", "Cairns served", "Cairns network", "Cairns forecast",
            "Cairns climatology"} <= names
    assert default_record.cutoff in note
    assert "GRU, window 18, horizon 18, 16 units, up to 40 epochs (cached)" in text(caption)
    cards, score_note, rows, steps = update_scores(settings, STATIONS, key, dataset)
    assert "Served skill vs the better baseline" in text(cards)
    assert "Served forecast" in text(cards) and "Network's own" in text(cards)
    assert [row["station"] for row in rows] == ["Cairns", "Darwin"]
    assert len(go.Figure(steps).data) == 5  # with the seasonal curve
    listed = text(update_models(settings, key, dataset, 0))
    assert "window 18, horizon 18, 16 units" in listed and "showing" in listed
    assert "served MAE" in listed and "network MAE" in listed
    assert pick_model(settings, key, 1) == (key, None)


@pytest.mark.parametrize(("factors", "expected"), [
    ([0.56, 0.17, 0.17, 0.0], "used for months 1-3 ahead (weight 0.56 falling to 0.17); further "
                              "ahead the served forecast is each station's smooth seasonal curve."),
    ([1.0, 1.0], "used for months 1-2 ahead (weight 1.00)."),
    ([0.4, 0.0], "used for 1 month ahead (weight 0.40); further ahead"),
    ([0.0, 0.0], "did not validate at any step, so the served forecast is each station's"),
])
def test_scores_say_how_far_ahead_the_network_correction_is_used(settings, dataset, key,
                                                                 factors, expected):
    path = user_store(settings).record_path(key)
    record = json.loads(path.read_text())
    path.write_text(json.dumps({**record, "shrinkage": factors}) + "\n")
    _, note, _, _ = update_scores(settings, STATIONS, key, dataset)
    assert expected in note


def test_a_rewritten_record_is_shown_not_the_copy_read_before(settings, dataset, key):
    """The page keeps parsed records in memory; a retrained entry must replace that copy."""
    def network_line(figure):
        return next(trace for trace in go.Figure(figure).data if trace.name == "Cairns served")

    before = network_line(update_chart(settings, ["Cairns"], key, dataset, [], "auto",
                                       ["model"])[0])
    path = user_store(settings).record_path(key)
    record = json.loads(path.read_text())
    record["predictions"]["model"] = [value + 5 for value in record["predictions"]["model"]]
    path.write_text(json.dumps(record) + "\n")  # another size, so another version of the file
    after = network_line(update_chart(settings, ["Cairns"], key, dataset, [], "auto",
                                      ["model"])[0])
    assert list(after.y) == pytest.approx([value + 5 for value in before.y])


def test_download_has_actuals_predictions_and_intervals(settings, dataset, key):
    download, notice = download_csv(settings, 1, STATIONS, key, dataset)
    assert notice is None and download["filename"].endswith(".csv")
    header, *lines = download["content"].splitlines()
    assert header == ("location,month,part,actual,served,lower_80,upper_80,network,climatology,"
                      "seasonal_naive")
    assert {line.split(",")[0] for line in lines} == set(STATIONS)
    parts = {line.split(",")[2] for line in lines}
    assert parts == {"observed", "holdout", "forecast"}


@pytest.mark.parametrize(("stations", "key", "data", "expected"), [
    (["Atlantis"], None, "good", "station 'Atlantis' is not in this data set"),
    ("Cairns", None, "good", "stations must be a list"),
    ([7], None, "good", "station 7 is not a station name"),
    (STATIONS, "../../etc/passwd", "good", "is not a store key"),
    (STATIONS, "abc123", "good", "model abc123 is not in the store"),
    (STATIONS, None, "../secret", "is not a data set fingerprint"),
    (STATIONS, None, "0123456789abcdef", "is not on this server"),
])
def test_forged_view_requests_get_a_clear_error(settings, dataset, stations, key, data,
                                                expected):
    figure, _, note = update_chart(settings, stations, key,
                                   dataset if data == "good" else data, [], "auto", ["model"])
    assert expected in text(note)
    assert expected in go.Figure(figure).layout.annotations[0].text


def test_forged_chart_options_are_refused(settings, dataset):
    def note(*options):
        return text(update_chart(settings, STATIONS, None, dataset, *options)[2])

    assert "chart mode" in note([], "3d", ["model"])
    assert "baselines" in note(["ets"], "auto", ["model"])
    assert "forecasts" in note([], "auto", "model")
    assert "forecasts" in note([], "auto", ["model", "<script>"])
    assert "map click" in text(select_stations(settings, ids.MAP, {"x": 1}, [], dataset)[1])


HUGE = "x" * 2**20  # a 1 MB value in a forged request


@pytest.mark.parametrize("send", [
    lambda s, d: update_chart(s, STATIONS, None, d, [], HUGE, ["model"])[2],
    lambda s, d: update_chart(s, STATIONS, None, d, [HUGE], "auto", ["model"])[2],
    lambda s, d: update_chart(s, STATIONS, None, d, [], "auto", [HUGE])[2],
    lambda s, d: update_chart(s, [HUGE], None, d, [], "auto", ["model"])[2],
    lambda s, d: update_chart(s, ["state:" + HUGE], None, d, [], "auto", ["model"])[2],
    lambda s, d: update_chart(s, STATIONS, HUGE, d, [], "auto", ["model"])[2],
    lambda s, d: update_chart(s, STATIONS, None, HUGE, [], "auto", ["model"])[2],
    lambda s, d: update_compare(s, [HUGE], STATIONS, d, ["model"])[3],
    lambda s, d: select_stations(s, ids.MAP, {"points": [{"customdata": [HUGE]}]}, [], d)[1],
    lambda s, d: select_stations(s, ids.MAP, {"x": HUGE}, [], d)[1],
    lambda s, d: sync_view(s, None, f"?stations={HUGE}", None, None, d)[4],
    lambda s, d: check_form(s, HUGE, 6, 3, 2, 4, "gru", True, d)[4],
    lambda s, d: check_form(s, "default", HUGE, 3, 2, 4, "gru", True, d)[5],
    lambda s, d: check_form(s, "default", 6, 3, 2, 4, HUGE, True, d)[9],
    lambda s, d: check_form(s, "default", 6, 3, 2, 4, "gru", HUGE, d)[10],
], ids=["mode", "baselines", "forecasts", "station", "state", "model", "dataset", "compare",
        "click-station", "click", "link", "recipe", "window", "cell", "bidirectional"])
def test_error_messages_quote_a_huge_value_only_in_part(settings, dataset, send):
    message = text(send(settings, dataset))
    assert "xxxxxxxxxx..." in message and len(message) < 200, message[:300]


@pytest.mark.parametrize(("changes", "field", "expected"), [
    (dict(epochs=10**9), ids.EPOCHS, "epochs (1000000000) must be between 1 and 1000"),
    (dict(window=-6), ids.WINDOW, "window (-6) must be between"),
    (dict(window="6"), ids.WINDOW, "window must be a whole number, got '6'"),
    (dict(units=None), ids.UNITS, "units is required"),
    (dict(cell="transformer"), ids.CELL, "cell ('transformer') must be one of gru, lstm"),
    (dict(bidirectional="yes"), ids.BIDIRECTIONAL, "bidirectional must be true or false"),
    (dict(window=60, horizon=36), ids.WINDOW, "leave no training window"),
    (dict(recipe="transformer"), ids.RECIPE, "recipe ('transformer') must be one of default"),
    (dict(recipe=["default"]), ids.RECIPE, "recipe (['default']) must be one of default"),
])
def test_forged_or_wrong_training_settings_train_nothing(settings, dataset, changes, field,
                                                         expected):
    before = {entry.key for entry in user_store(settings).entries()}
    values = form(DEFAULT, **changes)
    checked = check_form(settings, *values.values(), dataset)
    assert expected in checked[4 + FORM_ERROR_FIELDS.index(field)]
    if field in ids.NUMBER_FIELDS:
        assert checked[ids.NUMBER_FIELDS.index(field)] is True
    progress = []
    shown, message = train_model(settings, progress.append, *values.values(), dataset)
    assert shown is no_update and expected in text(message) and not progress
    assert {entry.key for entry in user_store(settings).entries()} == before


def test_cached_settings_return_at_once_labelled_cached(settings, dataset, key):
    assert "In the cache" in text(check_form(settings, *form(DEFAULT).values(), dataset)[-1])
    progress = []
    shown, message = train_model(settings, progress.append, *form(DEFAULT).values(), dataset)
    assert shown == key and "Cached" in text(message)
    assert progress[-1][:2] == (100, "cached")


@pytest.mark.slow
def test_training_reports_every_epoch_and_shows_the_new_model(tmp_path, small_monthly,
                                                              tiny_config):
    settings = Settings(cache_dir=tmp_path / "cache", base_config=tiny_config, use_shipped=False)
    dataset = save_upload(settings, Dataset.of(small_monthly, VARIABLE))
    values = form(tiny_config, units=3, bidirectional=False)
    assert "Not trained yet" in text(check_form(settings, *values.values(), dataset)[-1])
    progress = []
    shown, message = train_model(settings, progress.append, *values.values(), dataset)
    assert shown is not no_update and "Trained" in text(message)
    record_path = user_store(settings).record_path(shown)
    assert stat.S_IMODE(record_path.stat().st_mode) == 0o600  # owner-only, as uploads are
    labels = [label for _, label, _ in progress]
    assert labels[0] == "starting..." and "epoch 1 of 2" in labels
    assert labels[-1].startswith("epoch 2 of 2")
    assert len(go.Figure(progress[-1][2]).data) == 2  # loss and val_loss curves
    assert "window 6, horizon 3, 3 units" in text(update_models(settings, shown, dataset, 0))


def test_models_are_compared_on_one_chart_with_their_differences_named(settings, dataset, key,
                                                                       article_record):
    other = article_record
    pair = [key, other.key]
    figure, rows, styles, _ = update_compare(settings, pair, ["Cairns", "Darwin"], dataset,
                                             ["network"])
    traces = go.Figure(figure).data
    assert {"observed", "Model 1: network's own", "Model 2: network's own"} <= {
        trace.name for trace in traces}
    assert len({trace.xaxis for trace in traces}) == 2  # a panel per station
    lines = {trace.name: list(trace.y) for trace in traces if trace.xaxis == "x"}
    assert lines["Model 1: network's own"] != lines["Model 2: network's own"]
    assert [(row["model"], row["direction"], row["units"]) for row in rows] == [
        ("Model 1", "forward", 16), ("Model 2", "bidirectional", 32)]
    assert {style["if"]["column_id"] for style in styles
            if "row_index" not in style["if"]} == {"recipe", "direction", "units", "epochs"}
    search, *_ = sync_view(settings, ids.COMPARE, "", ["Cairns"], key, dataset, pair)
    assert search == f"?stations=Cairns&model={key}&compare={key},{other.key}"
    *_, compared, models = sync_view(settings, None, search, None, None, dataset)
    assert compared == pair and {option["value"] for option in models} == set(pair)
    user_store(settings).delete(other.key)  # the list and the link drop a deleted model
    search, *_, compared, models = sync_view(settings, ids.STORE_VERSION, search, ["Cairns"],
                                             key, dataset, pair)
    assert compared == [key] and "compare" in search and other.key not in search


def test_comparison_needs_two_to_four_known_models(settings, dataset, key):
    def note(compare):
        figure, _, _, message = update_compare(settings, compare, STATIONS, dataset, ["model"])
        return text(message) + go.Figure(figure).layout.annotations[0].text

    assert "Pick 2 to 4 models" in note([key])
    assert "at most 4 models" in note([key] * 5)
    assert "not in the store" in note([key, "abc123"])
    assert "at most 4 models" in note("abc")
    *_, notice, _, compared, _ = sync_view(settings, None, f"?compare={key},abc123", None, None,
                                           dataset)
    assert compared == [key] and "compared models" in text(notice)


def test_delete_removes_the_entry_and_falls_back(settings, dataset, key, article_record):
    version, shown, message = delete_model(settings, key, 1, key, dataset, 3)
    assert version == 4 and shown == article_record.key and "Deleted" in text(message)
    version, shown, _ = delete_model(settings, shown, 1, shown, dataset, version)
    assert shown is None and "No models" in text(update_models(settings, None, dataset, 5))
    assert "not in the store" in text(delete_model(settings, key, 1, None, dataset, 4)[2])
    assert delete_model(settings, key, None, None, dataset, 4) == (no_update,) * 3


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
    assert [entry.name for entry in path.parent.iterdir()] == [path.name]  # no temporary left
    assert load_dataset(settings, uploaded).fingerprint == fingerprint(small_monthly, VARIABLE)


def _data_url(payload: bytes) -> str:
    return "data:text/csv;base64," + base64.b64encode(payload).decode()


def test_upload_becomes_the_session_data_set(settings):
    rows = ["Date,Location,MinTemp,MaxTemp,Rainfall"]
    rows += [f"2015-{m:02d}-{d:02d},Alpha,{10 + m},{20 + m},0" for m in range(1, 13)
             for d in range(1, 29)]
    dataset, stations, shown, message = upload_data(
        settings, ids.UPLOAD, _data_url("\n".join(rows).encode()), "alpha.csv")
    assert len(dataset) == 16 and stations == ["Alpha"] and shown is None
    assert "Using alpha.csv: 1 station, Jan 2015 to Dec 2015" in text(message)
    assert "1 station," in text(data_badge(settings, dataset))
    figure, caption, note = update_chart(settings, ["Alpha"], None, dataset, [], "auto",
                                         ["model", "network"])
    assert "No model trained on this data yet" in note and caption == "No model shown."
    assert [trace.name for trace in go.Figure(figure).data] == ["Alpha"]
    assert upload_data(settings, ids.RESET_DATA, None, None)[0] is None


def test_station_names_that_look_missing_survive_an_upload(settings):
    """pandas reads NA, None, null and NaN as missing by default; here they are station names."""
    names = ["NA", "None", "null", "NaN"]
    rows = ["Date,Location,MinTemp,MaxTemp,Rainfall"]
    rows += [f"2015-{m:02d}-{d:02d},{name},{10 + m},{20 + m},0" for name in names
             for m in range(1, 4) for d in range(1, 13)]
    dataset, stations, _, _ = upload_data(
        settings, ids.UPLOAD, _data_url("\n".join(rows).encode()), "na.csv")
    assert sorted(stations) == sorted(names)
    options = sync_view(settings, ids.DATASET, "", stations, None, dataset)[5]
    assert {option["value"] for option in options} >= set(names)
    figure, _, note = update_chart(settings, ["NA", "None"], None, dataset, [], "auto",
                                   ["model"])
    assert [trace.name for trace in go.Figure(figure).data] == ["NA", "None"]
    assert "No model trained on this data yet" in note


def test_an_upload_with_an_empty_station_name_is_refused_naming_the_row(settings):
    csv = b"Date,Location,MinTemp,MaxTemp,Rainfall\n2015-01-01,A,1,2,0\n2015-01-02,,1,2,0\n"
    *changes, message = upload_data(settings, ids.UPLOAD, _data_url(csv), "blank.csv")
    assert changes == [no_update] * 3
    assert "blank.csv: column Location, row 3: empty location" in text(message)


@pytest.mark.parametrize(("contents", "expected"), [
    (_data_url(b"Date,Location,MinTemp,MaxTemp,Rainfall\n2015-13-01,A,1,2,0\n"),
     "bad.csv: column Date, row 2: not a date"),
    (_data_url(b"a;b\n1;2\n"), "missing required column"),
    (_data_url(b"x" * 60_000), "bad.csv is 0.1 MB; the limit is 0.05 MB"),
    ("data:text/csv;base64,@@@@", "not valid base64"),
    (["not", "a", "file"], "the upload is not a file"),
], ids=["bad-date", "not-weatheraus", "too-big", "bad-base64", "not-a-file"])
def test_bad_uploads_change_nothing(settings, contents, expected):
    *changes, message = upload_data(settings, ids.UPLOAD, contents, "bad.csv")
    assert changes == [no_update] * 3
    assert expected in text(message)


def test_server_refuses_oversized_requests(settings):
    app = create_app(settings)
    assert app.server.config["MAX_CONTENT_LENGTH"] == 2 * settings.max_upload_bytes
    response = app.server.test_client().post(
        "/_dash-update-component", data=b"x" * (3 * settings.max_upload_bytes),
        content_type="application/json")
    assert response.status_code == 413


def test_server_answers_forged_callback_requests_with_400_and_keeps_serving(settings):
    client = create_app(settings).server.test_client()
    for body, expected in (([1, 2], "the body is not a JSON object"),
                           ({"output": "nope.children", "inputs": []},
                            "no callback has the output 'nope.children'"),
                           ({"inputs": []}, "no callback has the output None")):
        response = client.post("/_dash-update-component", json=body)
        assert response.status_code == 400 and expected in response.get_data(as_text=True)
    assert client.get("/").status_code == 200


def _request(app, output_id: str, **changes) -> dict:
    """A well-formed callback request body for the callback of `output_id`, then `changes`."""
    output = next(key for key in app.callback_map if f"{output_id}." in key)
    callback = app.callback_map[output]
    outputs = [{"id": declared.component_id, "property": declared.component_property}
               for declared in callback["output"]]
    body = {"output": output, "outputs": outputs, "changedPropIds": [],
            "inputs": [{**dependency, "value": None} for dependency in callback["inputs"]],
            "state": [{**dependency, "value": None} for dependency in callback["state"]]}
    return {**body, **changes}


@pytest.mark.parametrize(("changes", "expected"), [
    ({"inputs": 7}, "inputs must be a list of 5 item(s)"),
    ({"inputs": {"id": "stations"}}, "inputs must be a list of 5 item(s)"),
    ({"inputs": []}, "inputs must be a list of 5 item(s)"),
    ({"inputs": [1, 2, 3, 4, 5]},
     "every item of inputs must be an object with an id and a property"),
    ({"inputs": [[1]] * 5}, "every item of inputs"),
    ({"inputs": [{"id": 5, "property": "value"}] * 5}, "every item of inputs"),
    ({"state": "dataset"}, "state must be a list of 1 item(s)"),
    ({"outputs": [5]}, "outputs must be 3 object(s) naming the callback's outputs"),
    ({"outputs": []}, "outputs must be 3 object(s)"),
    ({"outputs": [{"id": "data-badge", "property": "children"}] * 3}, "outputs must be 3"),
    ({"changedPropIds": [[1]]}, "changedPropIds must be a list of strings"),
    ({"output": "upload-ready.data"}, "no callback has the output"),  # runs in the browser
], ids=["int", "object", "empty", "numbers", "lists", "id-not-text", "state", "outputs",
        "no-outputs", "other-outputs", "changed", "clientside"])
def test_callback_requests_with_odd_inputs_get_400(settings, changes, expected):
    app = create_app(settings)
    response = app.server.test_client().post("/_dash-update-component",
                                             json=_request(app, ids.CHART, **changes))
    assert response.status_code == 400
    assert expected in response.get_data(as_text=True)


def test_deeply_nested_json_gets_400_and_well_formed_requests_still_work(settings, dataset):
    app = create_app(dataclasses.replace(settings, max_upload_mb=1))  # room for 200 kB of JSON
    client = app.server.test_client()
    deep = b"[" * 100_000 + b"]" * 100_000
    for payload in (deep, json.dumps(_request(app, ids.CHART)).replace(
            "null", deep.decode(), 1).encode()):
        response = client.post("/_dash-update-component", data=payload,
                               content_type="application/json")
        assert response.status_code == 400
        assert "nested too deeply" in response.get_data(as_text=True)
    chart = _request(app, ids.CHART)
    for dependency, value in zip(chart["inputs"], (["Cairns"], None, [], "auto", ["model"]),
                                 strict=True):
        dependency["value"] = value
    chart["state"][0]["value"] = dataset
    assert client.post("/_dash-update-component", json=chart).status_code == 200
    pick = _request(app, ids.MODEL_MESSAGE, inputs=[[]])  # a pattern-matching input: a list
    assert client.post("/_dash-update-component", json=pick).status_code == 200
