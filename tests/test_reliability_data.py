"""Malformed daily CSV files are each refused with their own message.

Every file goes the whole way a user's file goes (load, then a training request), and the store
must not change. The app-level half (the app keeps serving) is in the dashboard tests.
"""

from __future__ import annotations

import gzip
import shutil
from pathlib import Path

import pytest
from helpers import AFTER_READING, CORPUS, HEADER, days

from model import ConfigError, DataError, Store, load_monthly, read_daily_csv
from model.data import MAX_UPLOAD_BYTES, aggregate_monthly
from model.windows import prepare, training_windows

pytestmark = pytest.mark.timeout(120)


def snapshot(store: Store) -> dict[str, bytes]:
    """Every entry file's bytes, so any change to the store shows."""
    return {
        path.name: path.read_bytes()
        for pattern in ("*.json", "*.keras")
        for path in sorted(store.folder.glob(pattern))
    }


def load_and_train(path: Path, store: Store, config) -> None:
    """What a user's file goes through: load (validate, aggregate), then a training request."""
    store.get_or_train(config, load_monthly(path))


def test_corpus_has_at_least_thirty_distinct_problems():
    assert len(CORPUS) >= 30
    assert len({fragments for _, fragments in CORPUS.values()}) >= 30


@pytest.mark.parametrize("case", sorted(CORPUS))
def test_malformed_file_gets_its_own_message_and_store_is_unchanged(
    case, tmp_path, built_in, tiny_config
):
    store = Store(shutil.copytree(built_in.folder, tmp_path / "store"))
    build, fragments = CORPUS[case]
    path = tmp_path / f"{case}.csv"
    path.write_bytes(build())
    before, listed = snapshot(store), store.entries()
    with pytest.raises((DataError, ConfigError)) as raised:
        load_and_train(path, store, tiny_config)
    message = str(raised.value)
    print(f"{case}: {message[:160]}")
    for fragment in fragments:
        assert fragment in message, f"{case}: {fragment!r} not in {message!r}"
    assert "Traceback" not in message and len(message) < 400
    if case not in AFTER_READING:
        assert path.name in message
    assert snapshot(store) == before and store.entries() == listed


def test_bytes_over_the_limit_are_refused_before_decoding():
    with pytest.raises(DataError, match="limit is 32 MB") as raised:
        read_daily_csv(b"\xff" * (MAX_UPLOAD_BYTES + 1), name="upload.csv")
    assert "upload.csv" in str(raised.value) and "UTF-8" not in str(raised.value)


ACCEPTED: dict[str, bytes] = {
    "utf8_bom": b"\xef\xbb\xbf" + (HEADER + days(45)).encode(),
    "extra_columns": (
        "Humidity9am,Date,Location,MinTemp,MaxTemp,Rainfall,WindDir\n"
        + "".join(f"55,{line},NW\n" for line in days(45).splitlines())
    ).encode(),
    "crlf": (HEADER + days(45)).replace("\n", "\r\n").encode(),
    "spaces_and_quotes": (
        "Date, Location ,MinTemp,MaxTemp,Rainfall\n"
        + "".join(
            f'{line.split(",")[0]}, "Alpha" ,{",".join(line.split(",")[2:])}\n'
            for line in days(45).splitlines()
        )
    ).encode(),
    "missing_markers": (
        HEADER + days(43) + "2010-02-13,Alpha,NA,,nan\n" + "2010-02-14,Alpha,NaN,20,\n"
    ).encode(),
    "gzip": gzip.compress((HEADER + days(45)).encode()),
    "gzip_members": b"".join(
        gzip.compress(part.encode()) for part in (HEADER, days(20), days(25, start="2010-01-21"))
    ),
}


@pytest.mark.parametrize("case", sorted(ACCEPTED))
def test_well_formed_variants_are_accepted(case, tmp_path):
    path = tmp_path / f"{case}.csv"
    path.write_bytes(ACCEPTED[case])
    daily = read_daily_csv(path)
    assert list(daily.columns) == ["Date", "Location", "MinTemp", "MaxTemp", "Rainfall"]
    assert len(daily) == 45 and set(daily["Location"]) == {"Alpha"}
    monthly = aggregate_monthly(daily)
    assert len(monthly) == 2 and monthly["temp"].notna().all()


def test_station_with_a_single_month_beside_others_adds_no_windows(tiny_config):
    text = HEADER + days(31, "Solo") + days(400, "Alpha", start="2009-01-01")
    monthly = aggregate_monthly(read_daily_csv(text.encode(), name="mixed.csv"))
    prepared = prepare(monthly, tiny_config)
    windows = training_windows(prepared, tiny_config)
    solo = prepared.locations.index("Solo")
    assert len(windows) > 0 and solo not in set(windows.location)
