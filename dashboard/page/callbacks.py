"""Callback bodies: validate what the browser sent, ask the model API, build the output.

Each function takes the Settings first and plain values after, so tests call it directly;
`register` wires them to the page.
"""

from __future__ import annotations

import binascii
import ctypes
import ctypes.util
import json
import logging
import threading
from collections.abc import Callable
from datetime import datetime
from typing import Any
from urllib.parse import urlencode, urlsplit, urlunsplit

import dash_bootstrap_components as dbc
import pandas as pd
from dash import html, no_update

from model import (
    BASELINES,
    CURVE,
    FORECASTS,
    METHOD_KEYS,
    NETWORK,
    SERVED,
    VARIABLE_LABELS,
    DataError,
    Dataset,
    Record,
    Scores,
    aggregate_monthly,
    read_daily_csv,
    short_repr,
    skill_vs_best,
)

from ..data.sources import (
    VARIABLE,
    Entry,
    InputError,
    ModelGone,
    ShownModel,
    default_key,
    entries,
    find_model,
    find_record,
    is_shipped,
    is_store_key,
    load_dataset,
    lookup,
    save_upload,
    stations_of,
    user_store,
)
from ..data.validate import (
    DATA_FIT,
    check_upload_stations,
    parse_compare,
    parse_form,
    parse_stations,
)
from ..present.figures import (
    COMPARE_PANELS,
    MAP_HEIGHT,
    compare_figure,
    forecast_figure,
    loss_figure,
    message_figure,
    station_map,
    step_figure,
    use_small_multiples,
)
from ..present.grids import compare_columns
from ..present.messages import alert, counted, describe, not_saved
from ..present.tables import (
    METHOD_LABELS,
    actuals_frame,
    compare_rows,
    export_frame,
    mae_of,
    rows_of,
    station_scores,
    step_errors,
    unscored,
)
from ..server import access, jobs, session
from ..settings import Settings
from . import form, ids
from .state import unpack

BASELINE_CHOICES = BASELINES
FORECAST_CHOICES = FORECASTS
CHART_MODES = ("auto", "overlay", "panels")
Progress = Callable[[tuple], None]
log = logging.getLogger(__name__)


# Stations ------------------------------------------------------------------------------------


def data_badge(settings: Settings, view: Any) -> Any:
    """What data the page shows: built-in or uploaded, how many stations, which months."""
    try:
        dataset = unpack(view)[0]
        monthly = load_dataset(settings, dataset).monthly
    except InputError as error:
        return str(error)
    months = monthly["month"]
    source = "Built-in data" if dataset is None else "Your uploaded data"
    return [
        html.Strong(source),
        html.Br(),
        f"{counted(monthly['location'].nunique(), 'station')}, "
        f"{months.min():%b %Y} to {months.max():%b %Y}",
    ]


BUILT_IN_WORDS = (
    "Australian monthly temperature forecasts",
    "Data: Bureau of Meteorology daily observations via the weatherAUS data set "
    "(CC BY). Monthly mean of (min + max) / 2 in °C.",
)
UPLOAD_WORDS = (
    "Monthly temperature forecasts for your stations",
    "Data: the daily observations you uploaded, as monthly means of (min + max) / 2 "
    "in °C. The map places the stations it knows and those your file gives a position.",
)


def page_words(view: Any) -> tuple[str, str]:
    """The title and the data credit that fit the view's data set: built in or uploaded."""
    try:
        dataset = unpack(view)[0]
    except InputError:
        dataset = None
    return BUILT_IN_WORDS if dataset is None else UPLOAD_WORDS


def update_map(settings: Settings, view: Any) -> tuple:
    """The station map with the selection highlighted, and the stations it cannot place."""
    try:
        dataset, stations, _, _ = unpack(view)
        table = stations_of(load_dataset(settings, dataset).monthly)
        chosen = parse_stations(stations, table)
    except InputError as error:
        return message_figure(str(error), height=MAP_HEIGHT), None
    return station_map(table, chosen, str(dataset)), unplaced_note(table)


def unplaced_note(table: pd.DataFrame) -> str | None:
    """In words: the stations without a position, which the map cannot show."""
    names = table.loc[table["lat"].isna() | table["lon"].isna(), "name"].tolist()
    if not names:
        return None
    return (
        f"Not on the map (no position): {', '.join(names)}. Add Latitude and Longitude "
        "columns to your file to place them."
    )


