"""The built-in models' store entries, shipped so the first page needs no training."""

from __future__ import annotations

from pathlib import Path

from model import DEFAULT, RECIPES, Backtest, Record, Store, TrainConfig, read_monthly, run_backtest

SHIPPED_FOLDER = Path(__file__).with_name("shipped")
# The default's rolling-origin backtest: its cutoffs before its own (the newest is the shipped
# default itself), in a store of their own so that they are not listed as built-in models.
BACKTEST_FOLDER = SHIPPED_FOLDER / "backtest"
# Our default, and the article's network as published (about 45 minutes to train here),
# so the first page can compare the two without any training.
BUILT_IN: dict[str, TrainConfig] = {name: recipe.config for name, recipe in RECIPES.items()}


def shipped_store() -> Store:
    """The read-only store holding the shipped entries."""
    return Store(SHIPPED_FOLDER)


def build_default() -> list[Record]:
    """Train the built-in configs on the embedded data into the shipped folder.

    What is already there and still valid is kept (the article's network takes most of an
    hour); entries of other keys (stale) are removed.
    """
    store = shipped_store()
    records = [store.get_or_train(config, read_monthly())[0] for config in BUILT_IN.values()]
    _remove_others(store, {record.key for record in records})
    return records


def _remove_others(store: Store, keep: set[str]) -> None:
    """Delete every entry of the store whose key is not kept, readable or not, gates included."""
    for record_path in store.folder.glob("[!.]*.json"):
        key = record_path.name.split(".")[0]
        if key not in keep:
            store.delete(key)


def shipped_backtest_stores() -> list[Store]:
    """The read-only stores a backtest of the built-in default reads: the default, its cutoffs."""
    return [shipped_store(), Store(BACKTEST_FOLDER)]


def build_backtest() -> Backtest:
    """Train the built-in default at its backtest's earlier cutoffs into BACKTEST_FOLDER.

    What is already there and still valid is kept; entries of other keys (stale) are removed.
    """
    store = Store(BACKTEST_FOLDER)
    result = run_backtest(DEFAULT, read_monthly(), store, also=[shipped_store()])
    _remove_others(store, set(result.keys))
    return result
