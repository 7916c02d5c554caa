"""Upload CPU benchmark: seconds of CPU an upload's checks take on adversarial files.

Run from the repository root:

    python -m benchmarks.upload_cpu --label after               # this checkout
    python -m benchmarks.upload_cpu --label before --timeout 400  # an older checkout's code

Each case builds one file (at most the 20 MB upload limit) and times, in a process of its own,
what the upload callback does with the decoded bytes before it saves them: read and validate
the daily CSV, aggregate it, check its stations and hash it. A case still running after
--timeout seconds is stopped and reported as such. The CPU seconds of each label are kept in
benchmarks/upload_cpu.json, so a run on older code and one on this code share one table.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from benchmarks.common import BENCHMARKS, RESULTS, markdown_table, write_section
from benchmarks.upload_memory import LIMIT, daily_file
from benchmarks.upload_memory import ROW as DAILY_ROW  # bytes of its rows; quoted, 10 more
from dashboard.data.validate import check_upload_stations
from model import DataError, Dataset, aggregate_monthly, read_daily_csv

HEADER = "Date,Location,MinTemp,MaxTemp,Rainfall"
ROW = "2010-01-01,Alpha,10.5,20.0,0.2"
SAVED = BENCHMARKS / "upload_cpu.json"


def wide(columns: int) -> bytes:
    """One header line of `columns` distinct names (the five required first) and one row."""
    extra = columns - len(HEADER.split(","))
    names = ",".join(f"c{i}" for i in range(extra))
    return f"{HEADER},{names}\n{ROW}{',1' * extra}\n".encode()


def repeated_rows(row: str, header: str = HEADER) -> bytes:
    """The header, then `row` repeated up to the upload limit."""
    return (header + "\n" + row * ((LIMIT - len(header) - 1) // len(row))).encode()


def many_stations() -> bytes:
    """Stations of 10 days each (one full month), as many as fit: far over the station cap."""
    days = [f"2010-01-{day:02d}" for day in range(1, 11)]
    block = len("".join(f"{day},S000000,10.5,20.0,0.2\n" for day in days))
    stations = (LIMIT - len(HEADER) - 1) // block
    body = "".join(
        f"{day},S{station:06d},10.5,20.0,0.2\n" for station in range(stations) for day in days
    )
    return (HEADER + "\n" + body).encode()


def long_names(stations: int = 150, days: int = 12) -> bytes:
    """`stations` stations (under the cap) whose names are as long as the limit allows."""
    length = LIMIT // (stations * days) - len(",2010-01-01,10.5,20.0,0.2\n") - 8
    body = "".join(
        f"2010-01-{day + 1:02d},{'N' * length}{station:04d},10.5,20.0,0.2\n"
        for station in range(stations)
        for day in range(days)
    )
    return (HEADER + "\n" + body).encode()


def quoted_daily() -> bytes:
    """The valid daily file with every field in quotes, still under the limit."""
    lines = daily_file("SQ", limit=LIMIT * DAILY_ROW // (DAILY_ROW + 10)).splitlines()
    return b"".join(b'"' + line.replace(b",", b'","') + b'"\n' for line in lines)


# name -> (what the file is, how to build it)
CASES: dict[str, tuple[str, Callable[[], bytes]]] = {
    "header_20k": ("header of 20,000 columns, one row", lambda: wide(20_000)),
    "header_60k": ("header of 60,000 columns, one row", lambda: wide(60_000)),
    "header_200k": ("header of 200,000 columns, one row", lambda: wide(200_000)),
    "header_commas": (
        "header of 20 MB of commas (empty names)",
        lambda: b"," * (LIMIT - 1) + b"\n",
    ),
    "wide_rows": (
        "header of 1000 columns, rows of empty fields",
        lambda: repeated_rows("," * 999 + "\n", wide(1000).decode().splitlines()[0]),
    ),
    "valid": ("valid daily file, 160 stations", lambda: daily_file("SA")),
    "many_stations": ("stations of one month each, 10 rows", many_stations),
    "long_names": ("150 stations with 11 KB names", long_names),
    "blank_lines": ("header and 20 MB of blank lines", lambda: repeated_rows("\n")),
    "quoted_blank_lines": (
        "quoted header and 20 MB of blank lines",
        lambda: repeated_rows("\n", '"Date",Location,MinTemp,MaxTemp,Rainfall'),
    ),
    "quoted_line_breaks": (
        "a row whose quoted field holds 20 MB of line breaks",
        lambda: repeated_rows("\n", HEADER + '\n2010-01-01,"'),
    ),
    "empty_rows": ("rows of empty fields (`,,,,`)", lambda: repeated_rows(",,,,\n")),
    "dated_empty_rows": (
        "rows of a date and empty fields",
        lambda: repeated_rows("2010-01-01,,,,\n"),
    ),
    "quoted_valid": ("valid daily file, 160 stations, every field quoted", quoted_daily),
    "short_row_last": (
        "rows of one station, then a short row",
        lambda: repeated_rows(ROW + "\n") + b"2011-01-01,Alpha\n",
    ),
    "one_long_row": (
        "one data row of a 20 MB field",
        lambda: f"{HEADER}\n{ROW[:-3]}{'9' * (LIMIT - 100)}\n".encode(),
    ),
}


def answer(raw: bytes) -> str:
    """What the upload callback does with decoded bytes before saving them; its outcome."""
    try:
        monthly = aggregate_monthly(read_daily_csv(raw, name="upload.csv"))
        check_upload_stations(monthly, "upload.csv")
        Dataset.of(monthly, "temp")
    except (DataError, ValueError) as error:
        return f"refused: {str(error)[:200]}"
    return f"read: {monthly['location'].nunique()} stations, {len(monthly)} months"


def run_case(name: str) -> None:
    """Build one case's file, time its answer, print {size, cpu, answer} as JSON."""
    raw = CASES[name][1]()
    began = time.process_time()
    outcome = answer(raw)
    cpu = time.process_time() - began
    print(json.dumps({"size": len(raw), "cpu": cpu, "answer": outcome}))


