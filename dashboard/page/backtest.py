"""The Backtest card: the shown model's rolling-origin backtest, and the job that computes it.

The backtest (model.run_backtest) trains the shown model's settings at 6 cutoffs 6 months
apart ending at its own, each a full training cached under its own key, so the card shows it
whenever every cutoff is in a store (the built-in default's ship with the page). Backtest runs
the missing trainings as a background job within the bounds of a training (`jobs.admit`: one
per session, the shared slots, the grace period), reporting each cutoff's epochs; Cancel stops
it, keeping the cutoffs trained so far. The job answers with BACKTEST_DONE, which the view
callback reads.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, NamedTuple

import dash_bootstrap_components as dbc
import pandas as pd
from dash import Dash, Input, Output, State, dcc, html

from model import (
    Backtest,
    BacktestProgress,
    DataError,
    Store,
    TrainConfig,
    backtest_cutoffs,
    cached_backtest,
    method,
    run_backtest,
)

from ..data.shipped import BACKTEST_FOLDER
from ..data.sources import InputError, find_record, load_dataset, stores, user_store
from ..present.figures import message_figure
from ..present.figures.backtest import backtest_figure
from ..present.messages import alert, describe, not_saved
from ..server import access, jobs, session
from ..settings import Settings
from . import ids
from .common import GRAPH_CONFIG, card, duplicate, outputs
from .state import unpack

SHOWN, HIDDEN = {"display": "block"}, {"display": "none"}
Report = Callable[[int, str], None]  # percent, label
log = logging.getLogger(__name__)


def layout() -> dbc.Card:
    """The card: what it is, Backtest and Cancel, the progress bar, the chart and the tables."""
    return card(
        "Backtest",
        [
            html.P(
                "The model shown, trained again at 6 cutoffs 6 months apart ending at its own "
                "(each a full training, its calibration folds included), and every method "
                "scored on the months after each cutoff.",
                className="small text-muted mb-2",
            ),
            html.Div(id=ids.BACKTEST_STATUS, className="small mb-2"),
            html.Div(
                [
                    dbc.Button("Backtest", id=ids.BACKTEST_RUN, color="primary"),
                    dbc.Button(
                        "Cancel",
                        id=ids.BACKTEST_CANCEL,
                        color="secondary",
                        outline=True,
                        disabled=True,
                    ),
                ],
                className="button-row mb-2",
            ),
            html.Div(
                dbc.Progress(
                    id=ids.BACKTEST_PROGRESS, value=0, label="", striped=True, animated=True
                ),
                id=ids.BACKTEST_PROGRESS_BOX,
                style=HIDDEN,
                className="mb-2",
                # the bar's name (assets/names.js); Dash's stubs do not type data-* props
                **{"data-name": "Backtest progress"},  # type: ignore[arg-type]
            ),
            html.Div(id=ids.BACKTEST_MESSAGE),
            dcc.Graph(
                id=ids.BACKTEST_CHART,
                figure=message_figure("", height=80),
                config=GRAPH_CONFIG,
                className="modebar-above",
            ),
            html.Div(id=ids.BACKTEST_TABLES),
            dcc.Store(id=ids.BACKTEST_DONE),
        ],
        className="mb-3",
    )


class BacktestView(NamedTuple):
    status: Any  # what is shown, or why nothing is
    figure: Any
    tables: Any
    message: Any  # how the last job of this page ended, if it was about this model


VIEW_OUTPUTS = outputs(
    BacktestView,
    status=Output(ids.BACKTEST_STATUS, "children"),
    figure=Output(ids.BACKTEST_CHART, "figure"),
    tables=Output(ids.BACKTEST_TABLES, "children"),
    message=Output(ids.BACKTEST_MESSAGE, "children"),
)


def register(app: Dash, settings: Settings) -> None:
    """The view of the shown model's backtest, the job behind Backtest, and Cancel's word."""

    @app.callback(*VIEW_OUTPUTS, Input(ids.VIEW, "data"), Input(ids.BACKTEST_DONE, "data"))
    def _show(shown: Any, done: Any) -> BacktestView:
        return show_backtest(settings, shown, done)

    @app.callback(
        Output(ids.BACKTEST_DONE, "data"),
        Input(ids.BACKTEST_RUN, "n_clicks"),
        State(ids.VIEW, "data"),
        background=True,
        prevent_initial_call=True,
        interval=500,
        progress=[Output(ids.BACKTEST_PROGRESS, "value"), Output(ids.BACKTEST_PROGRESS, "label")],
        running=[
            (Output(ids.BACKTEST_RUN, "disabled"), True, False),
            (Output(ids.BACKTEST_CANCEL, "disabled"), False, True),
            (Output(ids.BACKTEST_PROGRESS_BOX, "style"), SHOWN, HIDDEN),
        ],
        cancel=[Input(ids.BACKTEST_CANCEL, "n_clicks")],
    )
    def _run(set_progress: Callable, clicks: Any, shown: Any) -> dict[str, Any]:
        return backtest_job(settings, lambda percent, label: set_progress((percent, label)), shown)

    @app.callback(
        *duplicate(VIEW_OUTPUTS[BacktestView._fields.index("message")]),
        Input(ids.BACKTEST_CANCEL, "n_clicks"),
        prevent_initial_call=True,
    )
    def _cancelled(clicks: Any) -> Any:
        return alert("Backtest cancelled; the cutoffs trained so far are kept.", "warning")


def backtest_stores(settings: Settings) -> list[Store]:
    """Where cutoffs are read: the user's store, the shipped models and the shipped backtest."""
    found = stores(settings)
    if settings.use_shipped:
        found.append(Store(BACKTEST_FOLDER))
    return found


