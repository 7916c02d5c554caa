"""Loading, validating and aggregating the daily data; the embedded monthly file."""

from __future__ import annotations

import csv
import gzip
import io

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from model import DataError, aggregate_monthly, fingerprint, load_monthly, read_daily_csv
from model.data import (
    EMBEDDED_MONTHLY,
    _check_rows,
    build_embedded,
    fill_short_gaps,
    positions_of,
    read_monthly,
    series_table,
    write_monthly,
)
from model.schema import VARIABLES

HEADER = "Date,Location,MinTemp,MaxTemp,Rainfall,Humidity9am\n"


def daily_csv(tmp_path, body: str, header: str = HEADER, name: str = "daily.csv"):
    path = tmp_path / name
    path.write_text(header + body, encoding="utf-8")
    return path


def test_embedded_file_regenerates_identically_from_the_raw_data(raw_data, tmp_path):
    rebuilt = tmp_path / "monthly.csv"
    build_embedded(raw_data, rebuilt)
    assert rebuilt.read_bytes() == EMBEDDED_MONTHLY.read_bytes()


def test_embedded_data_covers_every_station_and_known_gaps(monthly):
    assert monthly["location"].nunique() == 49
    assert monthly["month"].min() == pd.Timestamp("2007-11-01")
    assert monthly["month"].max() == pd.Timestamp("2017-06-01")
    table = series_table(monthly, "temp")
    # Three months are missing for every station in the raw data.
    for month in ("2011-04-01", "2012-12-01", "2013-02-01"):
        assert table.loc[month].isna().all()


def test_monthly_values_are_means_of_daily_medians_and_rain_totals(tmp_path):
    days = pd.date_range("2010-01-01", "2010-01-12")
    body = "".join(f"{day:%Y-%m-%d},Alpha,{i},{i + 10},1.5,50\n" for i, day in enumerate(days))
    monthly = aggregate_monthly(read_daily_csv(daily_csv(tmp_path, body)))
    row = monthly.iloc[0]
    assert row["temp"] == pytest.approx(np.mean([(i + i + 10) / 2 for i in range(12)]))
    assert row["min_temp"] == pytest.approx(5.5)
    assert row["rainfall"] == pytest.approx(18.0)


def test_a_written_monthly_file_reads_back_to_the_same_values_and_fingerprint(tmp_path):
    """Monthly files and fingerprints share one number format, so saving changes nothing."""
    days = pd.date_range("2010-01-01", "2010-03-31")
    body = "".join(
        f"{day:%Y-%m-%d},Alpha,{-3.1 + i % 7 * 0.3:.1f},{9.7 + i % 5 * 0.1:.1f},"
        f"{10 + i % 3 * 0.1:.1f},50\n"
        for i, day in enumerate(days)
    )
    monthly = aggregate_monthly(read_daily_csv(daily_csv(tmp_path, body)))
    assert (monthly["min_temp"] < 0).all() and (monthly["rainfall"] > 100).all()
    write_monthly(monthly, tmp_path / "monthly.csv")
    again = read_monthly(tmp_path / "monthly.csv")
    pd.testing.assert_frame_equal(again, monthly, check_exact=True)
    for variable in VARIABLES:
        assert fingerprint(again, variable) == fingerprint(monthly, variable)


def test_month_with_fewer_than_ten_days_is_missing(tmp_path):
    days = list(pd.date_range("2010-01-01", "2010-01-12")) + list(
        pd.date_range("2010-02-01", "2010-02-09")
    )
    body = "".join(f"{day:%Y-%m-%d},Alpha,10,20,0,50\n" for day in days)
    monthly = aggregate_monthly(read_daily_csv(daily_csv(tmp_path, body)))
    assert list(monthly["month"]) == [pd.Timestamp("2010-01-01")]


def test_gzip_and_plain_files_load_the_same(tmp_path):
    body = "2010-01-01,Alpha,10,20,0,50\n2010-01-02,Alpha,11,21,NA,50\n"
    plain = daily_csv(tmp_path, body)
    zipped = tmp_path / "daily.csv.gz"
    zipped.write_bytes(gzip.compress(plain.read_bytes()))
    pd.testing.assert_frame_equal(read_daily_csv(plain), read_daily_csv(zipped))


