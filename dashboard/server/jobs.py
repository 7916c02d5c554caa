"""Bounded training: one training per session, a few at a time, stopped when its page is gone.

Every training job, in a diskcache child or a Celery worker, goes through `admit`: it takes its
session's lock (refused at once when held), then waits its turn in a first-come queue for one of
`Settings.max_trainings` slots. All of it is file locks in the store's `jobs/` folder, so web
processes and workers on any machine sharing the store see the same queue, and a killed job
frees its locks with its process. The web process records when a session's page last sent a
callback request, a job's start and polls included (`install`); a job whose page has been
silent for `Settings.job_grace_seconds` stops itself (in the queue, or before its next epoch),
and nothing is saved. A job also notes its progress for its session (`note_progress`), so a
page loaded while it runs (after a reload) can show it (`is_running`, `last_progress`) and stop
it (`request_stop`).

A Celery job waits in Redis before it reaches `admit`, so the web process also claims the
session when the Train post arrives (`posting`): a second post while the first is queued or
running is refused at once. The claim names the job; the job adds its pid once it holds the
session lock and drops the claim when it ends. A claim whose job holds no lock any more died
(`died`: killed, out of memory, a lost worker), and no longer counts; the page is told so in
words (`ended_unexpectedly`), which also removes the store's lock files the dead job left.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import logging
import os
import socket
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Any, NamedTuple

import flask
from dash import Dash

from model import Store, configure_logging, write_atomic

from ..settings import Settings
from . import health, session

log = logging.getLogger(__name__)
WAIT_STEP = 0.5  # seconds between looks at the queue
NO_JOB = "0"  # the job id of a post refused at once: no job runs (see background.py)
ALREADY = "a training from this page is already running; wait or cancel it"
UNEXPECTED = "stopped unexpectedly; nothing was saved"
STALE_LOCK_PATIENCE = 2.0  # seconds a dead job's lock may stay held by its exiting threads
STOPPING_PATIENCE = 10.0  # seconds a cancelled job (a Celery revoke, say) may take to stop
# A refused post's job runs in the web process to its refusal, which `admit` raises at once.
_REFUSAL: ContextVar[str | None] = ContextVar("refusal", default=None)


class Refused(Exception):
    """A training this session may not start now; the message says why."""


class Stopped(Exception):
    """A training stopped before it saved anything; the message says why."""


def _folder(settings: Settings, name: str) -> Path:
    folder = settings.jobs_dir / name
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _session_file(settings: Settings, session_id: str, suffix: str) -> Path:
    """A file of a session's, named by a hash: the id itself never reaches the disk."""
    return _folder(settings, "sessions") / f"{session.hashed(session_id)}.{suffix}"


SESSION_FILES_KEPT = 24 * 3600  # seconds: a session's files go a day after their last use
SWEEP_EVERY = 3600  # seconds between two sweeps of the sessions folder


def record_request(settings: Settings, session_id: str) -> None:
    """Note that this session's page has just sent a callback request: it is still open.

    Every session that sends requests has such a file, so the folder is swept (at most once an
    hour) of the files of sessions unused for a day: it holds the sessions of the last day.
    """
    try:
        _session_file(settings, session_id, "polled").touch()
        sweep_sessions(settings)
    except FileNotFoundError:  # the store was removed between two steps: the next request notes it
        pass


def sweep_sessions(settings: Settings, now: float | None = None) -> None:
    """Remove the session files unused for SESSION_FILES_KEPT, if the last sweep is old enough.

    A session lock is removed only while free; a training starting for that long-idle session
    in the same instant could then run beside another of its own, which is harmless.
    """
    now = time.time() if now is None else now
    folder = _folder(settings, "sessions")
    marker = folder / ".swept"
    try:
        if now - marker.stat().st_mtime < SWEEP_EVERY:
            return
    except FileNotFoundError:
        pass
    marker.touch()
    for path in folder.iterdir():
        try:
            if path == marker or now - path.stat().st_mtime < SESSION_FILES_KEPT:
                continue
        except FileNotFoundError:
            continue
        held = _try_lock(path) if path.suffix == ".lock" else None
        if path.suffix != ".lock" or held is not None:
            path.unlink(missing_ok=True)
        if held is not None:
            os.close(held)


