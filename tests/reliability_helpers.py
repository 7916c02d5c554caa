"""Shared pieces of the reliability tests: a very small config, its CLI flags, a CLI runner."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pandas as pd

from model import DEFAULT, Store, TrainConfig

REPO = Path(__file__).resolve().parents[1]
STATIONS = ["Cairns", "Hobart"]
# The smallest config the pipeline accepts; still a real GRU network trained by Keras.
FAST_CHANGES = {"window": 3, "horizon": 1, "units": 2, "epochs": 1, "ensemble": 1, "patience": 0,
                "batch_size": 256, "bidirectional": False, "calendar": False, "anomalies": False}
FAST = TrainConfig(**FAST_CHANGES)  # in-process tests: independent of the tuned DEFAULT
CLI_FAST = DEFAULT.replace(**FAST_CHANGES)  # what `python -m model train` builds from FAST_FLAGS
FAST_FLAGS = [flag for name, value in FAST_CHANGES.items() for flag in (
    [f"--{'' if value else 'no-'}{name}"] if isinstance(value, bool)
    else [f"--{name.replace('_', '-')}", str(value)])]


def two_stations(monthly: pd.DataFrame) -> pd.DataFrame:
    """The embedded monthly data of STATIONS only."""
    return monthly[monthly["location"].isin(STATIONS)].reset_index(drop=True)


def start_cli_train(cache_dir: Path, data: Path, seed: int) -> subprocess.Popen:
    """Start `python -m model train --json` with the CLI_FAST config and a seed."""
    env = {**os.environ, "PYTHONPATH": str(REPO), "TF_CPP_MIN_LOG_LEVEL": "3"}
    command = [sys.executable, "-m", "model", "train", "--json", "--cache-dir", str(cache_dir),
               "--data", str(data), "--seed", str(seed), *FAST_FLAGS]
    return subprocess.Popen(command, cwd=REPO, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def entry_files(store: Store) -> list[str]:
    """Names of the entry files (records and networks, not temporaries or locks)."""
    return sorted(path.name for path in store.folder.iterdir()
                  if path.suffix in (".json", ".keras") and not path.name.startswith("."))


def temporaries(store: Store) -> list[str]:
    """Names of temporary files left in the store folder."""
    return sorted(path.name for path in store.folder.iterdir() if path.name.endswith(
        (".tmp.json", ".tmp.keras")))


def free_port() -> int:
    """A free TCP port on 127.0.0.1."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]
