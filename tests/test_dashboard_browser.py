"""End to end in headless Chromium: browse the shipped forecasts, change stations, train."""

from __future__ import annotations

import re
import shutil
import time
from pathlib import Path

import pytest
from browsing import click, trace_names, type_number
from helpers import REPO, require, wait_for
from selenium.webdriver import ActionChains
from selenium.webdriver.common.keys import Keys

from dashboard.data.shipped import BUILT_IN, shipped_store
from dashboard.page import ids
from dashboard.present.grids import DIFFERS
from dashboard.present.theme import BAD, GOOD, MODEL_PALETTE

LEGEND_NAMES = (
    "return Array.from(document.querySelectorAll('#forecast-chart .js-plotly-plot'))"
    ".flatMap(plot => (plot.data || []).filter(trace => trace.showlegend !== false)"
    ".map(trace => trace.name));"
)  # one per station in a single chart

# The shown text of one column of an AG Grid, top to bottom (the DOM keeps rows unordered).
GRID_COLUMN = (
    "return Array.from(document.querySelectorAll("
    "`#${arguments[0]} .ag-center-cols-container .ag-row`))"
    ".sort((a, b) => a.getAttribute('row-index') - b.getAttribute('row-index'))"
    ".map(row => row.querySelector(`[col-id='${arguments[1]}']`))"
    ".map(cell => [cell.textContent, getComputedStyle(cell).color,"
    " getComputedStyle(cell).backgroundColor]);"
)

# The chart's subplots: one in a single chart, one per station in panels.
SUBPLOTS = (
    "const plot = document.querySelector('#forecast-chart .js-plotly-plot');"
    "if (!plot || !plot.layout) return 0;"
    "return Object.keys(plot.layout).filter(key => /^xaxis/.test(key)).length;"
)
BOX = (
    "const r = arguments[0].getBoundingClientRect();"
    "return {left: r.left, top: r.top, right: r.right, bottom: r.bottom};"
)
AXE = REPO / "node_modules" / "axe-core" / "axe.min.js"  # installed by `npm ci` (package.json)
AXE_RUN = (
    "const done = arguments[arguments.length - 1];"
    "axe.run(document, {resultTypes: ['violations']}).then(result => done("
    "result.violations.flatMap(rule => rule.nodes.map(node => ({"
    "rule: rule.id, impact: rule.impact, help: rule.help,"
    "target: node.target.join(' '), html: node.html})))));"
)
# Dash 4's dcc.Dropdown, upstream: an aria-hidden input takes the Tab stop and hands the focus
# at once to the dropdown's labelled button; the button's name puts "5 selected" first.
UPSTREAM = {
    ("aria-hidden-focus", "dash-dropdown-focus-target"),
    ("label-content-name-mismatch", 'class="dash-dropdown'),
}
PHONE = {"width": 390, "height": 844, "deviceScaleFactor": 1, "mobile": True}

INLINE_PROBE = (
    "const probe = document.createElement('script');"
    "probe.textContent = 'window.inlineProbeRan = true;';"
    "document.head.appendChild(probe); return window.inlineProbeRan === true;"
)

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def _stations_shown(duo) -> list[str]:
    return duo.driver.execute_script(LEGEND_NAMES) or []


def test_browse_change_stations_and_train(fresh_duo):
    duo = fresh_duo
    wait_for(lambda: "Cairns forecast" in trace_names(duo), 60, "the default stations' forecast")
    shown = trace_names(duo)
    assert {"Cairns", "Canberra", "Darwin", "Gold Coast", "Mount Ginini"} <= set(shown)
    assert "built-in" in duo.find_element(f"#{ids.MODEL_LIST}").text
    assert "stations=Cairns" in duo.driver.current_url
    shipped_key = duo.driver.current_url.split("model=")[1]

    click(duo, ids.CLEAR)
    wait_for(lambda: not trace_names(duo), 20, "the chart to empty after Clear")
    click(duo, ids.SELECT_ALL)
    wait_for(lambda: "Hobart" in trace_names(duo), 30, "every station after Select all")
    assert "Albury" in duo.driver.current_url

    _check_form_messages(duo)
    for field_id, value in (("window", 6), ("horizon", 3), ("epochs", 1), ("units", 4)):
        type_number(duo, field_id, value)
    duo.wait_for_contains_text(f"#{ids.FORM_HINT}", "Not trained yet", timeout=20)
    click(duo, ids.TRAIN)
    wait_for(
        lambda: duo.find_element(f"#{ids.TRAIN}").get_attribute("disabled") is not None,
        20,
        "the Train button to be disabled while training",
    )
    duo.wait_for_contains_text(f"#{ids.PROGRESS}", "epoch 1 of 1", timeout=240)
    duo.wait_for_contains_text(f"#{ids.TRAIN_MESSAGE}", "Trained", timeout=240)
    duo.wait_for_contains_text(f"#{ids.MODEL_LIST}", "window 6, horizon 3, 4 units", timeout=20)
    assert duo.find_element(f"#{ids.TRAIN}").get_attribute("disabled") is None
    assert "Delete" in _model_buttons(duo, "window 6, horizon 3, 4 units")  # its trainer's
    wait_for(
        lambda: "model=" in duo.driver.current_url and shipped_key not in duo.driver.current_url,
        20,
        "the URL to name the new model",
    )
    _cancel_a_long_training(duo)
    loss_traces = duo.driver.execute_script(
        f"return document.querySelector('#{ids.LOSS_CHART} .js-plotly-plot').data.length;"
    )
    assert loss_traces >= 1


def _model_buttons(duo, model: str) -> list[str]:
    """The enabled buttons of the listed model whose text names `model`."""
    return duo.driver.execute_script(
        "return Array.from(document.querySelectorAll('.model-item'))"
        ".filter(item => item.textContent.includes(arguments[0]))"
        ".flatMap(item => Array.from(item.querySelectorAll('button')))"
        ".filter(button => !button.disabled).map(button => button.textContent);",
        model,
    )


