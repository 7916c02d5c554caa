"""Reliability 5: malformed daily CSV files are each refused with their own message.

Every file goes the whole way a user's file goes (load, then a training request), and the store
must not change. The app-level half (the app keeps serving) is in the dashboard tests.
"""

from __future__ import annotations

import gzip
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest

from model import ConfigError, DataError, Store, load_monthly, read_daily_csv
from model.data import MAX_UPLOAD_BYTES, aggregate_monthly
from model.windows import prepare, training_windows

pytestmark = pytest.mark.timeout(120)

HEADER = "Date,Location,MinTemp,MaxTemp,Rainfall\n"
INJECTION = "=cmd|' /C calc'!A0"


def days(count: int = 40, location: str = "Alpha", start: str = "2010-01-01") -> str:
    """Valid daily rows for one station."""
    dates = pd.date_range(start, periods=count)
    return "".join(f"{day:%Y-%m-%d},{location},{10 + i % 5}.5,{20 + i % 7}.0,{i % 3}.2\n"
                   for i, day in enumerate(dates))


def with_row(row: str, before: int = 3) -> bytes:
    """A valid file whose data row number `before + 1` (file line before + 2) is `row`."""
    return (HEADER + days(before) + row + "\n" + days(5, start="2011-01-01")).encode()


def oversized() -> bytes:
    line = days(1)
    return (HEADER + line * (MAX_UPLOAD_BYTES // len(line) + 1)).encode()


# name -> (build the file's bytes, fragments its message must contain)
CORPUS: dict[str, tuple[Callable[[], bytes], tuple[str, ...]]] = {
    "empty": (lambda: b"", ("the file is empty",)),
    "blank_lines": (lambda: b"\n \n\t\n", ("the file is empty",)),
    "header_only": (lambda: HEADER.encode(), ("header but no data rows",)),
    "semicolons": (lambda: (HEADER + days(3)).replace(",", ";").encode(),
                   ("missing required column(s) Date", "comma-separated")),
    "tabs": (lambda: (HEADER + days(3)).replace(",", "\t").encode(),
             ("missing required column(s) Date", "comma-separated")),
    "latin1": (lambda: (HEADER + days(3, "Pérth")).encode("latin-1"),
               ("not UTF-8", "byte 0xe9 at offset")),
    "utf16_bom": (lambda: (HEADER + days(3)).encode("utf-16"), ("UTF-16",)),
    "utf16_no_bom": (lambda: (HEADER + days(3)).encode("utf-16-le"), ("UTF-16",)),
    "binary_image": (lambda: b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)),
                     ("UTF-16 or binary",)),
    "nul_byte_later": (lambda: (HEADER + days(60)).encode() + b"2012-01-01,Al\x00pha,1,2,3\n",
                       ("row 62 contains a NUL byte",)),
    "control_character": (lambda: with_row("2010-02-01,Al\x07pha,1,2,3"),
                          ("column Location, row 5", "control character", "\\x07")),
    "impossible_date": (lambda: with_row("2010-13-45,Alpha,1,2,3"),
                        ("column Date, row 5", "2010-13-45")),
    "day_first_date": (lambda: with_row("31/01/2010,Alpha,1,2,3"),
                       ("column Date, row 5", "31/01/2010")),
    "date_with_time": (lambda: with_row("2010-02-01 09:00,Alpha,1,2,3"),
                       ("column Date, row 5", "YYYY-MM-DD")),
    "formula_date": (lambda: with_row("=TODAY(),Alpha,1,2,3"), ("column Date, row 5", "=TODAY()")),
    "duplicate_date": (lambda: with_row("2010-01-02,Alpha,1,2,3"),
                       ("column Date, row 5", "duplicate (Date, Location) row",
                        "2010-01-02 Alpha")),
    "non_numeric": (lambda: with_row("2010-02-01,Alpha,warm,2,3"),
                    ("column MinTemp, row 5", "not a finite number", "'warm'")),
    "infinite": (lambda: with_row("2010-02-01,Alpha,1,inf,3"),
                 ("column MaxTemp, row 5", "not a finite number", "'inf'")),
    "minus_infinity": (lambda: with_row("2010-02-01,Alpha,1,2,-Infinity"),
                       ("column Rainfall, row 5", "'-Infinity'")),
    "overflow": (lambda: with_row("2010-02-01,Alpha,1e400,2,3"),
                 ("column MinTemp, row 5", "'1e400'")),
    "formula_number": (lambda: with_row("2010-02-01,Alpha,1,=1+1,3"),
                       ("column MaxTemp, row 5", "'=1+1'")),
    "missing_column": (lambda: b"Date,Location,MinTemp,Rainfall\n2010-01-01,Alpha,1,3\n",
                       ("missing required column(s) MaxTemp", "header has: Date, Location")),
    "missing_date": (lambda: b"Day,Location,MinTemp,MaxTemp,Rainfall\n1,Alpha,1,2,3\n",
                     ("missing required column(s) Date",)),
    "duplicate_header": (lambda: b"Date,Location,MinTemp,MaxTemp,Rainfall,MinTemp\n"
                         + b"2010-01-01,Alpha,1,2,3,4\n",
                         ("column(s) MinTemp appear more than once",)),
    "formula_location": (lambda: with_row(f"2010-02-01,{INJECTION},1,2,3"),
                         ("column Location, row 5", "spreadsheet formula", INJECTION)),
    "formula_plus": (lambda: with_row(f"2010-02-01,+{INJECTION[1:]},1,2,3"),
                     ("column Location, row 5", "spreadsheet formula")),
    "formula_at": (lambda: with_row('2010-02-01,"@SUM(1+1)*cmd|\' /C calc\'!A0",1,2,3'),
                   ("column Location, row 5", "spreadsheet formula", "@SUM")),
    "formula_minus": (lambda: with_row("2010-02-01,-2+3+cmd|' /C calc'!A0,1,2,3"),
                      ("column Location, row 5", "spreadsheet formula")),
    "huge_bad_location": (lambda: with_row("2010-02-01,Al\x07" + "p" * 100_000 + ",1,2,3"),
                          ("column Location, row 5", "control character", "'Al\\x07ppp")),
    "empty_location": (lambda: with_row("2010-02-01,  ,1,2,3"),
                       ("column Location, row 5", "empty location")),
    "short_row": (lambda: with_row("2010-02-01,Alpha,1"),
                  ("row 5 has 3 fields; the header has 5",)),
    "long_row": (lambda: with_row("2010-02-01,Alpha,1,2,3,4,5"),
                 ("row 5 has 7 fields; the header has 5",)),
    "unclosed_quote": (lambda: with_row('2010-02-01,"Alpha,1,2,3'),
                       ("has 2 fields; the header has 5",)),
    "huge_cell": (lambda: with_row("2010-02-01,Alpha,1,2," + "9" * 200_000),
                  ("not a readable CSV file", "row 5", "field larger than field limit")),
    "over_size_limit": (oversized, ("MB; the limit is 32 MB",)),
    "gzip_truncated": (lambda: gzip.compress((HEADER + days(400)).encode())[:300],
                       ("not a readable gzip file (it is truncated)",)),
    "gzip_corrupt": (lambda: gzip.compress((HEADER + days(40)).encode())[:12] + b"garbage" * 20,
                     ("not a readable gzip file (Error -3",)),
    "gzip_bomb": (lambda: gzip.compress(HEADER.encode() + b"0" * (MAX_UPLOAD_BYTES + 1)),
                  ("decompresses to more than the 32 MB limit",)),
    # 6.1 MB of empty members: refused at member 4097, not decompressed one tail copy at a time
    "gzip_many_members": (lambda: gzip.compress(b"", mtime=0) * 320_000,
                          ("has more than 4096 gzip members", "one gzip stream")),
    "all_values_missing": (lambda: (HEADER + "".join(
        f"{day:%Y-%m-%d},Alpha,NA,,nan\n" for day in pd.date_range("2010-01-01", periods=40)
    )).encode(), ("no month has 10 or more daily observations",)),
    "single_month": (lambda: (HEADER + days(31, "Solo")).encode(),
                     ("1 month(s) of temp (only 2010-01)", "window + horizon")),
}


