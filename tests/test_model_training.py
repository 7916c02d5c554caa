"""The network graph, seeded training and progress reports."""

from __future__ import annotations

import numpy as np
import pytest

from model import EpochReport, TrainConfig, prepare
from model.network import build_networks
from model.pipeline import train_and_evaluate
from model.training import predict, split_validation, train
from model.windows import training_windows


@pytest.mark.slow  # imports TensorFlow
@pytest.mark.parametrize(
    ("changes", "encoder_class"),
    [({}, "Bidirectional"), ({"bidirectional": False, "cell": "lstm"}, "LSTM")],
)
def test_network_has_named_encoder_repeat_decoder_output(changes, encoder_class):
    config = TrainConfig(window=9, horizon=4, units=5, ensemble=2, **changes)
    trainer, forecaster = build_networks(config, features=3)
    names = {layer.name: type(layer).__name__ for layer in forecaster.layers}
    for member in ("member0_", "member1_"):
        assert names[member + "encoder"] == encoder_class
        assert names[member + "repeat"] == "RepeatVector"
        assert names[member + "output"] == "TimeDistributed"
    assert names["ensemble"] == "Average"
    assert forecaster.output_shape == (None, 4, 1)
    assert len(trainer.outputs) == 2


def test_validation_split_takes_the_latest_windows(small_monthly, tiny_config):
    windows = training_windows(prepare(small_monthly, tiny_config), tiny_config)
    fit, validation = split_validation(windows, 0.2)
    assert windows.start[fit].max() <= windows.start[validation].min()
    assert len(validation) == round(len(windows) * 0.2)


@pytest.mark.slow
def test_progress_is_reported_after_every_epoch(small_monthly, tiny_config):
    reports: list[EpochReport] = []
    config = tiny_config.replace(epochs=3)
    trained = train(
        config, training_windows(prepare(small_monthly, config), config), progress=reports.append
    )
    assert [report.epoch for report in reports] == [1, 2, 3]
    assert all(report.epochs == 3 and report.loss > 0 and report.val_loss > 0 for report in reports)
    assert trained.history["loss"] == pytest.approx([report.loss for report in reports])


@pytest.mark.slow
def test_same_seed_gives_the_same_forecast(small_monthly, tiny_config):
    first, _ = train_and_evaluate(tiny_config, small_monthly)
    second, _ = train_and_evaluate(tiny_config, small_monthly)
    other, _ = train_and_evaluate(tiny_config.replace(seed=8), small_monthly)
    assert first.forecast["served"] == second.forecast["served"]
    assert first.predictions["served"] == second.predictions["served"]
    assert not np.allclose(first.forecast["served"], other.forecast["served"])


@pytest.mark.slow
def test_networks_fitted_again_forecast_as_new_ones_would(small_monthly, tiny_config):
    """The cross-fitting folds reuse one model: a fit on it is the fit new networks would make."""
    config = tiny_config
    windows = training_windows(prepare(small_monthly, config), config)
    earlier = config.replace(cutoff="2013-12")
    used = train(earlier, training_windows(prepare(small_monthly, earlier), earlier)).networks
    again = train(config, windows, networks=used)
    new = train(config, windows)
    np.testing.assert_allclose(
        predict(again.forecaster, windows, config), predict(new.forecaster, windows, config)
    )
    assert again.history == new.history


@pytest.mark.slow
def test_a_refit_trains_every_window_for_the_best_epoch_count(small_monthly, tiny_config):
    config = tiny_config.replace(epochs=4, patience=4, refit=True)
    trained = train(config, training_windows(prepare(small_monthly, config), config))
    best = int(np.argmin(trained.history["val_loss"])) + 1
    assert len(trained.history["refit_loss"]) == best
