"""The Models card: the cached models of this data set, with View, Delete or Hide."""

from __future__ import annotations

from typing import Any, NamedTuple

import dash_bootstrap_components as dbc
from dash import ALL, Dash, Input, Output, State, dcc, html, no_update

from model import NETWORK, SERVED, skill_vs_best

from ..data.sources import (
    Entry,
    InputError,
    ModelGone,
    entries,
    find_record,
    is_shipped,
    is_store_key,
    load_dataset,
    user_store,
)
from ..present.messages import alert, counted, describe, when_trained
from ..present.tables import METHOD_LABELS
from ..server import access, session
from ..settings import Settings
from . import ids
from .common import card, fired, mae_text, outputs, unchanged
from .state import unpack


def layout() -> dbc.Card:
    """The card: a message line, the list, and the dialog that asks before a delete."""
    dialog = dbc.Modal(
        [
            dbc.ModalHeader(dbc.ModalTitle("Delete this model?")),
            dbc.ModalBody(id=ids.DELETE_QUESTION),
            dbc.ModalFooter(
                [
                    dbc.Button("Keep it", id=ids.DELETE_NO, color="secondary", outline=True),
                    dbc.Button("Delete", id=ids.DELETE_YES, color="danger"),
                ]
            ),
        ],
        id=ids.DELETE_DIALOG,
        is_open=False,
    )
    return card(
        "Models",
        [
            html.Div(id=ids.MODEL_MESSAGE),
            # the list grows with the page: no inner scroller to hide its last buttons
            html.Div(id=ids.MODEL_LIST),
            dialog,
            dcc.Store(id=ids.DELETE_PENDING),
            dcc.Store(id=ids.TRAINED_HERE, storage_type="session", data=[]),
        ],
        className="h-100",
    )


class Deletion(NamedTuple):
    """What a Delete, Hide, Show hidden or dialog click changes."""

    version: Any  # the store version: bumped when the lists must reload
    message: Any
    pending: Any  # the key the dialog asks about
    asking: Any  # whether the dialog is open
    question: Any


DELETION_OUTPUTS = outputs(
    Deletion,
    version=Output(ids.STORE_VERSION, "data"),
    message=Output(ids.MODEL_MESSAGE, "children"),
    pending=Output(ids.DELETE_PENDING, "data"),
    asking=Output(ids.DELETE_DIALOG, "is_open"),
    question=Output(ids.DELETE_QUESTION, "children"),
)


def register(app: Dash, settings: Settings) -> None:
    """The list follows the view and the store; its buttons delete, hide or show again."""

    @app.callback(
        Output(ids.MODEL_LIST, "children"),
        Input(ids.VIEW, "data"),
        Input(ids.STORE_VERSION, "data"),
    )
    def _models(shown: Any, _version: Any) -> Any:
        return update_models(settings, shown)

    @app.callback(
        *DELETION_OUTPUTS,
        Input({"type": ids.DELETE_MODEL, "key": ALL}, "n_clicks"),
        Input(ids.DELETE_YES, "n_clicks"),
        Input(ids.DELETE_NO, "n_clicks"),
        Input({"type": ids.SHOW_HIDDEN, "key": ALL}, "n_clicks"),
        State(ids.DELETE_PENDING, "data"),
        State(ids.TRAINED_HERE, "data"),
        State(ids.STORE_VERSION, "data"),
        prevent_initial_call=True,
    )
    def _delete(
        _clicks: Any, _yes: Any, _no: Any, _show: Any, pending: Any, trained_here: Any, version: Any
    ) -> Deletion:
        event, key = fired()
        if event is None or (event in (ids.DELETE_MODEL, ids.SHOW_HIDDEN) and key is None):
            return unchanged(Deletion)  # the model list was redrawn (emptied), nothing clicked
        return ask_or_delete(settings, event, key, pending, trained_here, version)

    @app.callback(
        Output(ids.TRAINED_HERE, "data"),
        Input(ids.TRAINED, "data"),
        State(ids.TRAINED_HERE, "data"),
        prevent_initial_call=True,
    )
    def _trained_here(key: Any, trained_here: Any) -> Any:
        return remember_trained(key, trained_here)


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
        return [show, empty] if hidden else empty
    items = [
        _model_item(entry, entry.record.key == key, may_delete(settings, entry.record.key))
        for entry in listed
    ] + [_damaged_item(key, reason) for key, reason in sorted(damaged.items())]
    return [show, dbc.ListGroup(items, flush=True)] if hidden else dbc.ListGroup(items, flush=True)


