"""Inside the GRU in headless Chromium: the gate lines and the heatmap, for a picked station."""

from __future__ import annotations

import pytest
from browsing import click
from helpers import wait_for

from dashboard.data.shipped import BUILT_IN, shipped_store
from dashboard.page import ids

pytestmark = [pytest.mark.browser, pytest.mark.slow]

# What the card's chart holds and draws: per trace its name, its points and, for the hidden
# state's cells, how many months and units; then how many filled shapes and lines are drawn.
DRAWN = """
const plot = document.querySelector('#gates-chart .js-plotly-plot');
if (!plot || !plot.data || !plot.data.length) return null;
const hidden = plot.data.filter(trace => trace.name === 'hidden state');
return {
  lines: plot.data.filter(trace => / gate$/.test(trace.name || ''))
    .map(trace => [trace.name, trace.y.length]),
  input: (plot.data.find(trace => trace.name === 'input') || {y: []}).y,
  cells: hidden.map(trace => [new Set(trace.x).size, new Set(trace.y).size]),
  colours: hidden.map(trace => trace.marker.color),
  fills: plot.querySelectorAll('.scatterlayer path.js-fill').length,
  drawn_lines: Array.from(plot.querySelectorAll('.scatterlayer path.js-line'))
    .filter(path => (path.getAttribute('d') || '').length > 20).length,
};
"""


def _drawn(duo) -> dict | None:
    return duo.driver.execute_script(DRAWN)


def _keys() -> dict[str, str]:
    keys = {record.config: record.key for record in shipped_store().entries()}
    return {name: keys[config] for name, config in BUILT_IN.items()}


def _into_view(duo, selector: str) -> None:
    """Scroll at once (Bootstrap scrolls smoothly, and a click aimed meanwhile lands elsewhere)."""
    duo.driver.execute_script(
        "arguments[0].scrollIntoView({block: 'center', behavior: 'instant'});",
        duo.find_element(selector),
    )


def _open_card(duo) -> None:
    _into_view(duo, f"#{ids.GATES_CHART}")


def _pick(duo, station: str) -> None:
    """Pick a station in the card's dropdown, as a user would."""
    _into_view(duo, f"#{ids.GATES_STATION}")
    duo.select_dcc_dropdown(f"#{ids.GATES_STATION}", value=station)


def test_the_default_s_gates_and_hidden_state_follow_the_picked_station(dash_duo):
    duo = dash_duo
    duo.driver.get(f"{duo.server_url}/?stations=Cairns,Darwin&model={_keys()['default']}")
    wait_for(lambda: _drawn(duo), 60, "the Inside the GRU chart")
    _open_card(duo)
    duo.wait_for_contains_text(f"#{ids.GATES_NOTE}", "Cairns: the 18 months", timeout=30)
    cairns = _drawn(duo)
    assert cairns["lines"] == [["update gate", 18], ["reset gate", 18]]
    assert cairns["cells"] == [[18, 16]]  # 18 months x 16 units
    assert len(cairns["input"]) == 18
    assert cairns["fills"] >= 2 and cairns["drawn_lines"] >= 3  # the heatmap, input and gates
    assert "how much of the old state is kept" in duo.find_element(f"#{ids.GATES_KEY}").text

    _pick(duo, "Darwin")
    duo.wait_for_contains_text(f"#{ids.GATES_NOTE}", "Darwin: the 18 months", timeout=30)
    wait_for(lambda: _drawn(duo)["input"] != cairns["input"], 30, "Darwin's input window")
    darwin = _drawn(duo)
    assert darwin["lines"] == cairns["lines"] and darwin["cells"] == [[18, 16]]
    assert darwin["colours"] != cairns["colours"]  # another window, other hidden states

    click(duo, ids.CLEAR)  # the card follows the page's selection
    duo.wait_for_contains_text(f"#{ids.GATES_CHART}", "Pick one or more stations", timeout=30)
    assert _drawn(duo) is None


def test_the_article_s_bidirectional_encoder_shows_both_directions(dash_duo):
    duo = dash_duo
    duo.driver.get(f"{duo.server_url}/?stations=Hobart,Darwin&model={_keys()['article']}")
    wait_for(lambda: _drawn(duo), 60, "the Inside the GRU chart")
    _open_card(duo)
    duo.wait_for_contains_text(f"#{ids.GATES_NOTE}", "Hobart: the 18 months", timeout=30)
    assert "reads the months last to first" in duo.find_element(f"#{ids.GATES_NOTE}").text
    hobart = _drawn(duo)
    assert hobart["cells"] == [[18, 32], [18, 32]]  # forward and backward, 32 units each
    assert [name for name, _ in hobart["lines"]] == ["update gate", "reset gate"] * 2
    titles = duo.find_element(f"#{ids.GATES_CHART}").text
    assert "Forward (first to last)" in titles and "Backward (last to first)" in titles

    _pick(duo, "Darwin")
    duo.wait_for_contains_text(f"#{ids.GATES_NOTE}", "Darwin: the 18 months", timeout=30)
    wait_for(lambda: _drawn(duo)["colours"] != hobart["colours"], 30, "Darwin's hidden states")
    assert _drawn(duo)["cells"] == [[18, 32], [18, 32]]
