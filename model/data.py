"""Load daily weatherAUS observations, validate them and aggregate them to monthly series."""

from __future__ import annotations

import codecs
import csv
import functools
import hashlib
import io
import re
import zlib
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from .files import SHARED, write_atomic
from .schema import EMBEDDED_MONTHLY, VARIABLES, DataError, short_repr

NUMERIC_COLUMNS = ("MinTemp", "MaxTemp", "Rainfall")
REQUIRED_COLUMNS = ("Date", "Location", *NUMERIC_COLUMNS)
# Optional daily columns placing a station, and the monthly columns that keep them.
POSITION_COLUMNS = {"Latitude": ("lat", 90.0), "Longitude": ("lon", 180.0)}
POSITIONS = tuple(column for column, _ in POSITION_COLUMNS.values())
MIN_DAYS_PER_MONTH = 10
MAX_INTERPOLATED_GAP = 3
MISSING_MARKERS = ("", "NA", "NaN", "nan")
MAX_COLUMNS = 1000  # weatherAUS has 23; a wider header is another kind of file
MAX_LISTED = 6  # column names an error message lists before "and N more"
MAX_ROW_LINES = 1000  # lines one row may span (quoted line breaks); each is read in Python
LINE_END = re.compile(rb"\r\n?|\n")  # where the csv module's text reader ends a line
MAX_UPLOAD_BYTES = 32 * 2**20  # the full weatherAUS file is 14 MB uncompressed
MAX_GZIP_MEMBERS = 4096  # gzip, pigz and bgzip (64 KB blocks) stay far below this at 32 MB
GZIP_SLICE = 1 << 14  # compressed bytes handed to zlib at a time
DECIMALS = 4  # monthly values are kept to 0.0001 (the observations have 0.1)
POSITION_DECIMALS = 3  # positions are kept to 0.001 degree (about 100 m), exact in NUMBER_FORMAT
# How monthly values are written, to files and to the text a fingerprint hashes, so a data set
# saved and read back keeps its fingerprint: exact for every DECIMALS-rounded value below 100.
NUMBER_FORMAT = "%.6g"


def read_daily_csv(source: str | Path | bytes, name: str | None = None) -> pd.DataFrame:
    """Read and validate a daily CSV in the weatherAUS schema (plain or gzip, path or bytes).

    Returns a frame with Date (datetime64), Location (str) and the numeric source columns,
    plus Latitude and Longitude when the file has them (one position per station, or none).
    Raises DataError naming the file, column, row and value of the first problem. Files (and
    their gzip content) over MAX_UPLOAD_BYTES are refused before they are decoded.
    """
    name = name or (str(source) if not isinstance(source, bytes) else "uploaded file")
    size = len(source) if isinstance(source, bytes) else Path(source).stat().st_size
    if size > MAX_UPLOAD_BYTES:
        raise DataError(
            f"{name}: the file is {size / 2**20:.1f} MB; the limit is "
            f"{MAX_UPLOAD_BYTES / 2**20:g} MB"
        )
    raw = Path(source).read_bytes() if not isinstance(source, bytes) else source
    frame, dates = _parse_csv(_checked_bytes(raw, name), name)
    return _validate_daily(frame, dates, name)


def _gunzip(raw: bytes, name: str) -> bytes:
    """Decompress every gzip member, refusing output over MAX_UPLOAD_BYTES (a gzip bomb).

    Input is fed in slices of a memoryview, so a file of many tiny members costs linear time
    (zlib copies at most one slice per member); over MAX_GZIP_MEMBERS members are refused.
    """
    out = bytearray()
    view = memoryview(raw)
    offset = members = 0
    while offset < len(view):
        members += 1
        if members > MAX_GZIP_MEMBERS:
            raise DataError(
                f"{name}: has more than {MAX_GZIP_MEMBERS} gzip members; "
                "compress the CSV as one gzip stream"
            )
        member = zlib.decompressobj(wbits=31)
        while not member.eof:
            piece = view[offset : offset + GZIP_SLICE]
            if not piece:
                raise DataError(f"{name}: not a readable gzip file (it is truncated)")
            try:
                out += member.decompress(piece, MAX_UPLOAD_BYTES + 1 - len(out))
            except zlib.error as error:
                raise DataError(f"{name}: not a readable gzip file ({error})") from None
            if len(out) > MAX_UPLOAD_BYTES:
                raise DataError(
                    f"{name}: decompresses to more than the {MAX_UPLOAD_BYTES / 2**20:g} MB limit"
                )
            offset += len(piece) - len(member.unused_data) - len(member.unconsumed_tail)
    return bytes(out)