@pytest.mark.parametrize(
    ("header", "body", "expected"),
    [
        (HEADER, "", "no data rows"),
        ("Date;Location;MinTemp;MaxTemp;Rainfall\n", "2010-01-01;A;1;2;0\n", "missing required"),
        ("Date,Location,MinTemp,Rainfall\n", "2010-01-01,A,1,0\n", "MaxTemp"),
        (HEADER, "2010-13-01,Alpha,10,20,0,50\n", "column Date, row 2"),
        (HEADER, "2010-01-01,Alpha,10,20,0,50\n2010-01-01,Alpha,11,21,0,5\n", "duplicate"),
        (HEADER, "2010-01-01,Alpha,ten,20,0,50\n", "column MinTemp, row 2"),
        (HEADER, "2010-01-01,Alpha,10,inf,0,50\n", "column MaxTemp, row 2"),
        (HEADER, "2010-01-01,=cmd|' /C calc'!A0,10,20,0,50\n", "formula"),
    ],
)
def test_bad_files_raise_one_clear_error(tmp_path, header, body, expected):
    with pytest.raises(DataError, match=expected) as raised:
        read_daily_csv(daily_csv(tmp_path, body, header))
    assert "daily.csv" in str(raised.value)


def test_empty_and_non_text_files_are_refused(tmp_path):
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    with pytest.raises(DataError, match="empty"):
        read_daily_csv(empty)
    binary = tmp_path / "image.csv"
    binary.write_bytes("Date,Location\n".encode("utf-16"))
    with pytest.raises(DataError, match="UTF-16"):
        read_daily_csv(binary)
    with pytest.raises(DataError, match="does not exist"):
        load_monthly(tmp_path / "absent.csv")


def test_station_names_that_look_missing_round_trip_exactly(tmp_path):
    names = ["NA", "None", "null", "NaN", "N/A", "123"]
    days = pd.date_range("2010-01-01", "2010-01-12")
    body = "".join(f"{day:%Y-%m-%d},{name},10,20,,50\n" for name in names for day in days)
    monthly = aggregate_monthly(read_daily_csv(daily_csv(tmp_path, body)))
    write_monthly(monthly, tmp_path / "monthly.csv")
    again = read_monthly(tmp_path / "monthly.csv")
    assert sorted(again["location"]) == sorted(names)
    assert again["rainfall"].isna().all() and again["temp"].notna().all()
    assert fingerprint(again, "temp") == fingerprint(monthly, "temp")


def test_short_gaps_are_interpolated_and_long_gaps_split_the_series():
    months = pd.date_range("2010-01-01", periods=12, freq="MS")
    values = [1.0, np.nan, np.nan, 4.0, 5.0, np.nan, np.nan, np.nan, np.nan, 10.0, 11.0, 12.0]
    edges = [np.nan, 2.0, np.nan, np.nan, np.nan, 6.0, 7.0, 8.0, 9.0, 10.0, np.nan, np.nan]
    table = fill_short_gaps(pd.DataFrame({"A": values, "B": edges}, index=months))
    filled = table["A"]
    assert filled.iloc[1:3].tolist() == [2.0, 3.0]
    assert filled.iloc[5:9].isna().all()
    assert table["B"].iloc[2:5].tolist() == [3.0, 4.0, 5.0]  # a 3-month gap is still filled
    assert table["B"].iloc[[0, 10, 11]].isna().all()  # never before the first or after the last


def test_fingerprint_changes_when_the_data_changes(small_monthly):
    before = fingerprint(small_monthly, "temp")
    changed = small_monthly.copy()
    changed.loc[0, "temp"] += 0.1
    assert fingerprint(changed, "temp") != before
    assert fingerprint(small_monthly.copy(), "temp") == before


PLACED = "Date,Location,MinTemp,MaxTemp,Rainfall,Latitude,Longitude\n"