def _check_form_messages(duo) -> None:
    """Out-of-range and fractional values are named with the range, which is on show."""
    assert "3 to 60" in duo.find_element("#window").find_element("xpath", "../..").text
    type_number(duo, "window", 1000)
    duo.wait_for_text_to_equal("#window-feedback", "window must be between 3 and 60 (got 1000)")
    type_number(duo, "epochs", 2.5)
    duo.wait_for_contains_text("#epochs-feedback", "whole number between 1 and 1000 (got 2.5)")
    type_number(duo, "window", 60)
    type_number(duo, "horizon", 36)
    type_number(duo, "epochs", 1)
    duo.wait_for_contains_text(f"#{ids.FORM_HINT}", "window + 2 × horizon must be at most 116")
    assert duo.find_element("#window-feedback").text == ""


def _cancel_a_long_training(duo) -> None:
    """Start a 300-epoch training, cancel it after the first epoch: nothing is stored."""
    type_number(duo, "epochs", 300)
    type_number(duo, "units", 8)
    duo.wait_for_contains_text(f"#{ids.FORM_HINT}", "Not trained yet", timeout=20)
    click(duo, ids.TRAIN)
    duo.wait_for_contains_text(f"#{ids.PROGRESS}", "of 300", timeout=240)
    click(duo, ids.CANCEL)
    duo.wait_for_contains_text(f"#{ids.TRAIN_MESSAGE}", "cancelled", timeout=20)
    wait_for(
        lambda: duo.find_element(f"#{ids.TRAIN}").get_attribute("disabled") is None,
        20,
        "the Train button to be enabled after Cancel",
    )
    wait_for(
        lambda: "of 300" not in duo.find_element(f"#{ids.PROGRESS}").text,
        20,
        "the progress bar to stop naming the cancelled job's epoch",
    )
    assert "8 units" not in duo.find_element(f"#{ids.MODEL_LIST}").text
    type_number(duo, "epochs", 1)
    type_number(duo, "units", 4)  # the settings trained above: Train fetches them at once
    duo.wait_for_contains_text(f"#{ids.FORM_HINT}", "In the cache", timeout=20)
    click(duo, ids.TRAIN)  # a new job: the cancelled one's message goes
    duo.wait_for_contains_text(f"#{ids.TRAIN_MESSAGE}", "Cached", timeout=60)


def test_a_training_after_the_store_folder_was_removed_answers(fresh_duo, tmp_path):
    """The jobs cache is made again: no error on every poll until the server restarts."""
    duo = fresh_duo
    wait_for(lambda: "Cairns forecast" in trace_names(duo), 60, "the default stations' forecast")
    shutil.rmtree(tmp_path / "cache")
    click(duo, ids.TRAIN)  # the default settings: built in, so the job answers at once
    duo.wait_for_contains_text(f"#{ids.TRAIN_MESSAGE}", "Cached", timeout=120)
    assert (tmp_path / "cache" / "jobs").is_dir()
    assert "Traceback" not in (tmp_path / "server.log").read_text()


def test_map_click_link_and_upload(fresh_duo, tmp_path):
    duo = fresh_duo
    wait_for(lambda: "Cairns forecast" in trace_names(duo), 60, "the default stations' forecast")
    grey = duo.find_elements(f"#{ids.MAP} .scattergeo:first-child path.point")
    ActionChains(duo.driver).move_to_element(grey[0]).click().perform()
    wait_for(lambda: len(_stations_shown(duo)) == 6, 20, "a sixth station after clicking the map")
    link = duo.driver.current_url
    duo.driver.get(link)  # a link reopens the same view
    wait_for(lambda: len(_stations_shown(duo)) == 6, 30, "the same six stations from the link")
    assert duo.driver.current_url == link

    bad = tmp_path / "bad.csv"
    bad.write_text("Date,Location,MinTemp,MaxTemp,Rainfall\n2015-01-01,Alpha,cold,20,0\n")
    duo.find_element(f"#{ids.UPLOAD} input[type=file]").send_keys(str(bad))
    duo.wait_for_contains_text(f"#{ids.UPLOAD_MESSAGE}", "column MinTemp, row 2", timeout=20)
    assert "Built-in data" in duo.find_element(f"#{ids.DATA_BADGE}").text
    huge = tmp_path / "huge.csv"  # over twice the 20 MB limit: the server would answer 413
    huge.write_bytes(
        b"Date,Location,MinTemp,MaxTemp,Rainfall\n" + b"2015-01-01,A,1,2,0\n" * 2_500_000
    )
    duo.find_element(f"#{ids.UPLOAD} input[type=file]").send_keys(str(huge))
    duo.wait_for_contains_text(
        f"#{ids.UPLOAD_MESSAGE}", "huge.csv is 45.3 MB; the limit is 20 MB", timeout=30
    )
    assert " 413 " not in (tmp_path / "server.log").read_text()  # refused before sending
    assert "Built-in data" in duo.find_element(f"#{ids.DATA_BADGE}").text
    good = tmp_path / "alpha.csv"
    good.write_text(
        "Date,Location,MinTemp,MaxTemp,Rainfall\n"
        + "".join(
            f"2015-{m:02d}-{d:02d},Alpha,{m},{m + 10},0\n"
            for m in range(1, 13)
            for d in range(1, 29)
        )
    )
    duo.find_element(f"#{ids.UPLOAD} input[type=file]").send_keys(str(good))
    duo.wait_for_contains_text(f"#{ids.DATA_BADGE}", "Your uploaded data", timeout=20)
    wait_for(lambda: trace_names(duo) == ["Alpha"], 20, "the uploaded station alone")
    assert "No models for this data yet" in duo.find_element(f"#{ids.MODEL_LIST}").text


def _csp_violations(duo) -> list[str]:
    return [
        entry["message"]
        for entry in duo.get_logs()
        if "Content Security Policy" in entry["message"]
    ]


