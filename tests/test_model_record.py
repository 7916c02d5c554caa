"""The typed record: a round trip through its JSON, and a clear error for each bad field."""

from __future__ import annotations

import copy

import pytest

from model import Record, Scores
from model.record import RecordError


def test_a_record_round_trips_through_its_json(default_record):
    record = default_record
    again = Record.from_json(copy.deepcopy(record.to_json()))
    assert again == record
    assert isinstance(again.metrics["served"], Scores) and again.config.window == 18
    assert set(record.summary()) >= {"key", "config", "metrics", "created"}


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        (("metrics", "served", "mae"), "0.9", "metrics.served.mae must be a number, got '0.9'"),
        (("metrics", "served", "cells"), -1, "metrics.served.cells must be a count"),
        (("config", "window"), 0, "record config: window must be between 3 and 60 (got 0)"),
        (("per_step_mae", "served"), "fast", "per_step_mae.served must be a list of numbers"),
        (("predictions", "month"), [], "predictions columns must be lists of one length"),
        (("cutoff",), 2015, "cutoff must be text, got 2015"),
    ],
)
def test_a_bad_field_is_named_with_its_value(default_record, path, value, message):
    data = copy.deepcopy(default_record.to_json())
    target = data
    for name in path[:-1]:
        target = target[name]
    target[path[-1]] = value
    with pytest.raises(RecordError, match=message.replace("(", r"\(").replace(")", r"\)")):
        Record.from_json(data)


def test_a_missing_field_or_served_score_is_refused(default_record):
    data = default_record.to_json()
    with pytest.raises(RecordError, match="record lacks forecast"):
        Record.from_json({name: value for name, value in data.items() if name != "forecast"})
    with pytest.raises(RecordError, match="metrics lacks 'served'"):
        Record.from_json({**data, "metrics": {}})