def seconds_since_request(settings: Settings, session_id: str) -> float:
    """How long ago this session's page last sent a callback request (infinite if never)."""
    try:
        return time.time() - _session_file(settings, session_id, "polled").stat().st_mtime
    except FileNotFoundError:
        return float("inf")


def install(app: Dash, settings: Settings) -> None:
    """Record each session's callback requests; forget the diskcache job processes that ended."""
    endpoint = session.callback_path(app)

    @app.server.before_request
    def _note_poll() -> None:
        if flask.request.path == endpoint:
            sent = session.current()
            if sent:
                record_request(settings, sent)
        if not settings.redis_url:
            import multiprocess  # type: ignore[import-untyped]  # diskcache's process library

            multiprocess.active_children()  # drops ended jobs' handles (and their pipes)


class Noted(NamedTuple):
    """A session's last training progress, as a page loaded during or after it finds it."""

    percent: int
    label: str
    history: Any = None  # the main fit's loss curve so far: {"loss": [...], "val_loss": [...]}
    key: str | None = None  # the model it stored, once it ended with one


def note_progress(
    settings: Settings, percent: int, label: str, history: Any = None, key: str | None = None
) -> None:
    """Keep the current session's training progress where a page loaded later finds it."""
    sent = session.current()
    if sent:
        text = json.dumps({"percent": percent, "label": label, "history": history, "key": key})
        path = _session_file(settings, sent, "progress")
        write_atomic(path, lambda temporary: temporary.write_text(text, encoding="utf-8"))


def last_progress(settings: Settings, session_id: str) -> Noted:
    """What the session's last training noted; (0, "starting...") if nothing.

    The label of a training that died says so (`ended_unexpectedly`), not its last epoch.
    The history and key are as noted: the page checks them before it shows them.
    """
    try:
        noted = json.loads(_session_file(settings, session_id, "progress").read_text("utf-8"))
        found = Noted(int(noted["percent"]), str(noted["label"]), noted.get("history"))
        key = noted.get("key")
        found = found._replace(key=key if isinstance(key, str) else None)
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        found = Noted(0, "starting...")
    claim = _read_claim(settings, session_id)
    if claim is not None and died(settings, session_id, str(claim.get("job"))):
        found = found._replace(label=_how_it_died(settings, session_id))
    return found


def _wait_until_stopped(settings: Settings, session_id: str, patience: float) -> None:
    """Wait up to `patience` seconds for the session's training to let go of its lock."""
    deadline = time.monotonic() + patience
    while is_running(settings, session_id) and time.monotonic() < deadline:
        time.sleep(0.1)


def is_running(settings: Settings, session_id: str) -> bool:
    """Whether a training of this session runs (holds its session lock) now."""
    descriptor = os.open(_session_file(settings, session_id, "lock"), os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_SH | fcntl.LOCK_NB)  # a moment: admit waits it out
    except BlockingIOError:
        return True
    finally:
        os.close(descriptor)
    return False


def request_stop(settings: Settings, session_id: str) -> None:
    """Ask this session's running training to stop before its next epoch."""
    _session_file(settings, session_id, "stop").touch()


def _read_claim(settings: Settings, session_id: str) -> dict[str, Any] | None:
    """The session's claim: {"job", "pid", "host", "oom_kills"}; None if it has none."""
    try:
        claim = json.loads(_session_file(settings, session_id, "claim").read_text("utf-8"))
    except (OSError, ValueError):
        return None
    return claim if isinstance(claim, dict) else None


def _write_claim(settings: Settings, session_id: str, claim: dict[str, Any]) -> None:
    text = json.dumps(claim)
    path = _session_file(settings, session_id, "claim")
    write_atomic(path, lambda temporary: temporary.write_text(text, encoding="utf-8"))


