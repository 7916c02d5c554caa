"""The Retrain panel as one state machine: progress bar, loss curve, message, Train and Cancel.

Its state (the TRAINING store, `PanelState`) says whether a training runs, explicitly: phase
"idle", "running" (a training this page started) or "following" (one of this session's the
page did not start: a reload, another tab). `update_panel` is every output's one writer:

    what the panel sees                       phase after   what it shows
    ----------------------------------------  ------------  ------------------------------------
    a new Train click                         running       empty bar and curve, no message;
                                                            Train off, Cancel on, watch off
    the job's progress event (of that click)  running       its percent, label and loss curve
    the job's last event (it says how it      idle          the same, and the message; Train
      ended)                                                on, Cancel off
    the job stopped running without one       idle          "stopped unexpectedly" and why;
      (its process died)                                    Train on, Cancel off
    a new Cancel click, running               idle          "cancelled", an empty bar and curve
    the watch's first tick, idle              following     the session's training's noted
                                              (or idle)     progress, Train off, Cancel on
                                                            (none running: the watch goes off)
    a tick, following                         following     its noted progress and loss curve;
                                              or idle       once it ended, how, the model it
                                                            stored shown (TRAINED), and the
                                                            watch goes off
    a new Cancel click, following             following     (the training is asked to stop)
    the view moves to another model, idle     idle          no message, an empty bar and curve

Clicks are counted against the state rather than read from the trigger: when the same
callback is asked again, Dash drops the request in flight, and only the later one (with every
input's value) answers. The job reports through JOB_PROGRESS and JOB_RUNNING (Dash's
`progress` and `running`), which hold no callback back. The last row is `after_view`, a
callback of its own writing only the first four outputs: a callback with the view as input
waits while a training runs (Dash holds a callback whose inputs a running callback may still
change, and the view follows TRAINED), and the other events cannot wait for it.
"""

from __future__ import annotations

import logging
import math
from typing import Any, NamedTuple

import dash_bootstrap_components as dbc
from dash import Dash, Input, Output, State, dcc, html, no_update, set_props
from dash.development.base_component import Component

from ..data.sources import InputError, is_store_key
from ..present.figures import loss_figure
from ..present.messages import alert
from ..server import jobs, session
from ..settings import Settings
from . import ids
from .common import STATIC_CONFIG, duplicate, outputs, unchanged
from .state import unpack

IDLE, RUNNING, FOLLOWING = "idle", "running", "following"
SHOWN = {"display": "block"}
COLORS = ("success", "info", "warning", "danger", "secondary")
MAX_EPOCHS = 10_000  # more loss values than a training reports are forged
log = logging.getLogger(__name__)


class PanelState(NamedTuple):
    """What the panel knows: its phase and the clicks and job it has seen."""

    phase: str = IDLE
    trains: int = 0  # Train clicks handled
    cancels: int = 0  # Cancel clicks handled
    looked: bool = False  # whether the watch looked for a training from before this page
    seen_running: bool = False  # whether the running job was seen running
    about: str | None = None  # the key of the model the last training here showed


class Sent(NamedTuple):
    """What the panel's inputs hold when it is called."""

    trains: Any  # Train's n_clicks
    cancels: Any  # Cancel's n_clicks
    progress: Any  # the job's last progress event
    running: Any  # whether the job runs
    ticks: Any  # the watch's n_intervals


class Report(NamedTuple):
    """What the panel says about the last training."""

    percent: Any
    label: Any
    loss: Any  # the loss curve's figure
    message: Any


class Panel(NamedTuple):
    percent: Any
    label: Any
    loss: Any
    message: Any
    train_off: Any  # Train disabled
    cancel_off: Any  # Cancel disabled
    box: Any  # the progress box's style
    watch_off: Any  # the watch's interval disabled
    state: Any  # the new PanelState, as a dict


PANEL_OUTPUTS = outputs(
    Panel,
    percent=Output(ids.PROGRESS, "value"),
    label=Output(ids.PROGRESS, "label"),
    loss=Output(ids.LOSS_CHART, "figure"),
    message=Output(ids.TRAIN_MESSAGE, "children"),
    train_off=Output(ids.TRAIN, "disabled"),
    cancel_off=Output(ids.CANCEL, "disabled"),
    box=Output(ids.PROGRESS_BOX, "style"),
    watch_off=Output(ids.JOB_WATCH, "disabled"),
    state=Output(ids.TRAINING, "data"),
)
REPORT_OUTPUTS = duplicate(*(PANEL_OUTPUTS[Panel._fields.index(name)] for name in Report._fields))


