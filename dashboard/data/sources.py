"""Where the page's data comes from: stations, the session's data set and the stores' records."""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

import pandas as pd

from model import (
    PRIVATE,
    Dataset,
    Record,
    Store,
    StoreError,
    TrainConfig,
    file_version,
    key_for,
    positions_of,
    read_monthly,
    short_repr,
    write_monthly,
)

from ..server import access, session
from ..server.quota import QuotaError, make_room, note_use, remove_expired
from ..settings import Settings
from .shipped import SHIPPED_FOLDER, shipped_store

STATIONS_CSV = Path(__file__).with_name("stations.csv")
VARIABLE = "temp"
DATASET_PATTERN = re.compile(r"^[0-9a-f]{16}$")
STATE_NAMES = {
    "ACT": "Australian Capital Territory",
    "NSW": "New South Wales",
    "NT": "Northern Territory",
    "NF": "Norfolk Island",
    "QLD": "Queensland",
    "SA": "South Australia",
    "TAS": "Tasmania",
    "VIC": "Victoria",
    "WA": "Western Australia",
}


class InputError(ValueError):
    """A request value the page cannot use, with a message naming the field and the value."""


class NotShared(InputError):
    """An uploaded data set that this session neither uploaded nor opened a share link to."""


class ModelGone(InputError):
    """A well-formed model key that no store holds (any more), or holds only damaged."""


@functools.cache
def read_stations() -> pd.DataFrame:
    """Station metadata: location, name, state, lat, lon (read once, never modified)."""
    return pd.read_csv(STATIONS_CSV)


def stations_of(monthly: pd.DataFrame) -> pd.DataFrame:
    """Metadata of the stations in a data set; unknown ones get state 'Other' and no position.

    A position the data set gives (an upload's Latitude and Longitude) wins over the known one.
    Built once per set of stations and positions and shared, so never modified.
    """
    given = positions_of(monthly)
    return _station_table(tuple(monthly["location"].unique()), tuple(given.itertuples(name=None)))


@functools.lru_cache(maxsize=64)
def _station_table(
    locations: tuple[str, ...], given: tuple[tuple[str, float, float], ...]
) -> pd.DataFrame:
    names = pd.DataFrame({"location": sorted(locations)})
    frame = names.merge(read_stations(), on="location", how="left")
    placed = pd.DataFrame(list(given), columns=["location", "lat", "lon"]).set_index("location")
    frame = frame.set_index("location")
    frame.update(placed)
    frame = frame.reset_index()
    frame["name"] = frame["name"].fillna(frame["location"])
    frame["state"] = frame["state"].fillna("Other")
    return frame.sort_values(["state", "name"], ignore_index=True)


@functools.cache
def _embedded() -> Dataset:
    return Dataset.of(read_monthly(), VARIABLE)


@functools.lru_cache(maxsize=8)
def _read_upload(path: Path, stamp: tuple[int, ...]) -> Dataset:
    """Read an uploaded data set once per version of its file (`stamp`: inode and size).

    Not its mtime, which records the uses: an upload is only ever replaced by a rename.
    """
    return Dataset.of(read_monthly(path), VARIABLE)


def load_dataset(settings: Settings, dataset: object) -> Dataset:
    """A session's data set: None is the embedded data, else an upload id it may read.

    Shared between requests, so never modified.
    """
    if dataset is None:
        return _embedded()
    path = upload_path(settings, dataset)
    try:
        status = path.stat()
    except FileNotFoundError:
        raise InputError(
            f"data set {short_repr(dataset)} is not on this server (uploads unused for "
            f"{settings.upload_max_age_days:g} days, or the least recently used when space "
            "runs out, are removed): upload it again, or reload the page for the built-in data"
        ) from None
    if not access.may_read(settings, path.stem, session.current()):
        raise NotShared(
            f"data set {path.stem} is not shared with you: its uploader can send you a share link"
        )
    note_use(settings, path, status.st_mtime)
    return _read_upload(path, file_version(status, mtime=False))


def dataset_id(data: Dataset) -> str | None:
    """The id a data set is known by: None for the embedded data, else its fingerprint."""
    return None if data.fingerprint == _embedded().fingerprint else data.fingerprint


def upload_path(settings: Settings, dataset: object) -> Path:
    """Where an uploaded data set is kept; InputError for anything but a fingerprint."""
    if not isinstance(dataset, str) or not DATASET_PATTERN.match(dataset):
        raise InputError(f"data set id {short_repr(dataset)} is not a data set fingerprint")
    return settings.uploads_dir / f"{dataset}.csv"


def save_upload(settings: Settings, data: Dataset) -> str | None:
    """Keep an uploaded data set under its fingerprint for this session; return its id.

    Expired uploads go first, then the least recently used ones while the uploads are over
    the quota; InputError, and nothing kept or removed, when this one alone is over it.
    """
    dataset = dataset_id(data)
    if dataset is None:
        return None
    path = upload_path(settings, dataset)
    path.parent.mkdir(parents=True, exist_ok=True)
    remove_expired(settings)
    try:
        os.utime(path)  # uploaded again: a use
    except FileNotFoundError:
        write_monthly(data.monthly, path, PRIVATE)
        try:
            make_room(settings, dataset)
        except QuotaError as error:
            path.unlink(missing_ok=True)
            raise InputError(str(error)) from None
    access.grant_uploader(settings, dataset, session.current())
    return dataset