def _subject(settings: Settings, view: Any) -> tuple[TrainConfig, Any, str]:
    """The shown model's config, its data set and its key; InputError if none can be read."""
    dataset, _, key, _ = unpack(view)
    data = load_dataset(settings, dataset)
    if key is None:
        raise InputError("No model is shown: pick one in the models list.")
    record = find_record(settings, key)
    if record.data_fingerprint != data.fingerprint:
        raise InputError(f"model {key} was trained on another data set")
    return record.config, data, key


def show_backtest(settings: Settings, view: Any, done: Any) -> BacktestView:
    """The shown model's backtest if every cutoff is stored, else what Backtest would do."""
    message = None
    if isinstance(done, dict) and isinstance(done.get("message"), dict):
        text, color = done["message"].get("text"), done["message"].get("color")
        if isinstance(text, str) and color in ("success", "info", "warning", "danger"):
            message = alert(text, color)
    try:
        config, data, key = _subject(settings, view)
        result = cached_backtest(
            config, data.monthly, backtest_stores(settings), data_print=data.fingerprint
        )
    except (InputError, DataError) as error:
        return BacktestView(alert(str(error)), message_figure("", height=80), None, message)
    if not isinstance(done, dict) or done.get("key") != key:
        message = None  # the last job's word was about another model
    if result is None:
        cutoffs = backtest_cutoffs(config, data.monthly)
        record = find_record(settings, key)
        status = (
            f"Not computed yet for this model ({describe(config)}): Backtest trains it at the "
            f"cutoffs {', '.join(reversed(cutoffs))} that are not in the cache. One training "
            f"of it took {_duration(record.train_seconds)}."
        )
        figure = message_figure("Not computed yet: press Backtest.", height=120)
        return BacktestView(html.Span(status, className="text-muted"), figure, None, message)
    return BacktestView(
        _status(result), backtest_figure(mae_frame(result)), tables(result), message
    )


def _duration(seconds: float) -> str:
    return f"{seconds:.0f} s" if seconds < 120 else f"{seconds / 60:.0f} min"


def mae_frame(result: Backtest) -> pd.DataFrame:
    """MAE per cutoff and method, long: the chart's data."""
    return pd.DataFrame(
        [
            {"cutoff": cutoff, "method": key, "mae": result.mae[key][index]}
            for key in result.methods
            for index, cutoff in enumerate(result.cutoffs)
        ]
    )


def _status(result: Backtest) -> Any:
    best = min(
        (key for key in result.methods if result.mean[key] is not None),
        key=lambda key: result.mean[key] or 0.0,
    )
    first, last = result.cutoffs[-1], result.cutoffs[0]
    return html.Span(
        f"{len(result.cutoffs)} cutoffs, {first} to {last}, {result.cells[0]} held-out cells at "
        f"the newest. Lowest mean MAE: {method(best).label} ({_number(result.mean[best])} °C)."
    )


