"""A cache of trained networks and their JSON records, keyed by config + data fingerprint."""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import logging
import os
import platform
from collections.abc import Iterator
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

import platformdirs
from filelock import FileLock, Timeout

from .config import FORMAT_VERSION, TrainConfig, cache_key, months_before
from .files import file_version, write_atomic
from .methods import SERVED
from .record import Record, RecordError
from .schema import short_repr

if TYPE_CHECKING:  # heavy modules load only when a network is trained or data is read
    import keras
    import pandas as pd

    from .training import ProgressCallback

CACHE_ENV = "TEMPERATURE_FORECAST_CACHE"
MEMO_NAME = "data.memo"  # JSON; not *.json, which are the entries
RECORD_DIGEST = "record_sha256"  # the record's own checksum, stored beside its fields
DATA_CODE = [Path(__file__).with_name(name) for name in ("data.py", "schema.py")]
log = logging.getLogger(__name__)


class StoreError(RuntimeError):
    """A store entry that cannot be used (missing, damaged or not recorded by the store)."""


def default_cache_dir() -> Path:
    """The cache folder: $TEMPERATURE_FORECAST_CACHE, else the per-user cache folder."""
    override = os.environ.get(CACHE_ENV)
    return Path(override) if override else Path(platformdirs.user_cache_dir("temperature-forecast"))


def resolve_cutoff(config: TrainConfig, monthly: pd.DataFrame) -> str:
    """The cutoff a config trains to on this data, as YYYY-MM."""
    if config.cutoff is not None:
        return config.cutoff
    return months_before(monthly["month"].max().strftime("%Y-%m"), config.horizon)


def key_for(config: TrainConfig, monthly: pd.DataFrame, data_print: str | None = None) -> str:
    """The cache key of a config on this data (`data_print`: its fingerprint, if known)."""
    from .data import fingerprint

    data_print = data_print or fingerprint(monthly, config.variable)
    return cache_key(config, resolve_cutoff(config, monthly), data_print)


def file_digest(source: Path) -> str:
    """Hash a data file's bytes with the code that reads it: equal digests, equal monthly data."""
    digest = hashlib.sha256()
    for path in [*DATA_CODE, source]:
        digest.update(bytes.fromhex(sha256_of(path)))
    return digest.hexdigest()[:32]