def _checked_bytes(raw: bytes, name: str) -> bytes:
    """The file's bytes, un-gzipped, once they are known to be UTF-8 text with no NUL byte.

    Kept as bytes: read as text in chunks (TEXT_READER), never as one string of the file.
    """
    if raw[:2] == b"\x1f\x8b":
        raw = _gunzip(raw, name)
    if not raw or raw.isspace():
        raise DataError(f"{name}: the file is empty")
    if raw[:2] in (b"\xff\xfe", b"\xfe\xff") or b"\x00" in raw[:1000]:
        raise DataError(f"{name}: the file is UTF-16 or binary; save it as UTF-8 CSV")
    try:
        raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise DataError(
            f"{name}: not UTF-8 text (byte {raw[error.start]:#04x} at offset {error.start}); "
            "save it as UTF-8 CSV"
        ) from None
    if b"\x00" in raw:  # the CSV parser would silently cut the field there
        row = raw.count(b"\n", 0, raw.index(b"\x00")) + 1
        raise DataError(f"{name}: row {row} contains a NUL byte; save it as UTF-8 CSV")
    return raw


def _text(raw: bytes) -> io.TextIOWrapper:
    """The checked bytes as text read in chunks (a StringIO of the file would take 4 bytes a
    character), line ends left to the CSV readers."""
    return io.TextIOWrapper(io.BytesIO(raw), encoding="utf-8-sig", newline="")


def _check_rows(raw: bytes, name: str) -> list[str]:
    """The stripped header; DataError for a blank, too wide or repeating header, an unreadable
    row or a row of another width. Linear in the file's size: each byte is looked at once.

    One regex vouches, in C, for the rows of the header's width with every field within the
    CSV field limit (and blank lines); only the rows it cannot vouch for are read as CSV.
    """
    bom = len(codecs.BOM_UTF8) if raw.startswith(codecs.BOM_UTF8) else 0
    fields, start, last = _record(raw, bom, 1, name)
    header = _checked_header(fields, name)
    vouched, line = _vouching(len(header)), last + 1
    while start < len(raw):
        end = vouched.match(raw, start).end()  # type: ignore[union-attr]  # it matches ""
        line += _lines_in(raw, start, end)
        if end == len(raw):
            break
        row, start, last = _record(raw, end, line, name)
        if row and len(row) != len(header):
            raise DataError(
                f"{name}: row {last} has {len(row)} fields; the header has {len(header)}"
            )
        line = last + 1
    return header


def _checked_header(fields: list[str], name: str) -> list[str]:
    """The header's stripped names; DataError when blank, too wide or a name repeats."""
    if not fields:
        raise DataError(f"{name}: line 1 is blank; the header must be the first line")
    if len(fields) > MAX_COLUMNS:
        raise DataError(
            f"{name}: the header has {len(fields)} columns; a daily file may have at most "
            f"{MAX_COLUMNS} (weatherAUS has 23)"
        )
    header = [column.strip() for column in fields]
    repeated = sorted(column for column, count in Counter(header).items() if count > 1)
    if repeated:
        raise DataError(
            f"{name}: column(s) {_listed(repeated)} appear more than once in the header"
        )
    return header