def test_page_draws_under_its_content_security_policy(dash_duo):
    duo = dash_duo
    wait_for(lambda: "Cairns forecast" in trace_names(duo), 60, "the default stations' forecast")
    wait_for(lambda: len(duo.find_elements(f"#{ids.MAP} path.point")) > 40, 30, "the station map")
    wait_for(lambda: duo.find_elements(f"#{ids.MODEL_LIST} .model-item"), 30, "the model list")
    assert _csp_violations(duo) == []
    # The policy is in force: an injected inline script is refused, and the refusal is logged.
    assert duo.driver.execute_script(INLINE_PROBE) is False
    wait_for(lambda: _csp_violations(duo), 10, "the refused inline script in the console log")


def _network_line(duo, station: str = "Cairns") -> list[float]:
    """The y values of a station's network line on the forecast chart (empty when absent)."""
    return (
        duo.driver.execute_script(
            "const plot = document.querySelector('#forecast-chart .js-plotly-plot');"
            "const trace = (plot && plot.data || []).find(t => t.name === arguments[0]);"
            "return trace ? Array.from(trace.y) : [];",
            f"{station} network",
        )
        or []
    )


def _model_in_url(duo) -> str:
    return duo.driver.current_url.split("model=")[1].split("&")[0]


def test_direction_changes_the_network_line_and_models_compare(fresh_duo):
    """Two trainings that differ only in direction, at the default horizon, draw two lines."""
    duo = fresh_duo
    wait_for(lambda: _network_line(duo), 60, "the built-in network's line")
    assert "built in" in duo.find_element(f"#{ids.SHOWN_MODEL}").text
    type_number(duo, "epochs", 1)
    type_number(duo, "units", 4)
    lines, keys = [], []
    for direction in ("forward", "bidirectional"):
        if direction == "bidirectional":
            click(duo, "bidirectional")
        duo.wait_for_contains_text(f"#{ids.FORM_HINT}", "Not trained yet", timeout=20)
        before = duo.driver.current_url
        click(duo, ids.TRAIN)
        wait_for(lambda url=before: duo.driver.current_url != url, 300, f"the {direction} model")
        duo.wait_for_contains_text(f"#{ids.SHOWN_MODEL}", "horizon 18, 4 units", timeout=30)
        keys.append(_model_in_url(duo))
        wait_for(lambda: _network_line(duo) not in ([], *lines), 30, "its network line")
        lines.append(_network_line(duo))
    assert "bidirectional GRU" in duo.find_element(f"#{ids.SHOWN_MODEL}").text
    assert len(lines[0]) == len(lines[1]) == 18 and lines[0] != lines[1]

    duo.driver.get(
        f"{duo.server_url}/?stations=Cairns,Darwin&model={keys[1]}&compare={keys[0]},{keys[1]}"
    )
    compared = (
        "return Array.from(document.querySelectorAll('#compare-chart .js-plotly-plot'))"
        ".flatMap(plot => (plot.data || []).map(trace => trace.name));"
    )
    wait_for(
        lambda: (
            {"Model 1: network's own", "Model 2: network's own"}
            <= set(duo.driver.execute_script(compared) or [])
        ),
        30,
        "the comparison chart",
    )
    wait_for(
        lambda: _grid_text(duo, ids.COMPARE_TABLE, "direction") == ["forward", "bidirectional"],
        10,
        "the comparison grid",
    )
    assert f"compare={keys[0]},{keys[1]}" in duo.driver.current_url


def _grid(duo, grid_id: str, column: str) -> list[list[str]]:
    """[text, colour, background] of each cell of a grid column, top to bottom."""
    return duo.driver.execute_script(GRID_COLUMN, grid_id, column) or []


def _grid_text(duo, grid_id: str, column: str) -> list[str]:
    return [text for text, _, _ in _grid(duo, grid_id, column)]


def _rgb(hex_colour: str) -> str:
    red, green, blue = (int(hex_colour[i : i + 2], 16) for i in (1, 3, 5))
    return f"rgb({red}, {green}, {blue})"


def test_score_and_compare_grids_format_and_highlight(dash_duo):
    """The built-in models fill both grids: number formats, skill colours, differing settings."""
    duo = dash_duo
    keys = {record.config: record.key for record in shipped_store().entries()}
    default, article = (keys[BUILT_IN[name]] for name in ("default", "article"))
    duo.driver.get(
        f"{duo.server_url}/?stations=Albury,Cairns,Hobart&model={article}"
        f"&compare={default},{article}"
    )
    stations = ["Albury", "Cairns", "Hobart"]  # the article's beats climatology at Hobart
    wait_for(
        lambda: _grid_text(duo, ids.STATION_TABLE, "station") == stations,
        60,
        "the per-station grid",
    )
    shown = _grid_text(duo, ids.STATION_TABLE, "served_mae")
    assert all(re.fullmatch(r"\d+\.\d\d", text) for text in shown)  # 2 decimals
    skills = _grid(duo, ids.STATION_TABLE, "skill")  # '+7.9', '−2.3' (d3's minus sign)
    assert all(re.fullmatch(r"[+−]\d+\.\d", text) for text, _, _ in skills)
    signs = {
        float(text.replace("−", "-")) > 0: colour
        for text, colour, _ in skills
        if float(text.replace("−", "-"))
    }
    assert signs == {True: _rgb(GOOD), False: _rgb(BAD)}  # better and worse than the baseline

    wait_for(
        lambda: _grid_text(duo, ids.COMPARE_TABLE, "model") == ["Model 1", "Model 2"],
        30,
        "the comparison grid",
    )
    assert [colour for _, colour, _ in _grid(duo, ids.COMPARE_TABLE, "model")] == [
        _rgb(MODEL_PALETTE[0]),
        _rgb(MODEL_PALETTE[1]),
    ]
    highlighted = _rgb(DIFFERS["backgroundColor"])
    assert _grid_text(duo, ids.COMPARE_TABLE, "recipe") == ["default", "article's"]
    assert {background for _, _, background in _grid(duo, ids.COMPARE_TABLE, "recipe")} == {
        highlighted
    }  # the recipes differ
    assert highlighted not in {
        background for _, _, background in _grid(duo, ids.COMPARE_TABLE, "window")
    }  # both 18


