"""Production mode end to end: supervisord's redis-server, Celery worker and gunicorn (2 workers).

`supervisord -c supervisord.conf` runs the stack as the README says; every server binds 127.0.0.1
on a free port and is stopped by the fixture. A retrain posted to one gunicorn worker runs in the
Celery worker; the other gunicorn worker serves its result. Killing Redis or the worker's main
process, supervisord starts it again and the next training finishes.
"""

from __future__ import annotations

import base64
import contextlib
import ctypes
import http.client
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import psutil
import pytest
from helpers import AFTER_READING, CORPUS, REPO, entry_files, free_port, require, wait_for
from hypothesis import given, settings
from hypothesis import strategies as st
from test_reliability_processes import check_a_killed_job_is_told, check_one_training_per_session

from dashboard.server import session
from model import Store

pytestmark = [pytest.mark.redis, pytest.mark.slow, pytest.mark.timeout(420)]
PR_SET_PDEATHSIG = 1
SECRET_KEY = "production-test-key"  # the deployment's TEMPERATURE_FORECAST_SECRET_KEY
# one browser session, signed as the server signs its own: trainings need one
SESSION_COOKIE = f"{session.COOKIE}={session.signed(SECRET_KEY.encode(), 'p' * 32)}"
FORM = {
    "recipe": "default",
    "window": 3,
    "horizon": 1,
    "epochs": 1,
    "units": 2,
    "cell": "gru",
    "bidirectional": False,
    "view": None,  # the page's view store: None is the built-in data
}


def die_with_parent() -> None:
    """In a server: get SIGTERM when the test process dies, even killed without finalizers."""
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def start(command: list[str], log: Path, env: dict[str, str]) -> subprocess.Popen:
    """Start a server in its own process group, its output in a log file."""
    with log.open("wb") as handle:
        return subprocess.Popen(
            command,
            cwd=REPO,
            env=env,
            stdout=handle,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=die_with_parent,
        )


def stop(process: subprocess.Popen) -> None:
    """SIGTERM supervisord, which stops its processes; then SIGKILL whatever of them lingers."""
    if process.poll() is not None:
        return
    tree = psutil.Process(process.pid).children(recursive=True)
    process.terminate()
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)
    for child in tree:
        with contextlib.suppress(psutil.NoSuchProcess):
            child.kill()


def wait_while_up(
    condition, what: str, process: subprocess.Popen, log: Path, timeout: float = 120
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"{what}: exited with {process.returncode}\n{log.read_text()[-3000:]}")
        if condition():
            return
        time.sleep(0.5)
    pytest.fail(f"{what}: not ready after {timeout} s\n{log.read_text()[-3000:]}")


def answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status == 200
    except OSError:
        return False


def start_stack(folder: Path, **variables: str) -> tuple[subprocess.Popen, dict[str, Any]]:
    """`supervisord -c supervisord.conf` as the README says: Redis, the worker, gunicorn -w 2.

    Returns supervisord and what the tests need: the site's URL, the store, the folder, the log.
    """
    require(shutil.which("redis-server") is not None, "redis-server is not installed")
    web_port = free_port()
    access = (
        f"--access-logfile {folder / 'access.log'} "
        "--access-logformat '%(p)s %(m)s %(U)s %(q)s %(s)s'"
    )
    env = {
        **os.environ,
        "REDIS_PORT": str(free_port()),
        "WEB_PORT": str(web_port),
        "WEB_WORKERS": "2",
        "TEMPERATURE_FORECAST_CACHE": str(folder / "store"),
        "TEMPERATURE_FORECAST_SECRET_KEY": SECRET_KEY,
        "PYTHONPATH": str(REPO),
        "TF_CPP_MIN_LOG_LEVEL": "3",
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        "GUNICORN_CMD_ARGS": access,  # which gunicorn worker served each request
        "XDG_CACHE_HOME": str(folder / "default-cache"),  # where the store would default to
        **variables,
    }
    env.pop("REDIS_URL", None)
    log = folder / "supervisord.log"
    command = [sys.executable, "-m", "supervisor.supervisord", "-c", str(REPO / "supervisord.conf")]
    supervisor = start([*command, "--pidfile", str(folder / "supervisord.pid")], log, env)
    url = f"http://127.0.0.1:{web_port}"
    try:
        for ready in (
            lambda: b"Ready to accept" in log.read_bytes(),
            lambda: b"ready." in log.read_bytes(),
            lambda: answers(f"{url}/"),
        ):
            wait_while_up(ready, "supervisord", supervisor, log)
    except BaseException:
        stop(supervisor)
        raise
    return supervisor, {"url": url, "store": Store(folder / "store"), "folder": folder, "log": log}


