"""Callback bodies: validate what the browser sent, ask the model API, build the output.

Each function takes the Settings first and plain values after, so tests call it directly;
`register` wires them to the page.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from datetime import datetime
from typing import Any

import dash_bootstrap_components as dbc
import pandas as pd
from dash import html, no_update

from model import (
    BASELINES,
    CURVE,
    NETWORK,
    SERVED,
    VARIABLE_LABELS,
    DataError,
    Dataset,
    Record,
    Scores,
    TrainConfig,
    aggregate_monthly,
    read_daily_csv,
    short_repr,
)

from . import ids
from .figures import (
    COMPARE_PANELS,
    MODEL_PALETTE,
    compare_figure,
    forecast_figure,
    loss_figure,
    message_figure,
    station_map,
    step_figure,
    use_small_multiples,
)
from .settings import Settings
from .sources import (
    STATE_NAMES,
    VARIABLE,
    Entry,
    InputError,
    ShownModel,
    default_key,
    entries,
    find_model,
    find_record,
    is_shipped,
    load_dataset,
    lookup,
    save_upload,
    stations_of,
    user_store,
)
from .tables import (
    METHOD_LABELS,
    actuals_frame,
    compare_rows,
    differing_settings,
    export_frame,
    mae_of,
    rows_of,
    skill_vs_better,
    station_scores,
    step_errors,
)
from .validate import (
    MAX_COMPARED,
    STATE_PREFIX,
    build_query,
    parse_compare,
    parse_form,
    parse_query,
    parse_stations,
)

BASELINE_CHOICES = BASELINES
FORECAST_CHOICES = (SERVED, NETWORK)
CHART_MODES = ("auto", "overlay", "panels")
Progress = Callable[[tuple], None]


def counted(count: int, noun: str) -> str:
    """'1 station', '2 stations': a count with its noun in the right number."""
    return f"{count} {noun}{'' if count == 1 else 's'}"


def alert(message: str, color: str = "danger") -> dbc.Alert:
    """A dismissable message box."""
    return dbc.Alert(message, color=color, dismissable=True, className="py-2 small")


# Stations and the URL ------------------------------------------------------------------------


MODEL_LIST_CHANGES = (ids.DATASET, ids.MODEL_KEY, ids.STORE_VERSION)  # may change the models


def sync_view(settings: Settings, trigger: str | None, search: Any, stations: Any, key: Any,
              dataset: Any, compare: Any = None) -> tuple:
    """Keep the URL, station selection, model, compared models and data set in step.

    On page load (or back/forward) the URL decides; afterwards the selection writes the URL.
    The station and comparison options are sent with their values (a dropdown drops a value
    it has no option for), the latter again whenever the stored models may have changed.
    Returns (search, stations, key, dataset, notice, station options, compare, compare options).
    """
    try:
        data = load_dataset(settings, dataset)
    except InputError as error:
        view = _view_from_url(settings, search, load_dataset(settings, None), None)
        return (*view[:4], alert(str(error)), *view[5:])
    if trigger in (None, ids.URL):
        return _view_from_url(settings, search, data, dataset)
    options = station_options(data.monthly) if trigger == ids.DATASET else no_update
    models = compare_options(settings, data) if trigger in MODEL_LIST_CHANGES else no_update
    try:
        chosen = parse_stations(stations, stations_of(data.monthly))
        compared = [] if trigger == ids.DATASET else parse_compare(compare)
    except InputError as error:
        return (no_update,) * 4 + (alert(str(error)), options, no_update, models)
    if models is not no_update:
        compared = _listed(compared, models)
    query = build_query(chosen, key if isinstance(key, str) else None, compared)
    return (query if query != search else no_update, chosen if chosen != stations else no_update,
            no_update, no_update, None, options, compared if compared != compare else no_update,
            models)


def _view_from_url(settings: Settings, search: Any, data: Dataset, dataset: Any) -> tuple:
    wanted, key, compare = parse_query(search)
    notices = []
    if key is not None:
        try:
            record = find_record(settings, key)
            dataset = _dataset_of(settings, record, dataset)
            data = load_dataset(settings, dataset)
        except InputError as error:
            notices.append(f"The link's model could not be opened: {error}.")
            key = None
    if key is None:
        key = default_key(settings, data)
    known = set(data.monthly["location"])
    if wanted is None:
        wanted = _first_stations(settings, data.monthly)
    unknown = [s for s in wanted if s not in known]
    if unknown:
        notices.append("Unknown station(s) in the link ignored: "
                       f"{', '.join(map(short_repr, unknown[:5]))}.")
    chosen = list(dict.fromkeys(s for s in wanted if s in known))
    models = compare_options(settings, data)
    compared = _listed(compare[:MAX_COMPARED], models)
    if len(compared) < len(compare):
        notices.append("Some of the link's compared models are not on this server or not for "
                       "this data; they were left out.")
    notice = alert(" ".join(notices), "warning") if notices else None
    return (build_query(chosen, key, compared), chosen, key, dataset, notice,
            station_options(data.monthly), compared, models)


def compare_options(settings: Settings, data: Dataset) -> list[dict[str, str]]:
    """The comparison picker's options: every stored model trained on this data."""
    return [{"label": describe(entry.record.config) + (" (built in)" if entry.shipped else ""),
             "value": entry.record.key} for entry in entries(settings, data)]


