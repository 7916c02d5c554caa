"""The page's two tables as AG Grids: their columns, number formats and highlighted cells."""

from __future__ import annotations

import json
from typing import Any

import dash_ag_grid as dag
from dash import html

from model import METHODS

from ..page import ids
from .tables import COMPARE_SETTINGS, SERVED_RMSE, differing_settings, mae_column
from .theme import BAD, GOOD, HEADER, HIGHLIGHT, MODEL_PALETTE

DIFFERS = {"backgroundColor": HIGHLIGHT, "fontWeight": 600}
SETTING_LABELS = {
    "recipe": "Recipe",
    "cell": "Cell",
    "direction": "Direction",
    "window": "Window",
    "horizon": "Horizon",
    "units": "Units",
    "epochs": "Epochs (max)",
}
TEXT_WIDTHS = {"recipe": 95, "cell": 70, "direction": 130}  # the settings that are words
DEFAULT_COLUMN = {"wrapHeaderText": True, "autoHeaderHeight": True}
# AG Grid's Quartz theme, compact, with the page's font and Bootstrap's table header colour
THEME = {
    "function": "themeQuartz.withParams({fontFamily: 'inherit', fontSize: 14, spacing: 6, "
    f"headerFontSize: 13, headerBackgroundColor: '{HEADER}', "
    "headerFontWeight: 600})"
}
# Small grids: every row and column in the page (the browser's find sees them), rows sized
# Tab leaves a grid rather than walking its every header and cell (false: the browser's Tab);
# inside, the arrow keys move and Enter on a header sorts.
OPTIONS = {
    "theme": THEME,
    "domLayout": "autoHeight",
    "suppressColumnVirtualisation": True,
    "tabToNextCell": {"function": "false"},
    "tabToNextHeader": {"function": "false"},
}


# Columns share the grid's width (responsiveSizeToFit) but keep a minimum width that fits
# their longest header word and value; a narrower grid scrolls sideways.
def _text(field: str, header: str, width: int) -> dict[str, Any]:
    return {"field": field, "headerName": header, "minWidth": width}


def _number(
    field: str, header: str, specifier: str | None = None, width: int = 100
) -> dict[str, Any]:
    """A right-aligned numeric column, shown with a d3 format when given (blank when missing)."""
    column: dict[str, Any] = {
        "field": field,
        "headerName": header,
        "type": "rightAligned",
        "minWidth": width,
    }
    if specifier:
        column["valueFormatter"] = {
            "function": f"params.value == null ? '' : d3.format('{specifier}')(params.value)"
        }
    return column


SKILL = {
    **_number("skill", "Skill vs best baseline (%)", "+.1f"),
    "cellStyle": {
        "styleConditions": [
            {"condition": "params.value > 0", "style": {"color": GOOD}},
            {"condition": "params.value < 0", "style": {"color": BAD}},
        ]
    },
}
# One MAE column per registered method ("Served MAE", "Seasonal naive MAE", ...)
MAE_COLUMNS = [
    _number(mae_column(entry.key), f"{entry.short.capitalize()} MAE", ".2f", width=115)
    for entry in METHODS
]
SERVED_RMSE_COLUMN = _number(SERVED_RMSE, "Served RMSE", ".2f")
BASELINE_COLUMN = _text("baseline", "Best baseline", 140)
STATION_COLUMNS = [
    _text("station", "Station", 170),
    _text("state", "State", 70),
    *MAE_COLUMNS,
    SERVED_RMSE_COLUMN,
    SKILL,
    BASELINE_COLUMN,
    _number("months", "Months"),
]


WIDTH = sum(column["minWidth"] for column in STATION_COLUMNS) + 2  # and the 1px borders


def station_grid() -> html.Div:
    """The sortable per-station scores (click a header, or focus it and press Enter)."""
    return html.Div(
        dag.AgGrid(
            id=ids.STATION_TABLE,
            columnDefs=STATION_COLUMNS,
            rowData=[],
            defaultColDef={**DEFAULT_COLUMN, "sortable": True},
            columnSize="responsiveSizeToFit",
            dashGridOptions={**OPTIONS, "suppressMultiSort": True},
            className="grid",
            style={"height": None, "minWidth": WIDTH},
        ),
        className="scroll-grid",
    )


def compare_columns(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The comparison's columns: differing settings highlighted, each model in its colour."""
    differing = differing_settings(rows)
    models = [
        {
            "condition": f"params.value === {json.dumps(row['model'])}",
            "style": {"color": MODEL_PALETTE[index % len(MODEL_PALETTE)], "fontWeight": 600},
        }
        for index, row in enumerate(rows)
    ]
    settings = [
        _text(name, SETTING_LABELS[name], TEXT_WIDTHS[name])
        if name in TEXT_WIDTHS
        else _number(name, SETTING_LABELS[name])
        for name in COMPARE_SETTINGS
    ]
    return [
        {**_text("model", "Model", 95), "cellStyle": {"styleConditions": models}},
        *(
            {**column, "cellStyle": DIFFERS} if column["field"] in differing else column
            for column in settings
        ),
        *MAE_COLUMNS,
        SERVED_RMSE_COLUMN,
        SKILL,
        BASELINE_COLUMN,
        _number("coverage", "80% coverage (%)"),
        _number("train_seconds", "Training (s)"),
    ]


def compare_grid() -> dag.AgGrid:
    """The compared models' settings and scores, one row per model."""
    return dag.AgGrid(
        id=ids.COMPARE_TABLE,
        columnDefs=compare_columns([]),
        rowData=[],
        defaultColDef={**DEFAULT_COLUMN, "sortable": False},
        columnSize="responsiveSizeToFit",
        dashGridOptions={**OPTIONS, "suppressNoRowsOverlay": True},
        className="grid",
        style={"height": None},
    )
