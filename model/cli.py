"""Command line: `python -m model train | backtest | forecast | list | delete | build-data`."""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .backtest import CUTOFFS, EVERY
from .config import (
    ANCHORS,
    BOOL_FIELDS,
    CALIBRATIONS,
    CELLS,
    FLOAT_RANGES,
    INT_RANGES,
    RECIPES,
    ConfigError,
    TrainConfig,
)
from .logs import LOG_LEVELS, configure_logging
from .methods import METHOD_KEYS, SERVED, skill_vs_best
from .record import Record
from .schema import EMBEDDED_MONTHLY, VARIABLES, DataError
from .store import Store, StoreError

if TYPE_CHECKING:  # pandas, numpy and the training code load only when the data is read
    from .backtest import BacktestProgress
    from .training import EpochReport

USER_ERRORS = (ConfigError, DataError, StoreError, OSError)
CHOICES = {
    "cell": CELLS,
    "calibration": CALIBRATIONS,
    "anchor": ANCHORS,
    "variable": tuple(VARIABLES),
}
CUTOFF_HELP = "last training month, YYYY-MM (default: the data's last month minus horizon)"


def build_parser() -> argparse.ArgumentParser:
    """The argument parser for every subcommand."""
    parser = argparse.ArgumentParser(prog="python -m model", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--log-level",
        type=str.upper,
        choices=LOG_LEVELS,
        default="WARNING",
        help="log records from this level up on stderr (default WARNING; INFO "
        "adds a line per training started, finished or cancelled)",
    )

    configured = argparse.ArgumentParser(add_help=False, parents=[common])
    configured.add_argument(
        "--recipe",
        choices=sorted(RECIPES),
        default="default",
        help="start from a named config; the options below override it",
    )
    for field in dataclasses.fields(TrainConfig):
        configured.add_argument(f"--{field.name.replace('_', '-')}", **_option(field.name))
    configured.add_argument("--data", help="daily weatherAUS CSV (plain or .gz); default: embedded")
    configured.add_argument(
        "--cache-dir",
        help="store folder (default: $TEMPERATURE_FORECAST_CACHE or the per-user cache folder)",
    )
    configured.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    commands.add_parser(
        "train", parents=[configured], help="train a config, or reuse it from the cache"
    )
    commands.add_parser(
        "backtest",
        parents=[configured],
        help=f"train a config at {CUTOFFS} cutoffs {EVERY} months apart ending at its own "
        "(each cached) and score every method at each",
    )

    forecast = commands.add_parser(
        "forecast",
        parents=[common],
        help="forecast past the data's last month with a cached network, as CSV",
    )
    forecast.add_argument("key")
    forecast.add_argument(
        "--data",
        help="data whose latest months the forecast starts from, as for train; default: embedded",
    )
    forecast.add_argument("--cache-dir")

    listing = commands.add_parser("list", parents=[common], help="list the cached networks")
    listing.add_argument("--cache-dir")
    listing.add_argument("--json", action="store_true")

    delete = commands.add_parser("delete", parents=[common], help="delete a cached network by key")
    delete.add_argument("key")
    delete.add_argument("--cache-dir")

    build = commands.add_parser(
        "build-data", parents=[common], help="regenerate the embedded monthly file"
    )
    build.add_argument("raw", help="path of weatherAUS.csv.gz")
    build.add_argument("--out", default=str(EMBEDDED_MONTHLY))
    return parser


def _option(name: str) -> dict[str, Any]:
    """argparse keywords for a config field: its type, choices or on/off switch."""
    if name in BOOL_FIELDS:
        return {"action": argparse.BooleanOptionalAction, "default": None}
    for kind, ranges in ((int, INT_RANGES), (float, FLOAT_RANGES)):
        if name in ranges:
            low, high = ranges[name]
            return {"type": kind, "help": f"{low} to {high}"}
    return {"choices": CHOICES[name]} if name in CHOICES else {"help": CUTOFF_HELP}


def config_from_args(args: argparse.Namespace) -> TrainConfig:
    """The recipe's config with every given option applied."""
    changes = {
        field.name: getattr(args, field.name)
        for field in dataclasses.fields(TrainConfig)
        if getattr(args, field.name) is not None
    }
    return RECIPES[args.recipe].config.replace(**changes)


def _progress_bar(report: EpochReport) -> None:
    filled = int(30 * report.epoch / report.epochs)
    val = f" val_loss {report.val_loss:.4f}" if report.val_loss is not None else ""
    sys.stderr.write(
        f"\r[{'#' * filled}{'.' * (30 - filled)}] epoch {report.epoch}/"
        f"{report.epochs} loss {report.loss:.4f}{val}"
    )
    sys.stderr.flush()