def user_store(settings: Settings) -> Store:
    """The writable store of this dashboard."""
    return Store(settings.cache_dir)


def stores(settings: Settings) -> list[Store]:
    """The stores records are read from: the user's first, then the shipped default."""
    found = [user_store(settings)]
    if settings.use_shipped:
        found.append(shipped_store())
    return found


def is_shipped(settings: Settings, key: str) -> bool:
    """True when a key is only available from the shipped (read-only) store."""
    return (
        settings.use_shipped
        and shipped_store().record_path(key).is_file()
        and not user_store(settings).record_path(key).is_file()
    )


class ShownModel(NamedTuple):
    """A record with its holdout and forecast rows as frames; shared, so never modified."""

    record: Record
    predictions: pd.DataFrame
    forecast: pd.DataFrame


class Entry(NamedTuple):
    """A stored model listed for a data set, and whether it is built in (cannot be deleted)."""

    record: Record
    shipped: bool


def is_store_key(key: object) -> bool:
    """Whether a value sent by a browser has the shape of a store key (letters and digits)."""
    return isinstance(key, str) and key.isalnum() and len(key) <= 64


def find_model(settings: Settings, key: object) -> ShownModel:
    """A key's record and frames from any store; InputError when malformed or unknown.

    NotShared for a model of an upload that this session does not see (`_sees`).
    """
    if not is_store_key(key):
        raise InputError(f"model key {short_repr(key)} is not a store key")
    refused: Exception | None = None
    for store in stores(settings):
        try:
            shown = _read_model(store.folder, key, file_version(store.record_path(key).stat()))
        except FileNotFoundError:
            continue
        except (OSError, StoreError) as error:
            refused = refused or error
            continue
        if not _sees(settings, shown.record.data_fingerprint)(shown.record.key):
            raise NotShared(
                f"model {key} was trained on uploaded data by another browser session: "
                "it is not shared with you"
            )
        return shown
    if refused is not None:
        raise ModelGone(f"model {key} cannot be used: {refused}")
    raise ModelGone(f"model {key} is not in the store (deleted?)")


def find_record(settings: Settings, key: object) -> Record:
    """The record of a key from any store; InputError when the key is malformed or unknown."""
    return find_model(settings, key).record


@functools.lru_cache(maxsize=16)
def _read_model(folder: Path, key: str, stamp: tuple[int, ...]) -> ShownModel:
    """Read and parse a record once per version of its file (`stamp`: model.file_version)."""
    record = Store(folder).record(key)
    return ShownModel(record, record_rows(record.predictions), record_rows(record.forecast))


def record_rows(columns: dict[str, list]) -> pd.DataFrame:
    """A record's `predictions` or `forecast` columns as a frame, months parsed."""
    frame = pd.DataFrame(columns)
    if frame.empty:
        return frame.assign(location=pd.Series(dtype=str), month=pd.Series(dtype="datetime64[ns]"))
    return frame.assign(month=pd.to_datetime(frame["month"], format="%Y-%m"))


def _sees(settings: Settings, fingerprint: str) -> Callable[[str], bool]:
    """Which models trained on a data set this session sees, as a test of a model key.

    Every model of the embedded data; of an upload, those `access.sees_models` names, or all
    of them for the operator.
    """
    if fingerprint == _embedded().fingerprint or session.is_operator(settings.operator_token):
        return lambda key: True
    if not DATASET_PATTERN.match(fingerprint):
        return lambda key: False
    return access.sees_models(settings, fingerprint, session.current())


def lookup(settings: Settings, config: TrainConfig, data: Dataset) -> Record | None:
    """The verified record of a config on this data from any store, or None.

    Asking for a config on an upload this session reads makes its model one it sees: it holds
    the data and the config, so training would make the same model.
    """
    for store in stores(settings):
        record = store.lookup(config, data.monthly, data.fingerprint)
        if record is None:
            continue
        dataset = dataset_id(data)
        if dataset is not None and not _sees(settings, dataset)(record.key):
            access.note_asked(settings, dataset, record.key, session.current())
        return record
    return None


def entries(settings: Settings, data: Dataset) -> list[Entry]:
    """Store entries trained on this data set that this session sees and did not hide.

    Newest first.
    """
    seen: dict[str, Entry] = {}
    hidden = set(access.hidden(settings, session.current()))
    sees = _sees(settings, data.fingerprint)
    for store in stores(settings):
        for record in store.entries():
            if (
                record.data_fingerprint != data.fingerprint
                or record.key in hidden
                or not sees(record.key)
            ):
                continue
            if record.key not in seen:
                seen[record.key] = Entry(record, store.folder == SHIPPED_FOLDER)
    return sorted(seen.values(), key=lambda entry: entry.record.created, reverse=True)


def default_key(settings: Settings, data: Dataset) -> str | None:
    """The model to show first: the base recipe's if cached, else the newest on this data."""
    preferred = key_for(settings.base_config, data.monthly, data.fingerprint)
    listed = entries(settings, data)
    for entry in listed:
        if entry.record.key == preferred:
            return preferred
    return listed[0].record.key if listed else None