# Chart and scores ----------------------------------------------------------------------------


def _view(settings: Settings, view: Any) -> tuple:
    """Validated (monthly, station table, chosen stations, ShownModel or None) of a view."""
    dataset, stations, key, _ = unpack(view)
    data = load_dataset(settings, dataset)
    table = stations_of(data.monthly)
    chosen = parse_stations(stations, table)
    if key is None:
        return data.monthly, table, chosen, None
    shown = find_model(settings, key)
    if shown.record.data_fingerprint != data.fingerprint:
        raise InputError(f"model {key} was trained on another data set")
    return data.monthly, table, chosen, shown


def _shown_rows(shown: ShownModel | None, chosen: list[str]) -> tuple:
    """(predictions, forecast) rows of the chosen stations; empty frames without a model."""
    if shown is None:
        empty = pd.DataFrame(columns=["location", "month", SERVED, "lower", "upper", "actual"])
        return empty, empty
    return rows_of(shown.predictions, chosen), rows_of(shown.forecast, chosen)


def update_chart(settings: Settings, view: Any, baselines: Any, mode: Any, forecasts: Any) -> tuple:
    """The forecast chart, the model it shows and a line about it. Returns (figure, model, note)."""
    try:
        if mode not in CHART_MODES:
            raise InputError(
                f"chart mode {short_repr(mode)} must be one of {', '.join(CHART_MODES)}"
            )
        _check_choices("baselines", baselines, BASELINE_CHOICES)
        _check_choices("forecasts", forecasts, FORECAST_CHOICES)
        monthly, table, chosen, shown = _view(settings, view)
    except ModelGone as error:
        return message_figure(str(error)), None, _offer_default(settings, view, error)
    except InputError as error:
        return message_figure(str(error)), None, alert(str(error))
    record = shown.record if shown else None
    caption = shown_model(settings, record)
    if not chosen:
        pick = "Pick one or more stations, in the list or on the map."
        return message_figure(pick), caption, None
    names = dict(zip(table["location"], table["name"], strict=True))
    actuals = actuals_frame(monthly, chosen)
    predictions, forecast = _shown_rows(shown, chosen)
    figure = forecast_figure(
        actuals,
        predictions,
        forecast,
        chosen,
        names,
        record.cutoff if record else None,
        VARIABLE_LABELS[VARIABLE],
        tuple(baselines),
        use_small_multiples(mode, len(chosen)),
        tuple(forecasts),
    )
    if record is None:
        return figure, caption, "No model trained on this data yet: train one in Retrain below."
    missing = sorted(set(chosen) - set(forecast["location"]))
    note = (
        f"Trained up to {record.cutoff}; {record.config.horizon} held-out months "
        f"follow, then the forecast beyond the data."
    )
    if missing:
        note += f" No forecast for {', '.join(names[m] for m in missing)} (too few recent months)."
    return figure, caption, note


def _offer_default(settings: Settings, view: Any, error: ModelGone) -> Any:
    """The note when the model shown was deleted: a button back to the data set's default."""
    try:
        key = default_key(settings, load_dataset(settings, unpack(view)[0]))
    except InputError:
        key = None
    if key is None:
        return alert(f"{error}.", "warning")
    return dbc.Alert(
        [
            f"The model shown is gone: {error}. ",
            dbc.Button(
                "Show the default model",
                id={"type": ids.SHOW_DEFAULT, "key": key},
                size="sm",
                color="primary",
                className="ms-1",
            ),
        ],
        color="warning",
        className="py-2 small",
    )


def _check_choices(name: str, value: Any, choices: tuple[str, ...]) -> None:
    if not isinstance(value, list) or any(item not in choices for item in value):
        raise InputError(f"{name} {short_repr(value)} must be a list of {' and '.join(choices)}")


def shown_model(settings: Settings, record: Record | None) -> Any:
    """Which model the chart shows: its settings, and whether it is built in or cached."""
    if record is None:
        return "No model shown."
    origin = "built in" if is_shipped(settings, record.key) else "cached"
    return [html.Strong("Model shown: "), f"{describe(record.config)} ({origin})"]