@contextmanager
def posting(
    settings: Settings, job_running: Callable[[str], bool]
) -> Iterator[Callable[[str], None]]:
    """Take a Train post of the current session in the web process; yield `note(job)`.

    Raises Refused at once when a training of the session is queued or running (its claim's
    job holds the session lock, or `job_running` says it is still queued) or the request has
    no session. The check and `note`, which claims the session for the new job, hold the
    session's post lock: of two posts at once, one is refused. A dead claim counts for nothing.
    A job that holds the lock with no claim was just cancelled or replaced (the page's new post
    stops its old job first): the post waits up to STOPPING_PATIENCE seconds for it to go.
    """
    session_id = session.current()
    if session_id is None:
        raise Refused("this browser sent no session cookie; reload the page")
    held = _try_lock(_session_file(settings, session_id, "post.lock"), patience=5.0)
    if held is None:
        raise Refused(ALREADY)
    try:
        claim = _read_claim(settings, session_id)
        if claim is None:
            _wait_until_stopped(settings, session_id, STOPPING_PATIENCE)
        queued = (
            claim is not None and claim.get("pid") is None and job_running(str(claim.get("job")))
        )
        if queued or is_running(settings, session_id):
            raise Refused(ALREADY)

        def note(job: str) -> None:
            try:
                _write_claim(settings, session_id, {"job": job, "pid": None})
            except OSError as error:  # a full disk: the job, failing too, is told in words
                log.warning("training claim not written: %s", error)

        yield note
    finally:
        os.close(held)


@contextmanager
def refusing(reason: str) -> Iterator[None]:
    """Within the block, `admit` raises Refused(reason) at once (a post refused by `posting`)."""
    token = _REFUSAL.set(reason)
    try:
        yield
    finally:
        _REFUSAL.reset(token)


def release(settings: Settings, session_id: str, job: str) -> None:
    """Drop the session's claim if it is this job's (the job was cancelled or answered)."""
    claim = _read_claim(settings, session_id)
    if claim is not None and str(claim.get("job")) == job:
        _session_file(settings, session_id, "claim").unlink(missing_ok=True)


def died(settings: Settings, session_id: str, job: str) -> bool:
    """Whether this job of the session started training and its process is gone without a word."""
    claim = _read_claim(settings, session_id)
    return (
        claim is not None
        and str(claim.get("job")) == job
        and claim.get("pid") is not None
        and not is_running(settings, session_id)
    )


def _oom_kills() -> int | None:
    """How many processes the kernel has killed for want of memory since boot (Linux)."""
    try:
        for line in Path("/proc/vmstat").read_text().splitlines():
            name, _, count = line.partition(" ")
            if name == "oom_kill":
                return int(count)
    except (OSError, ValueError):
        pass
    return None


def ended_unexpectedly(settings: Settings, session_id: str) -> str:
    """The page's words for this session's training that ended without an answer."""
    return f"The training {_how_it_died(settings, session_id)}."


def _how_it_died(settings: Settings, session_id: str) -> str:
    """ "stopped unexpectedly; nothing was saved (cause)", the cause as far as it is known (a
    full disk, the kernel's out-of-memory killer); removes the store's lock files that no live
    training holds."""
    with contextlib.suppress(OSError):
        Store(settings.cache_dir).remove_stale_locks(patience=STALE_LOCK_PATIENCE)
    claim = _read_claim(settings, session_id) or {}
    problem = health.store_problem(settings)
    kills, noted = _oom_kills(), claim.get("oom_kills")
    if problem is not None and problem.errno in (errno.ENOSPC, errno.EDQUOT):
        cause = "the server's disk is full"
    elif (
        claim.get("host") == socket.gethostname()
        and kills is not None
        and noted is not None
        and kills > noted
    ):
        cause = "the server ran out of memory and killed it"
    elif claim.get("pid") is not None:
        cause = "its process was killed"
    else:
        cause = "its process ended before it started training"
    return f"{UNEXPECTED} ({cause})"


def _try_lock(path: Path, patience: float = 0.0) -> int | None:
    """An open descriptor holding the file's exclusive lock, or None when another holds it.

    Tries for `patience` seconds. Closing the descriptor, or the end of its process, releases
    the lock.
    """
    descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    deadline = time.monotonic() + patience
    while True:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return descriptor
        except BlockingIOError:
            if time.monotonic() >= deadline:
                os.close(descriptor)
                return None
            time.sleep(0.05)


def _live_tickets(queue: Path, mine: Path) -> list[Path]:
    """The queue's tickets in order, removing those whose job died (their lock is free)."""
    live = []
    for ticket in sorted(queue.glob("*.ticket")):
        if ticket != mine:
            stale = _try_lock(ticket)  # recreates a ticket removed meanwhile: removed again
            if stale is not None:
                ticket.unlink(missing_ok=True)
                os.close(stale)
                continue
        live.append(ticket)
    return live