# The page position of each station's marker on the map, and the stations drawn as selected.
MAP_MARKERS = (
    "const plot = document.querySelector(`#${arguments[0]} .js-plotly-plot`);"
    "const found = {};"
    "if (!plot) return found;"
    "const groups = plot.querySelectorAll('.scattergeo');"
    "(plot.data || []).forEach((trace, k) => {"
    "  const points = groups[k] ? groups[k].querySelectorAll('path.point') : [];"
    "  (trace.customdata || []).forEach((station, j) => {"
    "    if (!points[j]) return;"
    "    const box = points[j].getBoundingClientRect();"
    "    found[station] = [box.x + box.width / 2, box.y + box.height / 2];"
    "  });"
    "});"
    "return found;"
)
MAP_SELECTED = (
    "const plot = document.querySelector(`#${arguments[0]} .js-plotly-plot`);"
    "return plot && plot.data && plot.data[1] ? Array.from(plot.data[1].customdata) : null;"
)
MAP_ZOOM = (
    "const plot = document.querySelector(`#${arguments[0]} .js-plotly-plot`);"
    "return plot._fullLayout.geo._subplot.projection.scale();"
)
DOUBLE_CLICK = 0.4  # seconds: two clicks closer than plotly's 0.3 s reset the zoom
APART = 16  # pixels between a marker's centre and every other one before it is clicked


def _markers(duo) -> dict[str, list[float]]:
    return duo.driver.execute_script(MAP_MARKERS, ids.MAP) or {}


def _on_map(duo) -> list[str] | None:
    return duo.driver.execute_script(MAP_SELECTED, ids.MAP)


def _nearest(markers: dict[str, list[float]], station: str) -> float:
    x, y = markers[station]
    return min(
        ((x - u) ** 2 + (y - v) ** 2) ** 0.5
        for other, (u, v) in markers.items()
        if other != station
    )


def _zoom_in_at(duo, x: float, y: float) -> None:
    """One turn of the mouse wheel with the pointer at (x, y) of the page."""
    from selenium.webdriver.common.actions.wheel_input import ScrollOrigin

    scale = duo.driver.execute_script(MAP_ZOOM, ids.MAP)
    origin = ScrollOrigin.from_viewport(int(x), int(y))
    ActionChains(duo.driver).scroll_from_origin(origin, 0, -300).perform()
    wait_for(lambda: duo.driver.execute_script(MAP_ZOOM, ids.MAP) > scale, 20, "a wheel zoom")


def _click_at(duo, x: float, y: float, after: float) -> float:
    """Click at (x, y) of the page, never within a double click of the click at `after`."""
    from selenium.webdriver.common.actions.action_builder import ActionBuilder

    time.sleep(max(0.0, after + DOUBLE_CLICK - time.monotonic()))
    actions = ActionBuilder(duo.driver)
    actions.pointer_action.move_to_location(int(x), int(y)).click()
    actions.perform()
    return time.monotonic()


def test_every_station_can_be_toggled_from_the_map(dash_duo):
    """Zoomed in on each station, a click on its marker adds it and a second click removes it.

    As a user would: turn the wheel over the station until no other marker is within APART
    pixels (from the whole map, reset with its button), click it, and click the same spot again
    once the page has redrawn the map with the new selection.
    """
    duo = dash_duo
    wait_for(lambda: len(_markers(duo)) == 49, 60, "49 stations on the map")
    click(duo, ids.CLEAR)  # one station at a time keeps each redraw of the page short
    wait_for(lambda: _on_map(duo) == [], 30, "an empty selection")
    shown = duo.find_element(f"#{ids.MAP} .js-plotly-plot")
    duo.driver.execute_script("arguments[0].scrollIntoView({block: 'center'});", shown)
    reset = duo.find_element(f"#{ids.MAP} .modebar-btn[data-attr='reset']")
    whole = duo.driver.execute_script(MAP_ZOOM, ids.MAP)
    crowded, clicked = set(), 0.0
    for station in sorted(_markers(duo)):
        if duo.driver.execute_script(MAP_ZOOM, ids.MAP) > whole:
            ActionChains(duo.driver).move_to_element(reset).click().perform()
            wait_for(lambda: duo.driver.execute_script(MAP_ZOOM, ids.MAP) == whole, 20, "reset")
        while _nearest(_markers(duo), station) < APART:
            crowded.add(station)
            _zoom_in_at(duo, *_markers(duo)[station])
        x, y = _markers(duo)[station]
        for turn in (True, False):
            clicked = _click_at(duo, x, y, clicked)
            wait_for(
                lambda turn=turn, station=station: (station in (_on_map(duo) or [])) == turn,
                30,
                f"{station} {'added to' if turn else 'removed from'} the selection",
            )
    assert {"Sydney", "SydneyAirport", "Penrith", "BadgerysCreek"} <= crowded


def _share_link(duo) -> str:
    return duo.find_element(f"#{ids.SHARE_LINK}").get_attribute("value")


def _become(duo, cookies: list[dict]) -> None:
    """Act as another browser session: its cookies (the tab keeps its view)."""
    duo.driver.delete_all_cookies()
    for cookie in cookies:
        duo.driver.add_cookie({"name": cookie["name"], "value": cookie["value"]})


