"""The Retrain card: the form (from form.py), its checks, and the training job behind Train.

The panel under the buttons (progress, loss curve, message, which buttons work) is
`training_panel.py`'s: the job here only reports to it, through JOB_PROGRESS.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import dash_bootstrap_components as dbc
from dash import Dash, Input, Output, State, html, no_update, set_props

from model import NETWORK, RECIPES, SERVED, DataError, TrainConfig

from ..data.sources import InputError, load_dataset, lookup, user_store
from ..data.validate import DATA_FIT, parse_form
from ..present.messages import alert, describe, not_saved
from ..server import access, jobs, session
from ..settings import Settings
from . import form, ids, training_panel
from .common import card, mae_text
from .state import unpack

Report = Callable[[dict[str, Any]], None]  # hands one progress event to the page
log = logging.getLogger(__name__)


def _control(field: form.Field, value: Any) -> tuple[Any, Any]:
    """A field's control and the hint under it, by its kind."""
    if field.kind == "int":
        # No min/max on the input: the browser would send an out-of-range value as empty and
        # the server could only say "required"; the range is shown and checked server-side.
        control = dbc.InputGroup(
            [
                dbc.Input(
                    id=field.name, type="number", value=value, debounce=True, inputMode="numeric"
                ),
                dbc.InputGroupText(field.unit),
            ],
            size="sm",
        )
        return control, html.Small(field.hint, className="text-muted")
    if field.kind == "bool":
        return dbc.Switch(id=field.name, label=field.switch, value=value), None
    options = [{"label": label, "value": choice} for choice, label in field.choices.items()]
    return dbc.RadioItems(
        id=field.name, name=field.name, inline=not field.wide, value=value, options=options
    ), None


def _form_field(field: form.Field, value: Any) -> dbc.Col:
    """One retrain field, built from its spec: label, control, hint, error line."""
    control, hint = _control(field, value)
    html_for = field.name if field.kind != "choice" else None
    return dbc.Col(
        [
            dbc.Label(field.label, html_for=html_for, className="form-label"),
            control,
            hint,
            html.Div(id=form.feedback_id(field.name), className="field-error"),
        ],
        xs=12 if field.wide else 6,
        className="mb-2",
    )


def layout(base: TrainConfig) -> dbc.Card:
    """The card: the form at the base recipe, its hint, Train and Cancel, and the panel."""
    form_row = dbc.Row(
        [
            _form_field(form.RECIPE_FIELD, "default"),
            *(_form_field(field, getattr(base, field.name)) for field in form.FIELDS),
        ]
    )
    note = (
        f"Other settings follow the recipe. Default: ensemble of {base.ensemble}, early "
        f"stopping after {base.patience} epochs without improvement, batch {base.batch_size}; "
        "the article's: batch 1, every epoch run, no calibration (slow: about 20 s an epoch)."
    )
    return card(
        "Retrain",
        [
            html.P(
                "Settings for a new training; the model shown is named above the chart.",
                className="small text-muted mb-2",
            ),
            form_row,
            html.Div(id=ids.FORM_HINT, className="small mb-2"),
            html.Div(
                [
                    dbc.Button("Train", id=ids.TRAIN, color="primary"),
                    dbc.Button(
                        "Cancel", id=ids.CANCEL, color="secondary", outline=True, disabled=True
                    ),
                ],
                className="button-row",
            ),
            *training_panel.layout(),
            html.Small(note, className="text-muted"),
        ],
        className="h-100",
    )


def register(app: Dash, settings: Settings) -> None:
    """The form's checks and recipe, the training job, and the panel."""
    fields = [State(input_id, "value") for input_id in form.INPUT_IDS]

    def form_values(values: tuple) -> dict[str, Any]:
        return dict(zip(form.INPUT_IDS, values, strict=True))

    @app.callback(
        output={
            "invalid": [Output(field.name, "invalid") for field in form.NUMBERS],
            "messages": [Output(form.feedback_id(i), "children") for i in form.INPUT_IDS],
            "hint": Output(ids.FORM_HINT, "children"),
        },
        inputs={
            "values": [Input(state.component_id, "value") for state in fields],
            "shown": Input(ids.VIEW, "data"),
        },
    )
    def _check(values: list, shown: Any) -> dict[str, Any]:
        return check_form(settings, form_values(tuple(values)), shown)

    @app.callback(
        output={field.name: Output(field.name, "value") for field in form.FIELDS},
        inputs={"recipe": Input(form.RECIPE, "value")},
        prevent_initial_call=True,
    )
    def _recipe(recipe: Any) -> dict[str, Any]:
        return recipe_values(settings, recipe)

    @app.callback(
        [Output(ids.TRAINED, "data")],  # a list: answered as {"trained": {"data": key}}
        Input(ids.TRAIN, "n_clicks"),
        *fields,
        State(ids.VIEW, "data"),
        background=True,
        prevent_initial_call=True,
        interval=500,
        progress=[Output(ids.JOB_PROGRESS, "data")],
        running=[(Output(ids.JOB_RUNNING, "data"), True, False)],
        cancel=[Input(ids.CANCEL, "n_clicks")],
    )
    def _train(set_progress: Callable, run: Any, *values: Any) -> list[Any]:
        *fields_sent, shown = values
        last: dict[str, Any] = {}

        def report(event: dict[str, Any]) -> None:
            last.update(event, run=run)  # the Train click it answers
            set_progress(dict(last))

        key = train_model(settings, report, form_values(tuple(fields_sent)), shown)
        # The last report once more, with the answer: a job that shows no model answers with
        # no output, which Dash sends as an empty 204, dropping the progress read with it.
        set_props(ids.JOB_PROGRESS, {"data": dict(last)})
        return [key]

    training_panel.register(app, settings)


