"""The cache of trained networks: hits, damage detection, listing, deletion, safe loading."""

from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest
from filelock import FileLock
from helpers import TINY

from model import Store, StoreError, default_cache_dir, key_for
from model.pipeline import forecast_from
from model.store import CACHE_ENV


@pytest.fixture
def copied(trained, tmp_path):
    """A private copy of the session's trained store, safe to damage."""
    session_store, record = trained
    folder = tmp_path / "copy"
    shutil.copytree(session_store.folder, folder, ignore=shutil.ignore_patterns("*.lock"))
    return Store(folder), record


def test_second_request_is_a_cache_hit_with_the_same_record(trained, tiny_config, small_monthly):
    session_store, record = trained
    again, hit = session_store.get_or_train(tiny_config, small_monthly)
    assert hit and again == record
    assert record.key == key_for(tiny_config, small_monthly)


def test_record_holds_everything_a_chart_needs(trained, tiny_config):
    _, record = trained
    assert record.config == tiny_config
    assert set(record.metrics) == {
        "served",
        "network",
        "seasonal_naive",
        "climatology",
        "persistence",
    }
    assert set(record.per_location) == {"Cairns", "Canberra", "Darwin", "Hobart"}
    predictions, forecast = record.predictions, record.forecast
    assert len(predictions["month"]) == 4 * tiny_config.horizon
    assert {"actual", "served", "network", "lower", "upper", "climatology"} <= set(predictions)
    assert {"served", "network", "lower", "upper"} <= set(forecast)
    assert forecast["month"][: tiny_config.horizon] == ["2017-07", "2017-08", "2017-09"]
    assert all(
        low < mid < high
        for low, mid, high in zip(
            forecast["lower"], forecast["served"], forecast["upper"], strict=True
        )
    )
    assert len(record.history["loss"]) == tiny_config.epochs
    assert len(record.network_sha256) == 64 and record.versions["keras"]


def test_reading_results_does_not_import_tensorflow(trained):
    """Nor set TensorFlow's environment: that is for the process that trains or loads."""
    session_store, record = trained
    code = (
        "import os, sys; from model import Store; "
        f"store = Store({str(session_store.folder)!r}); "
        f"assert store.entries()[0].key == {record.key!r}; "
        f"store.record({record.key!r}); "
        "assert 'tensorflow' not in sys.modules and 'keras' not in sys.modules; "
        "assert not [name for name in os.environ if name.startswith('TF_')]"
    )
    env = {name: value for name, value in os.environ.items() if not name.startswith("TF_")}
    subprocess.run([sys.executable, "-c", code], check=True, env=env)


def test_loaded_network_reproduces_the_recorded_forecast(trained, small_monthly):
    session_store, record = trained
    network = session_store.load_network(record.key)
    forecast = forecast_from(record, network, small_monthly)
    assert set(forecast) == set(record.forecast)
    for column in ("location", "month", "step"):
        assert forecast[column] == record.forecast[column]
    for column in ("served", "network", "lower", "upper"):
        np.testing.assert_allclose(forecast[column], record.forecast[column], atol=1e-3)


