"""Shared fixtures: the embedded data, a few-station subset, tiny configs and temporary stores."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import RAW_DATA, SMALL_LOCATIONS, require

from model import Store, TrainConfig, read_monthly


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
