"""Accuracy benchmark: the default, the article's recipe and three baselines on the same cells.

Run from the repository root:

    nice python -m benchmarks.accuracy    # default holdout + 6-origin backtest, H=18 and 6

Every method is scored on exactly the same (station, month) cells: the intersection of the cells
where the observation and every method's forecast exist. The baselines (anomaly persistence,
seasonal naive, climatology) come from model/evaluate.py; AutoETS(season_length=12) from
statsforecast is fitted per station on the gap-filled months up to the cutoff (its latest
unbroken run). The networks come from model.run_backtest, the code behind the CLI's `backtest`
and the page's Backtest card: trained through the store (cached in --cache-dir, so a rerun only
trains what changed), the shipped built-in models and the default's shipped backtest read first.
The article's recipe (batch 1 x 50 epochs, about 45 minutes a fit here) runs on the default
holdout only. The default is also checked at earlier origins and at origins 3 months off the
backtest grid. Prints tables, writes the
accuracy section of benchmarks/RESULTS.md, benchmarks/accuracy.json and
benchmarks/accuracy_by_step.png. `--figure-only` redraws that figure from the saved JSON.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from benchmarks.common import (
    BENCHMARKS,
    fmt,
    markdown_table,
    write_section,
)
from dashboard.data.shipped import shipped_backtest_stores
from model import (
    CLIMATOLOGY,
    PERSISTENCE,
    RECIPES,
    SEASONAL_NAIVE,
    SERVED,
    SHARED,
    Record,
    Store,
    TrainConfig,
    backtest_cutoffs,
    read_monthly,
    run_backtest,
    write_atomic,
)
from model.config import months_before
from model.evaluate import BASELINE_FORECASTS, errors, observed, target_rows
from model.windows import forecast_inputs, prepare

BASELINES = (PERSISTENCE, SEASONAL_NAIVE, CLIMATOLOGY, "autoets")
REFERENCE = "seasonal_level"  # the default's smooth level alone, to show what the network adds
NETWORK = "default_network"  # the default's network on its own, before damping
LABELS = {
    "default": "default config (served)",
    NETWORK: "default's network, own forecast",
    "article": "article's recipe (batch 1, 50 epochs)",
    PERSISTENCE: "anomaly persistence",
    SEASONAL_NAIVE: "seasonal naive",
    CLIMATOLOGY: "climatology",
    "autoets": "AutoETS (season 12)",
    REFERENCE: "reference: default's harmonic seasonal level alone (no network)",
}
DEFAULT_CACHE = Path(os.environ.get("TMPDIR", "/tmp")) / "temperature-forecast-bench"
FIGURE = BENCHMARKS / "accuracy_by_step.png"


def earlier_cutoffs(
    monthly: pd.DataFrame, before: str, min_months: int = 48, every: int = 6
) -> list[str]:
    """Cutoffs every `every` months before `before` while `min_months` observed months precede them.

    These origins were not used to choose the default, so they check it out of sample. A cutoff
    month missing at every station has no input window and is skipped.
    """
    months = set(monthly["month"].dt.strftime("%Y-%m"))  # YYYY-MM sorts as the months do
    cutoffs, cutoff = [], months_before(before, every)
    while sum(month <= cutoff for month in months) >= min_months:
        if cutoff in months:
            cutoffs.append(cutoff)
        cutoff = months_before(cutoff, every)
    return cutoffs


def autoets(prepared: Any, windows: Any, horizon: int) -> np.ndarray:
    """AutoETS(season_length=12) forecasts per window from the station's months up to the cutoff."""
    from statsforecast.models import AutoETS

    forecasts = np.full((len(windows), horizon), np.nan)
    for row, (location, start) in enumerate(zip(windows.location, windows.start, strict=True)):
        series = prepared.filled[:start, location]
        gaps = np.flatnonzero(~np.isfinite(series))
        series = series[gaps[-1] + 1 :] if gaps.size else series
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            forecasts[row] = AutoETS(season_length=12).forecast(y=series, h=horizon)["mean"]
    return forecasts


