"""Uploads on a shared server: a station cap, state entries, a quota and the removal of unused ones.

Issue 14, findings 8 and 9: each test reproduces one observation with the callback functions.
"""

from __future__ import annotations

import base64

import pandas as pd
import pytest
from dash import no_update
from helpers import HEADER
from test_dashboard_callbacks import as_view, text

from dashboard import ids
from dashboard.callbacks import update_chart, upload_data
from dashboard.settings import Settings
from dashboard.sources import VARIABLE, save_upload
from dashboard.validate import MAX_STATIONS
from dashboard.view import update_view
from model import Dataset


@pytest.fixture
def settings(tmp_path):
    return Settings(cache_dir=tmp_path / "cache", use_shipped=False, max_upload_mb=2)


def daily_csv(stations: list[str], month: str = "2015-01") -> str:
    """A data URL of a daily file: 10 days of one month for each station (a monthly value each)."""
    rows = [
        f"{month}-{day:02d},{station},{10 + day},{20 + day},0"
        for station in stations
        for day in range(1, 11)
    ]
    payload = (HEADER + "\n".join(rows)).encode()
    return "data:text/csv;base64," + base64.b64encode(payload).decode()


def names(count: int) -> list[str]:
    return [f"Station{number:05d}" for number in range(count)]


def months_of(stations: list[str]) -> pd.DataFrame:
    """A monthly frame of 12 months for each station, as an upload is saved."""
    months = pd.date_range("2015-01-01", periods=12, freq="MS")
    frame = pd.DataFrame(
        [(station, month) for station in stations for month in months],
        columns=["location", "month"],
    )
    return frame.assign(temp=15.0, MinTemp=10.0, MaxTemp=20.0, Rainfall=1.0)


# Finding 9: the number of stations ------------------------------------------------------------


def test_an_upload_over_the_station_cap_is_refused_naming_count_and_cap(settings):
    event, message = upload_data(
        settings, ids.UPLOAD, daily_csv(names(MAX_STATIONS + 1)), "big.csv"
    )
    assert event is no_update
    assert f"big.csv has {MAX_STATIONS + 1} stations; an upload may have at most 200" in text(
        message
    )
    assert not settings.uploads_dir.exists() or not any(settings.uploads_dir.iterdir())


def test_an_upload_at_the_station_cap_can_select_all(settings):
    event, _ = upload_data(settings, ids.UPLOAD, daily_csv(names(MAX_STATIONS)), "cap.csv")
    view = update_view(settings, ids.UPLOADED, event, None, "")[0]
    selected = update_view(settings, ids.SELECT_ALL, 1, view, "")
    assert len(selected[0]["stations"]) == MAX_STATIONS and selected[-1] is None


def test_a_state_entry_or_select_all_over_the_cap_says_so_and_changes_nothing(settings):
    """A data set kept from before the cap: its 'Other' state entry stood for every station."""
    dataset = save_upload(settings, Dataset.of(months_of(names(MAX_STATIONS + 1)), VARIABLE))
    view = as_view(names(2), dataset=dataset)
    for event, value in [(ids.STATIONS, ["state:Other"]), (ids.SELECT_ALL, 1)]:
        *unchanged, notice = update_view(settings, event, value, view, "")
        assert unchanged == [no_update] * 6
        assert f"{MAX_STATIONS + 1} stations selected; the page shows at most 200" in text(notice)
    figure, _, note = update_chart(
        settings, as_view(["state:Other"], None, dataset), [], "auto", ["model"]
    )
    assert f"{MAX_STATIONS + 1} stations selected" in text(note)


def test_a_station_named_like_a_state_entry_is_refused(settings):
    event, message = upload_data(
        settings, ids.UPLOAD, daily_csv(["Brisbane", "state:QLD"]), "states.csv"
    )
    assert event is no_update
    assert "states.csv: column Location, station 'state:QLD' starts with 'state:'" in text(message)
