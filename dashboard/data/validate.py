"""Server-side checks of every value a browser sends: nothing is trusted, every error is named."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from urllib.parse import parse_qs, urlencode

import pandas as pd

from model import RECIPES, ConfigError, DataError, TrainConfig, prepare, short_repr
from model.config import INT_RANGES

from ..page import form, ids
from .sources import STATE_NAMES, InputError, is_store_key

MAX_STATIONS = 200  # stations in one uploaded data set, and on the page at once
MAX_ITEMS = MAX_STATIONS + len(STATE_NAMES) + 1  # every station and state entry; more is forged
MAX_COMPARED = 4  # models on one comparison chart
STATE_PREFIX = "state:"  # a whole state's dropdown entry; no uploaded station name starts so
DATA_FIT = ("window", "horizon")  # the fields a data set too short for the form concerns


def parse_stations(value: Any, stations: pd.DataFrame) -> list[str]:
    """A list of known station names (a 'state:XX' entry stands for all of that state's)."""
    if value is None:
        return []
    if not isinstance(value, list) or len(value) > MAX_ITEMS:
        raise InputError(f"stations must be a list of station names, got {short_repr(value)}")
    known = set(stations["location"])
    chosen: list[str] = []
    for item in value:
        if not isinstance(item, str):
            raise InputError(f"station {short_repr(item)} is not a station name")
        if item in known:
            chosen.append(item)
        elif item.startswith(STATE_PREFIX):
            members = stations.loc[stations["state"] == item[len(STATE_PREFIX) :], "location"]
            if members.empty:
                state = short_repr(item[len(STATE_PREFIX) :])
                raise InputError(f"state {state} has no stations in this data")
            chosen.extend(members)
        else:
            raise InputError(f"station {short_repr(item)} is not in this data set")
    return at_most_max_stations(list(dict.fromkeys(chosen)))


def at_most_max_stations(chosen: list[str]) -> list[str]:
    """The stations chosen, or InputError when they are more than the page shows at once."""
    if len(chosen) > MAX_STATIONS:
        raise InputError(
            f"{len(chosen)} stations selected; the page shows at most {MAX_STATIONS} at once"
        )
    return chosen


def check_upload_stations(monthly: pd.DataFrame, name: str) -> None:
    """Refuse an upload with more than MAX_STATIONS stations or a name a state entry has."""
    locations = monthly["location"].unique()
    if len(locations) > MAX_STATIONS:
        raise InputError(
            f"{name} has {len(locations)} stations; an upload may have at most {MAX_STATIONS}"
        )
    reserved = [location for location in locations if location.startswith(STATE_PREFIX)]
    if reserved:
        raise InputError(
            f"{name}: column Location, station {short_repr(reserved[0])} starts with "
            f"{STATE_PREFIX!r}, which the page keeps for whole-state entries; rename it"
        )


def parse_compare(value: Any) -> list[str]:
    """The model keys picked for comparison: a list of up to MAX_COMPARED store keys."""
    if value is None:
        return []
    if (
        not isinstance(value, list)
        or len(value) > MAX_COMPARED
        or not all(is_store_key(key) for key in value)
    ):
        raise InputError(f"compare at most {MAX_COMPARED} models at once: got {short_repr(value)}")
    return list(dict.fromkeys(value))


def parse_query(search: Any) -> tuple[list[str] | None, str | None, list[str]]:
    """Stations, model key and compared keys from a URL query string (unchecked values)."""
    if not isinstance(search, str) or not search:
        return None, None, []
    query = parse_qs(search.lstrip("?"))
    stations = query.get("stations", [None])[0]
    model = query.get("model", [None])[0]
    compare = query.get("compare", [""])[0]
    return (stations.split(",") if stations else None), model, compare.split(",") if compare else []


def share_of(search: Any) -> str | None:
    """The share link value of a URL query string (unchecked), if it has one."""
    if not isinstance(search, str) or not search:
        return None
    return parse_qs(search.lstrip("?")).get("share", [None])[0]


def build_query(stations: list[str], key: str | None, compare: Sequence[str] = ()) -> str:
    """The URL query string that reopens this view."""
    values = {"stations": ",".join(stations)}
    if key:
        values["model"] = key
    if compare:
        values["compare"] = ",".join(compare)
    return "?" + urlencode(values, safe=",")


def recipe_base(recipe: Any, default: TrainConfig) -> TrainConfig:
    """The config a recipe choice starts from (the settings' base for "default")."""
    name = form.RECIPE_FIELD.read(recipe)
    return default if name == "default" else RECIPES[name].config


def parse_form(
    values: dict[str, Any], default: TrainConfig, monthly: pd.DataFrame
) -> tuple[TrainConfig | None, dict[str, str]]:
    """Build the config the form asks for; on failure return None and an error per input id.

    The recipe field picks the base config (`default` or the article's); the other fields
    override it. When the data are too short for the settings, the error is keyed
    ids.FORM_HINT, says what would fit, and concerns the DATA_FIT fields.
    """
    try:
        base = recipe_base(values.get(form.RECIPE), default)
    except ConfigError as error:
        return None, {form.RECIPE: str(error)}
    errors: dict[str, str] = {}
    changes: dict[str, Any] = {}
    for field in form.FIELDS:
        try:
            value = field.read(values.get(field.name))
            base.replace(**{field.name: value})
        except ConfigError as error:
            errors[field.name] = str(error)
            continue
        changes[field.name] = value
    if errors:
        return None, errors
    config = base.replace(**changes)
    try:
        prepare(monthly, config)
    except (ConfigError, DataError) as error:
        return None, {ids.FORM_HINT: f"{error}. {what_fits(monthly)}"}
    return config, {}


def months_of(monthly: pd.DataFrame) -> int:
    """How many calendar months a data set spans, first to last."""
    first, last = monthly["month"].min(), monthly["month"].max()
    return (last.year - first.year) * 12 + last.month - first.month + 1


def what_fits(monthly: pd.DataFrame) -> str:
    """The settings a data set has room for: the held-out horizon plus a training window of
    window + horizon months must fit in its months."""
    months = months_of(monthly)
    return (
        f"For this data ({months} months), window + 2 × horizon must be at most {months}: "
        "the last horizon months are held out, and each training example needs window + "
        "horizon months before them."
    )


def longest_settings(monthly: pd.DataFrame, name: str) -> str:
    """The longest window and horizon an upload allows, in words; InputError when it allows
    no training at all (window + 2 × horizon must fit in its months)."""
    months = months_of(monthly)
    (low_window, high_window), (low_horizon, high_horizon) = (
        INT_RANGES["window"],
        INT_RANGES["horizon"],
    )
    if months < low_window + 2 * low_horizon:
        raise InputError(
            f"{name} spans {months} months; training needs at least "
            f"{low_window + 2 * low_horizon} (a window of {low_window} months and a horizon of "
            f"{low_horizon}, the horizon held out and needed again for each training example)"
        )
    window = min(high_window, months - 2 * low_horizon)
    horizon = min(high_horizon, (months - low_window) // 2)
    return (
        f"It allows a window of up to {window} months (at horizon {low_horizon}) and a horizon "
        f"of up to {horizon} (at window {low_window}): window + 2 × horizon at most {months}."
    )
