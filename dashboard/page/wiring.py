"""Connect the callback bodies in callbacks.py to the page's components."""

from __future__ import annotations

from dash import ALL, Dash, Input, Output, State, ctx, no_update

from ..settings import Settings
from . import callbacks, form, ids, state


def _trigger() -> tuple[str | None, object]:
    """(id, value) of the input that fired the callback; (None, None) on the initial call.

    When several fired at once (a page load), the URL wins. A pattern-matching button gives
    its type and the key it names, or None when the browser sent no click (a list redrawn).
    """
    fired = {item["prop_id"].split(".")[0]: item.get("value") for item in ctx.triggered}
    if ids.URL in fired:
        return ids.URL, fired[ids.URL]
    triggered = ctx.triggered_id
    if isinstance(triggered, dict):
        clicked = ctx.triggered and ctx.triggered[0].get("value")
        return triggered.get("type"), triggered.get("key") if clicked else None
    if not isinstance(triggered, str):
        return None, None
    return triggered, fired.get(triggered)


def register(app: Dash, settings: Settings) -> None:
    """Register every callback of the page on app."""
    dup = {"allow_duplicate": True}

    @app.callback(
        Output(ids.VIEW, "data"),
        Output(ids.URL, "search"),
        Output(ids.STATIONS, "value"),
        Output(ids.STATIONS, "options"),
        Output(ids.COMPARE, "value"),
        Output(ids.COMPARE, "options"),
        Output(ids.NOTICE, "children"),
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
        State(ids.VIEW, "data"),
    )
    def _view(search, *_inputs_and_view):
        event, value = _trigger()
        if event in (ids.VIEW_MODEL, ids.SHOW_DEFAULT) and value is None:
            return (no_update,) * 7  # the model list was redrawn, nothing was clicked
        return state.update_view(settings, event, value, _inputs_and_view[-1], search)

    @app.callback(Output(ids.DATA_BADGE, "children"), Input(ids.VIEW, "data"))
    def _badge(shown):
        return callbacks.data_badge(settings, shown)

    @app.callback(
        Output(ids.TITLE, "children"), Output(ids.FOOTER, "children"), Input(ids.VIEW, "data")
    )
    def _words(shown):
        return callbacks.page_words(shown)

    @app.callback(
        Output(ids.MAP_FIGURE, "data"),
        Output(ids.MAP_UNPLACED, "children"),
        Input(ids.VIEW, "data"),
    )
    def _map(shown):
        return callbacks.update_map(settings, shown)

    app.clientside_callback(KEEP_MAP_VIEW, Output(ids.MAP, "figure"), Input(ids.MAP_FIGURE, "data"))

    @app.callback(
        Output(ids.CHART, "figure"),
        Output(ids.SHOWN_MODEL, "children"),
        Output(ids.CHART_NOTE, "children"),
        Input(ids.VIEW, "data"),
        Input(ids.BASELINES, "value"),
        Input(ids.CHART_MODE, "value"),
        Input(ids.FORECASTS, "value"),
    )
    def _chart(shown, baselines, mode, forecasts):
        return callbacks.update_chart(settings, shown, baselines, mode, forecasts)

    @app.callback(
        Output(ids.SCORE_CARDS, "children"),
        Output(ids.SCORE_NOTE, "children"),
        Output(ids.STATION_TABLE, "rowData"),
        Output(ids.STEP_CHART, "figure"),
        Input(ids.VIEW, "data"),
    )
    def _scores(shown):
        return callbacks.update_scores(settings, shown)

    @app.callback(
        Output(ids.DOWNLOAD, "data"),
        Output(ids.NOTICE, "children", **dup),
        Input(ids.DOWNLOAD_BUTTON, "n_clicks"),
        State(ids.VIEW, "data"),
        prevent_initial_call=True,
    )
    def _download(_clicks, shown):
        return callbacks.download_csv(settings, shown)

    @app.callback(
        Output(ids.MODEL_LIST, "children"),
        Input(ids.VIEW, "data"),
        Input(ids.STORE_VERSION, "data"),
    )
    def _models(shown, _version):
        return callbacks.update_models(settings, shown)

    @app.callback(
        Output(ids.COMPARE_CHART, "figure"),
        Output(ids.COMPARE_TABLE, "rowData"),
        Output(ids.COMPARE_TABLE, "columnDefs"),
        Output(ids.COMPARE_NOTE, "children"),
        Input(ids.VIEW, "data"),
        Input(ids.FORECASTS, "value"),
    )
    def _compare(shown, forecasts):
        return callbacks.update_compare(settings, shown, forecasts)

    @app.callback(
        Output(ids.STORE_VERSION, "data"),
        Output(ids.MODEL_MESSAGE, "children"),
        Output(ids.DELETE_PENDING, "data"),
        Output(ids.DELETE_DIALOG, "is_open"),
        Output(ids.DELETE_QUESTION, "children"),
        Input({"type": ids.DELETE_MODEL, "key": ALL}, "n_clicks"),
        Input(ids.DELETE_YES, "n_clicks"),
        Input(ids.DELETE_NO, "n_clicks"),
        Input({"type": ids.SHOW_HIDDEN, "key": ALL}, "n_clicks"),
        State(ids.DELETE_PENDING, "data"),
        State(ids.TRAINED_HERE, "data"),
        State(ids.STORE_VERSION, "data"),
        prevent_initial_call=True,
    )
    def _delete(_clicks, _yes, _no, _show, pending, trained_here, version):
        event, key = _trigger()
        if event in (ids.DELETE_MODEL, ids.SHOW_HIDDEN) and key is None:
            return (no_update,) * 5  # the model list was redrawn, nothing was clicked
        return callbacks.ask_or_delete(settings, event, key, pending, trained_here, version)

    @app.callback(
        Output(ids.TRAINED_HERE, "data"),
        Input(ids.TRAINED, "data"),
        State(ids.TRAINED_HERE, "data"),
        prevent_initial_call=True,
    )
    def _trained_here(key, trained_here):
        return callbacks.remember_trained(key, trained_here)

    fields = [State(input_id, "value") for input_id in form.INPUT_IDS]

    def form_values(values: tuple) -> dict:
        return dict(zip(form.INPUT_IDS, values, strict=True))

    @app.callback(
        *(Output(field.name, "invalid") for field in form.NUMBERS),
        *(Output(form.feedback_id(input_id), "children") for input_id in form.INPUT_IDS),
        Output(ids.FORM_HINT, "children"),
        *(Input(state.component_id, "value") for state in fields),
        Input(ids.VIEW, "data"),
    )
    def _check(*values):
        *fields_sent, shown = values
        return callbacks.check_form(settings, form_values(fields_sent), shown)

    @app.callback(
        Output(ids.TRAINED, "data"),
        Output(ids.TRAIN_MESSAGE, "children"),
        Input(ids.TRAIN, "n_clicks"),
        *fields,
        State(ids.VIEW, "data"),
        background=True,
        prevent_initial_call=True,
        interval=500,
        progress=[
            Output(ids.PROGRESS, "value"),
            Output(ids.PROGRESS, "label"),
            Output(ids.LOSS_CHART, "figure"),
        ],
        running=[
            (Output(ids.TRAIN, "disabled"), True, False),
            (Output(ids.CANCEL, "disabled"), False, True),
            (Output(ids.PROGRESS_BOX, "style"), {"display": "block"}, {"display": "block"}),
        ],
        cancel=[Input(ids.CANCEL, "n_clicks")],
    )
    def _train(set_progress, _clicks, *values):
        *fields_sent, shown = values
        return callbacks.train_model(settings, set_progress, form_values(fields_sent), shown)

    # The Retrain panel's message and progress, reset when a job starts or is cancelled, and
    # when the view moves to another model. Three callbacks, not one: a callback with the view
    # as input waits for a running training (whose result may change the view).
    panel = (
        Output(ids.TRAIN_MESSAGE, "children", **dup),
        Output(ids.PROGRESS, "value", **dup),
        Output(ids.PROGRESS, "label", **dup),
        Output(ids.LOSS_CHART, "figure", **dup),
    )

    @app.callback(*panel, Input(ids.TRAIN, "n_clicks"), prevent_initial_call=True)
    def _started(_clicks):
        return callbacks.training_panel(ids.TRAIN, None, None, False)

    @app.callback(*panel, Input(ids.CANCEL, "n_clicks"), prevent_initial_call=True)
    def _cancelled(_clicks):
        return callbacks.training_panel(ids.CANCEL, None, None, False)

    @app.callback(
        *panel,
        Input(ids.VIEW, "data"),
        State(ids.TRAINED, "data"),
        State(ids.TRAIN, "disabled"),
        prevent_initial_call=True,
    )
    def _moved_on(shown, trained, running):
        return callbacks.training_panel(ids.VIEW, shown, trained, running)

    @app.callback(
        Output(ids.PROGRESS, "value", **dup),
        Output(ids.PROGRESS, "label", **dup),
        Output(ids.TRAIN, "disabled", **dup),
        Output(ids.CANCEL, "disabled", **dup),
        Output(ids.PROGRESS_BOX, "style", **dup),
        Output(ids.TRAIN_MESSAGE, "children", **dup),
        Output(ids.JOB_WATCH, "disabled"),
        Input(ids.JOB_WATCH, "n_intervals"),
        Input(ids.CANCEL, "n_clicks"),
        State(ids.JOB_WATCH, "disabled"),
        State(ids.TRAIN, "disabled"),
        prevent_initial_call=True,
    )
    def _follow(ticks, _clicks, watch_off, busy_here):
        # the first tick found one; a forged count is no count
        following = watch_off is False and isinstance(ticks, int) and ticks > 1
        return callbacks.follow_earlier_training(
            settings, ctx.triggered_id, following, bool(busy_here)
        )

    app.clientside_callback(
        upload_size_check(settings.max_upload_bytes),
        Output(ids.UPLOAD_READY, "data"),
        Output(ids.UPLOAD_MESSAGE, "children", **dup),
        Input(ids.UPLOAD, "contents"),
        State(ids.UPLOAD, "filename"),
        prevent_initial_call=True,
    )

    @app.callback(
        Output(ids.UPLOADED, "data"),
        Output(ids.UPLOAD_MESSAGE, "children"),
        Input(ids.UPLOAD_READY, "data"),
        Input(ids.RESET_DATA, "n_clicks"),
        State(ids.UPLOAD, "contents"),
        State(ids.UPLOAD, "filename"),
        prevent_initial_call=True,
    )
    def _upload(_ready, _reset, contents, filename):
        return callbacks.upload_data(settings, _trigger()[0], contents, filename)

    @app.callback(
        Output(ids.SHARING, "hidden"),
        Output(ids.SHARE_LINK, "value"),
        Output(ids.STOP_SHARING, "disabled"),
        Output(ids.SHARE_NOTE, "children"),
        Input(ids.VIEW, "data"),
        Input(ids.SHARE, "n_clicks"),
        Input(ids.STOP_SHARING, "n_clicks"),
        State(ids.URL, "href"),
    )
    def _sharing(shown, _share, _stop, href):
        return callbacks.update_sharing(settings, _trigger()[0], shown, href)


