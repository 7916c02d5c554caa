"""Who may do what: a model belongs to the session that trained it, an upload to its uploader.

A model trained from the page is owned by that browser session (server/session.py): only it,
or the operator, may delete it. Models trained elsewhere (the command line, the built-in ones)
have no owner and only the operator deletes them (`python -m model delete`).

An uploaded data set is read only by the sessions that uploaded it, unless an uploader shares
it. Two sessions that upload the same content (one file, named by its fingerprint) each get a
grant of their own: a share link of their own, which only they void, and a circle, the
uploader and the sessions that opened its link. A session sees the models of an upload that
it trained, that someone of a circle it belongs to trained, and those whose config it asked
for on that data itself (`note_asked`: the form's check or Train, which would make the very
same model, training being seeded); not another uploader's. Stopping sharing takes the access
back from everyone who opened that uploader's link.

The share functions act for the asking session (`session.current()`).
Sessions are kept as hashes, so the store folder never holds a cookie that could be replayed.
"""

from __future__ import annotations

import fcntl
import hmac
import json
import logging
import re
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import Any

from model import PRIVATE, write_atomic

from ..settings import Settings
from . import session

log = logging.getLogger(__name__)
SHARE_PATTERN = re.compile(r"^(?P<dataset>[0-9a-f]{16})-(?P<token>[A-Za-z0-9_-]{22})$")


# Models -------------------------------------------------------------------------------------


def _owner_path(settings: Settings, key: str) -> Path:
    return Path(settings.cache_dir) / "owners" / key


def claim_model(settings: Settings, key: str, session_id: str | None) -> None:
    """Record a session as the owner of a model it has just trained.

    An owner left from an earlier model of the same key (deleted from the command line) is
    replaced: only one process trains a key at a time, so whoever trained it last owns it.
    """
    if session_id is None:
        return
    owner = session.hashed(session_id)
    write_atomic(_owner_path(settings, key), lambda temporary: temporary.write_text(owner), PRIVATE)


def _trainer(settings: Settings, key: str) -> str | None:
    """The hashed session that trained a model from the page, or None."""
    try:
        return _owner_path(settings, key).read_text()
    except OSError:
        return None


def owns_model(settings: Settings, key: str, session_id: str | None) -> bool:
    """Whether a session trained this model from the page."""
    owner = _trainer(settings, key)
    return (
        owner is not None
        and session_id is not None
        and hmac.compare_digest(owner, session.hashed(session_id))
    )


def forget_model(settings: Settings, key: str) -> None:
    """Drop a deleted model's owner."""
    _owner_path(settings, key).unlink(missing_ok=True)


def _hidden_path(settings: Settings, session_id: str) -> Path:
    return Path(settings.cache_dir) / "hidden" / f"{session.hashed(session_id)}.json"


def hidden(settings: Settings, session_id: str | None) -> list[str]:
    """The model keys a session hid from its own lists."""
    if session_id is None:
        return []
    try:
        keys = json.loads(_hidden_path(settings, session_id).read_text())
    except (OSError, ValueError):
        return []
    return [key for key in keys if isinstance(key, str)] if isinstance(keys, list) else []


def set_hidden(settings: Settings, session_id: str | None, keys: list[str]) -> None:
    """Replace the keys a session hides (at most the last 500)."""
    if session_id is None:
        return
    text = json.dumps(list(dict.fromkeys(keys))[-500:])
    path = _hidden_path(settings, session_id)
    write_atomic(path, lambda temporary: temporary.write_text(text), PRIVATE)


# Uploads ------------------------------------------------------------------------------------

MAX_ASKED = 500  # models one session asked for on one upload, the latest kept


def _access_path(settings: Settings, dataset: str) -> Path:
    return settings.uploads_dir / f"{dataset}.access.json"


def _read(path: Path) -> dict[str, Any]:
    """An upload's access record: {"grants": {uploader: {"token", "shared_with"}}, "asked"}.

    Sessions are hashed; `asked` maps a session to the model keys it asked for. A record of
    the earlier form (one list of uploaders sharing one link) gives that link to the first.
    """
    try:
        access = json.loads(path.read_text())
    except (OSError, ValueError):
        access = None
    if not isinstance(access, dict):  # none yet, or damaged: nobody but the operator
        access = {}
    if isinstance(access.get("uploaders"), list):  # the earlier form
        uploaders: list[Any] = [*access["uploaders"], None]
        first, others = uploaders[0], uploaders[1:]
        earlier: dict[str, Any] = {other: {} for other in others if other is not None}
        if first is not None:
            earlier[first] = {
                "token": access.get("token"),
                "shared_with": access.get("shared_with"),
            }
        access = {"grants": earlier}
    grants = access.get("grants")
    asked = access.get("asked")
    return {
        "grants": {
            uploader: {
                "token": grant.get("token"),
                "shared_with": list(grant.get("shared_with") or []),
            }
            for uploader, grant in (grants.items() if isinstance(grants, dict) else [])
            if isinstance(grant, dict)
        },
        "asked": {
            viewer: list(keys)
            for viewer, keys in (asked.items() if isinstance(asked, dict) else [])
            if isinstance(keys, list)
        },
    }


