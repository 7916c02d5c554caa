"""Untrusted network files are refused; only recorded, matching files load.

Each test copies the session's trained entry into its own store, so the shared one stays intact.
"""

from __future__ import annotations

import json
import os
import shutil
import zipfile
from pathlib import Path

import pytest

from model import Store, StoreError
from model.network import import_keras
from model.store import RECORD_DIGEST, record_digest, sha256_of

pytestmark = pytest.mark.timeout(120)
FORGED_KEY = "f0f0f0f0f0f0f0f0f0f0"


@pytest.fixture
def copy(trained, tmp_path) -> tuple[Store, str]:
    """A store holding a copy of the session's trained entry: (store, key)."""
    source, record = trained
    store = Store(tmp_path / "store")
    for suffix in (".json", ".keras"):
        shutil.copy(source.folder / f"{record.key}{suffix}", store.folder)
    return store, record.key


def forge_entry(store: Store, genuine_key: str, network: Path) -> str:
    """Record `network` under FORGED_KEY with a correct sha256, as an attacker with write access
    to the folder could; return the key."""
    record = json.loads((store.folder / f"{genuine_key}.json").read_text(encoding="utf-8"))
    target = store.folder / f"{FORGED_KEY}.keras"
    if network != target:
        shutil.copy(network, target)
    record.update(key=FORGED_KEY, network_sha256=sha256_of(target))
    record[RECORD_DIGEST] = record_digest(record)  # an unkeyed digest: anyone can recompute it
    (store.folder / f"{FORGED_KEY}.json").write_text(json.dumps(record), encoding="utf-8")
    return FORGED_KEY


def refused(store: Store, key: str, *fragments: str) -> str:
    """Assert loading `key` raises a StoreError naming the entry and the fragments."""
    with pytest.raises(StoreError) as raised:
        store.load_network(key)
    message = str(raised.value)
    print(f"refused: {message[:200]}")
    assert key in message and "Traceback" not in message
    for fragment in fragments:
        assert fragment in message
    return message


def test_recorded_file_with_matching_sha256_loads(copy, tiny_config, small_monthly):
    store, key = copy
    network = store.load_network(key)
    assert network.name == "forecaster"
    assert store.lookup(tiny_config, small_monthly).key == key
    assert [entry.key for entry in store.entries()] == [key]


@pytest.mark.parametrize("change", ["flip_byte", "append", "truncate"])
def test_tampered_network_is_refused_and_not_listed(copy, change, tiny_config, small_monthly):
    store, key = copy
    path = store.folder / f"{key}.keras"
    data = bytearray(path.read_bytes())
    if change == "flip_byte":
        data[len(data) // 2] ^= 0x01
    elif change == "append":
        data += b"\x00"
    else:
        del data[-100:]
    path.write_bytes(bytes(data))
    refused(store, key, "does not match its recorded sha256")
    assert store.entries() == []
    assert store.lookup(tiny_config, small_monthly) is None  # so it would be retrained


def test_lambda_layer_with_matching_record_is_refused_by_safe_mode(copy, tmp_path):
    store, key = copy
    keras = import_keras()
    inputs = keras.Input((3, 1), name="history")
    outputs = keras.layers.Lambda(lambda x: x * 2, name="payload")(inputs)
    path = tmp_path / "lambda.keras"
    keras.Model(inputs, outputs, name="forecaster").save(path)
    forged = forge_entry(store, key, path)
    store.verify(forged)  # the sha256 matches: only safe mode stands in the way
    refused(store, forged, "network refused", "Lambda", "safe_mode")


def test_forged_reference_to_an_arbitrary_python_function_is_refused(copy, tmp_path):
    store, key = copy
    keras = import_keras()
    inputs = keras.Input((3,))
    plain = tmp_path / "plain.keras"
    keras.Model(inputs, keras.layers.Lambda(abs, name="payload")(inputs)).save(plain)
    with zipfile.ZipFile(plain) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    config = json.loads(members["config.json"])
    layer = next(layer for layer in config["config"]["layers"] if layer["name"] == "payload")
    layer["config"]["function"] = {
        "module": "os",
        "class_name": "function",
        "config": "getcwd",
        "registered_name": "function",
    }
    members["config.json"] = json.dumps(config).encode()
    forged_path = tmp_path / "forged.keras"
    with zipfile.ZipFile(forged_path, "w") as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    forged = forge_entry(store, key, forged_path)
    refused(store, forged, "network refused", "Could not locate function 'getcwd'")


def test_garbage_network_with_matching_record_is_refused(copy):
    store, key = copy
    garbage = store.folder / f"{FORGED_KEY}.keras"
    garbage.write_bytes(os.urandom(4096))
    forged = forge_entry(store, key, garbage)
    refused(store, forged, "network refused", "`.keras` zip file")


def test_network_not_recorded_by_the_store_is_refused(copy):
    store, key = copy
    shutil.copy(store.folder / f"{key}.keras", store.folder / f"{FORGED_KEY}.keras")
    refused(store, FORGED_KEY, f"no store entry with key {FORGED_KEY}")
    (store.folder / f"{key}.keras").unlink()
    refused(store, key, "network file is missing")
    for bad_key in ("../" + key, f"{key}.keras", "", "a/b"):
        with pytest.raises(StoreError, match="is not a store key"):
            store.load_network(bad_key)
    assert store.entries() == []
