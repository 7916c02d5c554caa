"""Helpers shared by the benchmark scripts: markdown sections, tables and a dependency-free PNG."""

from __future__ import annotations

import re
import struct
import zlib
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from model import SHARED, write_atomic

BENCHMARKS = Path(__file__).resolve().parent
RESULTS = BENCHMARKS / "RESULTS.md"
HEADER = ("# Benchmark results\n\nNumbers from one run of each script on the project machine "
          "(2 CPU cores, no GPU).\n")


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
    lines = ["| " + " | ".join(map(str, header)) + " |",
             "| " + " | ".join("---" for _ in header) + " |"]
    lines += ["| " + " | ".join(map(str, row)) + " |" for row in rows]
    return "\n".join(lines)


def fmt(value: float | None, digits: int = 3) -> str:
    """A number for a table; '-' when missing."""
    if value is None or not np.isfinite(value):
        return "-"
    return f"{value:.{digits}f}"


# A 3x5 bitmap font for axis labels (digits, point, minus) - no imaging library is installed.
_GLYPHS = {
    "0": "111101101101111", "1": "010110010010111", "2": "111001111100111",
    "3": "111001111001111", "4": "101101111001001", "5": "111100111001111",
    "6": "111100111101111", "7": "111001010010010", "8": "111101111101111",
    "9": "111101111001111", ".": "000000000000010", "-": "000000111000000",
}
PALETTE = [(31, 119, 180), (214, 39, 40), (44, 160, 44), (148, 103, 189), (255, 127, 14),
           (140, 86, 75), (127, 127, 127)]


def _text(canvas: np.ndarray, x: int, y: int, text: str, scale: int = 2) -> None:
    for char in text:
        bits = _GLYPHS.get(char)
        if bits is not None:
            glyph = np.array([int(b) for b in bits], dtype=bool).reshape(5, 3)
            glyph = np.kron(glyph, np.ones((scale, scale), dtype=bool))
            h, w = glyph.shape
            if 0 <= y and y + h <= canvas.shape[0] and 0 <= x and x + w <= canvas.shape[1]:
                canvas[y:y + h, x:x + w][glyph] = 0
        x += 4 * scale


def _line(canvas: np.ndarray, p0: tuple[float, float], p1: tuple[float, float],
          colour: tuple[int, int, int], width: int = 2) -> None:
    steps = int(max(abs(p1[0] - p0[0]), abs(p1[1] - p0[1]))) + 1
    xs = np.linspace(p0[0], p1[0], steps).round().astype(int)
    ys = np.linspace(p0[1], p1[1], steps).round().astype(int)
    for dx in range(-(width // 2), width - width // 2):
        for dy in range(-(width // 2), width - width // 2):
            xx = np.clip(xs + dx, 0, canvas.shape[1] - 1)
            yy = np.clip(ys + dy, 0, canvas.shape[0] - 1)
            canvas[yy, xx] = colour


def line_panel(series: dict[str, Sequence[float]], width: int = 520, height: int = 340,
               y_range: tuple[float, float] | None = None) -> np.ndarray:
    """Draw lines (x = 1..n) on a white RGB canvas with axes and numeric tick labels."""
    canvas = np.full((height, width, 3), 255, dtype=np.uint8)
    left, right, top, bottom = 60, width - 15, 15, height - 35
    values = np.array([v for ys in series.values() for v in ys if v is not None], dtype=float)
    low, high = y_range or (float(np.floor(values.min() * 10) / 10),
                            float(np.ceil(values.max() * 10) / 10))
    steps = max(len(ys) for ys in series.values())

    def to_px(step: float, value: float) -> tuple[float, float]:
        x = left + (step - 1) / max(steps - 1, 1) * (right - left)
        return x, bottom - (value - low) / (high - low) * (bottom - top)

    for tick in np.linspace(low, high, 5):
        _, y = to_px(1, tick)
        canvas[int(y), left:right] = (225, 225, 225)
        _text(canvas, 5, int(y) - 5, f"{tick:.2f}")
    for step in range(1, steps + 1, max(1, steps // 6)):
        x, _ = to_px(step, low)
        canvas[top:bottom, int(x)] = (235, 235, 235)
        _text(canvas, int(x) - 4, bottom + 8, str(step))
    canvas[top:bottom + 1, left] = 0
    canvas[bottom, left:right + 1] = 0
    for (_, ys), colour in zip(series.items(), PALETTE, strict=False):
        points = [to_px(i + 1, v) for i, v in enumerate(ys) if v is not None and np.isfinite(v)]
        for p0, p1 in zip(points, points[1:], strict=False):
            _line(canvas, p0, p1, colour)
    return canvas


def write_png(path: Path, canvas: np.ndarray) -> None:
    """Write an RGB uint8 array as a PNG using only zlib."""
    height, width, _ = canvas.shape
    raw = b"".join(b"\x00" + canvas[row].tobytes() for row in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    png = (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
           + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b""))
    path.write_bytes(png)