def test_an_upload_is_shared_by_a_link_until_its_uploader_stops_sharing(fresh_duo, tmp_path):
    duo = fresh_duo
    wait_for(lambda: "Cairns forecast" in trace_names(duo), 60, "the default stations' forecast")
    assert not duo.find_element(f"#{ids.SHARING}").is_displayed()  # nothing to share
    data = tmp_path / "alpha.csv"
    data.write_text(
        "Date,Location,MinTemp,MaxTemp,Rainfall\n"
        + "".join(
            f"2015-{m:02d}-{d:02d},Alpha,{m},{m + 10},0\n"
            for m in range(1, 13)
            for d in range(1, 29)
        )
    )
    duo.find_element(f"#{ids.UPLOAD} input[type=file]").send_keys(str(data))
    wait_for(lambda: trace_names(duo) == ["Alpha"], 30, "the uploaded station")
    click(duo, ids.SHARE)
    wait_for(lambda: "?share=" in _share_link(duo), 20, "a share link")
    link = _share_link(duo)
    uploader = duo.driver.get_cookies()

    _become(duo, [])  # a stranger's new browser, opening the link
    duo.driver.execute_script("window.sessionStorage.clear();")
    duo.driver.get(link)
    wait_for(lambda: trace_names(duo) == ["Alpha"], 30, "the shared station for the stranger")
    assert "share=" not in duo.driver.current_url  # the link is not kept in the address bar
    assert not duo.find_element(f"#{ids.SHARING}").is_displayed()  # only the uploader shares
    stranger = duo.driver.get_cookies()

    _become(duo, uploader)
    duo.driver.get(duo.server_url)
    wait_for(lambda: trace_names(duo) == ["Alpha"], 30, "the uploader's own data set")
    wait_for(lambda: "?share=" in _share_link(duo), 20, "the uploader's link")
    click(duo, ids.STOP_SHARING)
    wait_for(lambda: _share_link(duo) == "", 20, "the link voided")

    _become(duo, stranger)
    duo.driver.get(link)
    wait_for(lambda: "Cairns forecast" in trace_names(duo), 30, "the built-in data again")
    duo.wait_for_contains_text(f"#{ids.NOTICE}", "stopped sharing", timeout=20)


def test_a_training_is_shown_after_a_reload_and_cancel_stops_it(fresh_duo):
    duo = fresh_duo
    wait_for(lambda: "Cairns forecast" in trace_names(duo), 60, "the default stations' forecast")
    type_number(duo, "epochs", 300)
    type_number(duo, "units", 8)
    duo.wait_for_contains_text(f"#{ids.FORM_HINT}", "Not trained yet", timeout=20)
    click(duo, ids.TRAIN)
    duo.wait_for_contains_text(f"#{ids.PROGRESS}", "of 300", timeout=240)
    duo.driver.refresh()
    duo.wait_for_contains_text(f"#{ids.PROGRESS}", "started before this page loaded", timeout=60)
    assert duo.find_element(f"#{ids.TRAIN}").get_attribute("disabled") is not None
    wait_for(
        lambda: duo.find_element(f"#{ids.CANCEL}").get_attribute("disabled") is None,
        20,
        "Cancel to be enabled for the training from before the reload",
    )
    click(duo, ids.CANCEL)
    duo.wait_for_contains_text(f"#{ids.TRAIN_MESSAGE}", "stopped, nothing saved", timeout=120)
    assert duo.find_element(f"#{ids.TRAIN}").get_attribute("disabled") is None
    assert "8 units" not in duo.find_element(f"#{ids.MODEL_LIST}").text


def test_a_training_that_ends_after_a_reload_is_shown_listed_and_its_curve_drawn(fresh_duo):
    duo = fresh_duo
    wait_for(lambda: "Cairns forecast" in trace_names(duo), 60, "the default stations' forecast")
    radio = duo.find_element("#recipe input[value='article']")
    duo.driver.execute_script("arguments[0].click();", radio)  # batch 1: a slow training
    wait_for(lambda: duo.find_element("#units").get_attribute("value") == "32", 20, "the recipe")
    type_number(duo, "units", 8)
    type_number(duo, "epochs", 2)
    duo.wait_for_contains_text(f"#{ids.FORM_HINT}", "Not trained yet", timeout=20)
    click(duo, ids.TRAIN)
    duo.wait_for_contains_text(f"#{ids.PROGRESS}", "epoch 1 of 2", timeout=240)
    duo.driver.refresh()
    duo.wait_for_contains_text(f"#{ids.PROGRESS}", "started before this page loaded", timeout=60)
    duo.wait_for_contains_text(f"#{ids.TRAIN_MESSAGE}", "Its model is shown now", timeout=240)
    wait_for(lambda: "8 units" in duo.find_element(f"#{ids.SHOWN_MODEL}").text, 30, "it shown")
    duo.wait_for_contains_text(f"#{ids.MODEL_LIST}", "8 units", timeout=20)
    assert "Delete" in _model_buttons(duo, "8 units")  # trained in this session
    points = duo.driver.execute_script(
        f"return document.querySelector('#{ids.LOSS_CHART} .js-plotly-plot').data"
        ".map(trace => trace.y.length);"
    )
    assert points == [2, 2]  # its loss and validation loss, both epochs


def test_the_keyboard_focus_comes_back_to_train_when_a_training_ends(fresh_duo):
    duo = fresh_duo
    wait_for(lambda: "Cairns forecast" in trace_names(duo), 60, "the default stations' forecast")
    for field_id, value in (("window", 6), ("horizon", 3), ("epochs", 1), ("units", 4)):
        type_number(duo, field_id, value)
    duo.wait_for_contains_text(f"#{ids.FORM_HINT}", "Not trained yet", timeout=20)
    train = duo.find_element(f"#{ids.TRAIN}")
    duo.driver.execute_script("arguments[0].scrollIntoView({block: 'center'});", train)
    duo.driver.execute_script("arguments[0].focus();", train)
    ActionChains(duo.driver).send_keys(Keys.ENTER).perform()  # Train, from the keyboard
    duo.wait_for_contains_text(f"#{ids.TRAIN_MESSAGE}", "Trained", timeout=240)
    wait_for(lambda: _active(duo)[0] == ids.TRAIN, 10, "the focus back on Train")


def _box(duo, element) -> dict[str, float]:
    return duo.driver.execute_script(BOX, element)


def _subplots(duo) -> int:
    return duo.driver.execute_script(SUBPLOTS) or 0


