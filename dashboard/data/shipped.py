"""The built-in models' store entries, shipped so the first page needs no training."""

from __future__ import annotations

from pathlib import Path

from model import RECIPES, Record, Store, TrainConfig, read_monthly

SHIPPED_FOLDER = Path(__file__).with_name("shipped")
# Our default, and the article's network as published (about 15-20 minutes to train here),
# so the first page can compare the two without any training.
BUILT_IN: dict[str, TrainConfig] = {name: recipe.config for name, recipe in RECIPES.items()}


def shipped_store() -> Store:
    """The read-only store holding the shipped entries."""
    return Store(SHIPPED_FOLDER)


def build_default() -> list[Record]:
    """Train the built-in configs on the embedded data into the shipped folder, replacing it."""
    store = shipped_store()
    for record_path in SHIPPED_FOLDER.glob("*.json"):  # readable or not
        store.delete(record_path.stem)
    return [store.get_or_train(config, read_monthly())[0] for config in BUILT_IN.values()]
