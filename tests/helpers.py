"""What several test files share: paths, tiny configs, the malformed-file corpus, runners."""

from __future__ import annotations

import errno
import gzip
import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import flask
import pandas as pd
import pytest

from benchmarks.common import CHROME_ARGS, CHROMIUM  # noqa: F401 (the browser tests use them)
from model import DEFAULT, Store, TrainConfig
from model.data import MAX_UPLOAD_BYTES

REPO = Path(__file__).resolve().parents[1]
RAW_DATA = REPO.parent / "shared" / "data" / "weatherAUS.csv.gz"
SMALL_LOCATIONS = ["Cairns", "Canberra", "Darwin", "Hobart"]
IN_CI = os.environ.get("CI", "").lower() == "true"

BROWSER_SESSION = "tests-browser-session-0123456789"  # the shape of a session cookie


def require(condition: bool, reason: str) -> None:
    """Skip on a developer's machine, fail under CI=true, when a test's prerequisite is missing."""
    if condition:
        return
    if IN_CI:
        pytest.fail(f"{reason} (required under CI=true)")
    pytest.skip(reason)


STATIONS = ["Cairns", "Hobart"]
# The smallest config the pipeline accepts; still a real GRU network trained by Keras.
FAST_CHANGES = {
    "window": 3,
    "horizon": 1,
    "units": 2,
    "epochs": 1,
    "ensemble": 1,
    "patience": 0,
    "batch_size": 256,
    "bidirectional": False,
    "calendar": False,
    "anomalies": False,
    "calibration": "validation",  # one network, no cross-fitting folds
}
FAST = TrainConfig(**FAST_CHANGES)  # in-process tests: independent of the tuned DEFAULT
# What a training test sets of the fields that decide its cost, so that none inherits the plain
# recipe's ensemble of three bidirectional networks by accident; tests replace what they need.
TINY = TrainConfig(
    units=4, epochs=1, patience=0, batch_size=64, ensemble=1, bidirectional=False, seed=7
)
CLI_FAST = DEFAULT.replace(**FAST_CHANGES)  # what `python -m model train` builds from FAST_FLAGS
FAST_FLAGS = [
    flag
    for name, value in FAST_CHANGES.items()
    for flag in (
        [f"--{'' if value else 'no-'}{name}"]
        if isinstance(value, bool)
        else [f"--{name.replace('_', '-')}", str(value)]
    )
]


def two_stations(monthly: pd.DataFrame) -> pd.DataFrame:
    """The embedded monthly data of STATIONS only."""
    return monthly[monthly["location"].isin(STATIONS)].reset_index(drop=True)


