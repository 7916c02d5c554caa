"""What the page shows, kept in one browser store and changed by one callback.

The view is {"dataset", "stations", "model", "compare"}: the session's data set (None = the
built-in data, else an upload id), the selected stations, the key of the model shown and the
keys of the compared models. Only `update_view` writes it; every other callback reads it.

    event (the input that fired)         what changes
    ---------------------------------    -------------------------------------------------
    page load, back/forward (URL)        stations, model, compare from the link; the data
                                         set of a linked model; defaults for what is missing
    stations dropdown, Select all,       stations
      Clear, a click on the map
    compare dropdown                     compare
    View button of a listed model, or   model
      Show the default (model deleted)
    TRAINED (a training finished)        model
    UPLOADED (an upload, or Reset)       dataset; stations, model and compare start afresh
    STORE_VERSION (a model deleted)      model, if it was the one shown; compare drops it

After every event the URL, the two dropdowns (value and options) and the notice are
rewritten from the view, so they never disagree with it; the stations' options name the
stations the shown model has no forecast for, so they follow the model too.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import pandas as pd
from dash import ALL, Dash, Input, Output, State, no_update

from model import Dataset, Record, short_repr

from ..data.sources import (
    STATE_NAMES,
    Entry,
    InputError,
    NotShared,
    ShownModel,
    default_key,
    entries,
    find_model,
    find_record,
    load_dataset,
    stations_of,
)
from ..data.validate import (
    MAX_COMPARED,
    STATE_PREFIX,
    at_most_max_stations,
    build_query,
    parse_compare,
    parse_query,
    parse_stations,
    share_of,
)
from ..present.messages import alert, describe
from ..present.tables import unscored
from ..server import access, session
from ..settings import Settings
from . import ids
from .common import fired, outputs, unchanged

FIELDS = ("dataset", "stations", "model", "compare")
STATION_EVENTS = (ids.STATIONS, ids.SELECT_ALL, ids.CLEAR, ids.MAP)


class ViewUpdate(NamedTuple):
    """What an event changes: the view, and the URL and dropdowns rewritten from it."""

    view: Any
    search: Any  # the URL's query string
    stations: Any  # the stations dropdown's value
    station_options: Any
    compare: Any  # the compare dropdown's value
    compare_options: Any
    notice: Any


VIEW_OUTPUTS = outputs(
    ViewUpdate,
    view=Output(ids.VIEW, "data"),
    search=Output(ids.URL, "search"),
    stations=Output(ids.STATIONS, "value"),
    station_options=Output(ids.STATIONS, "options"),
    compare=Output(ids.COMPARE, "value"),
    compare_options=Output(ids.COMPARE, "options"),
    notice=Output(ids.NOTICE, "children"),
)
EVENTS = [  # every input that may change the view; the URL's first
    Input(ids.URL, "search"),
    Input(ids.STATIONS, "value"),
    Input(ids.SELECT_ALL, "n_clicks"),
    Input(ids.CLEAR, "n_clicks"),
    Input(ids.MAP, "clickData"),
    Input(ids.COMPARE, "value"),
    Input({"type": ids.VIEW_MODEL, "key": ALL}, "n_clicks"),
    Input({"type": ids.SHOW_DEFAULT, "key": ALL}, "n_clicks"),
    Input(ids.TRAINED, "data"),
    Input(ids.UPLOADED, "data"),
    Input(ids.STORE_VERSION, "data"),
]


def register(app: Dash, settings: Settings) -> None:
    """Register the view's one writer, `update_view`, on app."""

    @app.callback(*VIEW_OUTPUTS, *EVENTS, State(ids.VIEW, "data"))
    def _view(search: Any, *_inputs_and_view: Any) -> ViewUpdate:
        event, value = fired()
        if event in (ids.VIEW_MODEL, ids.SHOW_DEFAULT) and value is None:
            return unchanged(ViewUpdate)  # the model list was redrawn, nothing was clicked
        return update_view(settings, event, value, _inputs_and_view[-1], search)


def unpack(view: Any) -> tuple[Any, Any, Any, Any]:
    """(dataset, stations, model, compare) of a view sent by the browser, still unchecked."""
    if view is None:
        return None, [], None, []
    if not isinstance(view, dict) or set(view) != set(FIELDS):
        raise InputError(f"view must map {', '.join(FIELDS)}; got {short_repr(view)}")
    return view["dataset"], view["stations"], view["model"], view["compare"]


class OpenView(NamedTuple):
    """A view checked against the server: its data, stations and the model it shows."""

    monthly: pd.DataFrame
    table: pd.DataFrame  # the data set's stations (stations_of)
    chosen: list[str]
    shown: ShownModel | None