def _number(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def tables(result: Backtest) -> list[Any]:
    """The summary (mean, spread, wins) and the per-step mean MAE, a row per method."""
    count = len(result.cutoffs)
    summary = dbc.Table(
        [
            html.Thead(
                html.Tr([html.Th(h) for h in ("method", "mean MAE", "spread", "cutoffs won")])
            ),
            html.Tbody(
                [
                    html.Tr(
                        [
                            html.Th(method(key).label, scope="row"),
                            html.Td(_number(result.mean[key])),
                            html.Td(f"{_number(result.low[key])}-{_number(result.high[key])}"),
                            html.Td(f"{result.wins[key]} of {count}"),
                        ]
                    )
                    for key in result.methods
                ]
            ),
        ],
        id=ids.BACKTEST_SUMMARY,
        size="sm",
        className="mb-2",
    )
    steps = len(next(iter(result.per_step.values()), []))
    per_step = dbc.Table(
        [
            html.Thead(
                html.Tr([html.Th("method"), *(html.Th(str(s)) for s in range(1, steps + 1))])
            ),
            html.Tbody(
                [
                    html.Tr(
                        [
                            html.Th(method(key).label, scope="row"),
                            *(html.Td(_number(v)) for v in result.per_step[key]),
                        ]
                    )
                    for key in result.methods
                ]
            ),
        ],
        id=ids.BACKTEST_STEPS,
        size="sm",
        className="mb-0",
    )
    return [
        html.H3("Mean, spread and wins over the cutoffs (MAE, °C)", className="h6 mt-2"),
        html.Div(summary, className="table-responsive"),
        html.H3("Mean MAE by months ahead (°C)", className="h6 mt-2"),
        html.Div(per_step, className="table-responsive", tabIndex="0"),
    ]


def backtest_job(settings: Settings, report: Report, view: Any) -> dict[str, Any]:
    """Compute the shown model's backtest; runs as a background job. Returns BACKTEST_DONE.

    A backtest already stored answers at once. Else each missing cutoff is trained within
    the bounds of a training, and `report` gets the percent and a label after each epoch.
    """
    key = None

    def end(text: str, color: str) -> dict[str, Any]:
        return {"key": key, "message": {"text": text, "color": color}}

    try:
        config, data, key = _subject(settings, view)
    except InputError as error:
        return end(str(error), "danger")
    read_only = backtest_stores(settings)[1:]
    if cached_backtest(config, data.monthly, [user_store(settings), *read_only], data.fingerprint):
        return end("The backtest was in the cache: shown now.", "info")
    store = user_store(settings)
    before = {path.stem for path in store.folder.glob("*.json")}
    reached = {"percent": 0}

    def show(percent: int, label: str) -> None:
        reached["percent"] = percent = max(percent, reached["percent"])
        report(percent, label)
        jobs.note_progress(settings, percent, f"backtest: {label}")

    def progress(step: BacktestProgress) -> None:
        where = f"cutoff {step.index} of {step.count} ({step.cutoff})"
        epoch = step.epoch
        if epoch is None:
            show(
                round(100 * (step.index - 1) / step.count),
                f"{where}: {'cached' if step.cached else 'training'}",
            )
            return
        stage = f"{epoch.stage}: " if epoch.stage else ""
        done = (step.index - 1 + (0 if epoch.stage else epoch.epoch / epoch.epochs)) / step.count
        show(round(100 * done), f"{where}: {stage}epoch {epoch.epoch} of {epoch.epochs}")

    def queued(place: int) -> None:
        report(0, f"queued: number {place} in line")

    try:
        with jobs.admit(settings, queued) as still_wanted:
            show(0, "starting...")
            result = run_backtest(
                config,
                data.monthly,
                store,
                progress,
                still_wanted,
                data.fingerprint,
                also=read_only,
            )
    except DataError as error:
        return end(f"Not computed: {error}", "danger")
    except jobs.Refused as error:
        return end(f"Not computed: {error}.", "warning")
    except jobs.Stopped as error:
        return end(f"Backtest stopped: {error}; the cutoffs trained so far are kept.", "warning")
    except OSError as error:
        log.error("backtest of %s not saved: %s", describe(config), error)
        return end(not_saved(error, "a trained cutoff"), "danger")
    for trained in set(result.keys) - before:
        if store.record_path(trained).is_file():
            access.claim_model(settings, trained, session.current())
    return end(
        f"Backtest done: {result.trained} of {len(result.cutoffs)} cutoffs trained now, the "
        "others read from the cache.",
        "success",
    )