def layout() -> list[Component]:
    """The panel under Train and Cancel: the progress box, the message, its stores."""
    return [
        html.Div(
            [
                dbc.Progress(
                    id=ids.PROGRESS,
                    value=0,
                    label="",
                    striped=True,
                    animated=True,
                    className="mb-2",
                ),
                dcc.Graph(id=ids.LOSS_CHART, config=STATIC_CONFIG),
            ],
            id=ids.PROGRESS_BOX,
            style={"display": "none"},
            # the bar's name (assets/names.js); Dash's stubs do not type data-* props
            **{"data-name": "Training progress"},  # type: ignore[arg-type]
        ),
        html.Div(id=ids.TRAIN_MESSAGE),
        dcc.Interval(id=ids.JOB_WATCH, interval=1000),
        dcc.Store(id=ids.TRAINING, data=PanelState()._asdict()),
        dcc.Store(id=ids.JOB_PROGRESS),
        dcc.Store(id=ids.JOB_RUNNING),
    ]


# A disabled button loses the focus to the page's body: when Train is enabled again (a training
# ended), a keyboard user's focus goes back to it rather than to the top of the page.
REFOCUS_TRAIN = f"""function (disabled) {{
    const train = document.getElementById("{ids.TRAIN}");
    if (!disabled && train && document.activeElement === document.body) {{ train.focus(); }}
}}"""


def register(app: Dash, settings: Settings) -> None:
    """The panel's callback, and the reset when the view moves on (see the module's doc)."""
    app.clientside_callback(REFOCUS_TRAIN, Input(ids.TRAIN, "disabled"), prevent_initial_call=True)

    @app.callback(
        *PANEL_OUTPUTS,
        Input(ids.TRAIN, "n_clicks"),
        Input(ids.CANCEL, "n_clicks"),
        Input(ids.JOB_PROGRESS, "data"),
        Input(ids.JOB_RUNNING, "data"),
        Input(ids.JOB_WATCH, "n_intervals"),
        State(ids.TRAINING, "data"),
        prevent_initial_call=True,
    )
    def _panel(
        trains: Any, cancels: Any, progress: Any, running: Any, ticks: Any, state: Any
    ) -> Panel:
        panel = update_panel(settings, Sent(trains, cancels, progress, running, ticks), state)
        key = followed_model(state, panel.state)
        if key is not None:  # set_props: an output would hold the chart while this runs
            set_props(ids.TRAINED, {"data": key})
        return panel

    @app.callback(
        *REPORT_OUTPUTS,
        Input(ids.VIEW, "data"),
        State(ids.TRAINING, "data"),
        prevent_initial_call=True,
    )
    def _moved_on(shown: Any, state: Any) -> Report:
        return after_view(shown, state)


def progress_event(
    percent: int,
    label: str,
    history: dict[str, list[float]],
    message: tuple[str, str] | None = None,
    key: str | None = None,
) -> dict[str, Any]:
    """A job's report to the panel; with a message (text, colour), its last: how it ended."""
    return {
        "percent": percent,
        "label": label,
        "history": {"loss": list(history["loss"]), "val_loss": list(history["val_loss"])},
        "message": None if message is None else {"text": message[0], "color": message[1]},
        "key": key,
    }


def read_state(sent: Any) -> PanelState:
    """The panel's state the browser sent; the initial state for anything malformed."""
    try:
        state = PanelState(**sent)
    except TypeError:
        return PanelState()
    fits = (
        state.phase in (IDLE, RUNNING, FOLLOWING)
        and all(_count(n) == n for n in (state.trains, state.cancels))
        and all(isinstance(flag, bool) for flag in (state.looked, state.seen_running))
        and (state.about is None or is_store_key(state.about))
    )
    return state if fits else PanelState()


def _count(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 0


def _is_history(history: Any) -> bool:
    """Whether a loss history is one a training reports: finite numbers, not too many."""
    try:
        values = [*history["loss"], *history["val_loss"]]
    except (TypeError, KeyError):
        return False
    return len(values) <= 2 * MAX_EPOCHS and all(
        isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v) for v in values
    )


def _event(sent: Any, run: int) -> dict[str, Any] | None:
    """The job's progress event if it is well formed and of the Train click `run`."""
    try:
        fits = (
            sent["run"] == run
            and isinstance(sent["percent"], int)
            and isinstance(sent["label"], str)
            and _is_history(sent["history"])
            and (sent["key"] is None or is_store_key(sent["key"]))
        )
        message = sent["message"]
        if message is not None:
            fits = fits and isinstance(message["text"], str) and message["color"] in COLORS
    except (TypeError, KeyError):
        return None
    return sent if fits else None