def update_scores(settings: Settings, view: Any) -> tuple:
    """Overall score cards, their note, the per-station rows and the by-step chart."""
    try:
        monthly, table, chosen, shown = _view(settings, view)
    except InputError as error:
        return alert(str(error)), None, [], message_figure(str(error), height=260)
    if shown is None:
        text = "Scores appear once a model is trained on this data."
        return html.P(text, className="text-muted"), None, [], message_figure(text, height=260)
    record = shown.record
    metrics = record.metrics
    gain, baseline = skill_vs_best(metrics)
    cards = [
        _score(
            METHOD_LABELS[method], metrics[method], "primary" if method == SERVED else "secondary"
        )
        for method in METHOD_KEYS
        if method in metrics
    ]
    cards.append(
        dbc.Col(
            html.Div(
                [
                    html.Div("Served skill vs the best baseline", className="score-label"),
                    html.Div(
                        "n/a" if gain is None else f"{gain:+.1f}%",
                        className=f"score-value {'good' if (gain or 0) > 0 else 'bad'}",
                    ),
                    html.Div(
                        ("better than " if (gain or 0) > 0 else "worse than ")
                        + (METHOD_LABELS[baseline].lower() if baseline else "any baseline"),
                        className="score-sub",
                    ),
                ],
                className="score",
            ),
            xs=6,
            md=4,
            xl=2,
        )
    )
    coverage = record.interval_coverage
    scored = len(record.per_location)
    note = (
        f"{'All ' if scored > 1 else ''}{counted(scored, 'station')}, "
        f"{record.config.horizon} months after {record.cutoff}, "
        f"{metrics[SERVED].cells} station-months. The served forecast is what the product "
        "recommends; the network's own forecast is the trained network before calibration. "
        "MAE: mean absolute error; RMSE: root mean square error."
    )
    if coverage is not None:
        note += (
            f" The {record.interval_level:.0%} interval held {coverage:.0%} of the held-out values."
        )
    note += damping_note(record.shrinkage, record.calibration_origins)
    note += step_note(record.per_step_mae)
    note += unscored_note(
        monthly, record, chosen, dict(zip(table["location"], table["name"], strict=True))
    )
    rows = station_scores(record, table, chosen).to_dict("records")
    return dbc.Row(cards, className="g-2 mb-2"), note, rows, step_figure(step_errors(record))


def unscored_note(
    monthly: pd.DataFrame, record: Record, chosen: list[str], names: dict[str, str]
) -> str:
    """In words: which selected stations the model could not score, and why."""
    reasons = unscored(monthly, record)
    listed = [f"{names[s]} ({reasons[s]})" for s in chosen if s in reasons]
    return f" Not scored: {'; '.join(listed)}." if listed else ""


def step_note(per_step: dict[str, list]) -> str:
    """In words: at how many steps the network's own forecast beat the seasonal curve here."""
    network, curve = per_step.get(NETWORK), per_step.get(CURVE)
    if not network or not curve:
        return ""
    pairs = [(n, c) for n, c in zip(network, curve, strict=True) if n is not None and c is not None]
    wins = [step for step, (n, c) in enumerate(pairs, start=1) if n < c]
    if not wins:
        return (
            " On these held-out months the network's own forecast did not beat the seasonal "
            "curve at any step."
        )
    return (
        f" On these held-out months the network's own forecast beat the seasonal curve at "
        f"{len(wins)} of {len(pairs)} steps ahead (first: month {wins[0]})."
    )


def damping_note(factors: list[float] | None, origins: int | None = None) -> str:
    """In words: for how many months ahead the network's own correction is used, and how much."""
    if not factors:
        return ""
    used = sum(factor > 0 for factor in factors)  # the factors never rise with the step
    curve = "each station's smooth seasonal curve"
    sample = (
        f" The weights were fitted on forecasts from {origins} origins the network was "
        "not fitted on."
        if origins
        else ""
    )
    if not used:
        return (
            f" The network's correction did not validate at any step, so the served "
            f"forecast is {curve}.{sample}"
        )
    span = "1 month" if used == 1 else f"months 1-{used}"
    weights = (
        f"weight {factors[0]:.2f}"
        if used == 1 or factors[0] == factors[used - 1]
        else f"weight {factors[0]:.2f} falling to {factors[used - 1]:.2f}"
    )
    beyond = f"; further ahead the served forecast is {curve}" if used < len(factors) else ""
    return f" The network's correction is used for {span} ahead ({weights}){beyond}.{sample}"


