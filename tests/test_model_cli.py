"""`python -m model`: train (table and JSON), forecast, list, delete, and one-line errors."""

from __future__ import annotations

import csv
import io
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from model import BASELINES, Store
from model.data import write_monthly

TINY = [
    "--window",
    "6",
    "--horizon",
    "3",
    "--units",
    "4",
    "--epochs",
    "1",
    "--ensemble",
    "1",
    "--patience",
    "0",
    "--no-bidirectional",
    "--calibration",
    "validation",  # the default preset cross-fits: two more trainings
]


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "model", *args], capture_output=True, text=True, timeout=300
    )


@pytest.fixture
def small_csv(small_monthly, tmp_path):
    path = tmp_path / "small.csv"
    write_monthly(small_monthly, path)
    return path


@pytest.fixture(scope="module")
def trained_by_cli(small_monthly, tmp_path_factory) -> tuple[Path, Path, dict]:
    """(data file, store folder, JSON answer) of one `train --json` run, shared read-only."""
    folder = tmp_path_factory.mktemp("cli")
    data = folder / "small.csv"
    write_monthly(small_monthly, data)
    answer = run_cli(
        "train", *TINY, "--data", str(data), "--cache-dir", str(folder / "c"), "--json"
    )
    assert answer.returncode == 0, answer.stderr
    return data, folder / "c", json.loads(answer.stdout)


@pytest.mark.slow
def test_train_json_then_cache_hit(small_csv, tmp_path):
    args = ["train", *TINY, "--data", str(small_csv), "--cache-dir", str(tmp_path / "c"), "--json"]
    first = run_cli(*args)
    assert first.returncode == 0, first.stderr
    result = json.loads(first.stdout)
    assert set(result) == {
        "key",
        "cache_hit",
        "train_seconds",
        "config",
        "cutoff",
        "metrics",
        "skill",
        "per_location",
        "per_step_mae",
        "interval_coverage",
    }
    assert result["cache_hit"] is False and result["cutoff"] == "2017-03"
    best = min(BASELINES, key=lambda name: result["metrics"][name]["mae"])
    assert result["skill"]["baseline"] == best  # against the best baseline, named
    assert isinstance(result["skill"]["percent"], float)
    assert set(result["metrics"]) == {
        "served",
        "network",
        "seasonal_curve",
        "climatology",
        "seasonal_naive",
        "persistence",
    }
    assert set(result["metrics"]["climatology"]) == {"mae", "rmse"}
    assert set(result["per_step_mae"]) == set(result["metrics"])
    assert all(len(steps) == 3 for steps in result["per_step_mae"].values())
    second = json.loads(run_cli(*args).stdout)
    assert second["cache_hit"] is True and second["key"] == result["key"]
    assert second["metrics"] == result["metrics"]

    forecast = run_cli(
        "forecast", result["key"], "--data", str(small_csv), "--cache-dir", str(tmp_path / "c")
    )
    assert forecast.returncode == 0, forecast.stderr
    rows = list(csv.DictReader(io.StringIO(forecast.stdout)))
    recorded = Store(tmp_path / "c").record(result["key"]).forecast  # from the same data
    assert list(rows[0]) == list(recorded)
    assert [(row["location"], row["month"]) for row in rows] == list(
        zip(recorded["location"], recorded["month"], strict=True)
    )
    assert [float(row["served"]) for row in rows] == pytest.approx(recorded["served"], abs=1e-3)

    listed = run_cli("list", "--cache-dir", str(tmp_path / "c"), "--json")
    assert [entry["key"] for entry in json.loads(listed.stdout)] == [result["key"]]
    table = run_cli("train", *TINY, "--data", str(small_csv), "--cache-dir", str(tmp_path / "c"))
    assert "cache hit" in table.stdout and "climatology" in table.stdout
    deleted = run_cli("delete", result["key"], "--cache-dir", str(tmp_path / "c"))
    assert deleted.returncode == 0
    assert "no cached networks" in run_cli("list", "--cache-dir", str(tmp_path / "c")).stdout


@pytest.mark.slow
def test_a_cache_hit_reads_no_data_and_an_edited_file_is_read_again(
    trained_by_cli, small_monthly, tmp_path
):
    """A hit answers from the store alone (pandas never loads); other bytes mean another key."""
    data, trained_cache, first = trained_by_cli
    small_csv, cache = tmp_path / "small.csv", tmp_path / "c"
    shutil.copyfile(data, small_csv)
    shutil.copytree(trained_cache, cache, ignore=shutil.ignore_patterns("*.lock"))
    args = ["train", *TINY, "--data", str(small_csv), "--cache-dir", str(cache), "--json"]
    probe = (
        "import contextlib, io, sys\nfrom model.cli import main\n"
        f"with contextlib.redirect_stdout(io.StringIO()):\n    main({args!r})\n"
        "print([name for name in ('pandas', 'numpy', 'tensorflow') if name in sys.modules])"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=120
    )
    assert loaded.stdout.strip() == "[]", loaded.stderr
    write_monthly(small_monthly.assign(temp=small_monthly["temp"] + 0.5), small_csv)
    second = json.loads(run_cli(*args).stdout)
    assert second["cache_hit"] is False and second["key"] != first["key"]


@pytest.mark.slow
@pytest.mark.parametrize("memo", ["{not json", '{"x": 1}', "[]", "MEMO_WITH_FORGED_ENTRY"])
def test_a_damaged_data_memo_is_ignored_and_rewritten(trained_by_cli, tmp_path, memo):
    data, trained_cache, first = trained_by_cli
    cache = tmp_path / "c"
    shutil.copytree(trained_cache, cache, ignore=shutil.ignore_patterns("*.lock"))
    args = ["train", *TINY, "--data", str(data), "--cache-dir", str(cache), "--json"]
    memo_path = cache / "data.memo"
    if memo == "MEMO_WITH_FORGED_ENTRY":  # the right file digest, a fingerprint of nothing
        entries = json.loads(memo_path.read_text())
        memo = json.dumps({name: {"fingerprint": 7, "last_month": "soon"} for name in entries})
    memo_path.write_text(memo)
    again = run_cli(*args)
    assert json.loads(again.stdout)["cache_hit"] is True, again.stderr
    assert json.loads(again.stdout)["key"] == first["key"]
    assert isinstance(json.loads(memo_path.read_text()), dict)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["train", "--window", "2"], "error: window must be between 3 and 60 (got 2)"),
        (
            ["train", "--window", "60", "--horizon", "36", "--cutoff", "2012-12"],
            "error: window 60 + horizon 36 leave no training window before cutoff 2012-12",
        ),
        (["train", "--cutoff", "December"], "error: cutoff ('December') must be a month"),
        (["train", "--data", "/nonexistent.csv"], "error: data path '/nonexistent.csv'"),
        (["delete", "abc123"], "error: no store entry with key abc123"),
    ],
)
def test_user_mistakes_print_one_line_and_exit_2(args, message, tmp_path):
    result = run_cli(*args, "--cache-dir", str(tmp_path))
    assert result.returncode == 2
    assert result.stderr.strip() == message or result.stderr.strip().startswith(message)
    assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_bad_data_file_is_reported_by_name(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("Date,Location,MinTemp,MaxTemp,Rainfall\n2010-01-01,A,x,2,0\n")
    result = run_cli("train", "--data", str(bad), "--cache-dir", str(tmp_path))
    assert result.returncode == 2
    assert "bad.csv: column MinTemp, row 2" in result.stderr