def _idle_loss() -> Any:
    return loss_figure({"loss": [], "val_loss": []})


def update_panel(settings: Settings, sent: Sent, state: Any) -> Panel:
    """Apply what the panel's inputs hold to its state (the module's table)."""
    panel_state = read_state(state)
    trains, cancels = _count(sent.trains), _count(sent.cancels)
    if panel_state.phase == FOLLOWING or (
        not panel_state.looked and trains == panel_state.trains and sent.ticks
    ):
        return _follow(
            settings, panel_state._replace(cancels=cancels), cancels > panel_state.cancels
        )
    panel = unchanged(Panel)
    if trains > panel_state.trains:  # a new training of this page
        panel_state = PanelState(
            RUNNING, trains, panel_state.cancels, True, False, panel_state.about
        )
        panel = Panel(0, "", _idle_loss(), None, True, False, SHOWN, True, no_update)
    if cancels > panel_state.cancels:
        panel_state = panel_state._replace(cancels=cancels)
        if panel_state.phase == RUNNING:
            log.info("training cancelled from the page; its background job is stopped")
            return panel._replace(
                percent=0,
                label="",
                loss=_idle_loss(),
                message=alert("Training cancelled; nothing was saved.", "warning"),
                train_off=False,
                cancel_off=True,
                state=panel_state._replace(phase=IDLE)._asdict(),
            )
    if panel_state.phase == RUNNING:
        panel, panel_state = _running(settings, panel, panel_state, sent)
    return panel._replace(state=panel_state._asdict())


def _running(
    settings: Settings, panel: Panel, state: PanelState, sent: Sent
) -> tuple[Panel, PanelState]:
    """The panel of a running job of this page, after its latest event."""
    event = _event(sent.progress, state.trains)
    if event is not None:
        panel = panel._replace(
            percent=event["percent"], label=event["label"], loss=loss_figure(event["history"])
        )
        if event["message"] is not None:  # its last: how it ended
            text, color = event["message"]["text"], event["message"]["color"]
            state = state._replace(phase=IDLE, about=event["key"] or state.about)
            return panel._replace(
                message=alert(text, color), train_off=False, cancel_off=True
            ), state
    if sent.running is True:
        state = state._replace(seen_running=True)
    elif sent.running is False and state.seen_running:  # ended with no word: it died
        died = alert(jobs.ended_unexpectedly(settings, session.current() or ""), "danger")
        return panel._replace(message=died, train_off=False, cancel_off=True), state._replace(
            phase=IDLE
        )
    return panel, state


def _follow(settings: Settings, state: PanelState, stop: bool) -> Panel:
    """Show, and let Cancel stop, a training of this session that this page did not start."""
    sent = session.current() or ""
    running = bool(sent) and jobs.is_running(settings, sent)
    looked = state._replace(looked=True)
    if state.phase != FOLLOWING and not running:  # nothing to follow
        return unchanged(Panel)._replace(watch_off=True, state=looked._asdict())
    noted = jobs.last_progress(settings, sent) if sent else jobs.Noted(0, "ended")
    loss = loss_figure(noted.history) if _is_history(noted.history) else no_update
    if not running:
        key = noted.key if noted.key and is_store_key(noted.key) else None
        text = f"The training started before this page was loaded ended: {noted.label}."
        message = alert(text + (" Its model is shown now." if key else ""), "info")
        idle = looked._replace(phase=IDLE, about=key or looked.about)._asdict()
        return Panel(noted.percent, noted.label, loss, message, False, True, no_update, True, idle)
    if stop:
        jobs.request_stop(settings, sent)
        log.info("training from before a reload: stop asked from the page")
    label = f"{noted.label} (started before this page loaded)"
    following = looked._replace(phase=FOLLOWING)._asdict()
    return Panel(noted.percent, label, loss, no_update, True, False, SHOWN, False, following)


def followed_model(before: Any, after: Any) -> str | None:
    """The model a training this page followed (one from before a reload) stored, once it
    ended: the page shows it, as it shows one it started (`ids.TRAINED`)."""
    was, now = read_state(before), read_state(after)
    if was.phase != FOLLOWING or now.phase != IDLE or now.about == was.about:
        return None
    return now.about


def after_view(view: Any, state: Any) -> Report:
    """Once the view shows another model, the last training's word and curve go (when idle)."""
    panel_state = read_state(state)
    try:
        model = unpack(view)[2]
    except InputError:
        model = None
    if panel_state.phase != IDLE or (model is not None and model == panel_state.about):
        return unchanged(Report)
    return Report(0, "", _idle_loss(), None)