def _long(prepared: Any, windows: Any, horizon: int, values: np.ndarray) -> pd.Series:
    """(window, step) array -> Series indexed by (location, step)."""
    index = pd.MultiIndex.from_arrays(
        [
            np.repeat([prepared.locations[i] for i in windows.location], horizon),
            np.tile(np.arange(1, horizon + 1), len(windows)),
        ],
        names=["location", "step"],
    )
    return pd.Series(np.asarray(values, dtype=float).ravel(), index=index)


def baseline_cells(monthly: pd.DataFrame, config: TrainConfig) -> pd.DataFrame:
    """Actual values, the four baselines (and the config's seasonal level) on its holdout."""
    prepared = prepare(monthly, config)
    windows = forecast_inputs(prepared, config, prepared.cutoff_index)
    horizon = config.horizon
    columns = {
        "actual": observed(prepared, target_rows(windows, horizon), windows.location),
        **{
            name: forecast(prepared, windows, horizon)
            for name, forecast in BASELINE_FORECASTS.items()
        },
        "autoets": autoets(prepared, windows, horizon),
    }
    if config.anomalies and config.harmonics:
        rows = target_rows(windows, horizon)
        columns[REFERENCE] = prepared.seasonal[
            prepared.calendar_month(rows), windows.location[:, None]
        ]
    return pd.DataFrame(
        {name: _long(prepared, windows, horizon, values) for name, values in columns.items()}
    )


def network_cells(record: Record) -> pd.DataFrame:
    """The served, network, lower and upper columns of a record, indexed by (location, step)."""
    table = pd.DataFrame(record.predictions).set_index(["location", "step"])
    return table[[SERVED, "network", "lower", "upper"]].astype(float)


def score(cells: pd.DataFrame, methods: list[str]) -> dict[str, Any]:
    """MAE, RMSE, per-step MAE and coverage of every method on the common finite cells."""
    common = cells.dropna(subset=["actual", *methods])
    horizon = int(cells.index.get_level_values("step").max())
    steps = common.index.get_level_values("step").to_numpy()
    actual = common["actual"].to_numpy()
    scored: dict[str, Any] = {"cells": len(common), "methods": {}}
    for method in methods:
        values = common[method].to_numpy()
        entry: dict[str, Any] = dataclasses.asdict(errors(values, actual))
        entry["per_step_mae"] = [
            errors(values[steps == s], actual[steps == s]).mae for s in range(1, horizon + 1)
        ]
        if f"{method}_lower" in common:
            inside = (common[f"{method}_lower"] <= common["actual"]) & (
                common["actual"] <= common[f"{method}_upper"]
            )
            entry["coverage"] = float(inside.mean())
        scored["methods"][method] = entry
    return scored


def networks_at(
    monthly: pd.DataFrame,
    store: Store,
    config: TrainConfig,
    cutoffs: list[str],
    log: list[str],
) -> list[Record]:
    """The config's record at each cutoff, from model.run_backtest (trained or from a cache)."""
    if not cutoffs:  # run_backtest would take the protocol's cutoffs
        return []
    started = time.perf_counter()
    result = run_backtest(config, monthly, store, cutoffs=cutoffs, also=shipped_backtest_stores())
    message = (
        f"H={config.horizon} cutoffs {', '.join(cutoffs)}: {result.trained} "
        f"trained, the rest from a cache, in {time.perf_counter() - started:.1f} s"
    )
    log.append(message)
    print(message, file=sys.stderr, flush=True)
    return list(result.records)