AFTER_READING = {"all_values_missing", "single_month"}  # refused by aggregation or preparation


def snapshot(store: Store) -> dict[str, bytes]:
    """Every entry file's bytes, so any change to the store shows."""
    return {path.name: path.read_bytes() for pattern in ("*.json", "*.keras")
            for path in sorted(store.folder.glob(pattern))}


def load_and_train(path: Path, store: Store, config) -> None:
    """What a user's file goes through: load (validate, aggregate), then a training request."""
    store.get_or_train(config, load_monthly(path))


def test_corpus_has_at_least_thirty_distinct_problems():
    assert len(CORPUS) >= 30
    assert len({fragments for _, fragments in CORPUS.values()}) >= 30


@pytest.mark.parametrize("case", sorted(CORPUS))
def test_malformed_file_gets_its_own_message_and_store_is_unchanged(case, tmp_path, trained,
                                                                     tiny_config):
    store, record = trained
    build, fragments = CORPUS[case]
    path = tmp_path / f"{case}.csv"
    path.write_bytes(build())
    before = snapshot(store)
    with pytest.raises((DataError, ConfigError)) as raised:
        load_and_train(path, store, tiny_config)
    message = str(raised.value)
    print(f"{case}: {message[:160]}")
    for fragment in fragments:
        assert fragment in message, f"{case}: {fragment!r} not in {message!r}"
    assert "Traceback" not in message and len(message) < 400
    if case not in AFTER_READING:
        assert path.name in message
    assert snapshot(store) == before
    assert [entry.key for entry in store.entries()] == [record.key]


def test_bytes_over_the_limit_are_refused_before_decoding():
    with pytest.raises(DataError, match="limit is 32 MB") as raised:
        read_daily_csv(b"\xff" * (MAX_UPLOAD_BYTES + 1), name="upload.csv")
    assert "upload.csv" in str(raised.value) and "UTF-8" not in str(raised.value)


ACCEPTED: dict[str, bytes] = {
    "utf8_bom": b"\xef\xbb\xbf" + (HEADER + days(45)).encode(),
    "extra_columns": ("Humidity9am,Date,Location,MinTemp,MaxTemp,Rainfall,WindDir\n" + "".join(
        f"55,{line},NW\n" for line in days(45).splitlines())).encode(),
    "crlf": (HEADER + days(45)).replace("\n", "\r\n").encode(),
    "spaces_and_quotes": ("Date, Location ,MinTemp,MaxTemp,Rainfall\n" + "".join(
        f'{line.split(",")[0]}, "Alpha" ,{",".join(line.split(",")[2:])}\n'
        for line in days(45).splitlines())).encode(),
    "missing_markers": (HEADER + days(43) + "2010-02-13,Alpha,NA,,nan\n"
                        + "2010-02-14,Alpha,NaN,20,\n").encode(),
    "gzip": gzip.compress((HEADER + days(45)).encode()),
    "gzip_members": b"".join(gzip.compress(part.encode()) for part in
                             (HEADER, days(20), days(25, start="2010-01-21"))),
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
