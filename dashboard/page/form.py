"""The retrain form, defined once: each field's id, label, unit and range.

A field's id is the name of the TrainConfig field it sets, and its range is the config's own
(`model.config.INT_RANGES`), so the layout, the server-side checks and the callbacks all read
this one list.
"""

from __future__ import annotations

from dataclasses import dataclass

from model.config import CELLS, INT_RANGES

RECIPE = "recipe"  # the one field that is not a config field: which config the others edit
# The recipes a user can retrain: the dashboard's base config, or the published notebook's.
RECIPES = {
    "default": "our default (anomalies from the seasonal curve, calibrated)",
    "article": "the article's (raw values, MinMax scaling, batch 1)",
}


@dataclass(frozen=True)
class Field:
    """One form field: the config field it sets, its label, and the unit of a number."""

    name: str
    label: str
    unit: str = ""

    @property
    def is_number(self) -> bool:
        return self.name in INT_RANGES

    @property
    def bounds(self) -> tuple[int, int]:
        return INT_RANGES[self.name]

    @property
    def hint(self) -> str:
        """The allowed range in words, shown under a number field."""
        low, high = self.bounds
        return f"{low} to {high}"


FIELDS = (
    Field("window", "Window", "months"),
    Field("horizon", "Horizon", "months"),
    Field("epochs", "Epochs", "at most"),
    Field("units", "Units", "per layer"),
    Field("cell", "Cell"),
    Field("bidirectional", "Direction"),
)
NUMBERS = tuple(field for field in FIELDS if field.is_number)
INPUT_IDS = (RECIPE, *(field.name for field in FIELDS))  # the order the callbacks receive
CELL_LABELS = {cell: cell.upper() for cell in CELLS}


def feedback_id(input_id: str) -> str:
    """The id of the message line under a field."""
    return f"{input_id}-feedback"
