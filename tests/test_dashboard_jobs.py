"""Bounded training: one per session, a first-come queue for the slots, stop when unpolled.

The jobs here are threads holding real file locks in a real store folder; each acts in a request
of its own session, as a training job does (the slow test in test_reliability_jobs.py drives
real training processes through the app).
"""

from __future__ import annotations

import fcntl
import os
import threading
import time

import pytest
from dash import no_update
from helpers import as_session, wait_for
from test_dashboard_callbacks import _request as callback_request

from dashboard import create_app
from dashboard.page import ids
from dashboard.page.training_panel import PanelState, Sent, followed_model, update_panel
from dashboard.server import jobs, session
from dashboard.settings import Settings

VISIBLE = {"display": "block"}


class Job(threading.Thread):
    """A training that holds its slot until `finish` is set; records its queue positions."""

    def __init__(self, settings: Settings, session_id: str) -> None:
        super().__init__(daemon=True)
        self.settings, self.session_id = settings, session_id
        self.positions: list[int] = []
        self.running = threading.Event()
        self.finish = threading.Event()
        self.outcome: Exception | None = None

    def run(self) -> None:
        jobs.record_request(self.settings, self.session_id)  # the request that started it
        with as_session(self.session_id):
            try:
                with jobs.admit(self.settings, self.positions.append):
                    self.running.set()
                    self.finish.wait(30)
            except (jobs.Refused, jobs.Stopped) as error:
                self.outcome = error


def started(settings: Settings, session_id: str) -> Job:
    job = Job(settings, session_id)
    job.start()
    return job


def test_a_second_training_of_a_session_is_refused_at_once(tmp_path):
    settings = Settings(cache_dir=tmp_path, max_trainings=2)
    first = started(settings, "a" * 32)
    assert first.running.wait(10)
    second = started(settings, "a" * 32)
    second.join(5)
    assert isinstance(second.outcome, jobs.Refused)
    assert "already running" in str(second.outcome)
    other = started(settings, "b" * 32)  # another session gets the second slot
    assert other.running.wait(10)
    first.finish.set(), other.finish.set()
    first.join(5), other.join(5)
    again = started(settings, "a" * 32)  # the session's lock went with its training
    assert again.running.wait(10)
    again.finish.set()


def test_waiting_trainings_start_first_come_first_served_and_see_their_place(tmp_path):
    settings = Settings(cache_dir=tmp_path, max_trainings=1)
    running = started(settings, "r" * 32)
    assert running.running.wait(10)
    waiting = []
    for name in "xyz":
        waiting.append(started(settings, name * 32))
        wait_for(lambda: waiting[-1].positions, 10, "the new training to see its place")
    assert [job.positions for job in waiting] == [[1], [2], [3]]
    running.finish.set()
    assert waiting[0].running.wait(10)
    wait_for(lambda: waiting[2].positions[-1] == 2, 10, "the last one to move up")
    assert not waiting[1].running.is_set() and not waiting[2].running.is_set()
    waiting[0].finish.set()
    assert waiting[1].running.wait(10)
    assert not waiting[2].running.is_set()
    waiting[1].finish.set()
    assert waiting[2].running.wait(10)
    waiting[2].finish.set()


def test_a_dead_jobs_ticket_does_not_hold_up_the_queue(tmp_path):
    settings = Settings(cache_dir=tmp_path, max_trainings=1)
    queue = settings.jobs_dir / "queue"
    queue.mkdir(parents=True)
    (queue / "00000000000000000001-999.ticket").touch()  # its job was killed: nobody locks it
    job = started(settings, "a" * 32)
    assert job.running.wait(10)
    assert job.positions == []
    job.finish.set()


def test_a_training_whose_page_stopped_polling_stops(tmp_path):
    settings = Settings(cache_dir=tmp_path, job_grace_seconds=0.3)
    jobs.record_request(settings, "a" * 32)
    with as_session("a" * 32), jobs.admit(settings, print) as still_wanted:
        for _ in range(3):  # the page polls: the training goes on
            time.sleep(0.2)
            jobs.record_request(settings, "a" * 32)
            still_wanted()
        time.sleep(0.5)
        with pytest.raises(jobs.Stopped, match="stopped following it"):
            still_wanted()


def test_a_waiting_training_whose_page_stopped_polling_leaves_the_queue(tmp_path):
    settings = Settings(cache_dir=tmp_path, max_trainings=1, job_grace_seconds=1)
    running = started(settings, "r" * 32)
    assert running.running.wait(10)
    waiting = started(settings, "w" * 32)
    waiting.join(10)
    assert isinstance(waiting.outcome, jobs.Stopped)
    assert not list((settings.jobs_dir / "queue").iterdir())
    running.finish.set()