def _score(label: str, scores: Scores, color: str) -> dbc.Col:
    mae, rmse = scores.mae, scores.rmse
    return dbc.Col(
        html.Div(
            [
                html.Div(label, className="score-label"),
                html.Div(
                    "n/a" if mae is None else f"{mae:.2f} °C", className=f"score-value {color}"
                ),
                html.Div(
                    "MAE" + ("" if rmse is None else f" · RMSE {rmse:.2f} °C"),
                    className="score-sub",
                ),
            ],
            className="score",
        ),
        xs=6,
        md=4,
        xl=2,
    )


def download_csv(settings: Settings, view: Any) -> tuple:
    """The displayed actuals, predictions and intervals as CSV. Returns (download, notice)."""
    try:
        monthly, stations, chosen, shown = _view(settings, view)
        if not chosen:
            raise InputError("no stations selected: pick at least one to download")
    except InputError as error:
        return no_update, alert(str(error))
    table = export_frame(actuals_frame(monthly, chosen), *_shown_rows(shown, chosen))
    named = stations[["location", "name", "state"]].rename(columns={"location": "station_id"})
    table = named.merge(
        table.rename(columns={"location": "station_id"}), on="station_id", how="right"
    )
    name = f"temperature-forecast-{shown.record.key if shown else 'observed'}.csv"
    content = _csv_header(shown.record if shown else None) + table.to_csv(index=False)
    return dict(content=content, filename=name, type="text/csv"), None


def _csv_header(record: Record | None) -> str:
    """Comment lines naming what the CSV holds and the model behind it (read with comment='#')."""
    lines = [
        f"# {VARIABLE_LABELS[VARIABLE]}, monthly; part: observed, holdout (held-out "
        "months, scored) or forecast (beyond the data); lower_80/upper_80: 80% interval"
    ]
    if record is None:
        lines.append("# no model: observed values only")
    else:
        lines += [
            f"# model {record.key}: {describe(record.config)}; trained up to {record.cutoff}",
            f"# settings: {json.dumps(record.config.to_dict())}",
        ]
    return "\n".join(lines) + "\n"


# Compare -------------------------------------------------------------------------------------


def update_compare(settings: Settings, view: Any, forecasts: Any) -> tuple:
    """The comparison chart, table rows, its columns (highlights) and a note. Returns 4 values."""
    try:
        dataset, stations, _, compare = unpack(view)
        keys = parse_compare(compare)
        _check_choices("forecasts", forecasts, FORECAST_CHOICES)
        data = load_dataset(settings, dataset)
        table = stations_of(data.monthly)
        chosen = parse_stations(stations, table)
        shown = [find_model(settings, key) for key in keys]
        for model in shown:
            if model.record.data_fingerprint != data.fingerprint:
                raise InputError(f"model {model.record.key} was trained on another data set")
    except InputError as error:
        return message_figure(str(error), height=300), [], compare_columns([]), alert(str(error))
    if len(keys) < 2:
        text = "Pick 2 to 4 models above to compare their held-out predictions."
        return message_figure(text, height=300), [], compare_columns([]), None
    if not chosen:
        text = "Pick one or more stations, in the list or on the map."
        return message_figure(text, height=300), [], compare_columns([]), None
    drawn = chosen[:COMPARE_PANELS]
    names = dict(zip(table["location"], table["name"], strict=True))
    models = [
        (f"Model {number}", rows_of(model.predictions, drawn))
        for number, model in enumerate(shown, start=1)
    ]
    figure = compare_figure(
        actuals_frame(data.monthly, drawn),
        models,
        drawn,
        names,
        VARIABLE_LABELS[VARIABLE],
        tuple(forecasts),
    )
    rows = compare_rows([model.record for model in shown])
    note = (
        "Highlighted: the settings that differ. Errors are over all stations of each model's "
        "own held-out months, so models with another horizon are scored on other months."
    )
    if len(chosen) > len(drawn):
        note += f" The chart shows the first {len(drawn)} of the {len(chosen)} selected stations."
    return figure, rows, compare_columns(rows), note


# Models --------------------------------------------------------------------------------------