def _active(duo) -> tuple[str, str]:
    """The focused element's (id, type)."""
    element = duo.driver.switch_to.active_element
    return element.get_attribute("id"), element.get_attribute("type")


def test_radio_groups_take_one_tab_stop_and_arrow_keys_choose(dash_duo):
    """Tab enters each radio group once, on its choice; the arrow keys change the choice."""
    duo = dash_duo
    wait_for(lambda: "Cairns forecast" in trace_names(duo), 60, "the default stations' forecast")
    for group, checked in ((ids.CHART_MODE, "auto"), ("recipe", "default"), ("cell", "gru")):
        radio = duo.find_element(f"#{group} input[value='{checked}']")
        duo.driver.execute_script("arguments[0].focus();", radio)
        ActionChains(duo.driver).send_keys(Keys.TAB).perform()
        left = duo.driver.switch_to.active_element
        assert left.get_attribute("type") != "radio", f"Tab stayed in the {group} group"
        ActionChains(duo.driver).key_down(Keys.SHIFT).send_keys(Keys.TAB).key_up(
            Keys.SHIFT
        ).perform()
        assert duo.driver.switch_to.active_element == radio, f"Shift+Tab missed the {group} choice"

    assert _subplots(duo) == 1  # five stations: one chart
    auto = duo.find_element(f"#{ids.CHART_MODE} input[value='auto']")
    duo.driver.execute_script("arguments[0].focus();", auto)
    ActionChains(duo.driver).send_keys(Keys.ARROW_RIGHT, Keys.ARROW_RIGHT).perform()
    panels = duo.find_element(f"#{ids.CHART_MODE} input[value='panels']")
    assert duo.driver.switch_to.active_element == panels
    assert panels.is_selected() and not auto.is_selected()
    wait_for(lambda: _subplots(duo) == 5, 30, "a panel per station after the arrow keys")
    ActionChains(duo.driver).send_keys(Keys.ARROW_LEFT).perform()  # One chart
    wait_for(lambda: _subplots(duo) == 1, 30, "one chart again after the left arrow")


def _overlaps(first: dict[str, float], second: dict[str, float]) -> bool:
    return not (
        first["right"] <= second["left"]
        or second["right"] <= first["left"]
        or first["bottom"] <= second["top"]
        or second["bottom"] <= first["top"]
    )


def _scroll_to_end(duo, scroller) -> None:
    """Scroll a box sideways to its end, as a swipe does."""
    duo.driver.execute_script("arguments[0].scrollLeft = arguments[0].scrollWidth;", scroller)


def _on_screen(duo, element, width: int) -> bool:
    box = _box(duo, element)
    return box["left"] >= 0 and box["right"] <= width


def test_phone_screen_shows_the_chart_and_every_column(dash_duo):
    """At 390x844: a small map, the chart on the first screen, its label clear, grids swipe."""
    duo = dash_duo
    duo.driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", PHONE)
    keys = {record.config: record.key for record in shipped_store().entries()}
    default, article = (keys[BUILT_IN[name]] for name in ("default", "article"))
    duo.driver.get(f"{duo.server_url}/?model={default}&compare={default},{article}")
    wait_for(lambda: "Cairns forecast" in trace_names(duo), 60, "the default stations' forecast")
    wait_for(lambda: duo.find_elements(f"#{ids.MAP} path.point"), 30, "the station map")
    width, height = PHONE["width"], PHONE["height"]
    page = duo.driver.execute_script("return [document.documentElement.scrollWidth, innerWidth];")
    assert page[0] <= width, f"the page scrolls sideways: {page}"
    station_map = _box(duo, duo.find_element(f"#{ids.MAP}"))
    assert station_map["bottom"] - station_map["top"] <= height / 5  # a fifth of the screen
    plot = duo.find_element(f"#{ids.CHART} .main-svg")
    assert _box(duo, plot)["top"] < height - 50  # the chart starts on the first screen

    _into_view(duo, plot)
    ActionChains(duo.driver).move_to_element(plot).perform()  # the mode bar shows on hover
    cutoff = duo.find_element(f"#{ids.CHART} .annotation")
    assert cutoff.text.startswith("cutoff")
    modebar = duo.find_element(f"#{ids.CHART} .modebar")
    assert modebar.is_displayed()
    assert not _overlaps(_box(duo, modebar), _box(duo, cutoff))

    for grid, last, scroller in (
        (ids.STATION_TABLE, "months", ".scroll-grid"),  # the box around the grid scrolls
        (ids.COMPARE_TABLE, "train_seconds", f"#{ids.COMPARE_TABLE} .ag-center-cols-viewport"),
    ):
        wait_for(lambda g=grid: _grid_text(duo, g, "served_mae"), 30, f"rows in {grid}")
        header = duo.find_element(f"#{grid} .ag-header-cell[col-id='{last}']")
        top = _box(duo, header)["top"]
        duo.driver.execute_script("window.scrollBy(0, arguments[0]);", top - height / 2)
        assert not _on_screen(duo, header, width)  # off the narrow screen at first
        _scroll_to_end(duo, duo.find_element(scroller))
        wait_for(lambda h=header: _on_screen(duo, h, width), 10, f"the {last} column after a swipe")


def _serious_violations(duo) -> list[dict[str, str]]:
    """axe-core's serious and critical violations on the page as it is now (upstream's aside)."""
    duo.driver.execute_script(AXE.read_text(encoding="utf-8"))
    duo.driver.set_script_timeout(120)
    found = duo.driver.execute_async_script(AXE_RUN)
    return [
        violation
        for violation in found
        if violation["impact"] in ("serious", "critical")
        and not any(
            rule == violation["rule"] and fragment in violation["html"]
            for rule, fragment in UPSTREAM
        )
    ]


