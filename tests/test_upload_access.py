"""An upload belongs to the session that uploaded it, even when another uploads the same file.

Before, a session that uploaded the same monthly content became an uploader of the
same data set, saw the first uploader's models and could void or make its share link.
"""

from __future__ import annotations

import dataclasses
import json
import shutil

import flask
import pytest
from dash import no_update
from test_dashboard_callbacks import as_view, form_values, on, text

from dashboard.data.sources import (
    VARIABLE,
    NotShared,
    entries,
    find_record,
    load_dataset,
    read_stations,
    save_upload,
    user_store,
)
from dashboard.page import ids
from dashboard.page.models import delete_model, update_models
from dashboard.page.retrain import train_model
from dashboard.page.state import update_view
from dashboard.page.your_data import update_sharing
from dashboard.server import access
from dashboard.settings import Settings
from model import DEFAULT, RECIPES, Dataset, Store, key_for, read_monthly

FIRST = "first-uploader-session-000000000"
SECOND = "second-uploader-session-00000000"
FRIEND = "friend-of-the-first-uploader-000"
PAGE = "http://127.0.0.1:8050/"


@pytest.fixture
def settings(tmp_path):
    return Settings(cache_dir=tmp_path / "cache", use_shipped=False)


@pytest.fixture
def placed(monthly) -> Dataset:
    """The embedded data with each station's position: an upload of its own fingerprint."""
    positions = read_stations()[["location", "lat", "lon"]]
    return Dataset.of(monthly.merge(positions, on="location", how="left"), VARIABLE)


def as_session(session_id: str) -> None:
    flask.g.session_id = session_id


def rehome(settings: Settings, built_in: Store, config, data: Dataset, trainer: str | None) -> str:
    """A built-in model as if trained on `data` from the page by `trainer`; its key."""
    record = built_in.lookup(config, read_monthly())
    key = key_for(record.config, data.monthly, data.fingerprint)
    store = user_store(settings)
    store.folder.mkdir(parents=True, exist_ok=True)
    shutil.copy(built_in.folder / f"{record.key}.keras", store.folder / f"{key}.keras")
    store.write_record(dataclasses.replace(record, key=key, data_fingerprint=data.fingerprint))
    if trainer is not None:
        access.claim_model(settings, key, trainer)
    return key


def upload_as(settings: Settings, session_id: str, data: Dataset) -> str:
    as_session(session_id)
    dataset = save_upload(settings, data)
    assert dataset == data.fingerprint
    return dataset


def listed(settings: Settings, data: Dataset) -> set[str]:
    return {entry.record.key for entry in entries(settings, data)}


def test_a_second_uploader_of_the_same_file_gets_its_own_access_not_the_firsts_models(
    settings, built_in, placed
):
    dataset = upload_as(settings, FIRST, placed)
    firsts = rehome(settings, built_in, DEFAULT, placed, FIRST)
    upload_as(settings, SECOND, placed)  # the same content, from another browser
    assert load_dataset(settings, dataset).fingerprint == dataset  # it may read its upload
    assert listed(settings, placed) == set()  # but not the first's models
    assert "No models for this data yet" in text(update_models(settings, on(dataset)))
    with pytest.raises(NotShared, match="not shared with you"):
        find_record(settings, firsts)
    view, *_, notice = update_view(settings, None, None, on(dataset), f"?model={firsts}")
    assert view["model"] is None and "not shared with you" in text(notice)
    seconds = rehome(settings, built_in, RECIPES["article"].config, placed, SECOND)
    assert listed(settings, placed) == {seconds}
    as_session(FIRST)
    assert listed(settings, placed) == {firsts}  # the first does not see the second's either


def test_only_the_first_uploader_voids_or_makes_the_first_uploaders_share_link(
    settings, built_in, placed
):
    dataset = upload_as(settings, FIRST, placed)
    firsts = rehome(settings, built_in, DEFAULT, placed, FIRST)
    link = update_sharing(settings, ids.SHARE, on(dataset), PAGE)[1]
    assert "?share=" in link
    upload_as(settings, SECOND, placed)
    hidden, shown_link, stop_disabled, _ = update_sharing(settings, None, on(dataset), PAGE)
    assert not hidden and shown_link == "" and stop_disabled  # its own controls, no link yet
    update_sharing(settings, ids.STOP_SHARING, on(dataset), PAGE)  # voids only its own
    second_link = update_sharing(settings, ids.SHARE, on(dataset), PAGE)[1]
    assert "?share=" in second_link and second_link != link
    seconds = rehome(settings, built_in, RECIPES["article"].config, placed, SECOND)

    as_session(FRIEND)  # opens the first's link: still valid, and shows the first's models
    view, *_, notice = update_view(settings, None, None, None, "?" + link.split("?", 1)[1])
    assert view["dataset"] == dataset and notice is None
    assert listed(settings, placed) == {firsts}

    as_session(FIRST)
    assert update_sharing(settings, None, on(dataset), PAGE)[1] == link
    update_sharing(settings, ids.STOP_SHARING, on(dataset), PAGE)
    as_session(FRIEND)
    with pytest.raises(NotShared):
        load_dataset(settings, dataset)
    as_session(SECOND)  # the second's link is its own, and stands
    assert update_sharing(settings, None, on(dataset), PAGE)[1] == second_link
    assert listed(settings, placed) == {seconds}


def test_a_second_uploader_asking_for_a_cached_config_sees_it_but_may_not_delete_it(
    settings, built_in, placed
):
    dataset = upload_as(settings, FIRST, placed)
    firsts = rehome(settings, built_in, DEFAULT, placed, FIRST)
    upload_as(settings, SECOND, placed)
    progress: list = []
    shown = train_model(settings, progress.append, form_values(DEFAULT), on(dataset))
    assert shown == firsts and "Cached" in progress[-1]["message"]["text"]  # the same training
    assert listed(settings, placed) == {firsts}
    models = str(update_models(settings, as_view([], firsts, dataset)))
    assert "Hide" in models and "'Delete'" not in models
    refused = delete_model(settings, firsts, 0)
    assert refused[0] is no_update and "only its trainer or the operator" in text(refused[1])
    assert user_store(settings).record_path(firsts).is_file()
    as_session(FIRST)
    assert "Deleted" in text(delete_model(settings, firsts, 0)[1])


def test_an_access_record_of_the_earlier_form_keeps_its_link_with_the_first_uploader(
    settings, placed
):
    dataset = upload_as(settings, FIRST, placed)
    upload_as(settings, SECOND, placed)
    path = settings.uploads_dir / f"{dataset}.access.json"
    hashed = [access.session.hashed(s) for s in (FIRST, SECOND, FRIEND)]
    token = "t" * 22
    earlier = {"uploaders": hashed[:2], "token": token, "shared_with": hashed[2:]}
    path.write_text(json.dumps(earlier))
    as_session(FIRST)
    assert access.share_link(settings, dataset) == f"{dataset}-{token}"
    as_session(SECOND)
    assert access.is_uploader(settings, dataset, SECOND)
    assert access.share_link(settings, dataset) is None
    assert access.may_read(settings, dataset, FRIEND)
