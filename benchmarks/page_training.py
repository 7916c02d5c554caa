"""From the page: click Train to the new model drawn, for trainings that cost what the default does.

Run from the repository root (not under nice: its figures are wall times):

    python -m benchmarks.page_training             # about 2 min
    python -m benchmarks.page_training --runs 5

Starts `python -m dashboard` on an empty cache and opens it in headless Chromium. Each run sets
the default recipe's epoch limit one lower (39, 38, ...: early stopping ends the default after
about 6 epochs, so each is a new cache key that costs the default's training), clicks Train and
times it until the chart's card names the new model and its chart is drawn again. The record's
`train_seconds` (the fits alone) is read from the store, so the table splits the wait into the
fits and everything else (job start, data preparation, scoring, saving, the page's redraw).
Writes the page-training section of benchmarks/RESULTS.md.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.common import (
    CHROME_ARGS,
    CHROMIUM,
    RESULTS,
    fmt,
    markdown_table,
    write_section,
)
from benchmarks.training_load import dashboard_server
from dashboard.page import ids
from model import DEFAULT

REDRAWN = (
    "const plot = document.querySelector('#forecast-chart .js-plotly-plot');"
    "const drawn = plot && plot.data && plot.data.length && plot.querySelector('.main-svg .trace');"
    "const chart = document.querySelector('#forecast-chart');"
    "return Boolean(drawn) && chart.getAttribute('data-dash-is-loading') === null;"
)


def wait(check, seconds: float, what: str):
    """Poll check() every 50 ms until it is truthy (an element not there yet counts as false);
    TimeoutError naming `what` after `seconds`."""
    from selenium.common.exceptions import WebDriverException

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            value = check()
        except WebDriverException:
            value = None
        if value:
            return value
        time.sleep(0.05)
    raise TimeoutError(f"{what} not within {seconds} s")


def set_number(driver, field_id: str, value: int) -> None:
    from selenium.webdriver.common.keys import Keys

    box = driver.find_element("id", field_id)
    box.send_keys(Keys.CONTROL, "a")
    box.send_keys(str(value), Keys.TAB)


def one_training(driver, cache: Path, epochs: int) -> dict[str, float]:
    """Train the default recipe with this epoch limit from the page; time it to the redraw."""

    def text(element_id: str) -> str:
        return driver.find_element("id", element_id).text

    set_number(driver, "epochs", epochs)
    wait(lambda: "Not trained yet" in text(ids.FORM_HINT), 20, "the form to offer a training")
    before = driver.current_url
    button = driver.find_element("id", ids.TRAIN)
    started = time.perf_counter()  # clicked in script: a growing chart above may move it
    driver.execute_script(
        "arguments[0].scrollIntoView({block: 'center'}); arguments[0].click();", button
    )
    wait(lambda: driver.current_url != before, 300, f"the model of {epochs} epochs")
    wait(lambda: f"up to {epochs} epochs" in text(ids.SHOWN_MODEL), 60, "the card to name it")
    wait(lambda: driver.execute_script(REDRAWN), 60, "its chart drawn")
    seconds = time.perf_counter() - started
    key = driver.current_url.split("model=")[1].split("&")[0]
    record = json.loads((cache / f"{key}.json").read_text(encoding="utf-8"))
    print(f"epochs {epochs}: {seconds:.1f} s to drawn, {record['train_seconds']:.1f} s of fits")
    return {"epochs": epochs, "seconds": seconds, "train_seconds": record["train_seconds"]}


def time_trainings(url: str, cache: Path, runs: int) -> list[dict[str, float]]:
    """One Chromium session on the page; `runs` trainings one after another."""
    from selenium import webdriver

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in CHROME_ARGS:
        options.add_argument(argument)
    driver = webdriver.Chrome(options=options)
    driver.set_window_size(1400, 900)
    try:
        driver.get(url)
        wait(
            lambda: "built in" in driver.find_element("id", ids.SHOWN_MODEL).text,
            60,
            "the built-in model on the chart",
        )
        return [one_training(driver, cache, DEFAULT.epochs - 1 - run) for run in range(runs)]
    finally:
        driver.quit()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--out", default=str(RESULTS))
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="page-training-") as folder:
        cache = Path(folder)
        with dashboard_server(cache) as (url, _server, _log):
            results = time_trainings(url, cache, min(args.runs, 10))
    load = os.getloadavg()
    rows = [
        [
            r["epochs"],
            fmt(r["seconds"], 1),
            fmt(r["train_seconds"], 1),
            fmt(r["seconds"] - r["train_seconds"], 1),
        ]
        for r in results
    ]
    table = markdown_table(
        ["epoch limit", "click to drawn (s)", "fits (train_seconds)", "everything else (s)"], rows
    )
    best = min(r["seconds"] for r in results)
    command = " ".join(
        ["python -m benchmarks.page_training", *(argv if argv is not None else sys.argv[1:])]
    )
    text = (
        "## From the page: Train to the new model drawn\n\n"
        f"`{command}` (the default recipe with a lower epoch limit, so "
        "each run is a new training of the default's cost: the network and its two "
        f"cross-fitting folds), load average {load[0]:.1f} after the run.\n\n{table}\n\n"
        f"Target: at most 10 s on a quiet machine: fastest run {best:.1f} s, "
        f"{'met' if best <= 10 else '**not met**'}.\n"
    )
    print(text)
    write_section("page_training", text, Path(args.out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
