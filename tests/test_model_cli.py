"""`python -m model`: train (table and JSON), list, delete, and one-line errors."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from model.data import write_monthly

TINY = ["--window", "6", "--horizon", "3", "--units", "4", "--epochs", "1", "--ensemble", "1",
        "--patience", "0"]


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "model", *args], capture_output=True,
                          text=True, timeout=300)


@pytest.fixture
def small_csv(small_monthly, tmp_path):
    path = tmp_path / "small.csv"
    write_monthly(small_monthly, path)
    return path


def test_train_json_then_cache_hit(small_csv, tmp_path):
    args = ["train", *TINY, "--data", str(small_csv), "--cache-dir", str(tmp_path / "c"), "--json"]
    first = run_cli(*args)
    assert first.returncode == 0, first.stderr
    result = json.loads(first.stdout)
    assert set(result) == {"key", "cache_hit", "train_seconds", "config", "cutoff", "metrics",
                           "per_location", "interval_coverage"}
    assert result["cache_hit"] is False and result["cutoff"] == "2017-03"
    assert set(result["metrics"]["climatology"]) == {"mae", "rmse"}
    second = json.loads(run_cli(*args).stdout)
    assert second["cache_hit"] is True and second["key"] == result["key"]
    assert second["metrics"] == result["metrics"]

    listed = run_cli("list", "--cache-dir", str(tmp_path / "c"), "--json")
    assert [entry["key"] for entry in json.loads(listed.stdout)] == [result["key"]]
    table = run_cli("train", *TINY, "--data", str(small_csv), "--cache-dir", str(tmp_path / "c"))
    assert "cache hit" in table.stdout and "climatology" in table.stdout
    deleted = run_cli("delete", result["key"], "--cache-dir", str(tmp_path / "c"))
    assert deleted.returncode == 0
    assert "no cached networks" in run_cli("list", "--cache-dir", str(tmp_path / "c")).stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["train", "--window", "2"], "error: window (2) must be between 3 and 60"),
        (["train", "--window", "60", "--horizon", "36", "--cutoff", "2012-12"],
         "error: window 60 + horizon 36 leave no training window before cutoff 2012-12"),
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
