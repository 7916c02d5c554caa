"""Shared fixtures: the embedded data, a few-station subset, tiny configs and temporary stores."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from model import Store, TrainConfig, read_monthly

RAW_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "weatherAUS.csv.gz"
SMALL_LOCATIONS = ["Cairns", "Canberra", "Darwin", "Hobart"]
IN_CI = os.environ.get("CI", "").lower() == "true"


def require(condition: bool, reason: str) -> None:
    """Skip on a developer's machine, fail under CI=true, when a test's prerequisite is missing."""
    if condition:
        return
    if IN_CI:
        pytest.fail(f"{reason} (required under CI=true)")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def raw_data() -> Path:
    require(RAW_DATA.is_file(), f"raw data not found at {RAW_DATA}")
    return RAW_DATA


@pytest.fixture(scope="session")
def monthly():
    return read_monthly()


@pytest.fixture(scope="session")
def small_monthly(monthly):
    return monthly[monthly["location"].isin(SMALL_LOCATIONS)].reset_index(drop=True)


@pytest.fixture(scope="session")
def tiny_config() -> TrainConfig:
    return TrainConfig(window=6, horizon=3, units=4, epochs=2, ensemble=1, patience=0,
                       batch_size=64, seed=7)


@pytest.fixture
def store(tmp_path) -> Store:
    return Store(tmp_path / "store")


@pytest.fixture(scope="session")
def trained(tmp_path_factory, tiny_config, small_monthly):
    """One tiny network trained once per session: (store, record)."""
    session_store = Store(tmp_path_factory.mktemp("trained") / "store")
    record, hit = session_store.get_or_train(tiny_config, small_monthly)
    assert not hit
    return session_store, record