def _change(settings: Settings, dataset: str, change: Callable[[dict[str, Any]], Any]) -> Any:
    """Apply `change` to a data set's access record and save it; return what `change` returned.

    Changes wait for each other on a lock of the data set's own file (written once, never
    replaced), so no lock file is left behind.
    """
    path = _access_path(settings, dataset)
    with (settings.uploads_dir / f"{dataset}.csv").open("rb") as data:
        fcntl.flock(data, fcntl.LOCK_EX)
        access = _read(path)
        answer = change(access)
        text = json.dumps(access)
        write_atomic(path, lambda temporary: temporary.write_text(text), PRIVATE)
    return answer


def _circles(access: dict[str, Any], hashed: str) -> list[set[str]]:
    """The circles a hashed session belongs to: each holds an uploader and its link's openers."""
    circles = [{uploader, *grant["shared_with"]} for uploader, grant in access["grants"].items()]
    return [circle for circle in circles if hashed in circle]


def grant_uploader(settings: Settings, dataset: str, session_id: str | None) -> None:
    """Let a session that uploaded a data set read it (uploading it is proof enough)."""
    if session_id is None:
        return
    hashed = session.hashed(session_id)

    def add(access: dict[str, Any]) -> None:
        access["grants"].setdefault(hashed, {"token": None, "shared_with": []})

    _change(settings, dataset, add)


def is_uploader(settings: Settings, dataset: str, session_id: str | None) -> bool:
    """Whether a session uploaded this data set (and so may share it)."""
    access = _read(_access_path(settings, dataset))
    return session_id is not None and session.hashed(session_id) in access["grants"]


def may_read(settings: Settings, dataset: str, session_id: str | None) -> bool:
    """Whether a session uploaded this data set or opened a current share link of it."""
    access = _read(_access_path(settings, dataset))
    return session_id is not None and bool(_circles(access, session.hashed(session_id)))


def sees_models(settings: Settings, dataset: str, session_id: str | None) -> Callable[[str], bool]:
    """Which models trained on an upload a session sees: a test of a model key.

    Its own, those trained by a member of a circle it belongs to, those it asked for, and
    those no page session trained (the command line's).
    """
    access = _read(_access_path(settings, dataset))
    hashed = session.hashed(session_id) if session_id is not None else None
    circles = _circles(access, hashed) if hashed is not None else []
    asked = set(access["asked"].get(hashed, [])) if hashed is not None else set()

    def sees(key: str) -> bool:
        trainer = _trainer(settings, key)
        return (
            trainer is None
            or trainer == hashed
            or key in asked
            or any(trainer in circle for circle in circles)
        )

    return sees


def note_asked(settings: Settings, dataset: str, key: str, session_id: str | None) -> None:
    """Let a session see a model of an upload whose config it asked for on that data."""
    if session_id is None:
        return
    hashed = session.hashed(session_id)

    def add(access: dict[str, Any]) -> None:
        keys = [known for known in access["asked"].get(hashed, []) if known != key]
        access["asked"][hashed] = [*keys, key][-MAX_ASKED:]

    try:
        _change(settings, dataset, add)
    except OSError as error:  # removed meanwhile, or a full disk: the model stays unlisted
        log.warning("could not note a model asked for on upload %s: %s", dataset, error)


def share_link(settings: Settings, dataset: str) -> str | None:
    """The asking uploader's current share link query value, or None when it shares none."""
    sent = session.current()
    grant = _read(_access_path(settings, dataset))["grants"].get(
        session.hashed(sent) if sent else None
    )
    token = grant["token"] if grant else None
    return f"{dataset}-{token}" if token else None


def share(settings: Settings, dataset: str) -> str:
    """The asking uploader's share link query value, made on first use.

    ValueError when the asking session did not upload the data set.
    """
    sent = session.current()

    def ensure_token(access: dict[str, Any]) -> str:
        grant = access["grants"].get(session.hashed(sent)) if sent else None
        if grant is None:
            raise ValueError(f"this session did not upload data set {dataset}")
        grant["token"] = grant["token"] or secrets.token_urlsafe(16)
        return str(grant["token"])

    return f"{dataset}-{_change(settings, dataset, ensure_token)}"


def stop_sharing(settings: Settings, dataset: str) -> None:
    """Void the asking uploader's link; take access back from every session that opened it."""
    sent = session.current()

    def revoke(access: dict[str, Any]) -> None:
        grant = access["grants"].get(session.hashed(sent)) if sent else None
        if grant is not None:
            grant["token"], grant["shared_with"] = None, []

    _change(settings, dataset, revoke)


def open_share(settings: Settings, link: Any, session_id: str | None) -> str | None:
    """The data set a share link names, now readable by this session; None if not valid."""
    match = SHARE_PATTERN.match(link) if isinstance(link, str) else None
    if match is None or session_id is None:
        return None
    dataset, token = match["dataset"], match["token"]
    hashed = session.hashed(session_id)

    def admit(access: dict[str, Any]) -> bool:
        for grant in access["grants"].values():
            if grant["token"] and hmac.compare_digest(grant["token"], token):
                if hashed not in grant["shared_with"]:
                    grant["shared_with"].append(hashed)
                return True
        return False

    try:
        valid = _change(settings, dataset, admit)
    except FileNotFoundError:  # no such upload (any more)
        return None
    return dataset if valid else None