def evaluate_cutoff(monthly: pd.DataFrame, records: dict[str, Record]) -> dict[str, Any]:
    """Score each record (all of one horizon and cutoff) beside the baselines on common cells."""
    first = next(iter(records.values()))
    cells = baseline_cells(monthly, first.config.replace(cutoff=first.cutoff))
    for name, record in records.items():
        network = network_cells(record)
        cells[name] = network[SERVED]
        if name == "default":
            cells[NETWORK] = network["network"]
        cells[f"{name}_lower"], cells[f"{name}_upper"] = network["lower"], network["upper"]
    return score(
        cells,
        [
            *records,
            *([NETWORK] if NETWORK in cells else []),
            *BASELINES,
            *([REFERENCE] if REFERENCE in cells else []),
        ],
    )


def summarise(runs: dict[str, dict[str, Any]], methods: list[str]) -> dict[str, Any]:
    """Mean and spread over cutoffs, per-step mean MAE, skill per step, pooled coverage."""
    summary = {}
    for method in methods:
        maes = np.array([run["methods"][method]["mae"] for run in runs.values()])
        rmses = np.array([run["methods"][method]["rmse"] for run in runs.values()])
        per_step = np.array(
            [run["methods"][method]["per_step_mae"] for run in runs.values()], dtype=float
        )
        entry = {
            "mae_mean": float(maes.mean()),
            "mae_std": float(maes.std(ddof=1)),
            "mae_min": float(maes.min()),
            "mae_max": float(maes.max()),
            "rmse_mean": float(rmses.mean()),
            "rmse_std": float(rmses.std(ddof=1)),
            "per_step_mae": np.nanmean(per_step, axis=0).tolist(),
        }
        coverages = [run["methods"][method].get("coverage") for run in runs.values()]
        if all(c is not None for c in coverages):
            cells = np.array([run["cells"] for run in runs.values()])
            entry["coverage"] = float(np.average(coverages, weights=cells))
            entry["coverage_min"], entry["coverage_max"] = min(coverages), max(coverages)
        summary[method] = entry
    climate = np.array(summary[CLIMATOLOGY]["per_step_mae"])
    for method in methods:
        summary[method]["skill_per_step"] = (
            1 - np.array(summary[method]["per_step_mae"]) / climate
        ).tolist()
    return summary


def skill(per_step: list[float], climate: list[float]) -> list[float]:
    """1 - MAE_model / MAE_climatology per horizon step."""
    return (1 - np.array(per_step, dtype=float) / np.array(climate, dtype=float)).tolist()


def per_cutoff_table(
    runs: dict[str, dict[str, Any]], methods: list[str], with_mean: bool = False
) -> str:
    """MAE of every method at each cutoff (and optionally their mean)."""
    maes = {c: [run["methods"][m]["mae"] for m in methods] for c, run in runs.items()}
    rows = [[c, *map(fmt, values)] for c, values in maes.items()]
    if with_mean:
        rows.append(["mean", *map(fmt, np.mean(list(maes.values()), axis=0))])
    return markdown_table(["cutoff", *[LABELS[m] for m in methods]], rows)


CHECK_GROUPS = {
    "earlier": "Earlier origins (every 6 months before the backtest while at least 4 years of data "
    "precede the cutoff; a cutoff month missing at every station has no input window "
    "and is skipped). They were not used to choose the default's recipe, but they did "
    'expose the damping rule fixed since (see "What we tried", row 19):',
    "offset": "Origins 3 months off the backtest grid, never looked at while choosing anything:",
}


def check_table(runs: dict[str, dict[str, Any]], methods: list[str]) -> list[str]:
    """Per-cutoff MAE with the mean, and how often the default beats each baseline."""
    wins = {
        rival: sum(
            run["methods"]["default"]["mae"] < run["methods"][rival]["mae"] for run in runs.values()
        )
        for rival in BASELINES
    }
    return [
        per_cutoff_table(runs, methods, with_mean=True),
        "",
        "The default beats "
        + ", ".join(f"{LABELS[r]} at {wins[r]}/{len(runs)}" for r in BASELINES)
        + " of these origins.",
    ]


