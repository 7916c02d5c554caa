"""The README's screenshot: the page comparing the article's network with our default.

Run from the repository root:

    python -m benchmarks.screenshot            # writes docs/screenshot.png, about 30 s

Starts `python -m dashboard` on an empty cache (the built-in models only), opens it in headless
Chromium at 1400 px wide with both built-in models compared, waits for the chart, the map and
the grids, and saves the whole page.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.common import CHROME_ARGS, CHROMIUM
from benchmarks.page_training import wait
from benchmarks.training_load import dashboard_server
from dashboard.data.shipped import BUILT_IN, shipped_store
from model import key_for, read_monthly

ROOT = Path(__file__).resolve().parents[1]
DRAWN = (
    "return document.querySelectorAll('#forecast-chart .main-svg .trace').length > 0"
    " && document.querySelectorAll('.ag-row').length > 0"
    " && document.querySelectorAll('[data-dash-is-loading]').length === 0;"
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(ROOT / "docs" / "screenshot.png"))
    args = parser.parse_args(argv)
    from selenium import webdriver

    monthly = read_monthly()
    keys = {name: key_for(config, monthly) for name, config in BUILT_IN.items()}
    shipped_store().verify(keys["default"])  # the built-in entries are there
    view = f"/?model={keys['default']}&compare={keys['default']},{keys['article']}"
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in (*CHROME_ARGS, "--hide-scrollbars"):
        options.add_argument(argument)
    with (
        tempfile.TemporaryDirectory(prefix="screenshot-") as cache,
        dashboard_server(Path(cache)) as (url, _server, _log),
    ):
        driver = webdriver.Chrome(options=options)
        try:
            driver.set_window_size(1400, 900)
            driver.get(url + view)
            wait(lambda: driver.execute_script(DRAWN), 60, "the chart and grids")
            time.sleep(2)  # the map's tiles and the last transitions
            height = driver.execute_script("return document.documentElement.scrollHeight;")
            driver.set_window_size(1400, height)
            time.sleep(1)
            driver.save_screenshot(args.out)
        finally:
            driver.quit()
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