def _free_slot(settings: Settings) -> int | None:
    """The lock of a free training slot, or None when all are taken."""
    slots = _folder(settings, "slots")
    for number in range(settings.max_trainings):
        held = _try_lock(slots / f"{number}.lock")
        if held is not None:
            return held
    return None


@contextmanager
def _slot(
    settings: Settings, on_wait: Callable[[int], None], check: Callable[[], None]
) -> Iterator[None]:
    """Wait first come, first served for a free training slot, and hold it."""
    queue = _folder(settings, "queue")
    name = f"{time.time_ns():020d}-{os.getpid()}"
    draft = queue / f"{name}.draft"
    ticket = queue / f"{name}.ticket"
    mine = os.open(draft, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600)
    fcntl.flock(mine, fcntl.LOCK_EX)
    draft.rename(ticket)  # visible only once locked: an unlocked ticket is a dead job's
    try:
        held = _wait_in_line(settings, queue, ticket, on_wait, check)
    finally:
        ticket.unlink(missing_ok=True)
        os.close(mine)
    try:
        yield
    finally:
        os.close(held)


def _wait_in_line(
    settings: Settings,
    queue: Path,
    ticket: Path,
    on_wait: Callable[[int], None],
    check: Callable[[], None],
) -> int:
    """Wait until the ticket is first in the queue and a slot is free; return the slot's lock."""
    shown = None
    while True:
        check()
        position = _live_tickets(queue, ticket).index(ticket) + 1
        if position == 1:
            held = _free_slot(settings)
            if held is not None:
                return held
        if position != shown:
            on_wait(position)
            shown = position
        time.sleep(WAIT_STEP)


@contextmanager
def admit(settings: Settings, on_wait: Callable[[int], None]) -> Iterator[Callable[[], None]]:
    """Run a training of the current session once its turn comes; yield its `check`.

    `on_wait(position)` reports the place in the queue (1: next) while the job waits.
    `check()` raises Stopped once the page has been silent too long or asked to stop; call it
    between epochs. Raises Refused when this session already runs a training or sent no
    session cookie.
    """
    if not logging.getLogger().handlers:  # a fresh job process (the fork server's child)
        configure_logging(settings.log_level)
    refusal = _REFUSAL.get()
    if refusal is not None:
        raise Refused(refusal)
    session_id = session.current()
    if session_id is None:
        raise Refused("this browser sent no session cookie; reload the page")
    started = time.time()
    stop = _session_file(settings, session_id, "stop")

    def check() -> None:
        if stop.exists():
            log.info("training stopped from a page loaded after it started")
            raise Stopped("cancelled from the page")
        quiet = seconds_since_request(settings, session_id)
        if quiet > settings.job_grace_seconds:
            log.info(
                "training stopped: its page has sent nothing for %.0f s (started %.0f s ago)",
                quiet,
                time.time() - started,
            )
            raise Stopped(f"its page stopped following it for {quiet:.0f} s")

    with ExitStack() as stack:
        own = _try_lock(_session_file(settings, session_id, "lock"), patience=1.0)
        if own is None:
            raise Refused(ALREADY)
        stack.callback(os.close, own)
        _claim_process(settings, session_id)
        stack.callback(_drop_claim, settings, session_id)
        stop.unlink(missing_ok=True)  # a stop asked of an earlier training
        stack.enter_context(_slot(settings, on_wait, check))
        with contextlib.suppress(OSError):  # left by killed trainings; a full disk is said later
            Store(settings.cache_dir).remove_stale_locks()
        yield check


def _claim_process(settings: Settings, session_id: str) -> None:
    """Note in the session's claim that this process, holding the session lock, trains it."""
    claim = _read_claim(settings, session_id) or {"job": None}
    claim.update(pid=os.getpid(), host=socket.gethostname(), oom_kills=_oom_kills())
    try:
        _write_claim(settings, session_id, claim)
    except OSError as error:
        log.warning("training claim not written: %s", error)


def _drop_claim(settings: Settings, session_id: str) -> None:
    """Remove the session's claim at this process's training's end (before its lock goes)."""
    claim = _read_claim(settings, session_id)
    if claim is not None and claim.get("pid") == os.getpid():
        _session_file(settings, session_id, "claim").unlink(missing_ok=True)