def placed_body(stations: dict[str, str]) -> str:
    """A year of days for each station, its Latitude,Longitude cells as given."""
    days = pd.date_range("2010-01-01", "2010-12-31")
    return "".join(
        f"{day:%Y-%m-%d},{station},10,20,0,{position}\n"
        for station, position in stations.items()
        for day in days
    )


def test_uploaded_positions_place_their_stations_and_survive_the_monthly_file(tmp_path):
    body = placed_body({"Seattle": "47.60621,-122.33207", "Nowhere": ","})
    monthly = aggregate_monthly(read_daily_csv(daily_csv(tmp_path, body, PLACED)))
    assert positions_of(monthly).to_dict("index") == {"Seattle": {"lat": 47.606, "lon": -122.332}}
    write_monthly(monthly, tmp_path / "monthly.csv")
    again = read_monthly(tmp_path / "monthly.csv")
    pd.testing.assert_frame_equal(again, monthly, check_exact=True, check_dtype=False)
    assert fingerprint(again, "temp") == fingerprint(monthly, "temp")


def test_positions_are_part_of_the_fingerprint_and_empty_ones_are_none(tmp_path):
    """Moving a station makes another data set; a file whose positions are all empty does not."""

    def read(body: str, header: str = PLACED) -> pd.DataFrame:
        return aggregate_monthly(read_daily_csv(daily_csv(tmp_path, body, header)))

    assert fingerprint(read(placed_body({"A": "1,2"})), "temp") != fingerprint(
        read(placed_body({"A": "1,3"})), "temp"
    )
    empty = read(placed_body({"A": ","}))
    bare = read(
        placed_body({"A": ""}).replace(",\n", "\n"), PLACED.replace(",Latitude,Longitude", "")
    )
    assert "lat" not in empty and fingerprint(empty, "temp") == fingerprint(bare, "temp")


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (
            "2010-01-01,A,10,20,0,-91,150\n",
            "column Latitude, row 2: not a number from -90 to 90 ('-91')",
        ),
        (
            "2010-01-01,A,10,20,0,-33,180.5\n",
            "column Longitude, row 2: not a number from -180 to 180 ('180.5')",
        ),
        (
            "2010-01-01,A,10,20,0,north,150\n",
            "column Latitude, row 2: not a number from -90 to 90 ('north')",
        ),
        ("2010-01-01,A,10,20,0,-33,\n", "column Longitude, row 2: empty while Latitude is given"),
        ("2010-01-01,A,10,20,0,,150\n", "column Latitude, row 2: empty while Longitude is given"),
        (
            "2010-01-01,A,10,20,0,-33,150\n2010-01-02,A,10,20,0,-34,150\n",
            "column Latitude, row 3: station 'A' has Latitude -33 on an earlier row",
        ),
    ],
)
def test_a_bad_position_is_named_by_column_row_and_value(tmp_path, body, expected):
    with pytest.raises(DataError) as raised:
        read_daily_csv(daily_csv(tmp_path, body, PLACED))
    assert expected in str(raised.value)


def test_a_latitude_without_a_longitude_column_is_refused(tmp_path):
    header = "Date,Location,MinTemp,MaxTemp,Rainfall,Latitude\n"
    with pytest.raises(DataError, match="column Latitude needs a column Longitude"):
        read_daily_csv(daily_csv(tmp_path, "2010-01-01,A,10,20,0,-33\n", header))


# Adversarial shapes: each is refused (or read) by checks linear in the file's size; their
# CPU cost is measured in benchmarks/upload_cpu.py, never here.


def test_a_header_of_200k_columns_is_refused_as_too_wide():
    header = "Date,Location,MinTemp,MaxTemp,Rainfall" + "".join(f",c{i}" for i in range(199_995))
    raw = f"{header}\n2010-01-01,Alpha,1,2,3{',1' * 199_995}\n".encode()
    with pytest.raises(DataError) as raised:
        read_daily_csv(raw, name="wide.csv")
    message = str(raised.value)
    assert message.startswith("wide.csv: the header has 200000 columns")
    assert "at most 1000" in message and len(message) < 200