@pytest.mark.parametrize(
    "damage", ["truncated network", "changed byte", "bad json", "no json key", "metric as text"]
)
def test_damaged_entry_is_logged_and_retrained(copied, tiny_config, small_monthly, caplog, damage):
    store, record = copied
    key = record.key
    network, record_file = store.folder / f"{key}.keras", store.folder / f"{key}.json"
    if damage == "truncated network":
        network.write_bytes(network.read_bytes()[:1000])
    elif damage == "changed byte":
        data = bytearray(network.read_bytes())
        data[len(data) // 2] ^= 0xFF
        network.write_bytes(bytes(data))
    elif damage == "bad json":
        record_file.write_text(record_file.read_text()[:200])
    elif damage == "metric as text":
        data = json.loads(record_file.read_text())
        data["metrics"]["served"]["mae"] = "0.1"
        record_file.write_text(json.dumps(data))
    else:
        record_file.write_text(json.dumps({"key": key}))
    assert store.entries() == []  # a damaged entry is never listed
    with caplog.at_level(logging.WARNING, logger="model.store"):
        fresh, hit = store.get_or_train(tiny_config, small_monthly)
    assert not hit and "damaged" in caplog.text
    assert fresh.forecast == record.forecast  # same seed, same machine
    assert [entry.key for entry in store.entries()] == [key]


def test_unrecorded_or_tampered_networks_are_refused(copied):
    store, record = copied
    with pytest.raises(StoreError, match="no store entry"):
        store.load_network("0" * 20)
    with pytest.raises(StoreError, match="not a store key"):
        store.load_network("../etc/passwd")
    network = store.folder / f"{record.key}.keras"
    network.write_bytes(network.read_bytes() + b"\0")
    with pytest.raises(StoreError, match="does not match its recorded sha256"):
        store.load_network(record.key)


def test_entries_list_and_delete(copied):
    store, record = copied
    entries = store.entries()
    assert [entry.key for entry in entries] == [record.key]
    assert entries[0] == record
    assert store.delete(record.key) and not store.delete(record.key)
    assert store.entries() == []
    assert not list(store.folder.glob("*.tmp*"))


def test_no_lock_file_stays_after_a_training_nor_after_a_delete_unless_one_holds_it(
    trained, tmp_path
):
    session_store, record = trained
    key = record.key
    assert not list(session_store.folder.glob("*.lock"))  # the training removed its own
    shutil.copytree(session_store.folder, tmp_path / "held")
    held = Store(tmp_path / "held")
    with FileLock(str(held.folder / f"{key}.lock")):  # as get_or_train holds it while training
        assert held.delete(key)
        assert sorted(path.name for path in held.folder.iterdir()) == [f"{key}.lock"]
    assert held.delete(key) is False and list(held.folder.iterdir()) == []


def test_a_lock_file_removed_by_its_holder_still_keeps_the_next_two_apart(store):
    """The holder removes the lock file as it lets go; the process that was waiting then holds
    the lock at that path, so a third one cannot take it too (and train the key twice)."""
    key = "a" * 20
    hold = (
        f"import sys, time; from model import Store; store = Store({str(store.folder)!r})\n"
        f"with store._training_lock({key!r}):\n"
        "    print('held', flush=True); time.sleep(2)"
    )
    probe = (
        "from filelock import FileLock, Timeout\n"
        f"try: FileLock({str(store.folder / f'{key}.lock')!r}, timeout=0).acquire()\n"
        "except Timeout: print('busy')\n"
        "else: print('taken')"
    )
    holder = subprocess.Popen([sys.executable, "-c", hold], stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == "held"
    with store._training_lock(key):  # waits for the holder
        assert holder.wait(timeout=60) == 0
        third = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
        assert third.stdout.strip() == "busy"
    assert list(store.folder.iterdir()) == []


@pytest.fixture
def shipped_copy(built_in, default_record, tmp_path):
    """A store holding a copy of the built-in default model: (store, its record file)."""
    store = Store(tmp_path / "copy")
    for suffix in (".json", ".keras"):
        shutil.copy(built_in.folder / f"{default_record.key}{suffix}", store.folder)
    return store, store.record_path(default_record.key)


@pytest.mark.parametrize("edit", ["better metric", "digest removed", "digest of the old text"])
def test_a_record_edited_by_hand_is_refused_and_not_listed(shipped_copy, edit):
    store, record_file = shipped_copy
    key = record_file.stem
    data = json.loads(record_file.read_text())
    if edit == "better metric":
        data["metrics"]["served"]["mae"] = 0.1
    elif edit == "digest removed":
        del data["record_sha256"]
    else:
        data["per_step_mae"]["served"][0] = 0.2
    record_file.write_text(json.dumps(data))
    with pytest.raises(StoreError, match=f"store entry {key}: record does not match its recorded"):
        store.record(key)
    assert store.entries() == []
    assert "does not match its recorded record_sha256" in store.damaged()[key]


def test_a_network_changed_in_place_after_it_was_verified_is_refused(shipped_copy):
    """Verified entries are remembered per file version: a later edit is still caught."""
    store, record_file = shipped_copy
    key = record_file.stem
    assert store.entries() and store.verify(key).key == key  # verified, and remembered
    network = store.folder / f"{key}.keras"
    with network.open("r+b") as handle:  # same inode, same size, other bytes
        handle.seek(100)
        byte = handle.read(1)
        handle.seek(100)
        handle.write(bytes([byte[0] ^ 0xFF]))
    with pytest.raises(StoreError, match="network file does not match its recorded sha256"):
        store.verify(key)
    assert store.entries() == []


def test_an_entry_with_an_unreadable_record_is_deleted_with_all_its_files(shipped_copy):
    store, record_file = shipped_copy
    key = record_file.stem
    record_file.write_bytes(b"\xff{ not json")
    (store.folder / f"{key}.lock").touch()
    assert "unreadable record" in store.damaged()[key]
    assert store.delete(key)
    assert list(store.folder.iterdir()) == [] and store.damaged() == {}


def test_cache_folder_follows_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv(CACHE_ENV, str(tmp_path / "elsewhere"))
    assert default_cache_dir() == tmp_path / "elsewhere"
    monkeypatch.delenv(CACHE_ENV)
    assert "temperature-forecast" in str(default_cache_dir())


# A small network trained up to 2011-12 with an 18-month horizon: the data's early edge.
EARLY_CUTOFF = TINY.replace(window=18, horizon=18, cutoff="2011-12")


@pytest.mark.slow
def test_a_month_missing_at_every_station_still_gets_intervals(small_monthly, store):
    """Cutoff 2011-12, H = 18: the 3 validation windows all miss 2011-04 at step 10."""
    config = EARLY_CUTOFF.replace(validation_fraction=0.1)
    record, _ = store.get_or_train(config, small_monthly)
    assert all(np.isfinite(width) and width > 0 for width in record.interval_halfwidths)
    assert store.lookup(config, small_monthly) == record


# What the served forecast is damped toward (TrainConfig.anchor), by the column that holds it.
ANCHOR_COLUMNS = [("level", "seasonal_curve"), ("persistence", "persistence")]


@pytest.mark.slow
@pytest.mark.parametrize(("anchor", "column"), ANCHOR_COLUMNS)
def test_cross_fitting_calibrates_the_served_forecast_at_any_horizon(
    small_monthly, store, anchor, column
):
    """Two earlier cutoffs give two years of out-of-fold origins; served = anchor + f x the
    network's departure from it."""
    config = TINY.replace(
        window=12,
        horizon=18,
        epochs=2,
        harmonics=2,
        shrinkage=True,
        calibration="cross_fit",
        folds=2,
        anchor=anchor,
    )
    reports = []
    record, _ = store.get_or_train(config, small_monthly, progress=reports.append)
    assert [report.stage for report in reports] == [
        "",
        "",
        "calibration 1 of 2",
        "calibration 1 of 2",
        "calibration 2 of 2",
        "calibration 2 of 2",
    ]  # the page names the extra fits in its progress bar
    assert record.calibration_origins == 24
    factors = np.array(record.shrinkage)
    assert len(factors) == 18 and np.all(np.diff(factors) <= 0) and np.all(factors <= 1)
    predictions = {
        name: np.array(record.predictions[name], dtype=float).reshape(-1, 18)
        for name in ("served", "network", column)
    }
    damped = predictions[column] + factors * (predictions["network"] - predictions[column])
    np.testing.assert_allclose(predictions["served"], damped, atol=2e-4)
    assert set(record.metrics) == {
        "served",
        "network",
        "seasonal_curve",
        "climatology",
        "seasonal_naive",
        "persistence",
    }
    assert record.metrics["network"].mae != record.metrics["seasonal_curve"].mae


@pytest.mark.slow
@pytest.mark.parametrize(("anchor", "column"), ANCHOR_COLUMNS)
def test_with_no_earlier_cutoff_to_cross_fit_the_served_forecast_is_the_anchor(
    small_monthly, store, anchor, column
):
    """Cutoff 2011-12, H = 18: a year before the first origin leaves no training window."""
    config = EARLY_CUTOFF.replace(
        harmonics=2, shrinkage=True, calibration="cross_fit", anchor=anchor
    )
    record, _ = store.get_or_train(config, small_monthly)
    assert record.calibration_origins == 0 and record.shrinkage == [0.0] * 18
    np.testing.assert_allclose(
        np.array(record.predictions["served"], dtype=float),
        np.array(record.predictions[column], dtype=float),
        atol=1e-4,
    )
    assert all(np.isfinite(width) and width > 0 for width in record.interval_halfwidths)


@pytest.mark.slow
def test_a_training_logs_one_line_when_it_starts_and_one_when_it_ends(
    small_monthly, store, tiny_config, caplog
):
    config = tiny_config.replace(epochs=1, seed=11)
    key = key_for(config, small_monthly)
    with caplog.at_level(logging.INFO, logger="model.store"):
        record, _ = store.get_or_train(config, small_monthly)
        store.get_or_train(config, small_monthly)  # a cache hit trains nothing and logs nothing
    served = record.metrics["served"].mae
    assert [entry.getMessage() for entry in caplog.records if entry.name == "model.store"] == [
        f"training {key} started",
        f"training {key} finished in {record.train_seconds:.1f} s, served MAE {served:.3f}",
    ]