@pytest.fixture(scope="module")
def production(tmp_path_factory) -> Iterator[dict[str, Any]]:
    """The production stack under supervisord, for the module's tests."""
    supervisor, stack = start_stack(tmp_path_factory.mktemp("production"))
    try:
        yield {**stack, "supervisor": supervisor}
    finally:
        stop(supervisor)


def post(url: str, body: dict, query: str = "") -> tuple[int, str]:
    """POST a callback request; return (status, text) even for error statuses."""
    request = urllib.request.Request(
        f"{url}/_dash-update-component{query}",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json", "Cookie": SESSION_COOKIE},
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def callbacks(url: str) -> list[dict]:
    with urllib.request.urlopen(f"{url}/_dash-dependencies", timeout=30) as response:
        return json.load(response)


def outputs_of(spec: str) -> list[dict] | dict:
    """The outputs of a callback as the page sends them: a list when it has several."""
    parts = [part.rsplit(".", 1) for part in spec.strip(".").split("...")]
    outputs = [{"id": name, "property": prop.split("@")[0]} for name, prop in parts]
    return outputs if spec.startswith("..") else outputs[0]


def request_body(callback: dict, values: dict[str, Any]) -> dict:
    """A callback request as the page sends it, inputs and states taken from `values`.

    `values` is keyed by component id, or by "id.property" where one component gives several.
    """

    def with_values(items: list[dict]) -> list[dict]:
        return [
            {
                **item,
                "value": values.get(f"{item['id']}.{item['property']}", values.get(item["id"])),
            }
            for item in items
        ]

    inputs = with_values(callback["inputs"])
    return {
        "output": callback["output"],
        "outputs": outputs_of(callback["output"]),
        "inputs": inputs,
        "state": with_values(callback["state"]),
        "changedPropIds": [f"{inputs[0]['id']}.{inputs[0]['property']}"],
    }


def served_by(folder: Path, marker: str) -> list[int]:
    """Gunicorn worker pids that served requests whose query string holds `marker`."""
    lines = (folder / "access.log").read_text().splitlines()
    return [int(line.split()[0].strip("<>")) for line in lines if marker in line]


def start_training(
    url: str, values: dict[str, Any], marker: str, old_job: str | None = None
) -> tuple[dict, dict]:
    """Post the retrain callback as the page does (cancelling `old_job`); return (body, job)."""
    train = next(
        c for c in callbacks(url) if c.get("background") and c["inputs"][0]["id"] == "train"
    )
    body = request_body(train, {**values, "train": 1})
    query = f"?start={marker}" + (f"&oldJob={old_job}" if old_job else "")
    status, text = post(url, body, query)
    assert status == 200, text
    return body, json.loads(text)


def wait_for_answer(url: str, body: dict, job: dict, marker: str) -> dict | None:
    """Poll a job like the page until its response; None when it ends without one (cancelled).

    The response holds the job's outputs and, as `progress`, its last report (which a poll
    before the response may have brought), as the page keeps it.
    """
    deadline = time.monotonic() + 300
    poll = 0
    progress: dict = {}
    while time.monotonic() < deadline:
        poll += 1
        status, text = post(
            url, body, f"?cacheKey={job['cacheKey']}&job={job['job']}&poll={marker}-{poll}"
        )
        if status == 204:
            return None
        assert status == 200, text
        answer = json.loads(text)
        progress.update(answer.get("progress", {}))
        if "job-progress" in answer.get("sideUpdate", {}):  # the last report, with the answer
            progress["job-progress.data"] = answer["sideUpdate"]["job-progress"]["data"]
        if "response" in answer:
            return {**answer["response"], "progress": progress}
        time.sleep(0.5)
    pytest.fail("the retrain did not finish in 300 s")


def showing(key: str) -> dict[str, Any]:
    """The page's view store with a model shown on the built-in data."""
    return {"dataset": None, "stations": [], "model": key, "compare": []}


def train_through_app(production: dict, values: dict[str, Any], marker: str) -> dict:
    """Start a retrain through the app and wait for its response."""
    body, job = start_training(production["url"], values, marker)
    answer = wait_for_answer(production["url"], body, job, marker)
    assert answer is not None, "the retrain ended without an answer"
    return answer


def test_retrain_runs_in_the_celery_worker_and_another_gunicorn_worker_serves_it(production):
    url, folder, store = production["url"], production["folder"], production["store"]
    response = train_through_app(production, FORM, "first")
    key = response["trained"]["data"]
    assert key in [entry.key for entry in store.entries()]
    assert b"succeeded" in production["log"].read_bytes()
    started_by = served_by(folder, "start=first")
    assert len(started_by) == 1
    models = next(c for c in callbacks(url) if c["output"].startswith("model-list."))
    body = request_body(models, {"view": showing(key)})

    def probe(number: int) -> None:
        status, text = post(url, body, f"?probe={number}")
        assert status == 200 and key[:8] in text, text[:2000]

    other = None
    with ThreadPoolExecutor(max_workers=6) as pool:  # concurrent, so both workers must answer
        for batch in range(10):
            numbers = range(batch * 6, batch * 6 + 6)
            list(pool.map(probe, numbers))
            time.sleep(0.2)  # gunicorn logs a request just after answering it
            pids = [pid for n in numbers for pid in served_by(folder, f"probe={n} ")]
            other = next((pid for pid in pids if pid != started_by[0]), None)
            if other:
                break
    print(
        f"production: job started by gunicorn worker {started_by[0]}, trained in Celery, "
        f"result served by gunicorn worker {other}"
    )
    assert other is not None
    assert len(entry_files(store)) == 3  # the network, its gates and its record


def test_the_worker_trains_into_the_store_folder_the_settings_name(production):
    """TEMPERATURE_FORECAST_CACHE reaches the Celery worker through Settings.from_env()."""
    store, folder = production["store"], production["folder"]
    key = train_through_app(production, {**FORM, "units": 5}, "folder")["trained"]["data"]
    assert (store.folder / f"{key}.keras").is_file() and store.verify(key).config.units == 5
    assert not list((folder / "default-cache").rglob("*.keras"))
    # the worker logs in the one format (model/logs.py), not Celery's own; supervisord relays it
    finished = re.compile(
        rf"^\S+ \S+ INFO model\.store \[pid \d+\] training "
        rf"{key} finished in [\d.]+ s, served MAE [\d.]+",
        re.M,
    )
    deadline = time.monotonic() + 10
    while not finished.search(production["log"].read_text()) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert finished.search(production["log"].read_text())


def test_health_checks_the_store_folder_and_redis(production):
    with urllib.request.urlopen(f"{production['url']}/health", timeout=30) as response:
        assert (response.status, response.read()) == (200, b"OK")


def test_same_settings_again_come_from_the_store(production):
    store = production["store"]
    train_through_app(production, FORM, "once")
    before = entry_files(store)
    response = train_through_app(production, FORM, "again")
    assert "Cached" in response["progress"]["job-progress.data"]["message"]["text"]
    assert entry_files(store) == before


LONG = "x" * 100_000
ANYTHING = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**15), 10**15),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=40),
    st.just(LONG),
    st.sampled_from(["Atlantis", "../../etc/passwd", "=cmd|' /C calc'!A0", "<script>", "Cairns"]),
    st.lists(st.text(max_size=20), max_size=5),
    st.dictionaries(st.text(max_size=5), st.integers(), max_size=3),
)
NOT_A_FORM_NUMBER = st.one_of(  # never a whole number in a config field's range
    st.none(),
    st.just(""),
    st.booleans(),
    st.just(LONG),
    st.text(max_size=40),
    st.floats(allow_nan=True, allow_infinity=True).filter(lambda x: not float(x).is_integer()),
    st.integers(-(10**15), 2),
    st.integers(10**6, 10**15),
    st.lists(st.integers(), max_size=3),
)


