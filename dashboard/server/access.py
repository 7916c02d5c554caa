"""Who may do what: a model belongs to the session that trained it, an upload to its uploaders.

A model trained from the page is owned by that browser session (server/session.py): only it,
or the operator, may delete it. Models trained elsewhere (the command line, the built-in ones)
have no owner and only the operator deletes them (`python -m model delete`).

An uploaded data set, and so every model trained on it, is read only by the sessions that
uploaded it, unless an uploader shares it: a share link grants each session that opens it
access, until the uploader stops sharing, which takes the access back from all of them.

Sessions are kept as hashes, so the store folder never holds a cookie that could be replayed.
"""

from __future__ import annotations

import fcntl
import hmac
import json
import re
import secrets
from pathlib import Path
from typing import Any

from model import PRIVATE, write_atomic

from ..settings import Settings
from . import session

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


def owns_model(settings: Settings, key: str, session_id: str | None) -> bool:
    """Whether a session trained this model from the page."""
    try:
        owner = _owner_path(settings, key).read_text()
    except OSError:
        return False
    return session_id is not None and hmac.compare_digest(owner, session.hashed(session_id))


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


def _access_path(settings: Settings, dataset: str) -> Path:
    return settings.uploads_dir / f"{dataset}.access.json"


def _read(path: Path) -> dict[str, Any]:
    try:
        access = json.loads(path.read_text())
    except (OSError, ValueError):
        access = None
    if not isinstance(access, dict):  # none yet, or damaged: nobody but the operator
        access = {}
    return {
        "uploaders": list(access.get("uploaders", [])),
        "token": access.get("token"),
        "shared_with": list(access.get("shared_with", [])),
    }


def _change(settings: Settings, dataset: str, change: Any) -> dict[str, Any]:
    """Apply `change` to a data set's access record; return the new record.

    Changes wait for each other on a lock of the data set's own file (written once, never
    replaced), so no lock file is left behind.
    """
    path = _access_path(settings, dataset)
    with (settings.uploads_dir / f"{dataset}.csv").open("rb") as data:
        fcntl.flock(data, fcntl.LOCK_EX)
        access = _read(path)
        change(access)
        text = json.dumps(access)
        write_atomic(path, lambda temporary: temporary.write_text(text), PRIVATE)
    return access


def grant_uploader(settings: Settings, dataset: str, session_id: str | None) -> None:
    """Let a session that uploaded a data set read it (uploading it is proof enough)."""
    if session_id is None:
        return
    hashed = session.hashed(session_id)

    def add(access: dict[str, Any]) -> None:
        if hashed not in access["uploaders"]:
            access["uploaders"].append(hashed)

    _change(settings, dataset, add)


def is_uploader(settings: Settings, dataset: str, session_id: str | None) -> bool:
    """Whether a session uploaded this data set (and so may share it)."""
    access = _read(_access_path(settings, dataset))
    return session_id is not None and session.hashed(session_id) in access["uploaders"]


def may_read(settings: Settings, dataset: str, session_id: str | None) -> bool:
    """Whether a session uploaded this data set or opened its current share link."""
    access = _read(_access_path(settings, dataset))
    allowed = access["uploaders"] + (access["shared_with"] if access["token"] else [])
    return session_id is not None and session.hashed(session_id) in allowed


def share_link(settings: Settings, dataset: str) -> str | None:
    """The data set's current share link query value, or None when it is not shared."""
    token = _read(_access_path(settings, dataset))["token"]
    return f"{dataset}-{token}" if token else None


def share(settings: Settings, dataset: str) -> str:
    """The data set's share link query value, made on first use."""

    def ensure_token(access: dict[str, Any]) -> None:
        access["token"] = access["token"] or secrets.token_urlsafe(16)

    return f"{dataset}-{_change(settings, dataset, ensure_token)['token']}"


def stop_sharing(settings: Settings, dataset: str) -> None:
    """Void the share link and take access back from every session that opened it."""

    def revoke(access: dict[str, Any]) -> None:
        access["token"], access["shared_with"] = None, []

    _change(settings, dataset, revoke)


def open_share(settings: Settings, link: Any, session_id: str | None) -> str | None:
    """The data set a share link names, now readable by this session; None if not valid."""
    match = SHARE_PATTERN.match(link) if isinstance(link, str) else None
    if match is None or session_id is None:
        return None
    dataset, token = match["dataset"], match["token"]
    hashed = session.hashed(session_id)
    valid = False

    def admit(access: dict[str, Any]) -> None:
        nonlocal valid
        valid = bool(access["token"]) and hmac.compare_digest(access["token"], token)
        if valid and hashed not in access["shared_with"]:
            access["shared_with"].append(hashed)

    try:
        _change(settings, dataset, admit)
    except FileNotFoundError:  # no such upload (any more)
        return None
    return dataset if valid else None