def open_view(settings: Settings, view: Any) -> OpenView:
    """The view the browser sent, every part checked (InputError names the bad one)."""
    dataset, stations, key, _ = unpack(view)
    data = load_dataset(settings, dataset)
    table = stations_of(data.monthly)
    chosen = parse_stations(stations, table)
    if key is None:
        return OpenView(data.monthly, table, chosen, None)
    shown = find_model(settings, key)
    if shown.record.data_fingerprint != data.fingerprint:
        raise InputError(f"model {key} was trained on another data set")
    return OpenView(data.monthly, table, chosen, shown)


def _packed(
    dataset: Any, stations: list[str], model: str | None, compare: list[str]
) -> dict[str, Any]:
    return {"dataset": dataset, "stations": stations, "model": model, "compare": compare}


def update_view(
    settings: Settings, event: str | None, value: Any, view: Any, search: Any
) -> ViewUpdate:
    """Apply one event to the view.

    `value` is what the event's input sent. Options are sent only when they may have
    changed, with their values (a dropdown drops a value it has no option for).
    """
    if event in (None, ids.URL):
        return _from_url(settings, search, view)
    try:
        dataset, stations, model, compare = unpack(view)
        before = model
        if event == ids.UPLOADED:
            return _fresh(settings, _uploaded(value), search)
        data = load_dataset(settings, dataset)
        table = stations_of(data.monthly)
        chosen = parse_stations(stations, table)
        compared = parse_compare(compare)
        if event in STATION_EVENTS:
            chosen = _stations_after(event, value, chosen, table)
        elif event == ids.COMPARE:
            compared = parse_compare(value)
        elif event in (ids.VIEW_MODEL, ids.SHOW_DEFAULT, ids.TRAINED):
            model = _model_on(settings, value, data)
        elif event == ids.STORE_VERSION and model is not None:
            listed = {entry.record.key for entry in entries(settings, data)}
            model = model if model in listed else default_key(settings, data)
    except InputError as error:
        return ViewUpdate(*(no_update,) * 6, notice=alert(str(error)))
    options = compare_options(settings, data) if event in STORE_EVENTS else no_update
    if isinstance(options, list):  # the options were rebuilt
        compared = _listed(compared, options)
    marks = _station_choices(settings, data, model) if model != before else no_update
    new = _packed(dataset, chosen, model, compared)
    shown_stations = value if event == ids.STATIONS else stations
    shown_compare = value if event == ids.COMPARE else compare
    return ViewUpdate(
        view=new,
        search=_query(new, search),
        stations=chosen if chosen != shown_stations or isinstance(marks, list) else no_update,
        station_options=marks,
        compare=compared if compared != shown_compare else no_update,
        compare_options=options,
        notice=None,
    )


STORE_EVENTS = (ids.TRAINED, ids.STORE_VERSION)  # the stored models may have changed


def _query(view: dict[str, Any], search: Any) -> Any:
    query = build_query(view["stations"], view["model"], view["compare"])
    return query if query != search else no_update


def _stations_after(event: str, value: Any, chosen: list[str], table: pd.DataFrame) -> list[str]:
    if event == ids.STATIONS:
        return parse_stations(value, table)
    if event == ids.SELECT_ALL:
        return at_most_max_stations(list(table["location"]))
    if event == ids.CLEAR:
        return []
    clicked = _clicked_station(value)
    parse_stations([clicked], table)
    return [s for s in chosen if s != clicked] if clicked in chosen else [*chosen, clicked]


def _clicked_station(click: Any) -> str:
    try:
        station = click["points"][0]["customdata"]
    except (TypeError, KeyError, IndexError):
        raise InputError(f"map click {short_repr(click)} names no station") from None
    if not isinstance(station, str):
        raise InputError(f"map click names {short_repr(station)}, not a station")
    return station


def _model_on(settings: Settings, key: Any, data: Dataset) -> str:
    """A model key to show, checked: in a store and trained on the view's data set."""
    record = find_record(settings, key)
    if record.data_fingerprint != data.fingerprint:
        raise InputError(f"model {record.key} was trained on another data set")
    return record.key


def _uploaded(event: Any) -> Any:
    if not isinstance(event, dict) or set(event) != {"dataset"}:
        raise InputError(f"upload event {short_repr(event)} names no data set")
    return event["dataset"]


def _fresh(settings: Settings, dataset: Any, search: Any) -> ViewUpdate:
    """A view of a data set just adopted: default stations and model, nothing compared."""
    data = load_dataset(settings, dataset)
    new = _packed(dataset, first_stations(settings, data.monthly), default_key(settings, data), [])
    return ViewUpdate(
        view=new,
        search=_query(new, search),
        stations=new["stations"],
        station_options=_station_choices(settings, data, new["model"]),
        compare=[],
        compare_options=compare_options(settings, data),
        notice=None,
    )