def wildcard(item: dict, value: Any) -> Any:
    """The page sends a list of matches for an ALL input; forge one match with an unknown key."""
    pattern = json.loads(item["id"])
    forged = {
        name: "f0f0f0f0f0f0f0f0f0f0" if part == ["ALL"] else part for name, part in pattern.items()
    }
    return [{"id": forged, "property": item["property"], "value": value}]


def forged_body(callback: dict, values: list[Any]) -> dict:
    """A request for the callback carrying the given forged value for each input and state."""
    items = [*callback["inputs"], *callback["state"]]
    forged = [
        wildcard(item, value) if item["id"].startswith("{") else {**item, "value": value}
        for item, value in zip(items, values, strict=True)
    ]
    first = forged[0][0] if isinstance(forged[0], list) else forged[0]
    first_id = (
        first["id"]
        if isinstance(first["id"], str)
        else json.dumps(first["id"], sort_keys=True, separators=(",", ":"))
    )
    count = len(callback["inputs"])
    return {
        "output": callback["output"],
        "outputs": outputs_of(callback["output"]),
        "inputs": forged[:count],
        "state": forged[count:],
        "changedPropIds": [f"{first_id}.{first['property']}"],
    }


def refused_cleanly(status: int, text: str) -> None:
    """A forged request may be refused, never with a server error or a traceback."""
    assert status < 500, text[:500]
    assert "Traceback" not in text and 'File "' not in text