def _listed(keys: list[str], options: list[dict[str, str]]) -> list[str]:
    """The keys that have an option, in their order, without repeats."""
    known = {option["value"] for option in options}
    return list(dict.fromkeys(key for key in keys if key in known))


def _dataset_of(settings: Settings, record: Record, dataset: Any) -> Any:
    """The data set a record was trained on: the session's, the embedded one or an upload."""
    for candidate in dict.fromkeys([dataset, None, record.data_fingerprint]):
        try:
            data = load_dataset(settings, candidate)
        except InputError:
            continue
        if data.fingerprint == record.data_fingerprint:
            return candidate
    raise InputError(f"the data set model {record.key} was trained on is not on this server")


def select_stations(settings: Settings, trigger: str | None, click: Any, current: Any,
                    dataset: Any) -> tuple:
    """Select all, clear, or toggle the station clicked on the map. Returns (stations, notice)."""
    try:
        stations = stations_of(load_dataset(settings, dataset).monthly)
        chosen = parse_stations(current, stations)
        if trigger == ids.SELECT_ALL:
            return list(stations["location"]), None
        if trigger == ids.CLEAR:
            return [], None
        clicked = _clicked_station(click)
        parse_stations([clicked], stations)
    except InputError as error:
        return no_update, alert(str(error))
    if clicked in chosen:
        return [s for s in chosen if s != clicked], None
    return [*chosen, clicked], None


def _clicked_station(click: Any) -> str:
    try:
        station = click["points"][0]["customdata"]
    except (TypeError, KeyError, IndexError):
        raise InputError(f"map click {short_repr(click)} names no station") from None
    if not isinstance(station, str):
        raise InputError(f"map click names {short_repr(station)}, not a station")
    return station


def station_options(monthly: pd.DataFrame) -> list[dict[str, str]]:
    """Dropdown options grouped by state: a 'whole state' entry, then its stations."""
    stations = stations_of(monthly)
    options = []
    for state, group in stations.groupby("state", sort=True):
        label = STATE_NAMES.get(state, state)
        options.append({"label": f"{label}: all {len(group)} stations" if len(group) > 1
                        else f"{label}: its only station",
                        "value": STATE_PREFIX + state})
        options += [{"label": f"{row.name} ({state})", "value": row.location}
                    for row in group.itertuples()]
    return options


