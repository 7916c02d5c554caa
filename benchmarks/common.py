"""Helpers shared by the benchmark scripts: markdown sections and tables."""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from model import SHARED, write_atomic

# Headless Chromium as it must run here (as root, with no outside network), for the load
# benchmark and the browser tests alike.
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROME_ARGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--window-size=1400,1000",
)

BENCHMARKS = Path(__file__).resolve().parent
RESULTS = BENCHMARKS / "RESULTS.md"
HEADER = (
    "# Benchmark results\n\nNumbers from one run of each script on the project machine "
    "(2 CPU cores, no GPU).\n"
)


def write_section(name: str, text: str, path: Path = RESULTS) -> None:
    """Replace (or append) the section between `<!-- name:start -->` and `<!-- name:end -->`."""
    start, end = f"<!-- {name}:start -->", f"<!-- {name}:end -->"
    block = f"{start}\n{text.rstrip()}\n{end}"
    current = path.read_text(encoding="utf-8") if path.exists() else HEADER
    pattern = re.compile(re.escape(start) + r".*?" + re.escape(end), re.DOTALL)
    if pattern.search(current):
        current = pattern.sub(lambda _: block, current)
    else:
        current = current.rstrip() + "\n\n" + block + "\n"
    write_atomic(path, lambda temporary: temporary.write_text(current, encoding="utf-8"), SHARED)


def markdown_table(header: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A GitHub markdown table."""
    lines = [
        "| " + " | ".join(map(str, header)) + " |",
        "| " + " | ".join("---" for _ in header) + " |",
    ]
    lines += ["| " + " | ".join(map(str, row)) + " |" for row in rows]
    return "\n".join(lines)


def fmt(value: float | None, digits: int = 3) -> str:
    """A number for a table; '-' when missing."""
    if value is None or not np.isfinite(value):
        return "-"
    return f"{value:.{digits}f}"


def stop(server: subprocess.Popen) -> None:
    """Stop a server the benchmark started: SIGTERM, then SIGKILL after 20 s."""
    server.terminate()
    try:
        server.wait(timeout=20)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()