def store_files(store: Store) -> set[str]:
    """Every file directly in the store folder (entries, locks, temporaries)."""
    return {path.name for path in store.folder.iterdir() if path.is_file()}


def forge_requests(url: str, callback: dict) -> list[int]:
    """Post 30 hypothesis-made payloads to one callback; none may get a server error."""
    size = len(callback["inputs"]) + len(callback["state"])
    statuses = []

    @settings(max_examples=30, deadline=None, database=None, derandomize=True)
    @given(st.lists(ANYTHING, min_size=size, max_size=size))
    def check(values: list[Any]) -> None:
        status, text = post(url, forged_body(callback, values))
        refused_cleanly(status, text)
        statuses.append(status)

    check()
    return statuses


def test_forged_values_for_every_callback_get_no_server_error(production):
    url, store = production["url"], production["store"]
    before = store_files(store)
    plain = [c for c in callbacks(url) if not c.get("background") and not c["clientside_function"]]
    statuses = [status for callback in plain for status in forge_requests(url, callback)]
    print(
        f"forged: {len(statuses)} payloads to {len(plain)} callbacks, statuses "
        f"{ {status: statuses.count(status) for status in sorted(set(statuses))} }"
    )
    assert statuses.count(200) > len(statuses) // 2  # most reached the callback and answered
    assert answers(f"{url}/")
    assert store_files(store) == before