def test_every_repeated_column_name_is_counted_and_the_first_are_named():
    names = [f"col{i}" for i in range(10)]
    header = "Date,Location,MinTemp,MaxTemp,Rainfall," + ",".join(names + names + ["", ""])
    raw = f"{header}\n2010-01-01,Alpha,1,2,3{',1' * 22}\n".encode()
    with pytest.raises(DataError) as raised:
        read_daily_csv(raw, name="twice.csv")
    assert str(raised.value) == (
        "twice.csv: column(s) (blank), col0, col1, col2, col3, col4 and 5 more "
        "appear more than once in the header"
    )


ROWS = [
    "Date,Location,MinTemp,MaxTemp,Rainfall",
    "2010-01-01,Alpha,1,2,3",
    "",
    "",
    "2010-01-02,Alpha,1,2,3",
    "2010-01-03,Alpha,1,2",
    "2010-01-04,Alpha,1,2,3",
]


@pytest.mark.parametrize(
    "variant",
    [
        lambda text: text,
        lambda text: text.replace("\n", "\r\n"),
        lambda text: text.replace("Alpha", '"Alpha"'),
        lambda text: text.replace("Alpha,1,2,3", "Alpha,1,2,3,4", 1),
    ],
    ids=["plain", "crlf", "quoted", "long_first"],
)
def test_a_row_of_another_width_is_named_by_its_line_in_every_kind_of_file(variant):
    """Rows a regex vouches for and rows the csv module reads are told apart by the same line
    numbers, blank lines and quoted fields counted."""
    raw = variant("\n".join(ROWS) + "\n").encode()
    first_bad = 2 if b"3,4" in raw else 6
    fields = 6 if first_bad == 2 else 4
    with pytest.raises(DataError, match=f"row {first_bad} has {fields} fields; the header has 5"):
        read_daily_csv(raw, name="rows.csv")


@pytest.mark.parametrize("quote", ["", '"'], ids=["plain", "quoted"])
def test_the_csv_field_limit_counts_characters_not_bytes(quote):
    """A station name of 70,000 two-byte characters is under the CSV field limit (131,072)
    though its bytes are over it; 140,000 characters are over it."""
    days = pd.date_range("2010-01-01", periods=12)

    def file(length: int) -> bytes:
        name = f"{quote}{'é' * length}{quote}"
        body = "".join(f"{day:%Y-%m-%d},{name},1,2,3\n" for day in days)
        return ("Date,Location,MinTemp,MaxTemp,Rainfall\n" + body).encode()

    daily = read_daily_csv(file(70_000), name="long.csv")
    assert daily["Location"].str.len().unique().tolist() == [70_000]
    with pytest.raises(DataError, match="row 2: field larger than field limit"):
        read_daily_csv(file(140_000), name="long.csv")


def csv_module_verdict(text: str) -> str:
    """What reading every row with the csv module says of a file: the header or the problem."""
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader, [])
        for row in reader:
            if row and len(row) != len(header):
                return f"row {reader.line_num} has {len(row)} fields"
    except csv.Error as error:
        return f"row {reader.line_num}: {error}"
    return repr([column.strip() for column in header])


@settings(max_examples=400, deadline=None)
@given(
    text=st.text(alphabet='aé,"\r\n ', max_size=40).map(lambda body: "x,y,z\n" + body),
    limit=st.sampled_from([3, csv.field_size_limit()]),
)
def test_rows_are_judged_as_the_csv_module_judges_them(text, limit):
    """The regex only vouches for rows the csv module reads with the header's width (fields
    within its field limit, here also a tiny one); every other row is read by it."""
    default = csv.field_size_limit(limit)
    try:
        expected = csv_module_verdict(text)
        try:
            found = repr(_check_rows(text.encode(), "f.csv"))
        except DataError as error:
            found = str(error).removeprefix("f.csv: ").removeprefix("not a readable CSV file (")
            found = found.removesuffix(")").split("; the header")[0]
    finally:
        csv.field_size_limit(default)
    assert found == expected
