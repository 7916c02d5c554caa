"""The Your data card: upload a daily CSV or go back to the built-in data, and share an upload."""

from __future__ import annotations

import logging
from typing import Any, NamedTuple
from urllib.parse import urlencode, urlsplit, urlunsplit

import dash_bootstrap_components as dbc
from dash import Dash, Input, Output, State, dcc, html, no_update

from model import DataError, Dataset

from ..data.sources import VARIABLE, InputError, save_upload
from ..data.uploads import read_upload
from ..data.validate import check_upload_stations, longest_settings
from ..present.messages import alert, counted, not_saved
from ..server import access, session
from ..settings import Settings
from . import ids
from .common import card, duplicate, fired, outputs
from .state import unpack

log = logging.getLogger(__name__)


def layout(settings: Settings) -> dbc.Card:
    """The card: what a file must hold, the drop zone, Reset, and the share controls."""
    return card(
        "Your data",
        [
            html.P(
                [
                    "Upload daily observations in the weatherAUS layout: columns ",
                    html.Code("Date"),
                    ", ",
                    html.Code("Location"),
                    ", ",
                    html.Code("MinTemp"),
                    ", ",
                    html.Code("MaxTemp"),
                    ", ",
                    html.Code("Rainfall"),
                    ".",
                ],
                className="small",
            ),
            # The label names the file input for screen readers and opens the file chooser
            # on a click (so the drop zone itself does not, or it would open twice).
            html.Label(
                dcc.Upload(
                    id=ids.UPLOAD,
                    multiple=False,
                    disable_click=True,
                    className="upload-zone",
                    children=html.Div(
                        [
                            "Drop a CSV here or ",
                            html.A("choose a file"),
                            html.Div(
                                f".csv or .csv.gz, up to {settings.max_upload_mb:g} MB",
                                className="small text-muted",
                            ),
                        ]
                    ),
                ),
                className="d-block mb-0",
            ),
            dcc.Store(id=ids.UPLOAD_READY),
            html.Div(id=ids.UPLOAD_MESSAGE, className="mt-2"),
            dbc.Button(
                "Back to the built-in data",
                id=ids.RESET_DATA,
                size="sm",
                color="link",
                className="px-0",
            ),
            _sharing(),
        ],
        className="h-100",
    )


def _sharing() -> html.Div:
    """Share controls: only the uploader of the data set in view sees them."""
    return html.Div(
        [
            html.Div(
                [
                    dbc.Button("Share this data set", id=ids.SHARE, size="sm", outline=True),
                    dbc.Button(
                        "Stop sharing", id=ids.STOP_SHARING, size="sm", color="link", disabled=True
                    ),
                ],
                className="button-row",
            ),
            dbc.InputGroup(
                [
                    dbc.Input(
                        id=ids.SHARE_LINK, readonly=True, size="sm", placeholder="Not shared"
                    ),
                    dcc.Clipboard(
                        target_id=ids.SHARE_LINK, title="Copy the link", className="btn btn-sm"
                    ),
                ],
                size="sm",
                className="mt-1",
            ),
            html.Div(id=ids.SHARE_NOTE, className="small text-muted mt-1"),
        ],
        id=ids.SHARING,
        hidden=True,
        className="mt-2",
    )


class Upload(NamedTuple):
    event: Any  # the UPLOADED event: {"dataset": id}, None for the built-in data
    message: Any


class Sharing(NamedTuple):
    hidden: bool  # the controls, shown to the uploader only
    link: str
    stop_disabled: bool
    note: str | None


UPLOAD_OUTPUTS = outputs(
    Upload, event=Output(ids.UPLOADED, "data"), message=Output(ids.UPLOAD_MESSAGE, "children")
)
SHARING_OUTPUTS = outputs(
    Sharing,
    hidden=Output(ids.SHARING, "hidden"),
    link=Output(ids.SHARE_LINK, "value"),
    stop_disabled=Output(ids.STOP_SHARING, "disabled"),
    note=Output(ids.SHARE_NOTE, "children"),
)