def update_models(settings: Settings, view: Any) -> Any:
    """The store's entries for this data set, newest first, with View and Delete buttons."""
    try:
        dataset, _, key, _ = unpack(view)
        listed = entries(settings, load_dataset(settings, dataset))
    except InputError as error:
        return alert(str(error))
    hidden = access.hidden(settings, session.current())
    show = dbc.Button(
        f"Show {counted(len(hidden), 'hidden model')}",
        id={"type": ids.SHOW_HIDDEN, "key": "all"},
        color="link",
        size="sm",
    )
    damaged = {
        key: reason
        for key, reason in user_store(settings).damaged().items()
        if may_delete(settings, key)
    }
    if not listed and not damaged:
        empty = html.P("No models for this data yet.", className="text-muted small")
        return [empty, show] if hidden else empty
    items = [
        _model_item(entry, entry.record.key == key, may_delete(settings, entry.record.key))
        for entry in listed
    ] + [_damaged_item(key, reason) for key, reason in sorted(damaged.items())]
    return [dbc.ListGroup(items, flush=True), show] if hidden else dbc.ListGroup(items, flush=True)


def may_delete(settings: Settings, key: str) -> bool:
    """Whether this session trained the model from the page, or is the operator's."""
    return session.is_operator(settings.operator_token) or access.owns_model(
        settings, key, session.current()
    )


def _model_item(entry: Entry, showing: bool, deletable: bool) -> dbc.ListGroupItem:
    record = entry.record
    gain, baseline = skill_vs_best(record.metrics)
    created = datetime.fromisoformat(record.created).strftime("%d %b %Y %H:%M UTC")
    facts = [
        f"{label} MAE {_mae(record.metrics, method)}"
        for method, label in ((SERVED, "served"), (NETWORK, "network"))
    ]
    if gain is not None:
        facts.append(f"{gain:+.1f}% vs {METHOD_LABELS[baseline].lower()}")
    facts += [f"{record.epochs_run} epochs", created]
    badges = [dbc.Badge("showing", color="primary", className="me-1")] if showing else []
    if entry.shipped:
        badges.append(dbc.Badge("built-in", color="light", text_color="dark"))
    return dbc.ListGroupItem(
        [
            html.Div([html.Span(describe(record.config), className="model-title"), *badges]),
            html.Div(" · ".join(facts), className="small text-muted"),
            html.Div(
                [
                    dbc.Button(
                        "View",
                        id={"type": ids.VIEW_MODEL, "key": record.key},
                        size="sm",
                        color="primary",
                        outline=True,
                        disabled=showing,
                    ),
                    _delete_button(record.key, deletable or entry.shipped, entry.shipped),
                ],
                className="button-row mt-1",
            ),
        ],
        className="model-item" + (" showing" if showing else ""),
    )


def _damaged_item(key: str, reason: str) -> dbc.ListGroupItem:
    """A store entry that cannot be shown (edited, truncated), listed so it can be deleted."""
    return dbc.ListGroupItem(
        [
            html.Div(
                [
                    html.Span(f"Model {key}", className="model-title"),
                    dbc.Badge("damaged", color="danger"),
                ]
            ),
            html.Div(reason, className="small text-muted"),
            html.Div(_delete_button(key), className="button-row mt-1"),
        ],
        className="model-item",
    )


def _delete_button(key: str, deletable: bool = True, disabled: bool = False) -> dbc.Button:
    """Delete, for a model this session may delete (or a built-in one, disabled); else Hide."""
    return dbc.Button(
        "Delete" if deletable else "Hide",
        id={"type": ids.DELETE_MODEL, "key": key},
        size="sm",
        color="danger" if deletable else "secondary",
        outline=True,
        disabled=disabled,
        title=None if deletable else "Trained by another session: hide it from your own lists",
    )


def _mae(metrics: dict[str, Scores], method: str) -> str:
    mae = mae_of(metrics, method)
    return "n/a" if mae is None else f"{mae:.2f} °C"


def ask_or_delete(
    settings: Settings, event: str | None, key: Any, pending: Any, trained_here: Any, version: Any
) -> tuple:
    """Delete at once a model trained in this tab; ask first about another of this session's.

    Someone else's model is hidden from this session's lists instead; Show hidden lists
    them again.

    Returns (store version, message, pending key, dialog open, question).
    """
    if event == ids.DELETE_NO:
        return no_update, no_update, None, False, no_update
    if event == ids.SHOW_HIDDEN:
        return (*show_hidden(settings, version), None, False, no_update)
    if event == ids.DELETE_YES:
        key = pending
    elif is_store_key(key) and not may_delete(settings, key):
        return (*hide_model(settings, key, version), None, False, no_update)
    elif not (isinstance(trained_here, list) and key in trained_here):
        try:
            name = _entry_name(settings, key)
        except InputError as error:
            return no_update, alert(str(error)), None, False, no_update
        question = f"Delete {name}? It goes for everyone using this server, and cannot be undone."
        return no_update, no_update, key, True, question
    return (*delete_model(settings, key, version), None, False, no_update)


