"""The validated training configuration and its cache key."""

from __future__ import annotations

import pytest

from model import DEFAULT, RECIPES, ConfigError, TrainConfig, key_for
from model.config import months_before


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"window": 2}, "window must be between 3 and 60 (got 2)"),
        ({"window": 61}, "window must be between 3 and 60 (got 61)"),
        ({"horizon": 0}, "horizon must be between 1 and 36 (got 0)"),
        ({"horizon": 37}, "horizon must be between 1 and 36 (got 37)"),
        ({"epochs": 10**9}, "epochs must be between 1 and 1000 (got 1000000000)"),
        ({"epochs": "50"}, "epochs must be a whole number between 1 and 1000 (got '50')"),
        ({"window": True}, "window must be a whole number"),
        ({"dropout": float("nan")}, "dropout must be between 0.0 and 0.9 (got nan)"),
        ({"learning_rate": -1.0}, "learning_rate must be between 1e-06 and 1.0 (got -1.0)"),
        ({"bidirectional": "yes"}, "bidirectional must be true or false"),
        ({"cell": "rnn"}, "cell ('rnn') must be one of gru, lstm"),
        ({"variable": "humidity"}, "variable ('humidity')"),
        ({"cutoff": "2015-13"}, "cutoff ('2015-13') must be a month as YYYY-MM"),
    ],
)
def test_invalid_values_name_the_field_and_value(changes, message):
    with pytest.raises(ConfigError) as raised:
        TrainConfig(**changes)
    assert message in str(raised.value)


def test_from_dict_round_trips_and_rejects_unknown_fields():
    config = TrainConfig(window=12, cell="lstm")
    assert TrainConfig.from_dict(config.to_dict()) == config
    with pytest.raises(ConfigError, match="unknown config field"):
        TrainConfig.from_dict({"window": 12, "layers": 9})


def test_the_article_recipe_is_the_published_one():
    article = RECIPES["article"].config
    assert (article.window, article.horizon, article.units, article.batch_size, article.epochs) == (
        18,
        18,
        32,
        1,
        50,
    )
    assert article.bidirectional and article.cell == "gru"
    assert not article.anomalies and not article.calendar and article.patience == 0


def test_cache_key_depends_on_config_and_data(small_monthly):
    key = key_for(DEFAULT, small_monthly)
    assert key == key_for(TrainConfig(**DEFAULT.to_dict()), small_monthly)
    assert key != key_for(DEFAULT.replace(window=12), small_monthly)
    changed = small_monthly.copy()
    changed.loc[0, "temp"] += 1
    assert key != key_for(DEFAULT, changed)
    # An explicit cutoff equal to the default one is the same network.
    assert key == key_for(DEFAULT.replace(cutoff="2015-12"), small_monthly)


@pytest.mark.parametrize(
    ("month", "count", "expected"),
    [
        ("2017-06", 18, "2015-12"),
        ("2017-01", 1, "2016-12"),
        ("2017-06", 0, "2017-06"),
        ("2010-12", 36, "2007-12"),
    ],
)
def test_the_default_cutoff_counts_back_across_years(month, count, expected):
    assert months_before(month, count) == expected
