"""Connect the callback bodies in callbacks.py to the page's components."""

from __future__ import annotations

from dash import ALL, Dash, Input, Output, State, ctx

from . import callbacks, ids
from .settings import Settings


def _trigger() -> str | None:
    """The id of the component that fired the callback (None on the initial call).

    When several fired at once, the URL wins, then the data set.
    """
    fired = {key.split(".")[0] for key in ctx.triggered_prop_ids}
    for component in (ids.URL, ids.DATASET):
        if component in fired:
            return component
    return ctx.triggered_id if isinstance(ctx.triggered_id, str) else None


def _pattern_trigger() -> tuple[object, object]:
    """(key, value) of the pattern-matching button that fired, or (None, None)."""
    triggered = ctx.triggered_id
    if not isinstance(triggered, dict) or not ctx.triggered:
        return None, None
    return triggered.get("key"), ctx.triggered[0].get("value")


def register(app: Dash, settings: Settings) -> None:
    """Register every callback of the page on app."""
    dup = {"allow_duplicate": True}

    @app.callback(
        Output(ids.URL, "search"), Output(ids.STATIONS, "value"), Output(ids.MODEL_KEY, "data"),
        Output(ids.DATASET, "data"), Output(ids.NOTICE, "children"),
        Output(ids.STATIONS, "options"), Output(ids.COMPARE, "value"),
        Output(ids.COMPARE, "options"),
        Input(ids.URL, "search"), Input(ids.STATIONS, "value"), Input(ids.MODEL_KEY, "data"),
        Input(ids.DATASET, "data"), Input(ids.COMPARE, "value"), Input(ids.STORE_VERSION, "data"),
    )
    def _sync(search, stations, key, dataset, compare, _version):
        return callbacks.sync_view(settings, _trigger(), search, stations, key, dataset, compare)

    @app.callback(
        Output(ids.STATIONS, "value", **dup), Output(ids.NOTICE, "children", **dup),
        Input(ids.SELECT_ALL, "n_clicks"), Input(ids.CLEAR, "n_clicks"),
        Input(ids.MAP, "clickData"), State(ids.STATIONS, "value"), State(ids.DATASET, "data"),
        prevent_initial_call=True,
    )
    def _select(_all, _clear, click, current, dataset):
        return callbacks.select_stations(settings, _trigger(), click, current, dataset)

    @app.callback(Output(ids.DATA_BADGE, "children"), Input(ids.DATASET, "data"))
    def _badge(dataset):
        return callbacks.data_badge(settings, dataset)

    @app.callback(Output(ids.MAP, "figure"), Input(ids.STATIONS, "value"),
                  State(ids.DATASET, "data"))
    def _map(stations, dataset):
        return callbacks.update_map(settings, stations, dataset)

    @app.callback(
        Output(ids.CHART, "figure"), Output(ids.SHOWN_MODEL, "children"),
        Output(ids.CHART_NOTE, "children"),
        Input(ids.STATIONS, "value"), Input(ids.MODEL_KEY, "data"), Input(ids.BASELINES, "value"),
        Input(ids.CHART_MODE, "value"), Input(ids.FORECASTS, "value"), State(ids.DATASET, "data"),
    )
    def _chart(stations, key, baselines, mode, forecasts, dataset):
        return callbacks.update_chart(settings, stations, key, dataset, baselines, mode,
                                      forecasts)

    @app.callback(
        Output(ids.SCORE_CARDS, "children"), Output(ids.SCORE_NOTE, "children"),
        Output(ids.STATION_TABLE, "rowData"), Output(ids.STEP_CHART, "figure"),
        Input(ids.STATIONS, "value"), Input(ids.MODEL_KEY, "data"), State(ids.DATASET, "data"),
    )
    def _scores(stations, key, dataset):
        return callbacks.update_scores(settings, stations, key, dataset)

    @app.callback(
        Output(ids.DOWNLOAD, "data"), Output(ids.NOTICE, "children", **dup),
        Input(ids.DOWNLOAD_BUTTON, "n_clicks"), State(ids.STATIONS, "value"),
        State(ids.MODEL_KEY, "data"), State(ids.DATASET, "data"), prevent_initial_call=True,
    )
    def _download(clicks, stations, key, dataset):
        return callbacks.download_csv(settings, clicks, stations, key, dataset)

    @app.callback(
        Output(ids.MODEL_LIST, "children"),
        Input(ids.MODEL_KEY, "data"), Input(ids.DATASET, "data"),
        Input(ids.STORE_VERSION, "data"),
    )
    def _models(key, dataset, version):
        return callbacks.update_models(settings, key, dataset, version)

    @app.callback(
        Output(ids.COMPARE_CHART, "figure"), Output(ids.COMPARE_TABLE, "rowData"),
        Output(ids.COMPARE_TABLE, "columnDefs"), Output(ids.COMPARE_NOTE, "children"),
        Input(ids.COMPARE, "value"), Input(ids.STATIONS, "value"), Input(ids.FORECASTS, "value"),
        State(ids.DATASET, "data"),
    )
    def _compare(compare, stations, forecasts, dataset):
        return callbacks.update_compare(settings, compare, stations, dataset, forecasts)

    @app.callback(
        Output(ids.MODEL_KEY, "data", **dup), Output(ids.MODEL_MESSAGE, "children"),
        Input({"type": ids.VIEW_MODEL, "key": ALL}, "n_clicks"), prevent_initial_call=True,
    )
    def _pick(_clicks):
        return callbacks.pick_model(settings, *_pattern_trigger())

    @app.callback(
        Output(ids.STORE_VERSION, "data"), Output(ids.MODEL_KEY, "data", **dup),
        Output(ids.MODEL_MESSAGE, "children", **dup),
        Input({"type": ids.DELETE_MODEL, "key": ALL}, "n_clicks"),
        State(ids.MODEL_KEY, "data"), State(ids.DATASET, "data"),
        State(ids.STORE_VERSION, "data"), prevent_initial_call=True,
    )
    def _delete(_clicks, current, dataset, version):
        return callbacks.delete_model(settings, *_pattern_trigger(), current, dataset, version)

    form = [State(field, "value") for field in (ids.RECIPE, *ids.NUMBER_FIELDS, ids.CELL,
                                                 ids.BIDIRECTIONAL)]

    @app.callback(
        *(Output(field, "invalid") for field in ids.NUMBER_FIELDS),
        *(Output(f"{field}-feedback", "children") for field in callbacks.FORM_ERROR_FIELDS),
        Output(ids.FORM_HINT, "children"),
        *(Input(state.component_id, "value") for state in form), Input(ids.DATASET, "data"),
        Input(ids.MODEL_KEY, "data"),
    )
    def _check(recipe, window, horizon, epochs, units, cell, bidirectional, dataset, _key):
        return callbacks.check_form(settings, recipe, window, horizon, epochs, units, cell,
                                    bidirectional, dataset)

    @app.callback(
        Output(ids.MODEL_KEY, "data", **dup), Output(ids.TRAIN_MESSAGE, "children"),
        Input(ids.TRAIN, "n_clicks"), *form, State(ids.DATASET, "data"),
        background=True, prevent_initial_call=True, interval=500,
        progress=[Output(ids.PROGRESS, "value"), Output(ids.PROGRESS, "label"),
                  Output(ids.LOSS_CHART, "figure")],
        running=[(Output(ids.TRAIN, "disabled"), True, False),
                 (Output(ids.CANCEL, "disabled"), False, True),
                 (Output(ids.PROGRESS_BOX, "style"), {"display": "block"}, {"display": "block"})],
        cancel=[Input(ids.CANCEL, "n_clicks")],
    )
    def _train(set_progress, _clicks, recipe, window, horizon, epochs, units, cell,
               bidirectional, dataset):
        return callbacks.train_model(settings, set_progress, recipe, window, horizon, epochs,
                                     units, cell, bidirectional, dataset)

    @app.callback(Output(ids.TRAIN_MESSAGE, "children", **dup), Input(ids.CANCEL, "n_clicks"),
                  prevent_initial_call=True)
    def _cancelled(_clicks):
        return callbacks.alert("Training cancelled; nothing was saved.", "warning")

    app.clientside_callback(
        upload_size_check(settings.max_upload_bytes),
        Output(ids.UPLOAD_READY, "data"), Output(ids.UPLOAD_MESSAGE, "children", **dup),
        Input(ids.UPLOAD, "contents"), State(ids.UPLOAD, "filename"), prevent_initial_call=True,
    )

    @app.callback(
        Output(ids.DATASET, "data", **dup), Output(ids.STATIONS, "value", **dup),
        Output(ids.MODEL_KEY, "data", **dup), Output(ids.UPLOAD_MESSAGE, "children"),
        Input(ids.UPLOAD_READY, "data"), Input(ids.RESET_DATA, "n_clicks"),
        State(ids.UPLOAD, "contents"), State(ids.UPLOAD, "filename"), prevent_initial_call=True,
    )
    def _upload(_ready, _reset, contents, filename):
        return callbacks.upload_data(settings, _trigger(), contents, filename)


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