def _from_url(settings: Settings, search: Any, view: Any) -> ViewUpdate:
    """The view a link asks for, on the session's data set or the linked model's."""
    dataset, data, notices = _shared_or_own(settings, search, view)
    wanted, key, compare = parse_query(search)
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
        wanted = first_stations(settings, data.monthly)
    unknown = [s for s in wanted if s not in known]
    if unknown:
        notices.append(
            f"Unknown station(s) in the link ignored: {', '.join(map(short_repr, unknown[:5]))}."
        )
    chosen = list(dict.fromkeys(s for s in wanted if s in known))
    models = compare_options(settings, data)
    compared = _listed(compare[:MAX_COMPARED], models)
    if len(compared) < len(compare):
        notices.append(
            "Some of the link's compared models are not on this server or not for "
            "this data; they were left out."
        )
    new = _packed(dataset, chosen, key, compared)
    notice = alert(" ".join(notices), "warning") if notices else None
    return ViewUpdate(
        view=new,
        search=_query(new, search),
        stations=chosen,
        station_options=_station_choices(settings, data, key),
        compare=compared,
        compare_options=models,
        notice=notice,
    )


def _shared_or_own(settings: Settings, search: Any, view: Any) -> tuple[Any, Dataset, list[str]]:
    """(data set id, data set, notices): a share link's data set, else the session's own."""
    link = share_of(search)
    notices = []
    if link is not None:
        shared = access.open_share(settings, link, session.current())
        if shared is not None:
            return shared, load_dataset(settings, shared), []
        notices.append(
            "The share link does not open a data set: it is mistyped, or its uploader "
            "stopped sharing."
        )
    try:
        dataset = unpack(view)[0]
        return dataset, load_dataset(settings, dataset), notices
    except InputError as error:
        return None, load_dataset(settings, None), [*notices, f"{error}."]


def _dataset_of(settings: Settings, record: Record, dataset: Any) -> Any:
    """The data set a record was trained on: the session's, the embedded one or an upload."""
    for candidate in dict.fromkeys([dataset, None, record.data_fingerprint]):
        try:
            data = load_dataset(settings, candidate)
        except NotShared:
            if candidate != record.data_fingerprint:
                continue
            raise InputError(
                f"model {record.key} was trained on uploaded data that is not shared with "
                "you; its uploader can send you a share link"
            ) from None
        except InputError:
            continue
        if data.fingerprint == record.data_fingerprint:
            return candidate
    raise InputError(f"the data set model {record.key} was trained on is not on this server")


def compare_options(settings: Settings, data: Dataset) -> list[dict[str, str]]:
    """The comparison picker's options: every stored model trained on this data, the
    default one named as ours."""
    default = default_key(settings, data)

    def label(entry: Entry) -> str:
        if entry.record.key == default:
            return f"Our default: {describe(entry.record.config)}"
        return describe(entry.record.config) + (" (built in)" if entry.shipped else "")

    return [{"label": label(entry), "value": entry.record.key} for entry in entries(settings, data)]


def _listed(keys: list[str], options: list[dict[str, str]]) -> list[str]:
    """The keys that have an option, in their order, without repeats."""
    known = {option["value"] for option in options}
    return list(dict.fromkeys(key for key in keys if key in known))


def _station_choices(settings: Settings, data: Dataset, key: str | None) -> list[dict[str, str]]:
    """The stations dropdown's options, marked for the model of `key` (None: no model)."""
    return station_options(data.monthly, None if key is None else find_record(settings, key))


def station_options(monthly: pd.DataFrame, record: Record | None) -> list[dict[str, str]]:
    """Dropdown options grouped by state: a 'whole state' entry, then its stations.

    A station the shown model (`record`) has no forecast for says so, and why.
    """
    stations = stations_of(monthly)
    reasons = unscored(monthly, record) if record is not None else {}
    options = []
    for state, group in stations.groupby("state", sort=True):
        label = STATE_NAMES.get(state, state)
        options.append(
            {
                "label": f"{label}: all {len(group)} stations"
                if len(group) > 1
                else f"{label}: its only station",
                "value": STATE_PREFIX + state,
            }
        )
        options += [
            {
                "label": f"{row.name} ({state})"
                + (f" - no forecast: {reasons[row.location]}" if row.location in reasons else ""),
                "value": row.location,
            }
            for row in group.itertuples()
        ]
    return options


def first_stations(settings: Settings, monthly: pd.DataFrame) -> list[str]:
    """The stations a data set opens with: the settings' defaults it has, else its first 5."""
    known = set(monthly["location"])
    return [s for s in settings.default_stations if s in known] or sorted(known)[:5]