def data_badge(settings: Settings, dataset: Any) -> Any:
    """What data the page shows: built-in or uploaded, how many stations, which months."""
    try:
        monthly = load_dataset(settings, dataset).monthly
    except InputError as error:
        return str(error)
    months = monthly["month"]
    source = "Built-in data" if dataset is None else "Your uploaded data"
    return [html.Strong(source), html.Br(), f"{counted(monthly['location'].nunique(), 'station')}, "
            f"{months.min():%b %Y} to {months.max():%b %Y}"]


def update_map(settings: Settings, stations: Any, dataset: Any) -> Any:
    """The station map with the selection highlighted."""
    try:
        table = stations_of(load_dataset(settings, dataset).monthly)
        chosen = parse_stations(stations, table)
    except InputError as error:
        return message_figure(str(error), height=300)
    return station_map(table, chosen)


# Chart and scores ----------------------------------------------------------------------------


def _view(settings: Settings, stations: Any, key: Any, dataset: Any) -> tuple:
    """Validated (monthly, station table, chosen stations, ShownModel or None)."""
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


def update_chart(settings: Settings, stations: Any, key: Any, dataset: Any, baselines: Any,
                 mode: Any, forecasts: Any) -> tuple:
    """The forecast chart, the model it shows and a line about it. Returns (figure, model, note)."""
    try:
        if mode not in CHART_MODES:
            raise InputError(f"chart mode {short_repr(mode)} must be one of "
                             f"{', '.join(CHART_MODES)}")
        _check_choices("baselines", baselines, BASELINE_CHOICES)
        _check_choices("forecasts", forecasts, FORECAST_CHOICES)
        monthly, table, chosen, shown = _view(settings, stations, key, dataset)
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
    figure = forecast_figure(actuals, predictions, forecast, chosen, names,
                             record.cutoff if record else None, VARIABLE_LABELS[VARIABLE],
                             tuple(baselines), use_small_multiples(mode, len(chosen)),
                             tuple(forecasts))
    if record is None:
        return figure, caption, "No model trained on this data yet: train one in Retrain below."
    missing = sorted(set(chosen) - set(forecast["location"]))
    note = (f"Trained up to {record.cutoff}; {record.config.horizon} held-out months "
            f"follow, then the forecast beyond the data.")
    if missing:
        note += f" No forecast for {', '.join(names[m] for m in missing)} (too few recent months)."
    return figure, caption, note


def _check_choices(name: str, value: Any, choices: tuple[str, ...]) -> None:
    if not isinstance(value, list) or any(item not in choices for item in value):
        raise InputError(f"{name} {short_repr(value)} must be a list of "
                         f"{' and '.join(choices)}")


def shown_model(settings: Settings, record: Record | None) -> Any:
    """Which model the chart shows: its settings, and whether it is built in or cached."""
    if record is None:
        return "No model shown."
    origin = "built in" if is_shipped(settings, record.key) else "cached"
    return [html.Strong("Model shown: "), f"{describe(record.config)} ({origin})"]


