"""Server-side checks of every value a browser sends: nothing is trusted, every error is named."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from urllib.parse import parse_qs, urlencode

import pandas as pd

from model import PRESETS, ConfigError, DataError, TrainConfig, prepare, short_repr

from . import ids
from .sources import InputError

MAX_ITEMS = 200  # far more than any data set's stations and states; longer lists are forged
MAX_COMPARED = 4  # models on one comparison chart
FORM_FIELDS = {ids.WINDOW: "window", ids.HORIZON: "horizon", ids.EPOCHS: "epochs",
               ids.UNITS: "units", ids.CELL: "cell", ids.BIDIRECTIONAL: "bidirectional"}
STATE_PREFIX = "state:"
# The recipes a user can retrain: the dashboard's base config, or the published notebook's.
RECIPES = {"default": "our default (anomalies from the seasonal curve, calibrated)",
           "article": "the article's (raw values, MinMax scaling, batch 1)"}


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
        if item.startswith(STATE_PREFIX):
            members = stations.loc[stations["state"] == item[len(STATE_PREFIX):], "location"]
            if members.empty:
                state = short_repr(item[len(STATE_PREFIX):])
                raise InputError(f"state {state} has no stations in this data")
            chosen.extend(members)
        elif item in known:
            chosen.append(item)
        else:
            raise InputError(f"station {short_repr(item)} is not in this data set")
    return list(dict.fromkeys(chosen))


def parse_compare(value: Any) -> list[str]:
    """The model keys picked for comparison: a list of up to MAX_COMPARED store keys."""
    if value is None:
        return []
    if (not isinstance(value, list) or len(value) > MAX_COMPARED
            or any(not isinstance(key, str) or not key.isalnum() or len(key) > 64
                   for key in value)):
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
    return (stations.split(",") if stations else None), model, compare.split(",") if compare \
        else []


def build_query(stations: list[str], key: str | None, compare: Sequence[str] = ()) -> str:
    """The URL query string that reopens this view."""
    values = {"stations": ",".join(stations)}
    if key:
        values["model"] = key
    if compare:
        values["compare"] = ",".join(compare)
    return "?" + urlencode(values, safe=",")


def _field_value(name: str, value: Any) -> Any:
    """Coerce what a form control sends to the config field's type, or raise ConfigError."""
    if name == "bidirectional":
        if isinstance(value, bool):
            return value
        raise ConfigError(f"bidirectional must be true or false, got {short_repr(value)}")
    if name == "cell":
        return value
    if value is None or value == "":
        raise ConfigError(f"{name} is required")
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def recipe_base(recipe: Any, default: TrainConfig) -> TrainConfig:
    """The config a recipe choice starts from; ConfigError for anything but a known recipe."""
    if not isinstance(recipe, str) or recipe not in RECIPES:
        raise ConfigError(f"recipe ({short_repr(recipe)}) must be one of {', '.join(RECIPES)}")
    return default if recipe == "default" else PRESETS["seed"]


def parse_form(values: dict[str, Any], default: TrainConfig,
               monthly: pd.DataFrame) -> tuple[TrainConfig | None, dict[str, str]]:
    """Build the config the form asks for; on failure return None and an error per field id.

    The recipe field picks the base config (`default` or the article's); the other fields
    override it.
    """
    try:
        base = recipe_base(values.get(ids.RECIPE), default)
    except ConfigError as error:
        return None, {ids.RECIPE: str(error)}
    errors: dict[str, str] = {}
    changes: dict[str, Any] = {}
    for field_id, name in FORM_FIELDS.items():
        try:
            value = _field_value(name, values.get(field_id))
            base.replace(**{name: value})
        except ConfigError as error:
            errors[field_id] = str(error)
            continue
        changes[name] = value
    if errors:
        return None, errors
    config = base.replace(**changes)
    try:
        prepare(monthly, config)
    except (ConfigError, DataError) as error:
        return None, {ids.WINDOW: str(error)}  # the data cannot fit window + horizon
    return config, {}
