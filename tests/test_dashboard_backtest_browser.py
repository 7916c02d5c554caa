"""The Backtest card in headless Chromium: the built-in default's shipped backtest, and a new
setting's backtest run from the page (progress, Cancel, a restart that finishes, a repeat)."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from browsing import click, trace_names, type_number
from helpers import wait_for

from dashboard.data.shipped import BUILT_IN, shipped_store
from dashboard.page import ids
from model import METHODS

pytestmark = [pytest.mark.browser, pytest.mark.slow]

PHONE = {"width": 390, "height": 844, "deviceScaleFactor": 1, "mobile": True}
# Each trace of the backtest chart: its name and how many cutoffs it draws.
CHART_TRACES = (
    f"const plot = document.querySelector('#{ids.BACKTEST_CHART} .js-plotly-plot');"
    "return plot && plot.data ? plot.data.map(trace => [trace.name, trace.x.length]) : [];"
)
SHOTS = (
    Path(os.environ.get("BACKTEST_SCREENSHOTS", ""))
    if "BACKTEST_SCREENSHOTS" in os.environ
    else None
)


def _chart(duo) -> dict[str, int]:
    return dict(duo.driver.execute_script(CHART_TRACES) or [])


def _into_view(duo, element_id: str) -> None:
    """Scroll the card to the top of the screen, instantly (Bootstrap scrolls smoothly)."""
    duo.driver.execute_script(
        "const top = document.getElementById(arguments[0]).closest('.card')"
        ".getBoundingClientRect().top;"
        "window.scrollTo({top: window.scrollY + top - 8, behavior: 'instant'});",
        element_id,
    )
    time.sleep(0.5)


def _shoot(duo, name: str) -> None:
    """Save a screenshot when BACKTEST_SCREENSHOTS names a folder (to look at, not asserted)."""
    if SHOTS is not None:
        SHOTS.mkdir(parents=True, exist_ok=True)
        duo.driver.save_screenshot(str(SHOTS / f"{name}.png"))


def test_the_built_in_defaults_backtest_shows_six_cutoffs_of_every_method(dash_duo):
    duo = dash_duo
    keys = {record.config: record.key for record in shipped_store().entries()}
    duo.driver.get(f"{duo.server_url}/?model={keys[BUILT_IN['default']]}")
    wait_for(lambda: "Cairns forecast" in trace_names(duo), 60, "the default stations' forecast")
    wait_for(lambda: len(_chart(duo)) == 6, 30, "the backtest chart's six methods")
    assert set(_chart(duo).values()) == {6}  # six cutoffs each
    assert set(_chart(duo)) == {entry.label for entry in METHODS}
    summary = duo.find_element(f"#{ids.BACKTEST_SUMMARY}").text
    for entry in METHODS:
        assert entry.label in summary
    assert "of 6" in summary  # the wins
    assert "6 cutoffs, 2013-06 to 2015-12" in duo.find_element(f"#{ids.BACKTEST_STATUS}").text
    steps = duo.find_element(f"#{ids.BACKTEST_STEPS}")
    assert steps.find_elements("css selector", "thead th")[-1].text == "18"
    duo.driver.set_window_size(1400, 900)
    _into_view(duo, ids.BACKTEST_STATUS)
    _shoot(duo, "backtest-1400x900")
    duo.driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", PHONE)
    duo.driver.get(f"{duo.server_url}/?model={keys[BUILT_IN['default']]}")
    wait_for(lambda: len(_chart(duo)) == 6, 60, "the chart at phone size")
    width = duo.driver.execute_script("return document.documentElement.scrollWidth;")
    assert width <= PHONE["width"], f"the page scrolls sideways at {width} px"
    _into_view(duo, ids.BACKTEST_STATUS)
    _shoot(duo, "backtest-390x844")

    # The article's network: not computed, and the button is there to run it.
    duo.driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
    duo.driver.get(f"{duo.server_url}/?model={keys[BUILT_IN['article']]}")
    duo.wait_for_contains_text(f"#{ids.BACKTEST_STATUS}", "Not computed yet", timeout=60)
    assert duo.find_element(f"#{ids.BACKTEST_RUN}").is_enabled()
    assert not _chart(duo)


def test_a_new_settings_backtest_shows_progress_cancels_restarts_and_repeats_at_once(fresh_duo):
    duo = fresh_duo
    wait_for(lambda: "Cairns forecast" in trace_names(duo), 60, "the default stations' forecast")
    for field_id, value in (("window", 6), ("horizon", 3), ("epochs", 1), ("units", 4)):
        type_number(duo, field_id, value)
    duo.wait_for_contains_text(f"#{ids.FORM_HINT}", "Not trained yet", timeout=20)
    click(duo, ids.TRAIN)
    duo.wait_for_contains_text(f"#{ids.TRAIN_MESSAGE}", "Trained", timeout=240)
    duo.wait_for_contains_text(f"#{ids.BACKTEST_STATUS}", "Not computed yet", timeout=30)

    click(duo, ids.BACKTEST_RUN)
    duo.wait_for_contains_text(f"#{ids.BACKTEST_PROGRESS}", "of 6", timeout=120)
    assert duo.find_element(f"#{ids.BACKTEST_RUN}").get_attribute("disabled") is not None
    click(duo, ids.BACKTEST_CANCEL)
    duo.wait_for_contains_text(f"#{ids.BACKTEST_MESSAGE}", "cancelled", timeout=20)
    wait_for(
        lambda: duo.find_element(f"#{ids.BACKTEST_RUN}").get_attribute("disabled") is None,
        20,
        "Backtest to be enabled after Cancel",
    )
    assert "Not computed yet" in duo.find_element(f"#{ids.BACKTEST_STATUS}").text

    click(duo, ids.BACKTEST_RUN)
    duo.wait_for_contains_text(f"#{ids.BACKTEST_MESSAGE}", "Backtest done", timeout=300)
    wait_for(lambda: len(_chart(duo)) == 6, 30, "the new backtest's chart")
    assert set(_chart(duo).values()) == {6}
    assert (
        duo.find_element(f"#{ids.BACKTEST_STEPS}")
        .find_elements("css selector", "thead th")[-1]
        .text
        == "3"
    )

    started = time.monotonic()
    click(duo, ids.BACKTEST_RUN)
    duo.wait_for_contains_text(f"#{ids.BACKTEST_MESSAGE}", "in the cache", timeout=30)
    assert time.monotonic() - started < 15  # read from the cache, nothing trained