def test_the_web_process_notes_a_sessions_callback_requests(tmp_path):
    settings = Settings(cache_dir=tmp_path / "store")
    app = create_app(settings)
    client = app.server.test_client()
    client.get("/")
    sent = client.get_cookie(session.COOKIE).value.partition(".")[0]  # the id before its signature
    client.get("/health")  # not a page's callback
    assert jobs.seconds_since_request(settings, sent) == float("inf")
    client.post("/_dash-update-component", json=callback_request(app, ids.CHART))
    assert jobs.seconds_since_request(settings, sent) < 5


def test_a_page_loaded_during_a_training_shows_it_and_its_cancel_stops_it(tmp_path):
    settings = Settings(cache_dir=tmp_path)
    jobs.record_request(settings, "a" * 32)

    def look(state, cancels=None):
        """The panel at a tick of the reloaded page's watch."""
        return update_panel(settings, Sent(None, cancels, None, None, 1), state)

    with as_session("a" * 32):
        nothing = look(None)  # nothing running: stop watching
        assert nothing._replace(state=no_update) == (*(no_update,) * 7, True, no_update)
        assert nothing.state["looked"] and nothing.state["phase"] == "idle"
        with jobs.admit(settings, print) as still_wanted:
            jobs.note_progress(settings, 40, "epoch 2 of 5")
            shown = look(None)  # the reloaded page's first look
            assert shown._replace(state=no_update) == (
                *(40, "epoch 2 of 5 (started before this page loaded)", no_update, no_update),
                *(True, False, VISIBLE, False, no_update),
            )
            assert shown.state["phase"] == "following"
            still_wanted()  # the page follows it: it goes on
            stopping = look(shown.state, cancels=1)
            with pytest.raises(jobs.Stopped, match="cancelled from the page"):
                still_wanted()
            jobs.note_progress(settings, 0, "stopped, nothing saved")
        ended = look(stopping.state, cancels=1)
        assert (ended.label, ended.train_off, ended.cancel_off) == (
            "stopped, nothing saved",
            False,
            True,
        )
        assert "ended: stopped, nothing saved" in str(ended.message) and ended.watch_off is True
        assert ended.state["phase"] == "idle"


def test_a_training_followed_after_a_reload_shows_its_curve_and_then_its_model(tmp_path):
    settings = Settings(cache_dir=tmp_path)
    jobs.record_request(settings, "a" * 32)
    history = {"loss": [0.9, 0.5], "val_loss": [1.0, 0.7]}

    def look(state):
        return update_panel(settings, Sent(None, None, None, None, 1), state)

    with as_session("a" * 32):
        with jobs.admit(settings, print):
            jobs.note_progress(settings, 40, "epoch 2 of 5", history)
            following = look(None)
            assert [list(t["y"]) for t in following.loss["data"]] == [[0.9, 0.5], [1.0, 0.7]]
            jobs.note_progress(settings, 100, "epoch 5 of 5, done", history, "f" * 20)
        ended = look(following.state)
    assert "ended: epoch 5 of 5, done. Its model is shown now." in str(ended.message)
    assert followed_model(following.state, ended.state) == "f" * 20  # the page shows it
    assert followed_model(ended.state, look(ended.state).state) is None  # once


def test_a_forged_progress_note_shows_no_model_and_no_curve(tmp_path):
    settings = Settings(cache_dir=tmp_path)
    jobs.record_request(settings, "a" * 32)
    with as_session("a" * 32):
        with jobs.admit(settings, print):
            jobs.note_progress(settings, 40, "epoch 2", {"loss": ["x"], "val_loss": []})
            following = update_panel(settings, Sent(None, None, None, None, 1), None)
            assert following.loss is no_update
            jobs.note_progress(settings, 100, "done", None, "../../etc/passwd")
        ended = update_panel(settings, Sent(None, None, None, None, 1), following.state)
    assert followed_model(following.state, ended.state) is None
    assert "shown now" not in str(ended.message)


def test_cancel_of_the_pages_own_training_asks_no_other_training_to_stop(tmp_path):
    settings = Settings(cache_dir=tmp_path)
    jobs.record_request(settings, "a" * 32)
    own = PanelState(phase="running", trains=1, looked=True)._asdict()
    with as_session("a" * 32), jobs.admit(settings, print) as still_wanted:
        cancelled = update_panel(settings, Sent(1, 1, None, True, None), own)
        assert "cancelled" in str(cancelled.message)
        still_wanted()