def _fmt(value: float | None, digits: int = 3) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def _train(args: argparse.Namespace) -> int:
    config = config_from_args(args)
    store = Store(args.cache_dir)
    started = time.perf_counter()
    source = Path(args.data) if args.data else EMBEDDED_MONTHLY
    record = store.recall(config, source) if source.is_file() else None
    hit = record is not None
    if record is None:  # read the data: a miss, or a file this store has not seen
        from .data import load_monthly

        monthly = load_monthly(args.data)
        record, hit = store.get_or_train(config, monthly, None if args.json else _progress_bar)
        store.remember(source, monthly, record)
    elapsed = time.perf_counter() - started
    if not hit and not args.json:
        sys.stderr.write("\n")
    if args.json:
        print(json.dumps(summary_json(record, hit)))
        return 0
    print(
        f"key {record.key}  ({'cache hit' if hit else 'trained'} in {elapsed:.1f} s; "
        f"training took {record.train_seconds:.1f} s)"
    )
    print(
        f"cutoff {record.cutoff}, holdout {config.horizon} months, "
        f"{len(record.per_location)} stations"
    )
    print(f"{'method':<16}{'MAE':>8}{'RMSE':>8}")
    for method in METHOD_KEYS:
        if method in record.metrics:
            scores = record.metrics[method]
            print(f"{method:<16}{_fmt(scores.mae):>8}{_fmt(scores.rmse):>8}")
    coverage = record.interval_coverage
    print(
        f"{int(record.interval_level * 100)}% interval coverage on the holdout: "
        f"{_fmt(coverage and coverage * 100, 1)}%"
    )
    return 0


def summary_json(record: Record, hit: bool) -> dict[str, Any]:
    """The `train --json` object."""
    data = record.to_json()
    return {
        "key": record.key,
        "cache_hit": hit,
        "train_seconds": record.train_seconds,
        "config": data["config"],
        "cutoff": record.cutoff,
        "metrics": {
            method: {"mae": scores.mae, "rmse": scores.rmse}
            for method, scores in record.metrics.items()
        },
        "skill": dict(zip(("percent", "baseline"), skill_vs_best(record.metrics), strict=True)),
        "per_location": data["per_location"],
        "per_step_mae": record.per_step_mae,
        "interval_coverage": record.interval_coverage,
    }


def _backtest(args: argparse.Namespace) -> int:
    from .backtest import run_backtest
    from .data import load_monthly

    config = config_from_args(args)
    result = run_backtest(
        config,
        load_monthly(args.data),
        Store(args.cache_dir),
        None if args.json else _backtest_progress,
    )
    if args.json:
        print(json.dumps(result.to_json()))
        return 0
    sys.stderr.write("\n")
    print(f"{len(result.cutoffs)} cutoffs ({', '.join(result.cutoffs)}), trained {result.trained}")
    print(
        f"{'method':<16}"
        + "".join(f"{cutoff:>9}" for cutoff in result.cutoffs)
        + f"{'mean':>8}{'min':>8}{'max':>8}{'wins':>6}"
    )
    for method in result.methods:
        print(
            f"{method:<16}"
            + "".join(f"{_fmt(mae):>9}" for mae in result.mae[method])
            + f"{_fmt(result.mean[method]):>8}{_fmt(result.low[method]):>8}"
            f"{_fmt(result.high[method]):>8}{result.wins[method]:>6}"
        )
    return 0


def _backtest_progress(report: BacktestProgress) -> None:
    epoch = report.epoch
    where = f"cutoff {report.index}/{report.count} ({report.cutoff})"
    if epoch is None:
        state = "cached" if report.cached else "starting"
    else:
        stage = f"{epoch.stage} " if epoch.stage else ""
        state = f"{stage}epoch {epoch.epoch}/{epoch.epochs}"
    sys.stderr.write(f"\r{where}: {state:<40}")
    sys.stderr.flush()


def _forecast(args: argparse.Namespace) -> int:
    import pandas as pd

    from .data import load_monthly
    from .pipeline import forecast_from

    store = Store(args.cache_dir)
    network = store.load_network(args.key)
    table = forecast_from(store.record(args.key), network, load_monthly(args.data))
    pd.DataFrame(table).to_csv(sys.stdout, index=False, lineterminator="\n")
    return 0


def _list(args: argparse.Namespace) -> int:
    entries = Store(args.cache_dir).entries()
    if args.json:
        print(json.dumps([entry.summary() for entry in entries]))
        return 0
    if not entries:
        print("no cached networks")
        return 0
    print(f"{'key':<22}{'created':<27}{'window':>7}{'horizon':>8}{'cell':>6}{'MAE':>8}")
    for entry in entries:
        config = entry.config
        print(
            f"{entry.key:<22}{entry.created:<27}{config.window:>7}{config.horizon:>8}"
            f"{config.cell:>6}{_fmt(entry.metrics[SERVED].mae):>8}"
        )
    return 0


def _delete(args: argparse.Namespace) -> int:
    if not Store(args.cache_dir).delete(args.key):
        raise StoreError(f"no store entry with key {args.key}")
    print(f"deleted {args.key}")
    return 0


def _build_data(args: argparse.Namespace) -> int:
    from .data import build_embedded

    monthly = build_embedded(args.raw, args.out)
    print(
        f"wrote {args.out}: {len(monthly)} station-months, {monthly['location'].nunique()} stations"
    )
    return 0


def main(argv: list[str] | None = None) -> int:
    """Run one subcommand; user mistakes print one line on stderr and exit 2."""
    args = build_parser().parse_args(argv)
    configure_logging(args.log_level)
    handlers = {
        "train": _train,
        "backtest": _backtest,
        "forecast": _forecast,
        "list": _list,
        "delete": _delete,
        "build-data": _build_data,
    }
    try:
        return handlers[args.command](args)
    except USER_ERRORS as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("\ninterrupted", file=sys.stderr)
        return 130