def may_delete(settings: Settings, key: str) -> bool:
    """Whether this session trained the model from the page, or is the operator's."""
    return session.is_operator(settings.operator_token) or access.owns_model(
        settings, key, session.current()
    )


def _model_item(entry: Entry, showing: bool, deletable: bool) -> dbc.ListGroupItem:
    record = entry.record
    gain, baseline = skill_vs_best(record.metrics)
    facts = [
        f"{label} MAE {mae_text(record.metrics, method)}"
        for method, label in ((SERVED, "served"), (NETWORK, "network"))
    ]
    if gain is not None:
        facts.append(f"{gain:+.1f}% vs {METHOD_LABELS[baseline].lower()}")
    facts += [f"{record.epochs_run} epochs", when_trained(record.created)]
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
                    # a built-in model cannot be deleted or hidden: it offers neither
                    *([] if entry.shipped else [_delete_button(record.key, deletable)]),
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


def _delete_button(key: str, deletable: bool = True) -> dbc.Button:
    """Delete, for a model this session may delete; else Hide."""
    return dbc.Button(
        "Delete" if deletable else "Hide",
        id={"type": ids.DELETE_MODEL, "key": key},
        size="sm",
        color="danger" if deletable else "secondary",
        outline=True,
        title=None if deletable else "Trained by another session: hide it from your own lists",
    )


def ask_or_delete(
    settings: Settings, event: str | None, key: Any, pending: Any, trained_here: Any, version: Any
) -> Deletion:
    """Delete at once a model trained in this tab; ask first about another of this session's.

    Someone else's model is hidden from this session's lists instead; Show hidden lists
    them again.
    """
    closed = {"pending": None, "asking": False, "question": no_update}
    if event == ids.DELETE_NO:
        return Deletion(no_update, no_update, **closed)
    if event == ids.SHOW_HIDDEN:
        return Deletion(*show_hidden(settings, version), **closed)
    if event == ids.DELETE_YES:
        key = pending
    elif is_store_key(key) and not may_delete(settings, key):
        return Deletion(*hide_model(settings, key, version), **closed)
    elif not (isinstance(trained_here, list) and key in trained_here):
        try:
            name = _entry_name(settings, key)
        except InputError as error:
            return Deletion(no_update, alert(str(error)), None, False, no_update)
        question = f"Delete {name}? It goes for everyone using this server, and cannot be undone."
        return Deletion(no_update, no_update, key, True, question)
    return Deletion(*delete_model(settings, key, version), **closed)


def remember_trained(key: Any, trained_here: Any) -> Any:
    """The session's trained keys with a new one; only well-formed store keys are kept."""
    if not is_store_key(key):
        return no_update
    known = [k for k in trained_here if is_store_key(k)] if isinstance(trained_here, list) else []
    return list(dict.fromkeys([*known, key]))[-50:]


def delete_model(settings: Settings, key: Any, version: Any) -> tuple[Any, Any]:
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


def hide_model(settings: Settings, key: str, version: Any) -> tuple[Any, Any]:
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


def show_hidden(settings: Settings, version: Any) -> tuple[Any, Any]:
    """List the models this session hid again. Returns (store version, message)."""
    access.set_hidden(settings, session.current(), [])
    return _bumped(version), None


def _bumped(version: Any) -> int:
    return version + 1 if isinstance(version, int) else 1
