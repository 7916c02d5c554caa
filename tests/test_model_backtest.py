"""The rolling-origin backtest: cutoffs, sums, the CLI's JSON, the cache and the stop hook."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from helpers import CLI_FAST, FAST, FAST_FLAGS, REPO

from model import (
    METHOD_KEYS,
    PERSISTENCE,
    SERVED,
    Backtest,
    Store,
    backtest_cutoffs,
    run_backtest,
)
from model.config import months_before
from model.data import write_monthly


def test_cutoffs_are_six_months_apart_ending_at_the_models(small_monthly):
    last = f"{small_monthly['month'].max():%Y-%m}"
    cutoffs = backtest_cutoffs(FAST.replace(horizon=6), small_monthly)
    assert cutoffs == [months_before(last, 6 + 6 * k) for k in range(6)]
    assert backtest_cutoffs(FAST.replace(cutoff="2012-03"), small_monthly)[1:3] == [
        "2011-09",
        "2011-03",
    ]


def test_sums_of_records(default_record, article_record):
    """Mean, spread, per-step mean and wins follow the records' own scores."""
    records = [default_record, article_record]  # any two records of one horizon will do
    result = Backtest.of(default_record.config, records)
    both = [m for m in METHOD_KEYS if m in default_record.metrics and m in article_record.metrics]
    assert result.methods == both  # a method one record lacks is left out
    for method in result.methods:
        maes = [r.metrics[method].mae for r in records]
        assert result.mae[method] == maes
        assert result.mean[method] == pytest.approx(sum(maes) / 2)
        assert (result.low[method], result.high[method]) == (min(maes), max(maes))
        first = [r.per_step_mae[method][0] for r in records]
        assert result.per_step[method][0] == pytest.approx(sum(first) / 2)
    assert sum(result.wins.values()) == 2
    json.dumps(result.to_json())  # plain JSON


@pytest.mark.slow
def test_cli_backtest_json_then_all_cached(small_monthly, tmp_path):
    data, cache = tmp_path / "small.csv", tmp_path / "cache"
    write_monthly(small_monthly, data)
    command = [sys.executable, "-m", "model", "backtest", *FAST_FLAGS]
    command += ["--data", str(data), "--cache-dir", str(cache), "--json"]
    first = subprocess.run(command, capture_output=True, text=True, timeout=600, cwd=REPO)
    assert first.returncode == 0, first.stderr
    result = json.loads(first.stdout)
    assert set(result) == {"config", "cutoffs", "keys", "trained", "cells", "methods"}
    assert result["trained"] == 6 and len(set(result["keys"])) == 6
    assert result["cutoffs"] == backtest_cutoffs(CLI_FAST, small_monthly)
    assert {SERVED, PERSISTENCE} <= set(result["methods"])
    assert sum(entry["wins"] for entry in result["methods"].values()) == 6
    store = Store(cache)
    for index, key in enumerate(result["keys"]):
        record = store.record(key)
        assert record.cutoff == result["cutoffs"][index]
        for method, entry in result["methods"].items():
            assert entry["mae"][index] == record.metrics[method].mae
            assert len(entry["per_step_mae"]) == CLI_FAST.horizon

    # A second run trains nothing and never imports TensorFlow.
    script = (
        "import sys; from model.cli import main; main(sys.argv[1:]); "
        "print('tensorflow' in sys.modules)"
    )
    second = subprocess.run(
        [sys.executable, "-c", script, *command[3:]],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=REPO,
    )
    assert second.returncode == 0, second.stderr
    answer, imported = second.stdout.splitlines()
    assert imported == "False"
    again = json.loads(answer)
    assert again["trained"] == 0
    assert again["methods"] == result["methods"]


class Halt(Exception):
    pass


@pytest.mark.slow
def test_progress_and_stop_keep_what_was_trained(small_monthly, tmp_path):
    store = Store(tmp_path / "store")
    seen = []

    def stop() -> None:
        if len({report.index for report in seen}) > 1:  # once the second cutoff has begun
            raise Halt

    with pytest.raises(Halt):
        run_backtest(FAST, small_monthly, store, seen.append, stop)
    assert seen[0].index == 1 and seen[0].count == 6 and seen[0].epoch is None
    assert any(report.epoch is not None for report in seen)
    assert len(store.entries()) == 1  # the first cutoff stays cached
    result = run_backtest(FAST, small_monthly, store)
    assert result.trained == 5
    assert run_backtest(FAST, small_monthly, store).trained == 0