def served_vs_persistence(summary: dict[str, Any], horizon: int) -> list[str]:
    """Per step: the network's own, the served, persistence's and the curve's MAE; the targets
    (served never worse than the best simple method, anomaly persistence), met or not."""
    served, network, best, curve = (
        np.array(summary[m]["per_step_mae"], dtype=float)
        for m in ("default", NETWORK, PERSISTENCE, REFERENCE)
    )
    rows = [
        [
            step + 1,
            fmt(network[step]),
            fmt(served[step]),
            fmt(best[step]),
            fmt(curve[step]),
            "yes" if served[step] < best[step] else "no",
        ]
        for step in range(horizon)
    ]
    early = served[:3] < best[:3]
    whole = summary["default"]["mae_mean"] <= summary[PERSISTENCE]["mae_mean"]
    coverage = summary["default"].get("coverage")
    checks = [
        [
            "served beats persistence at steps 1-3",
            ", ".join(f"{fmt(s)} vs {fmt(b)}" for s, b in zip(served[:3], best[:3], strict=True)),
            "yes" if early.all() else f"no ({int(early.sum())} of 3)",
        ],
        [
            "served not worse than persistence over the whole horizon",
            f"{fmt(summary['default']['mae_mean'])} vs {fmt(summary[PERSISTENCE]['mae_mean'])}",
            "yes" if whole else "no",
        ],
        [
            "pooled 80% coverage within 75-85%",
            "-" if coverage is None else f"{100 * coverage:.1f}%",
            "yes" if coverage is not None and 0.75 <= coverage <= 0.85 else "no",
        ],
    ]
    return [
        f"The network's own forecast, the served forecast, anomaly persistence (what the served "
        f"one is damped toward) and the 2-harmonic curve alone, per step (H = {horizon}, mean "
        "over the rolling-origin cutoffs):",
        "",
        markdown_table(
            [
                "step",
                "network's own MAE",
                "served MAE",
                "persistence MAE",
                "curve MAE",
                "served beats persistence",
            ],
            rows,
        ),
        "",
        markdown_table(["target", "figure", "met?"], checks),
    ]