def test_no_serious_accessibility_violations(dash_duo):
    """axe-core finds no serious or critical violation on the first page, nor after a training."""
    require(AXE.is_file(), f"axe-core not installed (no {AXE}): run `npm ci`")
    duo = dash_duo
    wait_for(lambda: "Cairns forecast" in trace_names(duo), 60, "the default stations' forecast")
    wait_for(lambda: duo.find_elements(f"#{ids.MAP} path.point"), 30, "the station map")
    wait_for(lambda: _grid_text(duo, ids.STATION_TABLE, "station"), 30, "the per-station grid")
    wait_for(lambda: duo.find_elements(f"#{ids.MODEL_LIST} .model-item"), 30, "the model list")
    assert _serious_violations(duo) == []

    duo.wait_for_contains_text(f"#{ids.FORM_HINT}", "In the cache", timeout=20)
    click(duo, ids.TRAIN)  # the built-in recipe's settings: the shipped model, at once
    duo.wait_for_contains_text(f"#{ids.TRAIN_MESSAGE}", "Cached", timeout=60)
    assert _serious_violations(duo) == []


def _into_view(duo, element) -> None:
    """Scroll an element to the middle of the window at once, so a pointer can hit it.

    Bootstrap turns on smooth scrolling: after WebDriver's own scrolling the element is still
    moving, and a click lands where it was (on whatever is there, or on nothing) unless the
    page is idle. An instant scroll leaves it where the click is aimed.
    """
    duo.driver.execute_script(
        "arguments[0].scrollIntoView({block: 'center', behavior: 'instant'});", element
    )


def _settled(duo) -> bool:
    """No callback is pending: Dash marks a component it is updating with data-dash-is-loading."""
    return not duo.driver.execute_script(
        "return document.querySelectorAll('[data-dash-is-loading]').length;"
    )


def _served_maes(duo) -> list[float]:
    return [float(text) for text in _grid_text(duo, ids.STATION_TABLE, "served_mae")]


def test_station_grid_sorts_by_click_and_keyboard(dash_duo):
    """A header click sorts the per-station grid; Enter on the focused header reverses it."""
    duo = dash_duo
    wait_for(lambda: len(_grid_text(duo, ids.STATION_TABLE, "station")) == 5, 60, "five rows")
    wait_for(lambda: _settled(duo), 30, "the page's callbacks to finish")
    served = _served_maes(duo)
    assert served != sorted(served)  # in station order, not already sorted
    header = duo.find_element(f"#{ids.STATION_TABLE} .ag-header-cell[col-id='served_mae']")
    _into_view(duo, header)
    ActionChains(duo.driver).move_to_element(header).click().perform()
    wait_for(lambda: _served_maes(duo) == sorted(served), 20, "an ascending sort by served MAE")
    assert header.get_attribute("aria-sort") == "ascending"
    assert duo.driver.switch_to.active_element == header  # the click left the focus there
    ActionChains(duo.driver).send_keys(Keys.ENTER).perform()
    wait_for(
        lambda: _served_maes(duo) == sorted(served, reverse=True),
        20,
        "a descending sort from the keyboard",
    )
    assert header.get_attribute("aria-sort") == "descending"


def test_tab_leaves_a_grid_at_once_and_reaches_the_retrain_form_in_few_presses(dash_duo):
    """A grid is one stop on the way down the page, not one per header and cell."""
    duo = dash_duo
    wait_for(lambda: len(_grid_text(duo, ids.STATION_TABLE, "station")) == 5, 60, "five rows")
    wait_for(lambda: _settled(duo), 30, "the page's callbacks to finish")
    header = duo.find_element(f"#{ids.STATION_TABLE} .ag-header-cell[col-id='station']")
    duo.driver.execute_script("arguments[0].focus();", header)
    ActionChains(duo.driver).send_keys(Keys.TAB).perform()
    inside = "return !!arguments[0].closest('#' + arguments[1]);"
    left = duo.driver.switch_to.active_element
    assert not duo.driver.execute_script(inside, left, ids.STATION_TABLE)

    duo.driver.execute_script("document.activeElement.blur(); window.scrollTo(0, 0);")
    presses = 0
    while _active(duo)[0] != "window" and presses < 200:  # the Retrain form's first field
        ActionChains(duo.driver).send_keys(Keys.TAB).perform()
        presses += 1
    assert presses <= 70, f"{presses} Tab presses from the top to the Retrain form"


# Each drawn chart's id and whether plotly.js would offer to send it to a cloud.
CHART_CONFIGS = (
    "return Array.from(document.querySelectorAll('.js-plotly-plot')).map(plot => ["
    "plot.closest('.dash-graph') && plot.closest('.dash-graph').id,"
    " !!(plot._context && plot._context.showSendToCloud),"
    " !!(plot._context && plot._context.showLink)]);"
)
SHARE_BUTTONS = (
    "return Array.from(document.querySelectorAll('.modebar-btn')).map(b => b.dataset.title)"
    ".filter(title => /share|cloud|chart studio/i.test(title || ''));"
)


def test_no_chart_offers_to_send_its_data_anywhere(dash_duo):
    duo = dash_duo
    wait_for(lambda: "Cairns forecast" in trace_names(duo), 60, "the default stations' forecast")
    wait_for(lambda: len(duo.find_elements(f"#{ids.MAP} path.point")) > 40, 30, "the station map")
    graphs = {element.get_attribute("id") for element in duo.find_elements(".dash-graph")}
    wait_for(
        lambda: len(duo.driver.execute_script(CHART_CONFIGS)) >= len(graphs), 30, "every chart"
    )
    configs = duo.driver.execute_script(CHART_CONFIGS)
    assert {ids.CHART, ids.MAP, ids.STEP_CHART} <= {chart for chart, *_ in configs}
    assert [chart for chart, cloud, link in configs if cloud or link] == []
    duo.driver.execute_script("arguments[0].scrollIntoView();", duo.find_element(f"#{ids.MAP}"))
    ActionChains(duo.driver).move_to_element(duo.find_element(f"#{ids.CHART}")).perform()
    assert duo.driver.execute_script(SHARE_BUTTONS) == []