def _record(raw: bytes, start: int, line: int, name: str) -> tuple[list[str], int, int]:
    """The CSV row whose first line, number `line`, starts at byte `start`: its fields, the
    byte after it and the number of its last line ([] for a blank line)."""
    ends = [start]

    def lines() -> Iterator[str]:  # split as the csv module's own text reader splits them
        while ends[-1] < len(raw):
            if len(ends) > MAX_ROW_LINES:
                raise DataError(
                    f"{name}: the row that starts on line {line} runs over more than "
                    f"{MAX_ROW_LINES} lines (a quoted field with line breaks): is a closing "
                    "quote missing?"
                )
            found = LINE_END.search(raw, ends[-1])
            ends.append(found.end() if found else len(raw))
            yield raw[ends[-2] : ends[-1]].decode()

    reader = csv.reader(lines())
    try:
        fields = next(reader, [])
    except csv.Error as error:
        raise _unreadable(name, line + reader.line_num - 1, error) from None
    return fields, ends[-1], line + reader.line_num - 1


def _vouching(width: int) -> re.Pattern[bytes]:
    """Blank lines and rows of `width` fields the csv module reads the same way, each field
    surely within its field limit (bytes are at least characters; a quoted field's inner
    and trailing parts at most half the limit each). A row without quotes is tried first."""
    limit = csv.field_size_limit()
    bare = rb'[^,"\r\n]{0,%d}+' % limit
    quoted = rb'"(?:[^"]|""){0,%d}+"(?!")[^,\r\n]{0,%d}+' % (limit // 2, limit // 2)
    field = rb'(?:(?=[,\r\n])|[^,"\r\n][^,\r\n]{0,%d}+|%s)' % (limit - 1, quoted)
    row = rb"(?:(?:%s,){%d}%s|(?:%s,){%d}%s)" % (bare, width - 1, bare, field, width - 1, field)
    return re.compile(rb"[\r\n]*+(?:%s[\r\n]++)*+" % row)  # CR and LF runs: blank lines


def _lines_in(raw: bytes, start: int, end: int) -> int:
    """How many line ends (CR LF, CR or LF) the bytes from `start` to `end` hold."""
    return (
        raw.count(b"\n", start, end) + raw.count(b"\r", start, end) - raw.count(b"\r\n", start, end)
    )


def _unreadable(name: str, line: int, error: csv.Error) -> DataError:
    """The error for a row the csv module cannot read (a field over its limit)."""
    return DataError(f"{name}: not a readable CSV file (row {line}: {error})")


def _listed(columns: list[str]) -> str:
    """The first MAX_LISTED column names for a message, each cut short, and how many more."""
    shown = [
        "(blank)" if not column else column[:40] + ("..." if len(column) > 40 else "")
        for column in columns[:MAX_LISTED]
    ]
    more = len(columns) - len(shown)
    return ", ".join(shown) + (f" and {more} more" if more else "")


def _parse_csv(raw: bytes, name: str) -> tuple[pd.DataFrame, pd.Series]:
    """The used columns as text, and the checked dates. The date column is read and checked
    alone first: a file of millions of rows too short to hold a date is refused before its
    other columns are read."""
    header = _check_rows(raw, name)
    present = set(header)
    missing = [column for column in REQUIRED_COLUMNS if column not in present]
    if missing:
        raise DataError(
            f"{name}: missing required column(s) {', '.join(missing)} "
            f"(header has: {_listed(header)}); is it a comma-separated weatherAUS file?"
        )
    placed = [column for column in POSITION_COLUMNS if column in present]
    if len(placed) == 1:
        (other,) = set(POSITION_COLUMNS) - set(placed)
        raise DataError(f"{name}: column {placed[0]} needs a column {other} beside it")
    texts = _read_columns(raw, header, ["Date"], name)["Date"]
    dates = pd.to_datetime(texts, format="%Y-%m-%d", errors="coerce")
    bad = np.flatnonzero(dates.isna().to_numpy())
    if bad.size:
        raise _problem(name, "Date", bad[0], texts.iat[bad[0]], "not a date in YYYY-MM-DD form")
    return _read_columns(raw, header, [*REQUIRED_COLUMNS, *placed], name), dates


def _read_columns(raw: bytes, header: list[str], columns: list[str], name: str) -> pd.DataFrame:
    """Some columns of the checked file, each cell the text as read."""
    try:
        frame = pd.read_csv(
            _text(raw),
            header=0,
            names=header,
            usecols=columns,
            dtype=object,  # dtype=str would copy every cell
            na_filter=False,  # no cell is read as missing: the checks know the markers
            skipinitialspace=True,
        )
    except (pd.errors.ParserError, ValueError) as error:
        raise DataError(f"{name}: not a readable CSV file ({error})") from None
    if frame.empty:
        raise DataError(f"{name}: the file has a header but no data rows")
    return frame


def _problem(name: str, column: str, position: int, value: object, problem: str) -> DataError:
    """The error for a cell; row numbers are the file's line numbers (header is line 1)."""
    return DataError(
        f"{name}: column {column}, row {position + 2}: {problem} ({short_repr(value)})"
    )


def _validate_daily(frame: pd.DataFrame, dates: pd.Series, name: str) -> pd.DataFrame:
    fail = functools.partial(_problem, name)
    codes, names = pd.factorize(frame["Location"])
    names = pd.Series(names, dtype=object).str.strip()
    locations = pd.Series(names.to_numpy()[codes], index=frame.index)
    for problem, wrong, shown in (  # each distinct name is checked once
        ("empty location", names == "", frame["Location"]),
        ("looks like a spreadsheet formula", names.str.match(r"^[=+\-@]"), locations),
        ("contains a control character", names.str.contains(r"[\x00-\x1f\x7f]"), locations),
    ):
        bad = np.flatnonzero(wrong.to_numpy()[codes])
        if bad.size:
            raise fail("Location", bad[0], shown.iat[bad[0]], problem)
    result = pd.DataFrame({"Date": dates, "Location": locations})
    for column in NUMERIC_COLUMNS:
        values, given = _numbers(frame[column])
        bad = np.flatnonzero(given & ~np.isfinite(values))
        if bad.size:
            raise fail(column, bad[0], frame[column].iat[bad[0]], "not a finite number")
        result[column] = values
    if "Latitude" in frame:
        _add_positions(result, frame, fail)
    duplicated = result.duplicated(["Date", "Location"])
    bad = np.flatnonzero(duplicated.to_numpy())
    if bad.size:
        row = bad[0]
        raise fail(
            "Date",
            row,
            f"{frame['Date'].iat[row]} {locations.iat[row]}",
            "duplicate (Date, Location) row",
        )
    return result


def _numbers(cells: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Each cell's number (NaN when missing or unreadable) and whether it is given (not a
    missing marker), spaces stripped; each distinct text is parsed once."""
    codes, texts = pd.factorize(cells)
    stripped = pd.Series(texts, dtype=object).str.strip()
    given = ~stripped.isin(MISSING_MARKERS).to_numpy()
    values = pd.to_numeric(stripped.where(given), errors="coerce").to_numpy(dtype=float)
    return values[codes], given[codes]


def _add_positions(
    result: pd.DataFrame, frame: pd.DataFrame, fail: Callable[[str, int, object, str], DataError]
) -> None:
    """Add checked Latitude and Longitude columns: in range, both or neither, one per station."""
    parsed = {column: _numbers(frame[column]) for column in POSITION_COLUMNS}
    given = {column: parsed[column][1] for column in POSITION_COLUMNS}
    for column, (_, limit) in POSITION_COLUMNS.items():
        values = parsed[column][0]
        bad = np.flatnonzero(given[column] & ~(np.abs(values) <= limit))
        if bad.size:
            raise fail(
                column,
                bad[0],
                frame[column].iat[bad[0]],
                f"not a number from {-limit:g} to {limit:g}",
            )
        result[column] = values
    for column, other in (("Latitude", "Longitude"), ("Longitude", "Latitude")):
        bad = np.flatnonzero(given[column] & ~given[other])
        if bad.size:
            raise fail(other, bad[0], frame[other].iat[bad[0]], f"empty while {column} is given")
    placed = result.dropna(subset=list(POSITION_COLUMNS))
    first = placed.groupby("Location")[list(POSITION_COLUMNS)].transform("first")
    for column in POSITION_COLUMNS:
        moved = np.flatnonzero((placed[column] != first[column]).to_numpy())
        if moved.size:
            row = placed.index[moved[0]]
            raise fail(
                column,
                row,
                frame[column].iat[row],
                f"station {short_repr(result['Location'].iat[row])} has {column} "
                f"{first[column].iat[moved[0]]:g} on an earlier row; give one position per station",
            )


def aggregate_monthly(daily: pd.DataFrame) -> pd.DataFrame:
    """Aggregate daily rows to one row per (location, month) with every variable.

    A month with fewer than MIN_DAYS_PER_MONTH observations of a variable is missing (NaN).
    Daily Latitude and Longitude become lat and lon on every row of their station (NaN for a
    station without them); a frame without any position has neither column.
    """
    daily = daily.assign(
        month=daily["Date"].dt.to_period("M").dt.to_timestamp(),
        temp=(daily["MinTemp"] + daily["MaxTemp"]) / 2,
        min_temp=daily["MinTemp"],
        max_temp=daily["MaxTemp"],
        rainfall=daily["Rainfall"],
    )
    grouped = daily.groupby(["Location", "month"])
    counts = grouped[list(VARIABLES)].count()
    monthly = grouped[["temp", "min_temp", "max_temp"]].mean()
    monthly["rainfall"] = grouped["rainfall"].sum(min_count=1)
    monthly = monthly.where(counts >= MIN_DAYS_PER_MONTH).round(DECIMALS)
    monthly = monthly.dropna(how="all").reset_index().rename(columns={"Location": "location"})
    if monthly.empty:
        raise DataError(f"no month has {MIN_DAYS_PER_MONTH} or more daily observations")
    if "Latitude" in daily and daily["Latitude"].notna().any():
        positions = daily.groupby("Location")[list(POSITION_COLUMNS)].first()
        positions = positions.round(POSITION_DECIMALS)
        positions.columns = list(POSITIONS)
        monthly = monthly.join(positions, on="location")
    return monthly.sort_values(["location", "month"], ignore_index=True)


def write_monthly(monthly: pd.DataFrame, path: str | Path, mode: int = SHARED) -> None:
    """Write a monthly frame as CSV in NUMBER_FORMAT, atomically; regeneration is byte-identical."""
    out = monthly.assign(month=monthly["month"].dt.strftime("%Y-%m"))
    write_atomic(
        path,
        lambda temporary: out.to_csv(
            temporary, index=False, float_format=NUMBER_FORMAT, lineterminator="\n"
        ),
        mode,
    )


def read_monthly(path: str | Path = EMBEDDED_MONTHLY) -> pd.DataFrame:
    """Read a monthly frame written by write_monthly (the embedded default when no path).

    Only the variables and positions may be missing: a station called "NA" stays a name.
    """
    monthly = pd.read_csv(
        path,
        dtype={"location": str, "month": str},
        keep_default_na=False,
        na_values={column: list(MISSING_MARKERS) for column in (*VARIABLES, *POSITIONS)},
    )
    monthly["month"] = pd.to_datetime(monthly["month"], format="%Y-%m")
    return monthly


def load_monthly(path: str | Path | None = None) -> pd.DataFrame:
    """Load monthly data: the embedded default, a monthly CSV, or a daily CSV to aggregate."""
    if path is None:
        return read_monthly()
    path = Path(path)
    if not path.is_file():
        raise DataError(f"data path {str(path)!r} does not exist")
    with path.open("rb") as handle:
        head = handle.read(2)
    if head != b"\x1f\x8b":
        with path.open(encoding="utf-8", errors="replace") as handle:
            first_line = handle.readline()
        if first_line.startswith("location,month,"):
            return read_monthly(path)
    return aggregate_monthly(read_daily_csv(path))


def build_embedded(raw_path: str | Path, out_path: str | Path = EMBEDDED_MONTHLY) -> pd.DataFrame:
    """Regenerate the embedded monthly file from the raw weatherAUS daily CSV."""
    monthly = aggregate_monthly(read_daily_csv(raw_path))
    write_monthly(monthly, out_path)
    return monthly


def series_table(monthly: pd.DataFrame, variable: str) -> pd.DataFrame:
    """Pivot one variable to a month x location table on a complete monthly index."""
    if variable not in VARIABLES:
        raise DataError(f"variable {variable!r} is not one of {', '.join(VARIABLES)}")
    table = monthly.pivot(index="month", columns="location", values=variable)
    observed = table.dropna(how="all").index
    if len(observed) < 2:
        covered = f" (only {observed[0]:%Y-%m})" if len(observed) else ""
        raise DataError(
            f"the data has {len(observed)} month(s) of {variable}{covered}; a forecast "
            "needs at least window + horizon months"
        )
    months = pd.date_range(table.index.min(), table.index.max(), freq="MS")
    return table.reindex(months).sort_index(axis=1)


def fill_short_gaps(table: pd.DataFrame, max_gap: int = MAX_INTERPOLATED_GAP) -> pd.DataFrame:
    """Linearly interpolate interior gaps of at most max_gap months; longer gaps stay missing."""
    values = table.to_numpy(dtype=float, copy=True)
    for column in values.T:  # views: filling a column fills `values`
        seen_at = np.flatnonzero(np.isfinite(column))
        if len(seen_at) < 2:
            continue
        rows = np.arange(seen_at[0] + 1, seen_at[-1])
        inside = rows[~np.isfinite(column[rows])]
        after = np.searchsorted(seen_at, inside)  # the observed month that ends each gap
        short = inside[seen_at[after] - seen_at[after - 1] - 1 <= max_gap]
        column[short] = np.interp(short, seen_at, column[seen_at])
    return pd.DataFrame(values, index=table.index, columns=table.columns)


def fingerprint(monthly: pd.DataFrame, variable: str) -> str:
    """Hash the monthly values of one variable, so any change to the data changes the key.

    The stations' positions, when the frame has them, are part of what is hashed: an upload's
    id (its fingerprint) then names its positions too.
    """
    used = monthly[["location", "month", variable]].dropna().sort_values(["location", "month"])
    text = used.to_csv(index=False, float_format=NUMBER_FORMAT, date_format="%Y-%m")
    if "lat" in monthly:
        text += positions_of(monthly).to_csv(float_format=NUMBER_FORMAT)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def positions_of(monthly: pd.DataFrame) -> pd.DataFrame:
    """lat and lon by location of the stations a monthly frame places (none without positions)."""
    if "lat" not in monthly:
        return pd.DataFrame(columns=list(POSITIONS), index=pd.Index([], name="location"))
    return monthly.groupby("location")[list(POSITIONS)].first().dropna()


@dataclass(frozen=True, eq=False)
class Dataset:
    """A monthly frame and the fingerprint of one of its variables, hashed once.

    Passed whole wherever both are needed, so a hash never strays from its frame; shared
    between requests, so the frame is never modified.
    """

    monthly: pd.DataFrame
    variable: str
    fingerprint: str

    @classmethod
    def of(cls, monthly: pd.DataFrame, variable: str) -> Dataset:
        """Hash `variable` of a monthly frame and keep the hash beside it."""
        return cls(monthly, variable, fingerprint(monthly, variable))


def locations_in(monthly: pd.DataFrame) -> list[str]:
    """Return the sorted location names of a monthly frame."""
    return sorted(monthly["location"].unique())