def update_scores(settings: Settings, stations: Any, key: Any, dataset: Any) -> tuple:
    """Overall score cards, their note, the per-station rows and the by-step chart."""
    try:
        _, table, chosen, shown = _view(settings, stations, key, dataset)
    except InputError as error:
        return alert(str(error)), None, [], message_figure(str(error), height=260)
    if shown is None:
        text = "Scores appear once a model is trained on this data."
        return html.P(text, className="text-muted"), None, [], message_figure(text, height=260)
    record = shown.record
    metrics = record.metrics
    gain, baseline = skill_vs_better(metrics)
    cards = [_score(METHOD_LABELS[method], metrics[method],
                    "primary" if method == SERVED else "secondary")
             for method in (SERVED, NETWORK, CURVE, *BASELINES) if method in metrics]
    cards.append(dbc.Col(html.Div([
        html.Div("Served skill vs the better baseline", className="score-label"),
        html.Div("n/a" if gain is None else f"{gain:+.1f}%",
                 className=f"score-value {'good' if (gain or 0) > 0 else 'bad'}"),
        html.Div(("better than " if (gain or 0) > 0 else "worse than ")
                 + (METHOD_LABELS[baseline].lower() if baseline else "either baseline"),
                 className="score-sub"),
    ], className="score"), xs=6, md=4, xl=2))
    coverage = record.interval_coverage
    scored = len(record.per_location)
    note = (f"{'All ' if scored > 1 else ''}{counted(scored, 'station')}, "
            f"{record.config.horizon} months after {record.cutoff}, "
            f"{metrics[SERVED].cells} station-months. The served forecast is what the product "
            "recommends; the network's own forecast is the trained network before calibration. "
            "MAE: mean absolute error; RMSE: root mean square error.")
    if coverage is not None:
        note += (f" The {record.interval_level:.0%} interval held {coverage:.0%} of the "
                 "held-out values.")
    note += damping_note(record.shrinkage, record.calibration_origins)
    note += step_note(record.per_step_mae)
    rows = station_scores(record, table, chosen).to_dict("records")
    return dbc.Row(cards, className="g-2 mb-2"), note, rows, step_figure(step_errors(record))


def step_note(per_step: dict[str, list]) -> str:
    """In words: at how many steps the network's own forecast beat the seasonal curve here."""
    network, curve = per_step.get(NETWORK), per_step.get(CURVE)
    if not network or not curve:
        return ""
    pairs = [(n, c) for n, c in zip(network, curve, strict=True)
             if n is not None and c is not None]
    wins = [step for step, (n, c) in enumerate(pairs, start=1) if n < c]
    if not wins:
        return (" On these held-out months the network's own forecast did not beat the seasonal "
                "curve at any step.")
    return (f" On these held-out months the network's own forecast beat the seasonal curve at "
            f"{len(wins)} of {len(pairs)} steps ahead (first: month {wins[0]}).")


def damping_note(factors: list[float] | None, origins: int | None = None) -> str:
    """In words: for how many months ahead the network's own correction is used, and how much."""
    if not factors:
        return ""
    used = sum(factor > 0 for factor in factors)  # the factors never rise with the step
    curve = "each station's smooth seasonal curve"
    sample = (f" The weights were fitted on forecasts from {origins} origins the network was "
              "not fitted on." if origins else "")
    if not used:
        return (f" The network's correction did not validate at any step, so the served "
                f"forecast is {curve}.{sample}")
    span = "1 month" if used == 1 else f"months 1-{used}"
    weights = (f"weight {factors[0]:.2f}" if used == 1 or factors[0] == factors[used - 1]
               else f"weight {factors[0]:.2f} falling to {factors[used - 1]:.2f}")
    beyond = f"; further ahead the served forecast is {curve}" if used < len(factors) else ""
    return f" The network's correction is used for {span} ahead ({weights}){beyond}.{sample}"


def _score(label: str, scores: Scores, color: str) -> dbc.Col:
    mae, rmse = scores.mae, scores.rmse
    return dbc.Col(html.Div([
        html.Div(label, className="score-label"),
        html.Div("n/a" if mae is None else f"{mae:.2f} °C", className=f"score-value {color}"),
        html.Div("MAE" + ("" if rmse is None else f" · RMSE {rmse:.2f} °C"), className="score-sub"),
    ], className="score"), xs=6, md=4, xl=2)


def download_csv(settings: Settings, clicks: Any, stations: Any, key: Any,
                 dataset: Any) -> tuple:
    """The displayed actuals, predictions and intervals as CSV. Returns (download, notice)."""
    try:
        monthly, _, chosen, shown = _view(settings, stations, key, dataset)
        if not chosen:
            raise InputError("no stations selected: pick at least one to download")
    except InputError as error:
        return no_update, alert(str(error))
    table = export_frame(actuals_frame(monthly, chosen), *_shown_rows(shown, chosen))
    name = f"temperature-forecast-{key or 'observed'}.csv"
    return dict(content=table.to_csv(index=False), filename=name, type="text/csv"), None


