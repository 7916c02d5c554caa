"""The default model's store entry, shipped so the first page needs no training."""

from __future__ import annotations

from pathlib import Path

from model import DEFAULT, Store, read_monthly

SHIPPED_FOLDER = Path(__file__).with_name("shipped")


def shipped_store() -> Store:
    """The read-only store holding the shipped default entry."""
    return Store(SHIPPED_FOLDER)


def build_default() -> dict:
    """Train DEFAULT on the embedded data into the shipped folder, replacing what was there."""
    store = shipped_store()
    for entry in store.entries():
        store.delete(entry["key"])
    record, _ = store.get_or_train(DEFAULT, read_monthly())
    return record