def recipe_values(settings: Settings, recipe: Any) -> dict[str, Any]:
    """The form's values for a recipe: the base config's for ours, the recipe's own else."""
    try:
        name = form.RECIPE_FIELD.read(recipe)
    except ValueError:
        return {field.name: no_update for field in form.FIELDS}
    config = settings.base_config if name == "default" else RECIPES[name].config
    return {field.name: getattr(config, field.name) for field in form.FIELDS}


def check_form(settings: Settings, values: dict[str, Any], view: Any) -> dict[str, Any]:
    """Inline validation of the form's values (keyed by form.INPUT_IDS).

    Returns "invalid", a flag per number field; "messages", one per input; and "hint": what
    the data have room for, or whether the settings are in the cache.
    """
    try:
        data = load_dataset(settings, unpack(view)[0])
    except InputError as error:
        return {
            "invalid": [False] * len(form.NUMBERS),
            "messages": [None] * len(form.INPUT_IDS),
            "hint": alert(str(error)),
        }
    config, errors = parse_form(values, settings.base_config, data.monthly)
    invalid = [
        field.name in errors or (ids.FORM_HINT in errors and field.name in DATA_FIT)
        for field in form.NUMBERS
    ]
    messages = [errors.get(input_id) for input_id in form.INPUT_IDS]
    if config is None:
        fit = errors.get(ids.FORM_HINT)
        hint = fit and html.Span(fit, className="field-error")
    elif lookup(settings, config, data) is not None:
        hint = html.Span("In the cache: Train shows it at once.", className="text-success")
    else:
        hint = html.Span(
            "Not trained yet: training runs in the background.", className="text-muted"
        )
    return {"invalid": invalid, "messages": messages, "hint": hint}


def train_model(settings: Settings, report: Report, values: dict[str, Any], view: Any) -> Any:
    """Train (or fetch from the cache) the form's config; runs as a background job.

    Reports a progress event (training_panel.progress_event) after every epoch, the loss curve
    the main fit's; the calibration fits that follow are named in the label. The last event
    says how it ended. Returns the key of the model to show, or no_update.
    """
    history: dict[str, list[float]] = {"loss": [], "val_loss": []}
    last: dict[str, Any] = {"percent": 0, "label": ""}

    def show(percent: int, label: str, key: str | None = None) -> None:
        """Report to the page, and note it for a page loaded later (after a reload), which
        shows the model `key` once the training noted it."""
        last.update(percent=percent, label=label)
        report(training_panel.progress_event(percent, label, history))
        jobs.note_progress(settings, percent, label, history, key)

    def end(key: Any, text: str, color: str = "danger") -> Any:
        shown = key if isinstance(key, str) else None
        report(
            training_panel.progress_event(
                last["percent"], last["label"], history, (text, color), shown
            )
        )
        return key

    try:
        data = load_dataset(settings, unpack(view)[0])
    except InputError as error:
        return end(no_update, str(error))
    config, errors = parse_form(values, settings.base_config, data.monthly)
    if config is None:
        return end(no_update, "Not trained: " + " ".join(errors.values()))
    record = lookup(settings, config, data)
    if record is not None:
        history.update(record.history)
        last.update(percent=100, label="cached")
        text = f"Cached: {describe(record.config)} was trained before and is shown now."
        return end(record.key, text, "info")

    def epoch_done(epoch) -> None:
        still_wanted()  # between epochs: stop if the page has gone or asked to stop
        percent = round(100 * epoch.epoch / epoch.epochs)
        label = f"epoch {epoch.epoch} of {epoch.epochs}"
        if epoch.stage:
            show(percent, f"{epoch.stage}: {label}")
            return
        history["loss"].append(epoch.loss)
        if epoch.val_loss is not None:
            history["val_loss"].append(epoch.val_loss)
        show(percent, label)

    def queued(place: int) -> None:
        show(0, f"queued: number {place} in line")

    try:
        with jobs.admit(settings, queued) as still_wanted:
            show(0, "starting...")
            try:
                record, cached = user_store(settings).get_or_train(
                    config, data.monthly, progress=epoch_done, data_print=data.fingerprint
                )
            except jobs.Stopped:
                show(0, "stopped, nothing saved")
                raise
            if not cached:  # before the note: a reloaded page shows the model at once
                access.claim_model(settings, record.key, session.current())
            show(100, f"epoch {record.epochs_run} of {config.epochs}, done", record.key)
    except DataError as error:
        return end(no_update, f"Not trained: {error}")
    except jobs.Refused as error:
        return end(no_update, f"Not trained: {error}.", "warning")
    except jobs.Stopped as error:
        return end(no_update, f"Training stopped: {error}; nothing was saved.", "warning")
    except OSError as error:
        log.error("training %s not saved: %s", describe(config), error)
        return end(no_update, not_saved(error, "the trained model"))
    served, network = (mae_text(record.metrics, m) for m in (SERVED, NETWORK))
    text = (
        f"Trained {describe(record.config)} in {record.train_seconds:.0f} s: served MAE "
        f"{served}, the network's own {network}. It is shown now."
    )
    return end(record.key, text, "success")