# Compare -------------------------------------------------------------------------------------


def update_compare(settings: Settings, compare: Any, stations: Any, dataset: Any,
                   forecasts: Any) -> tuple:
    """The comparison chart, table rows, their highlighting and a note. Returns 4 values."""
    try:
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
        return message_figure(str(error), height=300), [], [], alert(str(error))
    if len(keys) < 2:
        text = "Pick 2 to 4 models above to compare their held-out predictions."
        return message_figure(text, height=300), [], [], None
    if not chosen:
        text = "Pick one or more stations, in the list or on the map."
        return message_figure(text, height=300), [], [], None
    drawn = chosen[:COMPARE_PANELS]
    names = dict(zip(table["location"], table["name"], strict=True))
    models = [(f"Model {number}", rows_of(model.predictions, drawn))
              for number, model in enumerate(shown, start=1)]
    figure = compare_figure(actuals_frame(data.monthly, drawn), models, drawn, names,
                            VARIABLE_LABELS[VARIABLE], tuple(forecasts))
    rows = compare_rows([model.record for model in shown])
    styles = [{"if": {"column_id": name}, "backgroundColor": "#fff3cd", "fontWeight": 600}
              for name in differing_settings(rows)]
    styles += [{"if": {"row_index": index, "column_id": "model"},
                "color": MODEL_PALETTE[index % len(MODEL_PALETTE)], "fontWeight": 600}
               for index in range(len(rows))]
    note = ("Highlighted: the settings that differ. Errors are over all stations of each model's "
            "own held-out months, so models with another horizon are scored on other months.")
    if len(chosen) > len(drawn):
        note += f" The chart shows the first {len(drawn)} of the {len(chosen)} selected stations."
    return figure, rows, styles, note


# Models --------------------------------------------------------------------------------------


def update_models(settings: Settings, key: Any, dataset: Any, version: Any) -> Any:
    """The store's entries for this data set, newest first, with View and Delete buttons."""
    try:
        listed = entries(settings, load_dataset(settings, dataset))
    except InputError as error:
        return alert(str(error))
    if not listed:
        return html.P("No models for this data yet.", className="text-muted small")
    return dbc.ListGroup([_model_item(entry, entry.record.key == key) for entry in listed],
                         flush=True)


def describe(config: TrainConfig) -> str:
    """A one-line summary of a config's recipe and form fields."""
    direction = "bidirectional " if config.bidirectional else ""
    recipe = "" if config.anomalies else "article's recipe: "
    return (f"{recipe}{direction}{config.cell.upper()}, window {config.window}, "
            f"horizon {config.horizon}, {config.units} units, up to {config.epochs} epochs")


def _model_item(entry: Entry, showing: bool) -> dbc.ListGroupItem:
    record = entry.record
    gain, baseline = skill_vs_better(record.metrics)
    created = datetime.fromisoformat(record.created).strftime("%d %b %Y %H:%M UTC")
    facts = [f"{label} MAE {_mae(record.metrics, method)}"
             for method, label in ((SERVED, "served"), (NETWORK, "network"))]
    if gain is not None:
        facts.append(f"{gain:+.1f}% vs {METHOD_LABELS[baseline].lower()}")
    facts += [f"{record.epochs_run} epochs", created]
    badges = [dbc.Badge("showing", color="primary", className="me-1")] if showing else []
    if entry.shipped:
        badges.append(dbc.Badge("built-in", color="light", text_color="dark"))
    return dbc.ListGroupItem([
        html.Div([html.Span(describe(record.config), className="model-title"), *badges]),
        html.Div(" · ".join(facts), className="small text-muted"),
        html.Div([
            dbc.Button("View", id={"type": ids.VIEW_MODEL, "key": record.key}, size="sm",
                       color="primary", outline=True, disabled=showing),
            dbc.Button("Delete", id={"type": ids.DELETE_MODEL, "key": record.key}, size="sm",
                       color="danger", outline=True, disabled=entry.shipped),
        ], className="button-row mt-1"),
    ], className="model-item" + (" showing" if showing else ""))