def remember_trained(key: Any, trained_here: Any) -> Any:
    """The session's trained keys with a new one; only well-formed store keys are kept."""
    if not is_store_key(key):
        return no_update
    known = [k for k in trained_here if is_store_key(k)] if isinstance(trained_here, list) else []
    return list(dict.fromkeys([*known, key]))[-50:]


def delete_model(settings: Settings, key: Any, version: Any) -> tuple:
    """Delete a stored model; the view then moves off it. Returns (store version, message).

    Only the session that trained it, or the operator, may; the built-in models stay.
    """
    try:
        name = _entry_name(settings, key)
        if is_shipped(settings, key):
            raise InputError(f"model {key} is built in and cannot be deleted")
        if not may_delete(settings, key):
            raise InputError(
                f"model {key} was not trained by this browser session: only its trainer or "
                "the operator can delete it"
            )
    except InputError as error:
        return no_update, alert(str(error))
    user_store(settings).delete(key)
    access.forget_model(settings, key)
    return _bumped(version), alert(f"Deleted {name}.", "secondary")


def _entry_name(settings: Settings, key: Any) -> str:
    """A model to delete in words: its settings, or its key when its entry is damaged."""
    try:
        return describe(find_record(settings, key).config)
    except ModelGone:
        if not user_store(settings).record_path(key).exists():
            raise
        return f"the damaged model {key}"


def hide_model(settings: Settings, key: str, version: Any) -> tuple:
    """Hide someone else's model from this session's lists. Returns (store version, message)."""
    try:
        record = find_record(settings, key)
    except InputError as error:
        return no_update, alert(str(error))
    viewer = session.current()
    access.set_hidden(settings, viewer, [*access.hidden(settings, viewer), key])
    text = (
        f"Hidden from your lists: {describe(record.config)}. Others still see it; "
        "Show hidden models brings it back."
    )
    return _bumped(version), alert(text, "secondary")


def show_hidden(settings: Settings, version: Any) -> tuple:
    """List the models this session hid again. Returns (store version, message)."""
    access.set_hidden(settings, session.current(), [])
    return _bumped(version), None


def _bumped(version: Any) -> int:
    return version + 1 if isinstance(version, int) else 1


# Retrain -------------------------------------------------------------------------------------


def check_form(settings: Settings, values: dict[str, Any], view: Any) -> tuple:
    """Inline validation of the form's values (keyed by form.INPUT_IDS).

    Returns an invalid flag per number field, a message per input and a hint: what the data
    have room for, or whether the settings are in the cache.
    """
    try:
        data = load_dataset(settings, unpack(view)[0])
    except InputError as error:
        return (False,) * len(form.NUMBERS) + (None,) * len(form.INPUT_IDS) + (alert(str(error)),)
    config, errors = parse_form(values, settings.base_config, data.monthly)
    flags = tuple(
        field.name in errors or (ids.FORM_HINT in errors and field.name in DATA_FIT)
        for field in form.NUMBERS
    )
    messages = tuple(errors.get(input_id) for input_id in form.INPUT_IDS)
    if config is None:
        fit = errors.get(ids.FORM_HINT)
        return (*flags, *messages, fit and html.Span(fit, className="field-error"))
    cached = lookup(settings, config, data) is not None
    hint = (
        html.Span("In the cache: Train shows it at once.", className="text-success")
        if cached
        else html.Span("Not trained yet: training runs in the background.", className="text-muted")
    )
    return (*flags, *messages, hint)