def markdown(results: dict[str, Any], command: str) -> str:
    """The accuracy section of RESULTS.md."""
    default = results["default_config"]
    parts = [
        "## Accuracy",
        "",
        f"Command: `{command}` ({results['seconds']:.0f} s wall, networks cached in "
        f"`{results['cache_dir']}`).",
        "",
        f"Default config: `{json.dumps({k: v for k, v in default.items() if k != 'cutoff'})}`",
        "",
        "Every method is scored on exactly the same (station, month) cells. Rolling origin: the "
        "default cutoff and the 5 earlier ones, every 6 months, each with a full H-month holdout. "
        "The article's recipe (about 45 minutes a fit here) is run on the H = 18 default holdout "
        "only. The networks come from model.run_backtest (as `python -m model backtest` and the "
        "page's Backtest card), the shipped built-in models and the default's shipped backtest "
        "first.",
    ]
    for horizon in results["horizons"]:
        block = results["by_horizon"][str(horizon)]
        holdout, summary = block["holdout"], block["summary"]
        methods = list(summary)
        parts += [
            "",
            f"### H = {horizon}",
            "",
            f"Default holdout (cutoff {block['holdout_cutoff']}, {holdout['cells']} cells):",
            "",
        ]
        rows = []
        for method in holdout["methods"]:
            entry = holdout["methods"][method]
            rows.append(
                [
                    LABELS[method],
                    fmt(entry["mae"]),
                    fmt(entry["rmse"]),
                    fmt(100 * entry["coverage"], 1) + "%" if "coverage" in entry else "-",
                ]
            )
        parts.append(markdown_table(["method", "MAE", "RMSE", "80% interval coverage"], rows))
        cutoffs = list(block["backtest"])
        parts += ["", f"Rolling origin, {len(cutoffs)} cutoffs ({', '.join(cutoffs)}):", ""]
        rows = []
        for method in methods:
            entry = summary[method]
            wins = sum(
                block["backtest"][c]["methods"][method]["mae"]
                < block["backtest"][c]["methods"][CLIMATOLOGY]["mae"]
                for c in cutoffs
            )
            rows.append(
                [
                    LABELS[method],
                    fmt(entry["mae_mean"]),
                    fmt(entry["mae_std"]),
                    f"{fmt(entry['mae_min'])}-{fmt(entry['mae_max'])}",
                    fmt(entry["rmse_mean"]),
                    fmt(entry["rmse_std"]),
                    "-" if method == CLIMATOLOGY else f"{wins}/{len(cutoffs)}",
                    (
                        f"{100 * entry['coverage']:.1f}% ({100 * entry['coverage_min']:.0f}-"
                        f"{100 * entry['coverage_max']:.0f}%)"
                    )
                    if "coverage" in entry
                    else "-",
                ]
            )
        parts.append(
            markdown_table(
                [
                    "method",
                    "MAE mean",
                    "MAE sd",
                    "MAE range",
                    "RMSE mean",
                    "RMSE sd",
                    "cutoffs beating climatology",
                    "80% coverage (range)",
                ],
                rows,
            )
        )
        parts += ["", "MAE per cutoff:", "", per_cutoff_table(block["backtest"], methods)]
        for group, title in CHECK_GROUPS.items():
            if block.get(group):
                parts += ["", title, "", *check_table(block[group], methods)]
        steps = range(horizon)
        header = [
            "step",
            *[f"{LABELS[m]} MAE" for m in methods],
            "default skill (backtest)",
            "default skill (holdout)",
        ]
        holdout_skill = skill(
            holdout["methods"]["default"]["per_step_mae"],
            holdout["methods"][CLIMATOLOGY]["per_step_mae"],
        )
        rows = [
            [
                s + 1,
                *[fmt(summary[m]["per_step_mae"][s]) for m in methods],
                fmt(summary["default"]["skill_per_step"][s]),
                fmt(holdout_skill[s]),
            ]
            for s in steps
        ]
        parts += [
            "",
            "Per-step MAE (mean over the rolling-origin cutoffs) and skill "
            "(1 - MAE_default / MAE_climatology; positive = the network helps):",
            "",
            markdown_table(header, rows),
        ]
        if REFERENCE in summary:
            parts += ["", *served_vs_persistence(summary, horizon)]
    panels = ", ".join(f"H = {horizon}" for horizon in results["horizons"])
    parts += [
        "",
        f"![MAE by horizon step]({FIGURE.name})",
        "",
        f"Plot: MAE by horizon step, rolling-origin mean; panels left to right: {panels}.",
    ]
    return "\n".join(parts)