def _mae(metrics: dict[str, Scores], method: str) -> str:
    mae = mae_of(metrics, method)
    return "n/a" if mae is None else f"{mae:.2f} °C"


def pick_model(settings: Settings, key: Any, clicks: Any) -> tuple:
    """Show another stored model. Returns (key, message)."""
    if not clicks:
        return no_update, no_update
    try:
        find_record(settings, key)
    except InputError as error:
        return no_update, alert(str(error))
    return key, None


def delete_model(settings: Settings, key: Any, clicks: Any, current: Any, dataset: Any,
                 version: Any) -> tuple:
    """Delete a stored model. Returns (store version, key shown, message)."""
    if not clicks:
        return no_update, no_update, no_update
    try:
        record = find_record(settings, key)
        if is_shipped(settings, key):
            raise InputError(f"model {key} is built in and cannot be deleted")
        data = load_dataset(settings, dataset)
    except InputError as error:
        return no_update, no_update, alert(str(error))
    user_store(settings).delete(key)
    shown = default_key(settings, data) if key == current else no_update
    bumped = version + 1 if isinstance(version, int) else 1
    return bumped, shown, alert(f"Deleted {describe(record.config)}.", "secondary")


# Retrain -------------------------------------------------------------------------------------


FORM_ERROR_FIELDS = (ids.RECIPE, *ids.NUMBER_FIELDS, ids.CELL, ids.BIDIRECTIONAL)


def check_form(settings: Settings, recipe: Any, window: Any, horizon: Any, epochs: Any,
               units: Any, cell: Any, bidirectional: Any, dataset: Any) -> tuple:
    """Inline validation: 4 invalid flags, 7 messages, and a hint about the cache."""
    values = _form_values(recipe, window, horizon, epochs, units, cell, bidirectional)
    try:
        data = load_dataset(settings, dataset)
    except InputError as error:
        return (False,) * 4 + (None,) * 7 + (alert(str(error)),)
    config, errors = parse_form(values, settings.base_config, data.monthly)
    flags = tuple(field in errors for field in ids.NUMBER_FIELDS)
    messages = tuple(errors.get(field) for field in FORM_ERROR_FIELDS)
    if config is None:
        return (*flags, *messages, None)
    cached = lookup(settings, config, data) is not None
    hint = (html.Span("In the cache: Train shows it at once.", className="text-success") if cached
            else html.Span("Not trained yet: training runs in the background.",
                           className="text-muted"))
    return (*flags, *messages, hint)


def _form_values(recipe: Any, window: Any, horizon: Any, epochs: Any, units: Any, cell: Any,
                 bidirectional: Any) -> dict[str, Any]:
    return {ids.RECIPE: recipe, ids.WINDOW: window, ids.HORIZON: horizon, ids.EPOCHS: epochs,
            ids.UNITS: units, ids.CELL: cell, ids.BIDIRECTIONAL: bidirectional}