def register(app: Dash, settings: Settings) -> None:
    """A file within the limit (checked in the browser) is sent and read; Share follows it."""
    app.clientside_callback(
        upload_size_check(settings.max_upload_bytes),
        Output(ids.UPLOAD_READY, "data"),
        *duplicate(Output(ids.UPLOAD_MESSAGE, "children")),
        Input(ids.UPLOAD, "contents"),
        State(ids.UPLOAD, "filename"),
        prevent_initial_call=True,
    )

    @app.callback(
        *UPLOAD_OUTPUTS,
        Input(ids.UPLOAD_READY, "data"),
        Input(ids.RESET_DATA, "n_clicks"),
        State(ids.UPLOAD, "contents"),
        State(ids.UPLOAD, "filename"),
        prevent_initial_call=True,
    )
    def _upload(_ready: Any, _reset: Any, contents: Any, filename: Any) -> Upload:
        return upload_data(settings, fired()[0], contents, filename)

    @app.callback(
        *SHARING_OUTPUTS,
        Input(ids.VIEW, "data"),
        Input(ids.SHARE, "n_clicks"),
        Input(ids.STOP_SHARING, "n_clicks"),
        State(ids.URL, "href"),
    )
    def _sharing(shown: Any, _share: Any, _stop: Any, href: Any) -> Sharing:
        return update_sharing(settings, fired()[0], shown, href)


def upload_data(settings: Settings, trigger: str | None, contents: Any, filename: Any) -> Upload:
    """Validate and keep an uploaded daily CSV, or go back to the built-in data.

    Nothing changes on error.
    """
    if trigger == ids.RESET_DATA:
        return Upload({"dataset": None}, alert("Using the built-in data.", "secondary"))
    name = filename if isinstance(filename, str) and filename else "uploaded file"
    name = name[:80]
    try:
        monthly = read_upload(contents, name, settings.max_upload_bytes)
        check_upload_stations(monthly, name)
        room = longest_settings(monthly, name)
        data = Dataset.of(monthly, VARIABLE)
        dataset = save_upload(settings, data)
    except (InputError, DataError) as error:
        log.info("upload refused: %r", str(error))  # quoted: it holds the file name
        return Upload(no_update, alert(f"Not used: {error}"))
    except OSError as error:
        log.error("upload %r not saved: %s", name, error)
        return Upload(no_update, alert(not_saved(error, name)))
    monthly = data.monthly
    stations = monthly["location"].nunique()
    text = (
        f"Using {name}: {counted(stations, 'station')}, {monthly['month'].min():%b %Y} to "
        f"{monthly['month'].max():%b %Y}. {room} Models you train now are cached for this data."
    )
    return Upload({"dataset": dataset}, alert(text, "success"))


def update_sharing(settings: Settings, event: str | None, view: Any, href: Any) -> Sharing:
    """Share or stop sharing the uploaded data set in view; only its uploader sees the controls."""
    try:
        dataset = unpack(view)[0]
    except InputError:
        dataset = None
    if dataset is None or not access.is_uploader(settings, dataset, session.current()):
        return Sharing(True, "", True, None)
    if event == ids.SHARE:
        access.share(settings, dataset)
    elif event == ids.STOP_SHARING:
        access.stop_sharing(settings, dataset)
    link = access.share_link(settings, dataset)
    if link is None:
        return Sharing(False, "", True, "Only you see this data set and the models trained on it.")
    page = urlsplit(href if isinstance(href, str) else "")
    url = urlunsplit((page.scheme, page.netloc, page.path or "/", urlencode({"share": link}), ""))
    note = (
        "Whoever opens this link sees this data set and its models, until you stop sharing. "
        "Links to its models work for them too."
    )
    return Sharing(False, url, False, note)


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