def test_the_files_of_sessions_unused_for_a_day_are_swept_once_an_hour(tmp_path):
    settings = Settings(cache_dir=tmp_path / "cache")
    idle, busy, recent = ("i" * 32, "b" * 32, "r" * 32)
    for session_id in (idle, busy, recent):
        jobs.record_request(settings, session_id)
    folder = settings.jobs_dir / "sessions"
    held = open(folder / f"{session.hashed(busy)}.lock", "w")  # a training of its holds it
    fcntl.flock(held, fcntl.LOCK_EX)
    (folder / f"{session.hashed(idle)}.lock").touch()
    day_ago = time.time() - 2 * 24 * 3600
    for path in folder.iterdir():
        if not path.name.startswith((session.hashed(recent), ".")):  # not the sweep's marker
            os.utime(path, (day_ago, day_ago))
    jobs.sweep_sessions(settings)  # swept when the first request came: not again this hour
    assert any(path.name.startswith(session.hashed(idle)) for path in folder.iterdir())
    jobs.sweep_sessions(settings, now=time.time() + 2 * 3600)
    left = sorted(path.name for path in folder.iterdir() if not path.name.startswith("."))
    assert left == sorted([f"{session.hashed(busy)}.lock", f"{session.hashed(recent)}.polled"])
    held.close()


def test_a_forged_tick_count_for_the_reload_watch_is_no_server_error(tmp_path):
    app = create_app(Settings(cache_dir=tmp_path / "cache"))
    client = app.server.test_client()
    body = callback_request(app, ids.JOB_WATCH, changedPropIds=[f"{ids.JOB_WATCH}.n_intervals"])
    for dependency in body["inputs"]:
        dependency["value"] = "0" if dependency["id"] == ids.JOB_WATCH else None
    response = client.post("/_dash-update-component", json=body)
    assert response.status_code < 500, response.get_data(as_text=True)[:300]


def test_a_post_is_refused_while_the_sessions_training_is_queued_or_running(tmp_path):
    settings = Settings(cache_dir=tmp_path)
    queued = {"job-1"}  # the job ids the manager still runs (queued in Celery, say)
    with as_session("a" * 32):
        with jobs.posting(settings, queued.__contains__) as note:
            note("job-1")
        with (
            pytest.raises(jobs.Refused, match="already running"),
            jobs.posting(settings, queued.__contains__),
        ):
            pass
        queued.clear()  # it ended before it trained (a cached config) or was lost
        with jobs.posting(settings, queued.__contains__) as note:
            note("job-2")
    running = started(settings, "a" * 32)  # job-2 trains: it holds the session lock
    assert running.running.wait(10)
    with as_session("a" * 32), pytest.raises(jobs.Refused), jobs.posting(settings, bool):
        pass
    running.finish.set()
    running.join(5)
    with as_session("a" * 32), jobs.posting(settings, bool) as note:  # its claim went with it
        note("job-3")


def test_a_post_that_replaces_a_stopping_job_waits_for_it_instead_of_being_refused(tmp_path):
    """The page's new post cancels its old job first (Dash's oldJob); that job's process may
    hold the session lock a moment longer, as a revoked Celery task does."""
    settings = Settings(cache_dir=tmp_path)
    with as_session("a" * 32), jobs.posting(settings, bool) as note:
        note("job-1")
    old = started(settings, "a" * 32)
    assert old.running.wait(10)
    with as_session("a" * 32):
        jobs.release(settings, "a" * 32, "job-1")  # what terminate_job does: the claim goes
        threading.Timer(1.0, old.finish.set).start()  # ...and the process a second later
        began = time.monotonic()
        with jobs.posting(settings, bool) as note:  # not refused
            note("job-2")
    assert 0.8 < time.monotonic() - began < jobs.STOPPING_PATIENCE


def test_a_job_that_died_training_frees_its_session_and_is_told_with_its_lock_removed(tmp_path):
    settings = Settings(cache_dir=tmp_path)
    claim = settings.jobs_dir / "sessions" / f"{session.hashed('a' * 32)}.claim"
    claim.parent.mkdir(parents=True)
    claim.write_text('{"job": "job-1", "pid": 999999999, "host": "elsewhere"}')  # no lock held
    left = tmp_path / "f671f7394f76648db951.lock"  # its training's key lock, as a kill leaves it
    left.touch()
    assert jobs.died(settings, "a" * 32, "job-1") and not jobs.died(settings, "a" * 32, "job-2")
    assert jobs.last_progress(settings, "a" * 32)[1].startswith("stopped unexpectedly")
    told = jobs.ended_unexpectedly(settings, "a" * 32)
    assert told == (
        "The training stopped unexpectedly; nothing was saved (its process was killed)."
    )
    assert not left.exists()
    with as_session("a" * 32), jobs.posting(settings, bool) as note:  # not blocked by it
        note("job-2")
