"""What the data looks like: variables, their source columns and labels, and the embedded file.

Kept free of numpy and pandas, so reading the cache (a CLI cache hit) stays fast.
"""

from __future__ import annotations

from pathlib import Path

EMBEDDED_MONTHLY = Path(__file__).with_name("embedded") / "monthly.csv"
VARIABLES = {
    "temp": ("MinTemp", "MaxTemp"),
    "min_temp": ("MinTemp",),
    "max_temp": ("MaxTemp",),
    "rainfall": ("Rainfall",),
}
VARIABLE_LABELS = {
    "temp": "Mean daily temperature (°C)",
    "min_temp": "Mean minimum temperature (°C)",
    "max_temp": "Mean maximum temperature (°C)",
    "rainfall": "Total rainfall (mm)",
}


SHORT_REPR = 40  # characters of a value an error message quotes


def short_repr(value: object, limit: int = SHORT_REPR) -> str:
    """Quote a value for an error message, cut to `limit` characters (requests can be huge)."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


class DataError(ValueError):
    """A data file that cannot be used, with a message naming file, column, row and value."""