def train_model(
    settings: Settings, set_progress: Progress, values: dict[str, Any], view: Any
) -> tuple:
    """Train (or fetch from the cache) the form's config; runs as a background job.

    Reports (percent, label, loss figure) after every epoch; the loss curve is the main fit's,
    the calibration fits that follow are named in the label. Returns (key, message).
    """
    try:
        data = load_dataset(settings, unpack(view)[0])
    except InputError as error:
        return no_update, alert(str(error))
    config, errors = parse_form(values, settings.base_config, data.monthly)
    if config is None:
        return no_update, alert("Not trained: " + " ".join(errors.values()))
    record = lookup(settings, config, data)
    if record is not None:
        set_progress((100, "cached", loss_figure(record.history)))
        return record.key, alert(
            f"Cached: {describe(record.config)} was trained before and is shown now.", "info"
        )
    history: dict[str, list[float]] = {"loss": [], "val_loss": []}

    def show(percent: int, label: str, figure: Any = no_update) -> None:
        """Report to the page, and note it for a page loaded later (after a reload)."""
        set_progress((percent, label, figure))
        jobs.note_progress(settings, percent, label)

    def report(epoch) -> None:
        still_wanted()  # between epochs: stop if the page has gone or asked to stop
        percent, label = (
            round(100 * epoch.epoch / epoch.epochs),
            f"epoch {epoch.epoch} of {epoch.epochs}",
        )
        if epoch.stage:
            show(percent, f"{epoch.stage}: {label}")
            return
        history["loss"].append(epoch.loss)
        if epoch.val_loss is not None:
            history["val_loss"].append(epoch.val_loss)
        show(percent, label, loss_figure(history))

    def queued(position: int) -> None:
        show(0, f"queued: number {position} in line", loss_figure(history))

    try:
        with jobs.admit(settings, queued) as still_wanted:
            show(0, "starting...", loss_figure(history))
            try:
                record, cached = user_store(settings).get_or_train(
                    config, data.monthly, progress=report, data_print=data.fingerprint
                )
            except jobs.Stopped:
                show(0, "stopped, nothing saved")
                raise
            show(100, f"epoch {record.epochs_run} of {config.epochs}, done", loss_figure(history))
    except DataError as error:
        return no_update, alert(f"Not trained: {error}")
    except jobs.Refused as error:
        return no_update, alert(f"Not trained: {error}.", "warning")
    except jobs.Stopped as error:
        return no_update, alert(f"Training stopped: {error}; nothing was saved.", "warning")
    except OSError as error:
        log.error("training %s not saved: %s", describe(config), error)
        return no_update, alert(not_saved(error, "the trained model"))
    if not cached:
        access.claim_model(settings, record.key, session.current())
    served, network = (_mae(record.metrics, m) for m in (SERVED, NETWORK))
    return record.key, alert(
        f"Trained {describe(record.config)} in {record.train_seconds:.0f} s: served MAE "
        f"{served}, the network's own {network}. It is shown now.",
        "success",
    )


def training_panel(event: str | None, view: Any, trained: Any, running: Any) -> tuple:
    """Keep the Retrain panel's message and progress about the job or model they describe.

    A new training clears the last one's message; Cancel says so and empties the progress;
    once the view shows another model or data set, the last training's message and loss curve
    go, unless a training is running. Returns (message, percent, label, loss figure).
    """
    idle = (0, "", loss_figure({"loss": [], "val_loss": []}))
    if event == ids.TRAIN:
        return (None, *idle)
    if event == ids.CANCEL:
        log.info("training cancelled from the page; its background job is stopped")
        return (alert("Training cancelled; nothing was saved.", "warning"), *idle)
    try:
        model = unpack(view)[2]
    except InputError:
        model = None
    if running or (model is not None and model == trained):
        return (no_update,) * 4
    return (None, *idle)


def follow_earlier_training(
    settings: Settings, event: str | None, following: bool, busy_here: bool
) -> tuple:
    """Show, and let Cancel stop, a training of this session that this page did not start.

    Such a training was started by this page before a reload (or by another tab). `event`:
    ids.CANCEL on a click, else a tick; `following`: this page shows one already;
    `busy_here`: this page runs a training of its own. Returns (percent, label, Train
    disabled, Cancel disabled, progress box style, message, watch disabled).
    """
    if not following and (event == ids.CANCEL or busy_here):  # the page's own training
        return (*(no_update,) * 6, True if event != ids.CANCEL else no_update)
    sent = session.current()
    if not sent or not jobs.is_running(settings, sent):
        if not following:  # nothing to follow: the page's own trainings show themselves
            return (*(no_update,) * 6, True)
        percent, label = jobs.last_progress(settings, sent) if sent else (0, "ended")
        message = alert(f"The training started before this page was loaded ended: {label}.", "info")
        return percent, label, False, True, no_update, message, True
    if event == ids.CANCEL:
        jobs.request_stop(settings, sent)
        log.info("training from before a reload: stop asked from the page")
    percent, label = jobs.last_progress(settings, sent)
    label = f"{label} (started before this page loaded)"
    return percent, label, True, False, {"display": "block"}, no_update, False


