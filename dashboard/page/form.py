"""The retrain form, defined once: each field's id, label, kind, choices and range.

A field's id is the name of the TrainConfig field it sets, and a number's range is the
config's own (`model.config.INT_RANGES`), so the layout (`retrain.py`), the server-side checks
(`Field.read`, `validate.parse_form`) and the callbacks' signatures all read this one list.
A new knob is one `Field` here: an "int", a "bool" (a switch) or a "choice" (radio buttons).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from model import RECIPES, ConfigError, short_repr
from model.config import CELLS, INT_RANGES

KINDS = ("int", "bool", "choice")


@dataclass(frozen=True)
class Field:
    """One form field: the config field it sets, its label and kind, a number's unit.

    Args:
        choices: a "choice" field's values and their labels, in the order shown.
        switch: a "bool" field's words beside its switch.
        wide: the field takes the form's whole row (a choice's labels one a line).
    """

    name: str
    label: str
    kind: str
    unit: str = ""
    choices: dict[str, str] = field(default_factory=dict)
    switch: str = ""
    wide: bool = False

    def __post_init__(self) -> None:
        if self.kind not in KINDS or (self.kind == "int") != (self.name in INT_RANGES):
            raise ValueError(f"field {self.name}: kind {self.kind!r} does not fit its config")
        if (self.kind == "choice") != bool(self.choices):
            raise ValueError(f"field {self.name}: only a choice has choices")

    @property
    def bounds(self) -> tuple[int, int]:
        return INT_RANGES[self.name]

    @property
    def hint(self) -> str:
        """The allowed range in words, shown under a number field."""
        low, high = self.bounds
        return f"{low} to {high}"

    def read(self, value: Any) -> Any:
        """What the control sent, as the config field's type; ConfigError naming what is wrong.

        A number is checked against its range by TrainConfig itself.
        """
        if self.kind == "bool":
            if isinstance(value, bool):
                return value
            raise ConfigError(f"{self.name} must be true or false, got {short_repr(value)}")
        if self.kind == "choice":
            if isinstance(value, str) and value in self.choices:
                return value
            raise ConfigError(
                f"{self.name} ({short_repr(value)}) must be one of {', '.join(self.choices)}"
            )
        if value is None or value == "":
            low, high = self.bounds
            raise ConfigError(f"{self.name} is required: a whole number from {low} to {high}")
        if isinstance(value, float) and value.is_integer():
            return int(value)
        return value


# The field that is not a config field: which recipe's config the others edit.
RECIPE = "recipe"
RECIPE_FIELD = Field(
    RECIPE, "Recipe", "choice", choices={name: r.label for name, r in RECIPES.items()}, wide=True
)
FIELDS = (
    Field("window", "Window", "int", "months"),
    Field("horizon", "Horizon", "int", "months"),
    Field("epochs", "Epochs", "int", "at most"),
    Field("units", "Units", "int", "per layer"),
    Field("cell", "Cell", "choice", choices={cell: cell.upper() for cell in CELLS}),
    Field("bidirectional", "Direction", "bool", switch="Bidirectional"),
)
NUMBERS = tuple(field for field in FIELDS if field.kind == "int")
INPUT_IDS = (RECIPE, *(field.name for field in FIELDS))  # the order the callbacks receive


def feedback_id(input_id: str) -> str:
    """The id of the message line under a field."""
    return f"{input_id}-feedback"
