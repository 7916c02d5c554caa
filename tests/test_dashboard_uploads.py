"""Uploads on a shared server: a station cap, state entries, a quota and the removal of unused ones.

Each test reproduces one observation with the callback functions.
"""

from __future__ import annotations

import base64
import dataclasses
import logging
import os
import re
import time
import tracemalloc

import pandas as pd
import pytest
from dash import no_update
from helpers import HEADER, days
from test_dashboard_callbacks import as_view, text

from dashboard.data.sources import VARIABLE, InputError, load_dataset, save_upload, upload_path
from dashboard.data.validate import MAX_STATIONS
from dashboard.page import ids
from dashboard.page.forecast import update_chart
from dashboard.page.state import update_view
from dashboard.page.your_data import upload_data
from dashboard.settings import Settings
from model import Dataset, read_daily_csv


@pytest.fixture
def settings(tmp_path):
    return Settings(cache_dir=tmp_path / "cache", use_shipped=False, max_upload_mb=2)


def daily_csv(stations: list[str], year: str = "2015") -> str:
    """A data URL of a daily file: 10 days of 5 months (the fewest a training fits in) for each
    station, a monthly value each."""
    rows = [
        f"{year}-{month:02d}-{day:02d},{station},{10 + day},{20 + day},0"
        for station in stations
        for month in range(1, 6)
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


# The number of stations ----------------------------------------------------------------------


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
    view = update_view(settings, ids.UPLOADED, event, None, "").view
    selected = update_view(settings, ids.SELECT_ALL, 1, view, "")
    assert len(selected.view["stations"]) == MAX_STATIONS and selected.notice is None


def test_a_state_entry_or_select_all_over_the_cap_says_so_and_changes_nothing(settings):
    """A data set kept from before the cap: its 'Other' state entry stood for every station."""
    dataset = save_upload(settings, Dataset.of(months_of(names(MAX_STATIONS + 1)), VARIABLE))
    view = as_view(names(2), dataset=dataset)
    for event, value in [(ids.STATIONS, ["state:Other"]), (ids.SELECT_ALL, 1)]:
        refused = update_view(settings, event, value, view, "")
        assert refused._replace(notice=no_update) == (no_update,) * 7
        expected = f"{MAX_STATIONS + 1} stations selected; the page shows at most 200"
        assert expected in text(refused.notice)
    figure, _, note = update_chart(
        settings, as_view(["state:Other"], None, dataset), [], "auto", ["served"]
    )
    assert f"{MAX_STATIONS + 1} stations selected" in text(note)


def test_a_station_named_like_a_state_entry_is_refused(settings):
    event, message = upload_data(
        settings, ids.UPLOAD, daily_csv(["Brisbane", "state:QLD"]), "states.csv"
    )
    assert event is no_update
    assert "states.csv: column Location, station 'state:QLD' starts with 'state:'" in text(message)


# A quota and the removal of unused uploads ---------------------------------------------------


def upload(settings: Settings, station: str) -> str:
    """Save a one-station data set as an upload; its id."""
    dataset = save_upload(settings, Dataset.of(months_of([station]), VARIABLE))
    assert dataset is not None
    return dataset


def used_ago(settings: Settings, dataset: str, hours: float) -> None:
    """Make an upload look last used `hours` ago."""
    moment = time.time() - hours * 3600
    os.utime(upload_path(settings, dataset), (moment, moment))


FILES = ("csv", "access.json")  # an upload's data and who may read it


def kept(settings: Settings) -> set[str]:
    return {path.name for path in settings.uploads_dir.iterdir()}


def test_a_new_upload_over_the_quota_removes_the_least_recently_used_with_its_side_files(
    settings,
):
    first, second = upload(settings, "Alpha"), upload(settings, "Bravo")
    assert kept(settings) >= {f"{second}.csv", f"{second}.access.json"}  # who may read it
    size = sum(path.stat().st_size for path in settings.uploads_dir.glob(f"{first}.*"))
    settings = dataclasses.replace(settings, uploads_quota_mb=2.5 * size / 2**20)
    used_ago(settings, first, 3)
    used_ago(settings, second, 2)
    load_dataset(settings, first)  # a session reads the first: now the second is the oldest used
    third = upload(settings, "Gamma")
    assert kept(settings) == {f"{name}.{end}" for name in (first, third) for end in FILES}
    with pytest.raises(InputError, match=f"data set '{second}' is not on this server"):
        load_dataset(settings, second)


def test_an_upload_larger_than_the_whole_quota_is_refused_and_removes_nothing(settings, caplog):
    first = upload(settings, "Alpha")
    small = dataclasses.replace(settings, uploads_quota_mb=0.001)
    with caplog.at_level(logging.INFO, logger="dashboard"):
        event, message = upload_data(small, ids.UPLOAD, daily_csv(names(30)), "many.csv")
    assert event is no_update
    assert "the data set takes 0.01 MB on the server, more than the 0.001 MB kept" in text(message)
    assert kept(settings) == {f"{first}.{end}" for end in FILES}
    assert "upload refused" in caplog.text


def test_unused_uploads_expire_with_every_file_and_the_session_is_told(settings):
    old, recent = upload(settings, "Alpha"), upload(settings, "Beta")
    (settings.uploads_dir / f"{old}.notes").write_text("a side file of a later version")
    used_ago(settings, old, 24 * 31)
    used_ago(settings, recent, 2)
    load_dataset(settings, recent)  # the first read in an hour: the moment expired ones go
    assert kept(settings) == {f"{recent}.{end}" for end in FILES}
    message = f"data set '{old}' is not on this server (uploads unused for 30 days"
    with pytest.raises(InputError, match=re.escape(message)):
        load_dataset(settings, old)
    opened = update_view(settings, None, None, as_view(["Alpha"], None, old), "")
    assert opened.view["dataset"] is None
    assert "upload it again, or reload the page" in text(opened.notice)


def test_a_read_records_a_use_at_most_once_an_hour_and_keeps_the_cached_data(settings):
    dataset = upload(settings, "Alpha")
    path = upload_path(settings, dataset)
    used_ago(settings, dataset, 0.5)
    before = path.stat().st_mtime
    first = load_dataset(settings, dataset)
    assert path.stat().st_mtime == before
    used_ago(settings, dataset, 1.5)
    assert load_dataset(settings, dataset) is first
    assert time.time() - path.stat().st_mtime < 60


def test_the_quota_and_the_age_come_from_the_environment(monkeypatch):
    monkeypatch.setenv("TEMPERATURE_FORECAST_UPLOADS_QUOTA_MB", "50")
    monkeypatch.setenv("TEMPERATURE_FORECAST_UPLOAD_MAX_AGE_DAYS", "0.5")
    settings = Settings.from_env()
    assert (settings.uploads_quota_bytes, settings.upload_max_age_days) == (50 * 2**20, 0.5)
    for name in (
        "TEMPERATURE_FORECAST_UPLOADS_QUOTA_MB",
        "TEMPERATURE_FORECAST_UPLOAD_MAX_AGE_DAYS",
    ):
        monkeypatch.setenv(name, "-1")
        with pytest.raises(ValueError, match=f"{name} \\('-1'\\) is not a positive number"):
            Settings.from_env()
        monkeypatch.delenv(name)
    assert (Settings.from_env().uploads_quota_mb, Settings.from_env().upload_max_age_days) == (
        500,
        30,
    )


def test_reading_an_upload_takes_a_few_times_its_size_in_memory():
    """It took 7.9 times here (two copies of the text at 4 bytes a character); a server reading
    4 maximum uploads at once reached 1 GB (benchmarks/RESULTS.md, upload memory)."""
    raw = (HEADER + "".join(days(3650, f"Station{number}") for number in range(6))).encode()
    raw = raw[: raw.index(b"\n", 2**19) + 1]  # 0.5 MB of whole rows
    tracemalloc.start()
    try:
        daily = read_daily_csv(raw, name="big.csv")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert len(daily) == raw.count(b"\n") - 1
    assert peak < 6.8 * len(raw)