def sha256_of(path: Path) -> str:
    """Hex sha256 of a file's bytes."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def record_digest(data: dict[str, Any]) -> str:
    """Hex sha256 of a record's JSON without its own digest (keys sorted): any edit changes it."""
    fields = {name: value for name, value in data.items() if name != RECORD_DIGEST}
    text = json.dumps(fields, sort_keys=True, separators=(",", ":"), allow_nan=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _digest_matches(data: dict[str, Any]) -> bool:
    try:
        return data.get(RECORD_DIGEST) == record_digest(data)
    except ValueError:  # NaN or infinity, which the store never writes
        return False


def _library_versions() -> dict[str, str]:
    versions = {"python": platform.python_version()}
    for package in ("tensorflow", "keras", "numpy", "pandas"):
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            continue
    return versions


@functools.lru_cache(maxsize=512)
def _verified(folder: Path, key: str, stamps: tuple) -> Record:
    """A verified record per version of its two files (`stamps`); shared, so never modified."""
    return Store(folder)._read_and_check(key)


class Store:
    """Trained networks on disk: `<key>.keras` plus `<key>.json`, the JSON written last.

    A record holds the network file's sha256 and its own (`record_sha256`); an entry is used
    only when both match.
    """

    def __init__(self, folder: str | Path | None = None) -> None:
        self.folder = Path(folder) if folder is not None else default_cache_dir()
        self.folder.mkdir(parents=True, exist_ok=True)

    def _paths(self, key: str) -> tuple[Path, Path]:
        if not key.isalnum():
            raise StoreError(f"key {short_repr(key)} is not a store key")
        return self.folder / f"{key}.json", self.folder / f"{key}.keras"

    def _lock_path(self, key: str) -> Path:
        """The lock file a training of this key holds (single flight across processes)."""
        return self.folder / f"{key}.lock"

    def record_path(self, key: str) -> Path:
        """Where the record of a key lives (it may not exist)."""
        return self._paths(key)[0]

    def record(self, key: str) -> Record:
        """Read a record; StoreError if it is missing, unreadable or incomplete."""
        record_path = self.record_path(key)
        try:
            data = json.loads(record_path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise StoreError(f"no store entry with key {key}") from None
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
            raise StoreError(f"store entry {key}: unreadable record ({error})") from None
        if isinstance(data, dict) and data.get("format_version") != FORMAT_VERSION:
            raise StoreError(
                f"store entry {key}: record has format "
                f"{data.get('format_version')!r}, not {FORMAT_VERSION}"
            )
        if isinstance(data, dict) and not _digest_matches(data):
            raise StoreError(
                f"store entry {key}: record does not match its recorded {RECORD_DIGEST} "
                "(edited or damaged)"
            )
        try:
            record = Record.from_json(data)
        except RecordError as error:
            raise StoreError(f"store entry {key}: {error}") from None
        if record.key != key:
            raise StoreError(f"store entry {key}: record is for key {record.key}")
        return record

    def write_record(self, record: Record) -> None:
        """Write a record with its digest, atomically: the entry exists from then on."""
        data = record.to_json()
        data[RECORD_DIGEST] = record_digest(data)
        text = json.dumps(data, allow_nan=False)
        write_atomic(self.record_path(record.key), lambda path: path.write_text(text, "utf-8"))

    def verify(self, key: str) -> Record:
        """Read a record and check its network file's sha256; StoreError if anything is off.

        A verified entry is remembered while neither file changes (same inode, size and
        mtime), so listing the store does not hash every network on every page event.
        """
        record_path, network_path = self._paths(key)
        try:
            stamps = (file_version(record_path.stat()), file_version(network_path.stat()))
        except OSError:  # a file is missing: read it to say which
            return self._read_and_check(key)
        return _verified(self.folder, key, stamps)

    def _read_and_check(self, key: str) -> Record:
        record = self.record(key)
        _, network_path = self._paths(key)
        if not network_path.is_file():
            raise StoreError(f"store entry {key}: network file is missing")
        if sha256_of(network_path) != record.network_sha256:
            raise StoreError(f"store entry {key}: network file does not match its recorded sha256")
        return record

    def lookup(
        self, config: TrainConfig, monthly: pd.DataFrame, data_print: str | None = None
    ) -> Record | None:
        """The verified record for this config and data, or None (damaged entries are logged)."""
        return self._verified_or_none(key_for(config, monthly, data_print))

    def recall(self, config: TrainConfig, source: Path) -> Record | None:
        """The verified record of config on the data file `source`, without reading the data.

        Works once `remember` has seen the same bytes; None otherwise (then read the data).
        """
        facts = self._memo().get(f"{file_digest(source)}:{config.variable}")
        if not isinstance(facts, dict):
            return None
        try:
            cutoff = config.cutoff or months_before(facts["last_month"], config.horizon)
            return self._verified_or_none(cache_key(config, cutoff, facts["fingerprint"]))
        except (KeyError, TypeError, ValueError, AttributeError):
            log.warning("ignoring a malformed data memo entry for %s", source)
            return None

    def remember(self, source: Path, monthly: pd.DataFrame, record: Record) -> None:
        """Note a data file's fingerprint (as `record` used it) and last month, for `recall`."""
        memo = self._memo()
        memo[f"{file_digest(source)}:{record.config.variable}"] = {
            "fingerprint": record.data_fingerprint,
            "last_month": monthly["month"].max().strftime("%Y-%m"),
        }
        text = json.dumps(memo, indent=1, sort_keys=True)
        try:
            write_atomic(self.folder / MEMO_NAME, lambda path: path.write_text(text, "utf-8"))
        except OSError as error:  # only a speed-up: the answer stands without it
            log.warning("could not write the data memo: %s", error)

    def _memo(self) -> dict[str, Any]:
        try:
            memo = json.loads((self.folder / MEMO_NAME).read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
            log.warning("ignoring an unreadable data memo (%s); it will be rewritten", error)
            return {}
        return memo if isinstance(memo, dict) else {}

    def _verified_or_none(self, key: str) -> Record | None:
        try:
            return self.verify(key)
        except StoreError as error:
            if self._paths(key)[0].exists():
                log.warning("ignoring damaged entry, it will be retrained: %s", error)
            return None

    def get_or_train(
        self,
        config: TrainConfig,
        monthly: pd.DataFrame,
        progress: ProgressCallback | None = None,
        data_print: str | None = None,
    ) -> tuple[Record, bool]:
        """Return (record, cache_hit); train and store on a miss, one process per key at a time.

        `data_print`: the data's fingerprint, if known.
        """
        from .data import fingerprint

        data_print = data_print or fingerprint(monthly, config.variable)
        key = key_for(config, monthly, data_print)
        record = self._verified_or_none(key)
        if record is not None:
            return record, True
        with self._training_lock(key):
            record = self._verified_or_none(key)  # another process may have trained it meanwhile
            if record is not None:
                return record, True
            for orphan in self.folder.glob(f".{key}.*.tmp.*"):  # left by a killed writer
                orphan.unlink(missing_ok=True)
            return self._train(key, config, monthly, data_print, progress), False

    @contextlib.contextmanager
    def _training_lock(self, key: str) -> Iterator[None]:
        """Hold the key's lock file, and remove it before letting go, so none stays behind.

        Removing a lock file someone may be waiting on is safe here: filelock (4.3 on), having
        locked a file, retries when that file has no name any more (`st_nlink == 0`), so a
        waiter locks the new file at the same path, not the removed one; and the file goes only
        after the record is written, so whoever takes the lock next finds the entry and trains
        nothing. (A `locks/` folder swept of stale files would need its own lock for the sweep.)
        """
        lock_path = self._lock_path(key)
        self.folder.mkdir(parents=True, exist_ok=True)
        with FileLock(str(lock_path)):
            try:
                yield
            finally:
                lock_path.unlink(missing_ok=True)

    def remove_stale_locks(self, patience: float = 0.0) -> list[str]:
        """Remove the lock files no training holds (a killed one's); return their keys.

        Waits up to `patience` seconds for each: a killed process's threads close its files
        a moment after it is reported gone. Safe beside live trainings for the reason
        `_training_lock` gives: a held lock is left, and a waiter on a removed file locks the
        new file at the same path.
        """
        removed = []
        for path in self.folder.glob("*.lock"):
            if not path.stem.isalnum():
                continue
            try:
                with FileLock(str(path), timeout=patience):
                    path.unlink(missing_ok=True)
            except Timeout:
                continue
            removed.append(path.stem)
        if removed:
            log.info("removed lock files no training held: %s", ", ".join(removed))
        return removed

    def _train(
        self,
        key: str,
        config: TrainConfig,
        monthly: pd.DataFrame,
        data_print: str,
        progress: ProgressCallback | None,
    ) -> Record:
        from .gates import encoder_weights, gates_path, write_gates
        from .pipeline import train_and_evaluate

        log.info("training %s started", key)
        evaluation, forecaster = train_and_evaluate(config, monthly, progress)
        network_path = self._paths(key)[1]
        write_atomic(network_path, lambda path: forecaster.save(path))
        network_sha256 = sha256_of(network_path)
        directions = encoder_weights(forecaster, config.cell)  # for the page's look inside
        write_gates(gates_path(self.folder, key), directions, network_sha256)
        record = Record(
            **evaluation.fields(),
            key=key,
            format_version=FORMAT_VERSION,
            config=config,
            data_fingerprint=data_print,
            network_sha256=network_sha256,
            created=datetime.now(UTC).isoformat(timespec="seconds"),
            versions=_library_versions(),
        )
        self.write_record(record)
        log.info(
            "training %s finished in %.1f s, served MAE %.3f",
            key,
            record.train_seconds,
            record.metrics[SERVED].mae,
        )
        return record

    def entries(self) -> list[Record]:
        """Every readable entry, newest first; damaged ones are skipped and logged."""
        records = []
        for _, found in self._scan():
            if isinstance(found, Record):
                records.append(found)
            else:
                log.warning("skipping damaged entry: %s", found)
        return sorted(records, key=lambda record: record.created, reverse=True)

    def _scan(self) -> Iterator[tuple[str, Record | str]]:
        """(key, verified record or why it is refused) for every record file in the folder."""
        for record_path in self.folder.glob("[!.]*.json"):  # not a file being written
            if not record_path.stem.isalnum():
                continue
            try:
                yield record_path.stem, self.verify(record_path.stem)
            except StoreError as error:
                yield record_path.stem, str(error)

    def delete(self, key: str) -> bool:
        """Remove whatever files a key has, readable or not; True if there was one to remove.

        The lock file goes too, unless a training of that key holds it right now.
        """
        from .gates import gates_path  # not at the top: a cache hit loads no numpy

        removed = False
        for path in (*self._paths(key), gates_path(self.folder, key)):
            try:
                path.unlink()
                removed = True
            except FileNotFoundError:
                continue
        try:
            with FileLock(str(self._lock_path(key)), timeout=0):
                self._lock_path(key).unlink(missing_ok=True)  # see _training_lock
        except Timeout:
            log.info("store entry %s is being trained; its lock file stays", key)
        return removed

    def damaged(self) -> dict[str, str]:
        """Entries whose record or network cannot be used: key -> the reason."""
        return {key: error for key, error in self._scan() if isinstance(error, str)}

    def load_network(self, key: str) -> keras.Model:
        """Load a recorded network after checking its sha256, with Keras safe_mode on."""
        from .network import import_keras

        keras = import_keras()
        self.verify(key)
        _, network_path = self._paths(key)
        try:
            return keras.saving.load_model(network_path, safe_mode=True, compile=False)
        except Exception as error:  # Keras raises many types for a bad archive
            telling: BaseException = error
            while inner := telling.__cause__ or telling.__context__:  # Keras wraps it
                telling = inner
            reason = str(telling).split(" Full object config")[0][:300]
            raise StoreError(f"store entry {key}: network refused ({reason})") from None
