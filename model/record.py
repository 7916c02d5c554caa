"""The record of a trained model: a typed value, read and written as the store's JSON.

Kept free of numpy and pandas, so reading the cache (a CLI cache hit) stays fast.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from .config import ConfigError, TrainConfig
from .methods import SERVED


class RecordError(ValueError):
    """A record whose JSON lacks a field or holds a value of the wrong kind, named."""


@dataclass(frozen=True)
class Scores:
    """MAE and RMSE (in the variable's units) of one forecast over `cells` cells; None if 0."""

    mae: float | None
    rmse: float | None
    cells: int

    @classmethod
    def from_json(cls, data: Any, where: str) -> Scores:
        values = _mapping(data, where)
        mae, rmse = (
            _number(values.get(name), f"{where}.{name}", optional=True) for name in ("mae", "rmse")
        )
        cells = values.get("cells")
        if isinstance(cells, bool) or not isinstance(cells, int) or cells < 0:
            raise RecordError(f"{where}.cells must be a count, got {cells!r}")
        return cls(mae, rmse, cells)


@dataclass(frozen=True, kw_only=True)
class Evaluation:
    """What training and scoring one configuration found: the pipeline's result.

    Args:
        cutoff: the last training month (YYYY-MM).
        metrics: method key (model/methods.py) -> scores over every held-out (station, month)
            cell; per_location: station -> method -> scores; per_step_mae: method -> MAE per
            step ahead. Every method is scored on the same cells.
        interval_level, interval_halfwidths, interval_coverage: the served forecast's conformal
            interval (e.g. 0.8), its half-width per step, and its coverage on the holdout.
        calibration_origins: distinct forecast origins the damping and intervals were fitted on.
        predictions: held-out columns (location, month, step, actual, one per method, lower,
            upper); forecast: the same past the data's end, without actual and baselines.
        history: loss per epoch; epochs_run; train_seconds (every fit, calibration included);
        training_windows: windows the network was fitted on.
        shrinkage: per-step weight of the network's anomaly in the served forecast, or None.
    """

    cutoff: str
    metrics: dict[str, Scores]
    per_location: dict[str, dict[str, Scores]]
    per_step_mae: dict[str, list[float | None]]
    interval_level: float
    interval_halfwidths: list[float]
    interval_coverage: float | None
    calibration_origins: int
    predictions: dict[str, list]
    forecast: dict[str, list]
    history: dict[str, list[float]]
    epochs_run: int
    train_seconds: float
    training_windows: int
    shrinkage: list[float] | None = None

    def fields(self) -> dict[str, Any]:
        """The evaluation's fields by name, as they are (a Record is built from them)."""
        return {field.name: getattr(self, field.name) for field in dataclasses.fields(Evaluation)}


@dataclass(frozen=True, kw_only=True)
class Record(Evaluation):
    """What the store keeps about one trained network, field for field as its JSON.

    The fields of its Evaluation, and where it came from:

    Args:
        key: the store key (config + data fingerprint + format version).
        config: the training configuration.
        network_sha256: checksum of the saved network, verified before the record is used.
        created: when it was written (ISO, UTC); versions: the libraries that trained it.
    """

    key: str
    format_version: int
    config: TrainConfig
    data_fingerprint: str
    network_sha256: str
    created: str
    versions: dict[str, str]

    def to_json(self) -> dict[str, Any]:
        """The record as the plain JSON object the store writes."""
        data = dataclasses.asdict(self)
        data["config"] = self.config.to_dict()
        return data

    def summary(self) -> dict[str, Any]:
        """The fields a listing needs, as plain JSON."""
        data = self.to_json()
        return {
            name: data[name]
            for name in (
                "key",
                "config",
                "cutoff",
                "data_fingerprint",
                "metrics",
                "created",
                "train_seconds",
                "interval_coverage",
                "epochs_run",
            )
        }

    @classmethod
    def from_json(cls, data: Any) -> Record:
        """Check and convert a record's JSON; RecordError names the first field that is off."""
        values = _mapping(data, "record")
        names = {field.name for field in dataclasses.fields(cls)}
        missing = sorted(names - set(values) - {"shrinkage"})
        if missing:
            raise RecordError(f"record lacks {', '.join(missing)}")
        try:
            config = TrainConfig.from_dict(values["config"])
        except (ConfigError, TypeError) as error:
            raise RecordError(f"record config: {error}") from None
        metrics = {
            method: Scores.from_json(scores, f"metrics.{method}")
            for method, scores in _mapping(values["metrics"], "metrics").items()
        }
        if SERVED not in metrics:
            raise RecordError(f"metrics lacks {SERVED!r}")
        per_location = {
            station: {
                method: Scores.from_json(scores, f"per_location.{station}.{method}")
                for method, scores in _mapping(methods, f"per_location.{station}").items()
            }
            for station, methods in _mapping(values["per_location"], "per_location").items()
        }
        return cls(
            key=_text(values["key"], "key"),
            format_version=_count(values["format_version"], "format_version"),
            config=config,
            cutoff=_text(values["cutoff"], "cutoff"),
            data_fingerprint=_text(values["data_fingerprint"], "data_fingerprint"),
            network_sha256=_text(values["network_sha256"], "network_sha256"),
            created=_text(values["created"], "created"),
            versions=_mapping(values["versions"], "versions"),
            metrics=metrics,
            per_location=per_location,
            per_step_mae={
                method: _numbers(steps, f"per_step_mae.{method}", optional=True)
                for method, steps in _mapping(values["per_step_mae"], "per_step_mae").items()
            },
            interval_level=_number(values["interval_level"], "interval_level"),
            interval_halfwidths=_numbers(values["interval_halfwidths"], "interval_halfwidths"),
            interval_coverage=_number(
                values["interval_coverage"], "interval_coverage", optional=True
            ),
            calibration_origins=_count(values["calibration_origins"], "calibration_origins"),
            predictions=_columns(values["predictions"], "predictions"),
            forecast=_columns(values["forecast"], "forecast"),
            history={
                name: _numbers(losses, f"history.{name}")
                for name, losses in _mapping(values["history"], "history").items()
            },
            epochs_run=_count(values["epochs_run"], "epochs_run"),
            train_seconds=_number(values["train_seconds"], "train_seconds"),
            training_windows=_count(values["training_windows"], "training_windows"),
            shrinkage=(
                None
                if values.get("shrinkage") is None
                else _numbers(values["shrinkage"], "shrinkage")
            ),
        )


def _mapping(value: Any, where: str) -> dict:
    if not isinstance(value, dict):
        raise RecordError(f"{where} must be a JSON object, got {type(value).__name__}")
    return value


def _text(value: Any, where: str) -> str:
    if not isinstance(value, str):
        raise RecordError(f"{where} must be text, got {value!r:.40}")
    return value


def _count(value: Any, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise RecordError(f"{where} must be a count, got {value!r:.40}")
    return value


def _number(value: Any, where: str, optional: bool = False) -> Any:
    if value is None and optional:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise RecordError(f"{where} must be a number, got {value!r:.40}")
    return float(value)


def _numbers(value: Any, where: str, optional: bool = False) -> list:
    if not isinstance(value, list):
        raise RecordError(f"{where} must be a list of numbers, got {type(value).__name__}")
    return [_number(item, f"{where}[{index}]", optional) for index, item in enumerate(value)]


def _columns(value: Any, where: str) -> dict[str, list]:
    """Equal-length columns that include location and month."""
    columns = _mapping(value, where)
    for name in ("location", "month"):
        if name not in columns:
            raise RecordError(f"{where} lacks the column {name!r}")
    lengths = {
        name: len(column) if isinstance(column, list) else -1 for name, column in columns.items()
    }
    if min(lengths.values()) < 0 or len(set(lengths.values())) > 1:
        raise RecordError(f"{where} columns must be lists of one length, got {lengths}")
    return columns