def start_cli_train(cache_dir: Path, data: Path, seed: int) -> subprocess.Popen:
    """Start `python -m model train --json` with the CLI_FAST config and a seed."""
    env = {**os.environ, "PYTHONPATH": str(REPO), "TF_CPP_MIN_LOG_LEVEL": "3"}
    command = [
        sys.executable,
        "-m",
        "model",
        "train",
        "--json",
        "--cache-dir",
        str(cache_dir),
        "--data",
        str(data),
        "--seed",
        str(seed),
        *FAST_FLAGS,
    ]
    return subprocess.Popen(
        command, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def runs_without_tensorflow(code: str, *args: str, timeout: float = 120) -> None:
    """Run `code` in a new Python process (a test process may have loaded TensorFlow already);
    assert that it succeeds and leaves neither TensorFlow nor Keras imported."""
    probe = (
        f"{code}\nimport sys\nprint('LOADED', sorted(m for m in sys.modules"
        " if m.split('.')[0] in ('tensorflow', 'keras')))"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe, *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "LOADED []" in result.stdout, result.stdout[-2000:]


def entry_files(store: Store) -> list[str]:
    """Names of the entry files (records, networks, gates; not temporaries or locks)."""
    return sorted(
        path.name
        for path in store.folder.iterdir()
        if path.suffix in (".json", ".keras") and not path.name.startswith(".")
    )


def temporaries(store: Store) -> list[str]:
    """Names of temporary files left in the store folder."""
    return sorted(
        path.name
        for path in store.folder.iterdir()
        if path.name.endswith((".tmp.json", ".tmp.keras"))
    )


def wait_for(condition: Callable[[], object], timeout: float, what: str) -> None:
    """Poll `condition` until it holds; fail naming `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.25)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def fill_disk(folder: Path) -> None:
    """Fill the filesystem holding `folder` to its last byte, with the file `filler` there."""
    with (folder / "filler").open("wb", buffering=0) as filler:
        for block in (1 << 16, 1 << 12, 1):
            try:
                while True:
                    filler.write(b"\0" * block)
            except OSError as error:
                assert error.errno == errno.ENOSPC, error


def free_port() -> int:
    """A free TCP port on 127.0.0.1."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


# Malformed daily files

HEADER = "Date,Location,MinTemp,MaxTemp,Rainfall\n"
INJECTION = "=cmd|' /C calc'!A0"


def days(count: int = 40, location: str = "Alpha", start: str = "2010-01-01") -> str:
    """Valid daily rows for one station."""
    dates = pd.date_range(start, periods=count)
    return "".join(
        f"{day:%Y-%m-%d},{location},{10 + i % 5}.5,{20 + i % 7}.0,{i % 3}.2\n"
        for i, day in enumerate(dates)
    )


def with_row(row: str, before: int = 3) -> bytes:
    """A valid file whose data row number `before + 1` (file line before + 2) is `row`."""
    return (HEADER + days(before) + row + "\n" + days(5, start="2011-01-01")).encode()


def oversized() -> bytes:
    """A valid file just over MAX_UPLOAD_BYTES."""
    line = days(1)
    return (HEADER + line * (MAX_UPLOAD_BYTES // len(line) + 1)).encode()


# name -> (build the file's bytes, fragments its message must contain)
CORPUS: dict[str, tuple[Callable[[], bytes], tuple[str, ...]]] = {
    "empty": (lambda: b"", ("the file is empty",)),
    "blank_lines": (lambda: b"\n \n\t\n", ("the file is empty",)),
    "header_only": (lambda: HEADER.encode(), ("header but no data rows",)),
    "semicolons": (
        lambda: (HEADER + days(3)).replace(",", ";").encode(),
        ("missing required column(s) Date", "comma-separated"),
    ),
    "tabs": (
        lambda: (HEADER + days(3)).replace(",", "\t").encode(),
        ("missing required column(s) Date", "comma-separated"),
    ),
    "latin1": (
        lambda: (HEADER + days(3, "Pérth")).encode("latin-1"),
        ("not UTF-8", "byte 0xe9 at offset"),
    ),
    "utf16_bom": (lambda: (HEADER + days(3)).encode("utf-16"), ("UTF-16",)),
    "utf16_no_bom": (lambda: (HEADER + days(3)).encode("utf-16-le"), ("UTF-16",)),
    "binary_image": (
        lambda: b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)),
        ("UTF-16 or binary",),
    ),
    "nul_byte_later": (
        lambda: (HEADER + days(60)).encode() + b"2012-01-01,Al\x00pha,1,2,3\n",
        ("row 62 contains a NUL byte",),
    ),
    "control_character": (
        lambda: with_row("2010-02-01,Al\x07pha,1,2,3"),
        ("column Location, row 5", "control character", "\\x07"),
    ),
    "impossible_date": (
        lambda: with_row("2010-13-45,Alpha,1,2,3"),
        ("column Date, row 5", "2010-13-45"),
    ),
    "day_first_date": (
        lambda: with_row("31/01/2010,Alpha,1,2,3"),
        ("column Date, row 5", "31/01/2010"),
    ),
    "date_with_time": (
        lambda: with_row("2010-02-01 09:00,Alpha,1,2,3"),
        ("column Date, row 5", "YYYY-MM-DD"),
    ),
    "formula_date": (lambda: with_row("=TODAY(),Alpha,1,2,3"), ("column Date, row 5", "=TODAY()")),
    "duplicate_date": (
        lambda: with_row("2010-01-02,Alpha,1,2,3"),
        ("column Date, row 5", "duplicate (Date, Location) row", "2010-01-02 Alpha"),
    ),
    "non_numeric": (
        lambda: with_row("2010-02-01,Alpha,warm,2,3"),
        ("column MinTemp, row 5", "not a finite number", "'warm'"),
    ),
    "infinite": (
        lambda: with_row("2010-02-01,Alpha,1,inf,3"),
        ("column MaxTemp, row 5", "not a finite number", "'inf'"),
    ),
    "minus_infinity": (
        lambda: with_row("2010-02-01,Alpha,1,2,-Infinity"),
        ("column Rainfall, row 5", "'-Infinity'"),
    ),
    "overflow": (
        lambda: with_row("2010-02-01,Alpha,1e400,2,3"),
        ("column MinTemp, row 5", "'1e400'"),
    ),
    "formula_number": (
        lambda: with_row("2010-02-01,Alpha,1,=1+1,3"),
        ("column MaxTemp, row 5", "'=1+1'"),
    ),
    "missing_column": (
        lambda: b"Date,Location,MinTemp,Rainfall\n2010-01-01,Alpha,1,3\n",
        ("missing required column(s) MaxTemp", "header has: Date, Location"),
    ),
    "missing_date": (
        lambda: b"Day,Location,MinTemp,MaxTemp,Rainfall\n1,Alpha,1,2,3\n",
        ("missing required column(s) Date",),
    ),
    "duplicate_header": (
        lambda: b"Date,Location,MinTemp,MaxTemp,Rainfall,MinTemp\n" + b"2010-01-01,Alpha,1,2,3,4\n",
        ("column(s) MinTemp appear more than once",),
    ),
    "too_many_columns": (
        lambda: (HEADER.strip() + "".join(f",c{i}" for i in range(200_000)) + "\n").encode(),
        ("the header has 200005 columns", "at most 1000"),
    ),
    "blank_first_line": (
        lambda: ("\n" + HEADER + days(3)).encode(),
        ("line 1 is blank", "header must be the first line"),
    ),
    "formula_location": (
        lambda: with_row(f"2010-02-01,{INJECTION},1,2,3"),
        ("column Location, row 5", "spreadsheet formula", INJECTION),
    ),
    "formula_plus": (
        lambda: with_row(f"2010-02-01,+{INJECTION[1:]},1,2,3"),
        ("column Location, row 5", "spreadsheet formula"),
    ),
    "formula_at": (
        lambda: with_row("2010-02-01,\"@SUM(1+1)*cmd|' /C calc'!A0\",1,2,3"),
        ("column Location, row 5", "spreadsheet formula", "@SUM"),
    ),
    "formula_minus": (
        lambda: with_row("2010-02-01,-2+3+cmd|' /C calc'!A0,1,2,3"),
        ("column Location, row 5", "spreadsheet formula"),
    ),
    "huge_bad_location": (
        lambda: with_row("2010-02-01,Al\x07" + "p" * 100_000 + ",1,2,3"),
        ("column Location, row 5", "control character", "'Al\\x07ppp"),
    ),
    "empty_location": (
        lambda: with_row("2010-02-01,  ,1,2,3"),
        ("column Location, row 5", "empty location"),
    ),
    "short_row": (
        lambda: with_row("2010-02-01,Alpha,1"),
        ("row 5 has 3 fields; the header has 5",),
    ),
    "long_row": (
        lambda: with_row("2010-02-01,Alpha,1,2,3,4,5"),
        ("row 5 has 7 fields; the header has 5",),
    ),
    "unclosed_quote": (
        lambda: with_row('2010-02-01,"Alpha,1,2,3'),
        ("has 2 fields; the header has 5",),
    ),
    "quote_runs_on": (
        lambda: with_row('2010-02-01,"Alpha,1,2,3') + days(1200, start="2012-01-01").encode(),
        ("the row that starts on line 5 runs over more than 1000 lines", "closing quote"),
    ),
    "huge_cell": (
        lambda: with_row("2010-02-01,Alpha,1,2," + "9" * 200_000),
        ("not a readable CSV file", "row 5", "field larger than field limit"),
    ),
    "over_size_limit": (oversized, ("MB; the limit is 32 MB",)),
    "gzip_truncated": (
        lambda: gzip.compress((HEADER + days(400)).encode())[:300],
        ("not a readable gzip file (it is truncated)",),
    ),
    "gzip_corrupt": (
        lambda: gzip.compress((HEADER + days(40)).encode())[:12] + b"garbage" * 20,
        ("not a readable gzip file (Error -3",),
    ),
    "gzip_bomb": (
        lambda: gzip.compress(HEADER.encode() + b"0" * (MAX_UPLOAD_BYTES + 1)),
        ("decompresses to more than the 32 MB limit",),
    ),
    # 6.1 MB of empty members: refused at member 4097, not decompressed one tail copy at a time
    "gzip_many_members": (
        lambda: gzip.compress(b"", mtime=0) * 320_000,
        ("has more than 4096 gzip members", "one gzip stream"),
    ),
    "all_values_missing": (
        lambda: (
            HEADER
            + "".join(
                f"{day:%Y-%m-%d},Alpha,NA,,nan\n" for day in pd.date_range("2010-01-01", periods=40)
            )
        ).encode(),
        ("no month has 10 or more daily observations",),
    ),
    "single_month": (
        lambda: (HEADER + days(31, "Solo")).encode(),
        ("1 month(s) of temp (only 2010-01)", "window + horizon"),
    ),
}


AFTER_READING = {"all_values_missing", "single_month"}  # refused by aggregation or preparation


@contextmanager
def as_session(session_id: str) -> Iterator[None]:
    """Act inside a request of this browser session, as a callback or its training job does."""
    with flask.Flask(__name__).test_request_context():
        flask.g.session_id = session_id
        yield