def measure(name: str, timeout: float) -> dict[str, Any]:
    """Run one case in a process of its own; a case over `timeout` seconds is stopped."""
    command = [sys.executable, "-m", "benchmarks.upload_cpu", "--case", name]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=True)
    except subprocess.TimeoutExpired:
        return {"size": None, "cpu": None, "stopped": timeout, "answer": "stopped"}
    return json.loads(done.stdout.splitlines()[-1])


def cpu_text(result: dict[str, Any] | None) -> str:
    """CPU seconds for the table: '-' when not run, '> N' when stopped after N seconds."""
    if result is None:
        return "-"
    if result["cpu"] is None:
        return f"> {result['stopped']:g}"
    return f"{result['cpu']:.2f}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--case", choices=sorted(CASES), help=argparse.SUPPRESS)
    parser.add_argument("--label", default="after", help="before (older code) or after")
    parser.add_argument("--timeout", type=float, default=120.0)
    parser.add_argument("--only", nargs="*", choices=sorted(CASES), default=sorted(CASES))
    parser.add_argument("--out", default=str(RESULTS))
    parser.add_argument("--saved", default=str(SAVED))
    args = parser.parse_args(argv)
    if args.case:
        run_case(args.case)
        return 0
    saved_path = Path(args.saved)
    saved = json.loads(saved_path.read_text()) if saved_path.exists() else {}
    results = saved.setdefault(args.label, {})
    for name in args.only:
        results[name] = measure(name, args.timeout)
        print(name, cpu_text(results[name]), results[name]["answer"], flush=True)
    saved_path.write_text(json.dumps(saved, indent=1, sort_keys=True) + "\n")
    before, after = saved.get("before", {}), saved.get("after", {})
    rows = []
    for name, (what, _) in CASES.items():
        size = (after.get(name) or before.get(name) or {}).get("size")
        answer_text = str((after.get(name) or {}).get("answer", "-")).replace("|", "\\|")
        rows.append(
            [
                what,
                "-" if size is None else f"{size / 2**20:.2f} MB",
                cpu_text(before.get(name)),
                cpu_text(after.get(name)),
                answer_text,
            ]
        )
    text = "\n".join(
        [
            "## Upload CPU",
            "",
            "Command: `python -m benchmarks.upload_cpu --label after`, and `--label before "
            "--timeout 400` on the code before the fix. CPU seconds of one process reading, "
            "validating, aggregating, checking the stations of and hashing each file (what the "
            "upload callback does under its one-upload-at-a-time lock); '> N' was stopped after "
            "N seconds.",
            "",
            markdown_table(["file", "size", "CPU s before", "CPU s after", "answer now"], rows),
            "",
            f"1-minute load average at the end of this run (2 cores): {os.getloadavg()[0]:.1f}.",
        ]
    )
    print(text)
    write_section("upload-cpu", text, Path(args.out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