# Draw the server's map at the zoom and centre the user left it at, unless the data set changed
# (its uirevision). Plotly's own uirevision lost the zoom when a click redrew the map.
KEEP_MAP_VIEW = """
function (figure) {
    const plot = document.querySelector("#MAP .js-plotly-plot");
    const shown = plot && plot._fullLayout && plot._fullLayout.geo;
    if (!figure || !figure.layout.geo || !shown || !plot.layout
            || plot.layout.uirevision !== figure.layout.uirevision) {
        return figure;
    }
    const projection = Object.assign({}, figure.layout.geo.projection, {
        scale: shown.projection.scale,
        rotation: Object.assign({}, shown.projection.rotation),
    });
    const geo = Object.assign({}, figure.layout.geo, {
        projection: projection,
        center: {lat: shown.center.lat, lon: shown.center.lon},
    });
    return Object.assign({}, figure, {layout: Object.assign({}, figure.layout, {geo: geo})});
}
""".replace("#MAP", "#" + ids.MAP)


def upload_size_check(limit: int) -> str:
    """Browser code that refuses a file over `limit` bytes before it is sent to the server.

    Without it a file over the server's request limit would get a bare HTTP 413 and no message.
    A file within the limit sets UPLOAD_READY, which sends it; the server checks the size again.
    """
    return """
    function (contents, filename) {
        const noUpdate = window.dash_clientside.no_update;
        if (!contents) {
            return [noUpdate, noUpdate];
        }
        const size = Math.floor((contents.length - contents.indexOf(",") - 1) * 3 / 4);
        if (size <= LIMIT) {
            return [Date.now(), noUpdate];
        }
        const text = "Not used: " + (filename || "uploaded file").slice(0, 80) + " is "
            + (size / 1048576).toFixed(1) + " MB; the limit is LIMIT_MB MB";
        return [noUpdate, {namespace: "dash_bootstrap_components", type: "Alert",
                           props: {children: text, color: "danger", dismissable: true,
                                   className: "py-2 small"}}];
    }
    """.replace("LIMIT_MB", f"{limit / 2**20:.3g}").replace("LIMIT", str(int(limit)))