def draw_figure(results: dict[str, Any], path: Path = FIGURE) -> None:
    """Plot each method's rolling-origin MAE by horizon step, one panel per horizon, as a PNG."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    horizons = results["horizons"]
    figure = Figure(figsize=(5.5 * len(horizons), 4.8), layout="constrained")
    FigureCanvasAgg(figure)
    axes = figure.subplots(1, len(horizons), squeeze=False)[0]
    markers = "osD^vP*X"
    for panel, horizon in zip(axes, horizons, strict=True):
        block = results["by_horizon"][str(horizon)]
        summary = block["summary"]
        steps = range(1, horizon + 1)
        for number, method in enumerate(results["plot_methods"]):
            mae = [np.nan if v is None else v for v in summary[method]["per_step_mae"]]
            served = method == "default"  # drawn on top: the curve's line nearly covers it
            panel.plot(
                steps,
                mae,
                marker=markers[number % len(markers)],
                markersize=4,
                linewidth=2.5 if served else 1.5,
                zorder=3 if served else 2,
                label=LABELS[method],
            )
        panel.set_title(f"H = {horizon}: mean of {len(block['backtest'])} rolling origins")
        panel.set_xlabel("months ahead (horizon step)")
        panel.set_ylabel("MAE (°C)")
        panel.set_xticks(range(1, horizon + 1, max(1, horizon // 9)))
        panel.grid(alpha=0.3)
    handles, labels = axes[0].get_legend_handles_labels()
    figure.legend(handles, labels, loc="outside lower center", ncols=2, frameon=False)
    figure.savefig(path, dpi=110)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--horizons", type=int, nargs="+", default=[18, 6])
    parser.add_argument("--cutoffs", type=int, default=6, help="rolling-origin cutoffs (>= 2)")
    parser.add_argument("--no-article", action="store_true", help="skip the article's recipe")
    parser.add_argument("--config", help="JSON of TrainConfig changes applied to DEFAULT")
    parser.add_argument("--cache-dir", default=str(DEFAULT_CACHE))
    parser.add_argument("--out", default=str(BENCHMARKS / "RESULTS.md"))
    parser.add_argument("--json-out", default=str(BENCHMARKS / "accuracy.json"))
    parser.add_argument(
        "--figure-only",
        action="store_true",
        help=f"redraw {FIGURE.name} from --json-out, train nothing",
    )
    args = parser.parse_args(argv)
    if args.figure_only:
        draw_figure(json.loads(Path(args.json_out).read_text()))
        return 0
    started = time.perf_counter()
    monthly = read_monthly()
    store = Store(args.cache_dir)
    default = RECIPES["default"].config.replace(**json.loads(args.config or "{}"))
    results: dict[str, Any] = {
        "horizons": args.horizons,
        "default_config": default.to_dict(),
        "cache_dir": args.cache_dir,
        "by_horizon": {},
        "log": [],
    }

    log: list[str] = results["log"]

    def default_at(horizon: int, cutoffs: list[str]) -> dict[str, dict[str, Any]]:
        records = networks_at(monthly, store, default.replace(horizon=horizon), cutoffs, log)
        return {record.cutoff: evaluate_cutoff(monthly, {"default": record}) for record in records}

    article = RECIPES["article"].config
    for horizon in args.horizons:
        cutoffs = backtest_cutoffs(default.replace(horizon=horizon), monthly, args.cutoffs)
        backtest = default_at(horizon, cutoffs)
        holdout = backtest[cutoffs[0]]
        if not args.no_article and horizon == article.horizon:
            (ours,) = networks_at(
                monthly, store, default.replace(horizon=horizon), cutoffs[:1], log
            )
            (theirs,) = networks_at(monthly, store, article, cutoffs[:1], log)
            holdout = evaluate_cutoff(monthly, {"default": ours, "article": theirs})
        checks = {
            "earlier": default_at(horizon, earlier_cutoffs(monthly, cutoffs[-1])),
            "offset": default_at(horizon, [months_before(c, 3) for c in cutoffs]),
        }
        methods = [
            "default",
            NETWORK,
            *BASELINES,
            *([REFERENCE] if REFERENCE in holdout["methods"] else []),
        ]
        results["by_horizon"][str(horizon)] = {
            "holdout_cutoff": cutoffs[0],
            "holdout": holdout,
            "backtest": backtest,
            "summary": summarise(backtest, methods),
            **checks,
        }
    results["seconds"] = time.perf_counter() - started
    results["plot_methods"] = list(results["by_horizon"][str(args.horizons[0])]["summary"])
    draw_figure(results)
    command = "nice python -m benchmarks.accuracy " + " ".join(
        argv if argv is not None else sys.argv[1:]
    )
    text = markdown(results, command.strip())
    print(text)
    write_section("accuracy", text, Path(args.out))
    text = json.dumps(results, indent=1, default=float)
    write_atomic(args.json_out, lambda temporary: temporary.write_text(text), SHARED)
    return 0


if __name__ == "__main__":
    sys.exit(main())