def train_model(settings: Settings, set_progress: Progress, recipe: Any, window: Any,
                horizon: Any, epochs: Any, units: Any, cell: Any, bidirectional: Any,
                dataset: Any) -> tuple:
    """Train (or fetch from the cache) the form's config; runs as a background job.

    Reports (percent, label, loss figure) after every epoch; the loss curve is the main fit's,
    the calibration fits that follow are named in the label. Returns (key, message).
    """
    values = _form_values(recipe, window, horizon, epochs, units, cell, bidirectional)
    try:
        data = load_dataset(settings, dataset)
    except InputError as error:
        return no_update, alert(str(error))
    config, errors = parse_form(values, settings.base_config, data.monthly)
    if config is None:
        return no_update, alert("Not trained: " + " ".join(errors.values()))
    record = lookup(settings, config, data)
    if record is not None:
        set_progress((100, "cached", loss_figure(record.history)))
        return record.key, alert(f"Cached: {describe(record.config)} was trained before "
                                    "and is shown now.", "info")
    history: dict[str, list[float]] = {"loss": [], "val_loss": []}
    set_progress((0, "starting...", loss_figure(history)))

    def report(epoch) -> None:
        label = f"epoch {epoch.epoch} of {epoch.epochs}"
        if epoch.stage:
            set_progress((round(100 * epoch.epoch / epoch.epochs), f"{epoch.stage}: {label}",
                          no_update))
            return
        history["loss"].append(epoch.loss)
        if epoch.val_loss is not None:
            history["val_loss"].append(epoch.val_loss)
        set_progress((round(100 * epoch.epoch / epoch.epochs), label, loss_figure(history)))

    try:
        record, _ = user_store(settings).get_or_train(config, data.monthly, progress=report,
                                                      data_print=data.fingerprint)
    except DataError as error:
        return no_update, alert(f"Not trained: {error}")
    set_progress((100, f"epoch {record.epochs_run} of {config.epochs}, done",
                  loss_figure(history)))
    served, network = (_mae(record.metrics, m) for m in (SERVED, NETWORK))
    return record.key, alert(
        f"Trained {describe(record.config)} in {record.train_seconds:.0f} s: served MAE "
        f"{served}, the network's own {network}. It is shown now.", "success")


# Your data -----------------------------------------------------------------------------------


def upload_data(settings: Settings, trigger: str | None, contents: Any, filename: Any) -> tuple:
    """Validate and adopt an uploaded daily CSV, or go back to the built-in data.

    Returns (dataset, stations, key, message); nothing changes on error.
    """
    if trigger == ids.RESET_DATA:
        data = load_dataset(settings, None)
        return (None, _first_stations(settings, data.monthly), default_key(settings, data),
                alert("Using the built-in data.", "secondary"))
    name = filename if isinstance(filename, str) and filename else "uploaded file"
    name = name[:80]
    try:
        raw = _decode_upload(contents, name, settings.max_upload_bytes)
        data = Dataset.of(aggregate_monthly(read_daily_csv(raw, name=name)), VARIABLE)
    except (InputError, DataError) as error:
        return no_update, no_update, no_update, alert(f"Not used: {error}")
    dataset = save_upload(settings, data)
    monthly = data.monthly
    stations = monthly["location"].nunique()
    text = (f"Using {name}: {counted(stations, 'station')}, {monthly['month'].min():%b %Y} to "
            f"{monthly['month'].max():%b %Y}. Models you train now are cached for this data.")
    return (dataset, _first_stations(settings, monthly), default_key(settings, data),
            alert(text, "success"))


def _decode_upload(contents: Any, name: str, limit: int) -> bytes:
    """Bytes of a dcc.Upload data URL, refusing anything over the limit before decoding."""
    if not isinstance(contents, str) or "," not in contents:
        raise InputError(f"{name}: the upload is not a file")
    header, payload = contents.split(",", 1)
    if not header.startswith("data:") or not header.endswith(";base64"):
        raise InputError(f"{name}: the upload is not a base64 data URL")
    size = len(payload) * 3 // 4
    if size > limit:
        raise InputError(f"{name} is {size / 2**20:.1f} MB; the limit is {limit / 2**20:.3g} MB")
    try:
        return base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError):
        raise InputError(f"{name}: the upload is not valid base64") from None


def _first_stations(settings: Settings, monthly: pd.DataFrame) -> list[str]:
    known = set(monthly["location"])
    return [s for s in settings.default_stations if s in known] or sorted(known)[:5]
