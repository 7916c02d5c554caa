"""The page's words shared by several callbacks: message boxes, counts and model names."""

from __future__ import annotations

import errno
from datetime import datetime

import dash_bootstrap_components as dbc

from model import TrainConfig


def alert(message: str, color: str = "danger") -> dbc.Alert:
    """A dismissable message box."""
    return dbc.Alert(message, color=color, dismissable=True, className="py-2 small")


def counted(count: int, noun: str) -> str:
    """'1 station', '2 stations': a count with its noun in the right number."""
    return f"{count} {noun}{'' if count == 1 else 's'}"


def when_trained(created: str) -> str:
    """A record's creation time (ISO, UTC) as the page writes it: '04 Dec 2026 21:40 UTC'."""
    return datetime.fromisoformat(created).strftime("%d %b %Y %H:%M UTC")


def describe(config: TrainConfig) -> str:
    """A one-line summary of a config's recipe and form fields."""
    direction = "bidirectional " if config.bidirectional else ""
    recipe = "" if config.anomalies else "article's recipe: "
    return (
        f"{recipe}{direction}{config.cell.upper()}, window {config.window}, "
        f"horizon {config.horizon}, {config.units} units, up to {config.epochs} epochs"
    )


def not_saved(error: OSError, what: str) -> str:
    """Why the server could not save `what`: a full disk said in words, another error named."""
    if error.errno in (errno.ENOSPC, errno.EDQUOT):
        return f"The server's disk is full: {what} could not be written, so nothing was saved."
    return f"The server could not write {what} ({error.strerror or error}), so nothing was saved."