# Your data -----------------------------------------------------------------------------------

# One upload is decoded and read at a time in a process: a read takes several times the file's
# size in memory, and uploads read side by side only share the same cores more slowly.
READING_UPLOAD = threading.Lock()
_LIBC = ctypes.CDLL(ctypes.util.find_library("c") or None)


def return_freed_memory() -> None:
    """Give the C heap's free pages back to the system where the C library can (glibc).

    glibc keeps them in the arena of the thread that freed them, so every server thread that
    read an upload would otherwise hold that upload's peak (benchmarks/RESULTS.md).
    """
    trim = getattr(_LIBC, "malloc_trim", None)
    if trim is not None:
        trim(0)


def upload_data(settings: Settings, trigger: str | None, contents: Any, filename: Any) -> tuple:
    """Validate and keep an uploaded daily CSV, or go back to the built-in data.

    Returns (the UPLOADED event: {"dataset": id}, message); nothing changes on error.
    """
    if trigger == ids.RESET_DATA:
        return {"dataset": None}, alert("Using the built-in data.", "secondary")
    name = filename if isinstance(filename, str) and filename else "uploaded file"
    name = name[:80]
    try:
        with READING_UPLOAD:
            raw = _decode_upload(contents, name, settings.max_upload_bytes)
            monthly = aggregate_monthly(read_daily_csv(raw, name=name))
            del raw
            return_freed_memory()
        check_upload_stations(monthly, name)
        data = Dataset.of(monthly, VARIABLE)
        dataset = save_upload(settings, data)
    except (InputError, DataError) as error:
        log.info("upload refused: %r", str(error))  # quoted: it holds the file name
        return no_update, alert(f"Not used: {error}")
    except OSError as error:
        log.error("upload %r not saved: %s", name, error)
        return no_update, alert(not_saved(error, name))
    monthly = data.monthly
    stations = monthly["location"].nunique()
    text = (
        f"Using {name}: {counted(stations, 'station')}, {monthly['month'].min():%b %Y} to "
        f"{monthly['month'].max():%b %Y}. Models you train now are cached for this data."
    )
    return {"dataset": dataset}, alert(text, "success")


def update_sharing(settings: Settings, event: str | None, view: Any, href: Any) -> tuple:
    """Share or stop sharing the uploaded data set in view; only its uploader sees the controls.

    Returns (hidden, link, stop disabled, note).
    """
    try:
        dataset = unpack(view)[0]
    except InputError:
        dataset = None
    if dataset is None or not access.is_uploader(settings, dataset, session.current()):
        return True, "", True, None
    if event == ids.SHARE:
        access.share(settings, dataset)
    elif event == ids.STOP_SHARING:
        access.stop_sharing(settings, dataset)
    link = access.share_link(settings, dataset)
    if link is None:
        note = "Only you see this data set and the models trained on it."
        return False, "", True, note
    page = urlsplit(href if isinstance(href, str) else "")
    url = urlunsplit((page.scheme, page.netloc, page.path or "/", urlencode({"share": link}), ""))
    note = (
        "Whoever opens this link sees this data set and its models, until you stop sharing. "
        "Links to its models work for them too."
    )
    return False, url, False, note


def _decode_upload(contents: Any, name: str, limit: int) -> bytes:
    """Bytes of a dcc.Upload data URL, refusing anything over the limit before decoding."""
    if not isinstance(contents, str) or "," not in contents:
        raise InputError(f"{name}: the upload is not a file")
    comma = contents.index(",")
    header = contents[:comma]
    if not header.startswith("data:") or not header.endswith(";base64"):
        raise InputError(f"{name}: the upload is not a base64 data URL")
    size = (len(contents) - comma - 1) * 3 // 4
    if size > limit:
        raise InputError(f"{name} is {size / 2**20:.1f} MB; the limit is {limit / 2**20:.3g} MB")
    try:  # one ASCII copy of the payload and a view of it, not a string slice and its bytes
        payload = memoryview(contents.encode("ascii"))[comma + 1 :]
        return binascii.a2b_base64(payload, strict_mode=True)
    except (binascii.Error, ValueError):
        raise InputError(f"{name}: the upload is not valid base64") from None
