"""Bound the guesses at the operator token: tries are counted per client and from everywhere.

A client (its address; behind a proxy, the one the proxy names) may try PER_CLIENT tokens in
WINDOW seconds, and all clients together IN_ALL, whatever the number of web processes: the
tries are kept in the store folder (`operator/tries.json`, changed under `operator/tries.lock`).
A right token forgets its client's tries.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from model import PRIVATE, write_atomic

from ..settings import Settings

WINDOW = 15 * 60  # seconds a try counts
PER_CLIENT = 5
IN_ALL = 50


def _folder(settings: Settings) -> Path:
    return Path(settings.cache_dir) / "operator"


@contextmanager
def _tries(settings: Settings) -> Iterator[dict[str, list[float]]]:
    """The tries still counted, by hashed client, to read and change under the lock."""
    folder = _folder(settings)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "tries.json"
    with (folder / "tries.lock").open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            stored = json.loads(path.read_text())
        except (OSError, ValueError):
            stored = {}
        since = time.time() - WINDOW
        tries = {
            client: [moment for moment in moments if moment > since]
            for client, moments in (stored.items() if isinstance(stored, dict) else [])
            if isinstance(moments, list)
        }
        tries = {client: moments for client, moments in tries.items() if moments}
        yield tries
        text = json.dumps(tries)
        write_atomic(path, lambda temporary: temporary.write_text(text), PRIVATE)


def _name(client: str) -> str:
    return hashlib.sha256(client.encode()).hexdigest()[:32]  # no address kept on disk


def admit(settings: Settings, client: str) -> float:
    """Count a try of this client and return 0, or the seconds until it may try (not counted)."""
    name = _name(client)
    with _tries(settings) as tries:
        mine = sorted(tries.get(name, []))
        everyone = sorted(moment for moments in tries.values() for moment in moments)
        free = max(
            mine[-PER_CLIENT] + WINDOW if len(mine) >= PER_CLIENT else 0.0,
            everyone[-IN_ALL] + WINDOW if len(everyone) >= IN_ALL else 0.0,
        )
        now = time.time()
        if free > now:
            return free - now
        tries[name] = [*mine, now]
    return 0.0


def clear(settings: Settings, client: str) -> None:
    """Forget a client's tries: it gave the right token."""
    with _tries(settings) as tries:
        tries.pop(_name(client), None)