def test_forged_training_requests_train_nothing(production):
    url, store = production["url"], production["store"]
    before = store_files(store)
    train = next(c for c in callbacks(url) if c.get("background"))
    fields = [item["id"] for item in train["state"]]

    @settings(max_examples=20, deadline=None, database=None, derandomize=True)
    @given(
        st.fixed_dictionaries(
            {"window": NOT_A_FORM_NUMBER},
            optional={field: ANYTHING for field in fields if field != "window"},
        )
    )
    def check(values: dict[str, Any]) -> None:
        body = forged_body(train, [1, *(values.get(field) for field in fields)])
        status, text = post(url, body)
        refused_cleanly(status, text)
        job = json.loads(text)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            status, text = post(url, body, f"?cacheKey={job['cacheKey']}&job={job['job']}")
            refused_cleanly(status, text)
            if "response" in json.loads(text):
                assert "Trained " not in text and "Cached" not in text, text[:500]
                return
            time.sleep(0.3)
        pytest.fail("a forged training request got no answer in 60 s")

    check()
    assert answers(f"{url}/")
    assert store_files(store) == before


def shown_keys(component: Any) -> set[str]:
    """Keys of the model-list items marked as shown."""
    found: set[str] = set()
    if isinstance(component, list):
        for child in component:
            found |= shown_keys(child)
    elif isinstance(component, dict) and "props" not in component:
        for value in component.values():
            found |= shown_keys(value)
    elif isinstance(component, dict):
        props = component["props"]
        if "showing" in str(props.get("className", "")):
            found |= {
                match
                for match in re.findall(r"'key': '(\w+)'|\"key\": \"(\w+)\"", str(props))
                for match in match
                if match
            }
        for value in props.values():
            found |= shown_keys(value)
    return found


def test_switching_a_b_a_quickly_never_shows_one_labelled_as_the_other(production):
    url = production["url"]
    settings_b = {**FORM, "units": 3}
    key_a = train_through_app(production, FORM, "a")["trained"]["data"]
    key_b = train_through_app(production, settings_b, "b")["trained"]["data"]
    assert key_a != key_b
    # The retrain callback as the page drives it: each start cancels the job before it.
    body_a, job_a = start_training(url, FORM, "aba-1")
    body_b, job_b = start_training(url, settings_b, "aba-2", old_job=job_a["job"])
    body_last, job_last = start_training(url, FORM, "aba-3", old_job=job_b["job"])
    last = wait_for_answer(url, body_last, job_last, "aba-3")
    assert last is not None and last["trained"]["data"] == key_a
    for body, job, key in ((body_a, job_a, key_a), (body_b, job_b, key_b)):
        answer = wait_for_answer(url, body, job, "aba-old")  # a cancelled job shows no model
        assert answer is None or answer.get("trained", {"data": key})["data"] == key
    # The model list: 30 quick A/B switches from 3 clients; each shows the key it asked for.
    models = next(c for c in callbacks(url) if c["output"].startswith("model-list."))

    def show(key: str) -> tuple[str, set[str]]:
        status, text = post(url, request_body(models, {"view": showing(key)}))
        assert status == 200, text[:500]
        return key, shown_keys(json.loads(text)["response"])

    with ThreadPoolExecutor(max_workers=3) as pool:
        shown = list(pool.map(show, [key_a, key_b, key_a] * 10))
    assert all(keys == {asked} for asked, keys in shown), shown
    print(
        f"stale: A->B->A retrains answered {key_a}, {len(shown)} switches from 3 clients, "
        "every answer labelled by its own key"
    )