def _monthly_upload(path: Path, months: int) -> Path:
    """A daily file of one station, Alpha, over `months` months from January 2010."""
    rows = [
        f"{2010 + m // 12}-{m % 12 + 1:02d}-{d:02d},Alpha,{m % 12},{m % 12 + 10},0\n"
        for m in range(months)
        for d in range(1, 29)
    ]
    path.write_text("Date,Location,MinTemp,MaxTemp,Rainfall\n" + "".join(rows))
    return path


def test_an_upload_says_what_it_allows_and_leaves_the_models_card_without_an_error(
    fresh_duo, tmp_path
):
    duo = fresh_duo
    wait_for(lambda: "Cairns forecast" in trace_names(duo), 60, "the default stations' forecast")
    short = _monthly_upload(tmp_path / "short.csv", 3)  # too short to train on: refused
    duo.find_element(f"#{ids.UPLOAD} input[type=file]").send_keys(str(short))
    duo.wait_for_contains_text(
        f"#{ids.UPLOAD_MESSAGE}", "short.csv spans 3 months; training needs at least 5", timeout=20
    )
    assert "Built-in data" in duo.find_element(f"#{ids.DATA_BADGE}").text
    upload = _monthly_upload(tmp_path / "alpha.csv", 72)
    duo.find_element(f"#{ids.UPLOAD} input[type=file]").send_keys(str(upload))
    duo.wait_for_contains_text(f"#{ids.DATA_BADGE}", "Your uploaded data", timeout=20)
    duo.wait_for_contains_text(
        f"#{ids.UPLOAD_MESSAGE}", "a window of up to 60 months (at horizon 1)", timeout=20
    )
    duo.wait_for_contains_text(f"#{ids.MODEL_LIST}", "No models for this data yet", timeout=20)
    time.sleep(1)  # every callback the upload fired has answered
    assert duo.find_element(f"#{ids.MODEL_MESSAGE}").text == ""
    click(duo, ids.RESET_DATA)
    duo.wait_for_contains_text(f"#{ids.DATA_BADGE}", "Built-in data", timeout=20)
    wait_for(lambda: duo.find_elements(f"#{ids.MODEL_LIST} .model-item"), 30, "the model list")
    time.sleep(1)
    assert duo.find_element(f"#{ids.MODEL_MESSAGE}").text == ""


def test_the_models_list_shows_every_item_whole_and_no_delete_for_built_in_ones(dash_duo):
    duo = dash_duo
    wait_for(lambda: duo.find_elements(f"#{ids.MODEL_LIST} .model-item"), 60, "the model list")
    listed = duo.find_element(f"#{ids.MODEL_LIST}")
    scroller = duo.driver.execute_script(
        "const s = getComputedStyle(arguments[0]);"
        "return [s.overflowY, arguments[0].scrollHeight - arguments[0].clientHeight];",
        listed,
    )
    assert scroller[0] == "visible" and scroller[1] <= 1  # no inner scroller cuts an item off
    items = duo.find_elements(f"#{ids.MODEL_LIST} .model-item")
    assert items and all("built-in" in item.text for item in items)
    buttons = [
        button.text for item in items for button in item.find_elements("css selector", "button")
    ]
    assert "Delete" not in buttons and "Hide" not in buttons  # not even disabled
    assert buttons.count("View") == len(items)


def test_the_station_list_offers_only_the_page_s_select_all_and_clear(dash_duo):
    duo = dash_duo
    wait_for(lambda: len(duo.find_elements(f"#{ids.MAP} path.point")) > 40, 60, "the station map")
    _into_view(duo, duo.find_element(f"#{ids.STATIONS}"))
    duo.find_element(f"#{ids.STATIONS}").click()
    wait_for(lambda: duo.find_elements(".dash-dropdown-content"), 10, "the open station list")
    shown = [
        button.text
        for button in duo.find_elements(".dash-dropdown-content button")
        if button.is_displayed()
    ]
    assert "Select All" not in shown and "Deselect All" not in shown
    page = [button.text for button in duo.find_elements(f"#{ids.SELECT_ALL}, #{ids.CLEAR}")]
    assert page == ["Select all", "Clear"]


def test_compare_starts_as_a_line_of_text_and_names_our_default(dash_duo):
    duo = dash_duo
    wait_for(lambda: duo.find_elements(f"#{ids.MODEL_LIST} .model-item"), 60, "the model list")
    chart = duo.find_element(f"#{ids.COMPARE_CHART}")
    duo.wait_for_contains_text(f"#{ids.COMPARE_CHART}", "Pick 2 to 4 models", timeout=20)
    assert chart.size["height"] <= 100  # not 300 px of blank chart
    _into_view(duo, duo.find_element(f"#{ids.COMPARE}"))
    duo.find_element(f"#{ids.COMPARE}").click()
    wait_for(lambda: duo.find_elements(".dash-dropdown-content"), 10, "the open compare list")
    options = [option.text for option in duo.find_elements(".dash-dropdown-content [role=option]")]
    assert any(option.startswith("Our default: ") for option in options), options


def _map_hover_text(duo) -> str:
    return " ".join(label.text for label in duo.find_elements(f"#{ids.MAP} .hoverlayer .hovertext"))


def test_the_map_s_tooltip_does_not_say_click_to_add_after_the_click(dash_duo):
    duo = dash_duo
    wait_for(lambda: len(_markers(duo)) == 49, 60, "49 stations on the map")
    _into_view(duo, duo.find_element(f"#{ids.MAP}"))
    grey = duo.find_elements(f"#{ids.MAP} .scattergeo:first-child path.point")[0]
    ActionChains(duo.driver).move_to_element(grey).perform()
    wait_for(lambda: "click to add" in _map_hover_text(duo), 10, "the tooltip over a station")
    ActionChains(duo.driver).click().perform()
    wait_for(lambda: len(_stations_shown(duo)) == 6, 20, "a sixth station after the click")
    time.sleep(1)  # the map redrawn with the new selection
    assert "click to add" not in _map_hover_text(duo)
