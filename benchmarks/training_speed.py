"""Training speed benchmark: the default from an empty cache, the article's recipe, a cache hit.

Run from the repository root:

    python -m benchmarks.training_speed      # not under nice: its figures are wall times

Everything is measured in child processes of this one, in the same run:
- `python -m model train --json --cache-dir EMPTY` (default config, cache miss): wall time and the
  child's peak RSS (from wait4's rusage); with --cold-runs N, N such trainings, each in a new
  empty cache, for the median and range of their wall and train_seconds;
- the same command again (cache hit), and `python -c pass` (interpreter start-up alone), each the
  median of --repeats runs; the hit's cost net of start-up is their difference;
- the article's recipe (batch 1) trained for --article-epochs epochs only (not its 50), with the
  time of every epoch; the first includes graph tracing, so the 50-epoch estimate is
  first + 49 x mean(later epochs).
Writes the training-speed section of benchmarks/RESULTS.md.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.common import RESULTS, fmt, markdown_table, write_section
from model import SERVED

ROOT = Path(__file__).resolve().parents[1]


def run_with_peak(command: list[str]) -> dict[str, Any]:
    """Run a command; return wall seconds, CPU seconds and peak RSS (MB) from wait4()."""
    started = time.perf_counter()
    child = subprocess.Popen(
        command,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"},
    )
    stdout = child.stdout.read() if child.stdout else b""
    _, status, usage = os.wait4(child.pid, 0)
    wall = time.perf_counter() - started
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode:
        raise RuntimeError(f"{' '.join(command)} failed with status {child.returncode}")
    return {
        "wall": wall,
        "cpu": usage.ru_utime + usage.ru_stime,
        "peak_rss_mb": usage.ru_maxrss / 1024,
        "stdout": stdout.decode(),
    }


def article_epochs_worker(epochs: int) -> None:
    """(In a child) train the article's recipe for a few epochs; print per-epoch seconds as JSON."""
    from model import RECIPES, read_monthly
    from model.training import train
    from model.windows import prepare, training_windows

    config = RECIPES["article"].config.replace(epochs=epochs)
    prepared = prepare(read_monthly(), config)
    windows = training_windows(prepared, config)
    times: list[float] = []
    last = [time.perf_counter()]

    def progress(_report: Any) -> None:
        now = time.perf_counter()
        times.append(now - last[0])
        last[0] = now

    train(config, windows, progress)
    print(json.dumps({"epoch_seconds": times, "windows": len(windows)}))


def cold_training(python: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """One `python -m model train --json` of the default in an empty cache of its own."""
    with tempfile.TemporaryDirectory(prefix="speed-cache-") as cache:
        run = run_with_peak([python, "-m", "model", "train", "--json", "--cache-dir", cache])
    summary = json.loads(run["stdout"])
    assert not summary["cache_hit"], "the cache was not empty"
    return run, summary


def spread(values: list[float]) -> str:
    """'4.3 (3.9-5.2)': the median and the range, to 0.1."""
    return f"{fmt(statistics.median(values), 1)} ({fmt(min(values), 1)}-{fmt(max(values), 1)})"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--article-epochs", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--cold-runs", type=int, default=3, help="trainings from an empty cache")
    parser.add_argument("--out", default=str(RESULTS))
    parser.add_argument("--article-epochs-worker", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.article_epochs_worker:
        article_epochs_worker(args.article_epochs_worker)
        return 0
    python = sys.executable
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="speed-cache-") as cache:
        train_command = [python, "-m", "model", "train", "--json", "--cache-dir", cache]
        miss = run_with_peak(train_command)
        summary = json.loads(miss["stdout"])
        assert not summary["cache_hit"], "the cache was not empty"
        hits = [run_with_peak(train_command) for _ in range(args.repeats)]
        assert all(json.loads(hit["stdout"])["cache_hit"] for hit in hits)
    colds = [(miss, summary)] + [cold_training(python) for _ in range(args.cold_runs - 1)]
    cold_walls = [run["wall"] for run, _ in colds]
    cold_fits = [record["train_seconds"] for _, record in colds]
    startups = [run_with_peak([python, "-c", "pass"]) for _ in range(args.repeats)]
    imports = [run_with_peak([python, "-c", "import model"]) for _ in range(args.repeats)]
    article = run_with_peak(
        [
            python,
            "-m",
            "benchmarks.training_speed",
            "--article-epochs-worker",
            str(args.article_epochs),
        ]
    )
    epoch_seconds = json.loads(article["stdout"].strip().splitlines()[-1])["epoch_seconds"]
    later = epoch_seconds[1:] or epoch_seconds
    article_fifty = epoch_seconds[0] + 49 * statistics.mean(later)

    hit_wall = statistics.median(h["wall"] for h in hits)
    startup = statistics.median(s["wall"] for s in startups)
    import_wall = statistics.median(s["wall"] for s in imports)
    metrics = summary["metrics"]
    rows = [
        [
            "default config, empty cache: `python -m model train --json` wall",
            fmt(miss["wall"], 1) + " s",
        ],
        ["  CPU time of that process (user + system, all threads)", fmt(miss["cpu"], 1) + " s"],
        ["  of which training (record's train_seconds)", fmt(summary["train_seconds"], 1) + " s"],
        [
            f"the same from an empty cache, {len(colds)} runs: wall, median (min-max)",
            f"{spread(cold_walls)} s",
        ],
        [f"  train_seconds, median (min-max) of the {len(colds)}", f"{spread(cold_fits)} s"],
        ["  peak RSS of that process", fmt(miss["peak_rss_mb"], 0) + " MB"],
        [
            "  holdout MAE default / climatology",
            f"{fmt(metrics[SERVED]['mae'])} / {fmt(metrics['climatology']['mae'])}",
        ],
        [
            f"article's recipe (batch 1), {args.article_epochs} epochs only: seconds per epoch",
            ", ".join(fmt(s, 1) for s in epoch_seconds) + " (first includes tracing)",
        ],
        [
            "article's recipe, 50 epochs, estimated (first + 49 x mean of later epochs)",
            fmt(article_fifty, 0) + " s",
        ],
        [f"cache hit through the CLI, median of {args.repeats}", fmt(hit_wall, 2) + " s"],
        ["interpreter start-up alone (`python -c pass`)", fmt(startup, 3) + " s"],
        ["`python -c 'import model'`", fmt(import_wall, 2) + " s"],
        ["cache hit minus interpreter start-up", fmt(hit_wall - startup, 2) + " s"],
        ["peak RSS of a cache-hit process", fmt(max(h["peak_rss_mb"] for h in hits), 0) + " MB"],
        [
            "ratio: article's 50 epochs (estimated) / default from empty cache",
            fmt(article_fifty / miss["wall"], 1) + "x",
        ],
        [
            "1-minute load average before / after (2 cores; other work shares them)",
            f"{load_before:.1f} / {os.getloadavg()[0]:.1f}",
        ],
        ["ratio: default from empty cache / cache hit", fmt(miss["wall"] / hit_wall, 1) + "x"],
    ]
    niceness = os.nice(0)
    command = (
        ("nice " if niceness else "")
        + "python -m benchmarks.training_speed "
        + " ".join(argv if argv is not None else sys.argv[1:])
    )
    text = "\n".join(
        [
            "## Training speed",
            "",
            f"Command: `{command.strip()}` (one run; every figure below comes from it). "
            f"Machine: {os.cpu_count()} CPU cores, no GPU; other work may share the cores.",
            "",
            markdown_table(["measure", "value"], rows),
        ]
    )
    print(text)
    write_section("training_speed", text, Path(args.out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