def test_security_defaults_of_the_served_app(production):
    url = production["url"]
    with urllib.request.urlopen(f"{url}/", timeout=30) as response:
        page = response.read().decode()
    config = json.loads(
        re.search(r'<script id="_dash-config"[^>]*>(.*?)</script>', page, re.DOTALL).group(1)
    )
    assert not config.get("ui") and not config.get("props_check")  # debug mode is off
    status, text = post(url, {"output": "no-such.children", "inputs": [], "state": []})
    assert status >= 400 and "Traceback" not in text and 'File "' not in text
    connection = http.client.HTTPConnection(url.removeprefix("http://"), timeout=60)
    connection.putrequest("POST", "/_dash-update-component")
    connection.putheader("Content-Type", "application/json")
    connection.putheader("Content-Length", str(50 * 2**20))
    connection.endheaders()  # the server must refuse before reading (or decoding) the body
    assert connection.getresponse().status == 413
    connection.close()
    assert answers(f"{url}/")


def test_bad_csv_uploads_get_their_message_and_the_app_keeps_serving(production):
    url, store = production["url"], production["store"]
    upload = next(
        c
        for c in callbacks(url)
        if "upload-message.children" in c["output"] and not c.get("clientside_function")
    )  # the server side, after the size check
    before = store_files(store)
    small = sorted(set(CORPUS) - AFTER_READING - {"over_size_limit", "gzip_bomb"})
    for case in small:
        build, fragments = CORPUS[case]
        contents = "data:text/csv;base64," + base64.b64encode(build()).decode()
        values = {
            "upload-ready": 1,
            "reset-data": None,
            "upload.contents": contents,
            "upload.filename": f"{case}.csv",
        }
        status, text = post(url, request_body(upload, values))
        assert status == 200, f"{case}: {status} {text[:300]}"
        message = json.dumps(json.loads(text)["response"])
        assert "Not used" in message and fragments[0] in message.replace('\\"', '"'), message
    assert store_files(store) == before and answers(f"{url}/")
    print(
        f"uploads: {len(small)} malformed files refused by the running app, each with its "
        "own message; / still answers"
    )


def test_one_training_per_session_in_celery_too(production):
    print("Celery flood:", check_one_training_per_session(production["url"]))


def test_a_killed_celery_child_is_told_to_its_page_and_leaves_no_lock(production):
    print("Celery:", check_a_killed_job_is_told(production["url"], production["store"].folder))


def program(supervisor: psutil.Process, name: str) -> psutil.Process | None:
    """The process supervisord runs for a program, by a word of its command line."""
    for child in supervisor.children():
        with contextlib.suppress(psutil.NoSuchProcess):
            if any(name in part for part in child.cmdline()[:2]):
                return child
    return None


def kill_and_see_it_back(production: dict, name: str) -> float:
    """kill -9 a program of the stack; wait until supervisord runs it again and the site is
    healthy; return the seconds that took."""
    supervisor = psutil.Process(production["supervisor"].pid)
    dead = program(supervisor, name)
    assert dead is not None, f"no {name} under supervisord"
    ready = production["log"].read_bytes().count(b"ready.")
    dead.kill()
    killed = time.monotonic()
    wait_for(
        lambda: (p := program(supervisor, name)) is not None and p.pid != dead.pid,
        60,
        f"supervisord to start {name} again",
    )
    if name == "celery":  # the new worker has connected to Redis
        log = production["log"]
        wait_for(lambda: log.read_bytes().count(b"ready.") > ready, 120, "the new worker")
    wait_for(lambda: answers(f"{production['url']}/health"), 60, "the site's health")
    return time.monotonic() - killed


def test_supervisord_restarts_redis_and_the_worker_and_the_next_training_finishes(production):
    """Last in the module: it kills the stack's Redis, then the Celery worker's main process."""
    figures = []
    for number, name in enumerate(("redis-server", "celery")):
        back = kill_and_see_it_back(production, name)
        begun = time.monotonic()
        answer = train_through_app(production, {**FORM, "units": 6 + number}, f"after-{name}")
        assert "Trained" in answer["progress"]["job-progress.data"]["message"]["text"]
        figures.append(
            f"{name} killed: back in {back:.1f} s, the next training then took "
            f"{time.monotonic() - begun:.1f} s"
        )
    print("supervisord:", "; ".join(figures))
