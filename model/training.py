"""Fit the network with a fixed seed and per-epoch progress reports."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from .config import TrainConfig
from .network import build_networks, import_keras
from .windows import Windows

if TYPE_CHECKING:
    import keras


@dataclass(frozen=True)
class EpochReport:
    """What a progress callback receives after every epoch (stage: "" for the main fit)."""

    epoch: int
    epochs: int
    loss: float
    val_loss: float | None
    stage: str = ""


ProgressCallback = Callable[[EpochReport], None]


@dataclass
class Trained:
    """A fitted forecaster and how it got there."""

    forecaster: keras.Model
    validation_rows: np.ndarray  # the windows that validated it (the latest ones)
    history: dict[str, list[float]] = field(default_factory=dict)
    seconds: float = 0.0


def split_validation(windows: Windows, fraction: float) -> tuple[np.ndarray, np.ndarray]:
    """Split time-ordered windows: the latest `fraction` validate, the rest train."""
    count = len(windows)
    validation = max(1, int(round(count * fraction))) if count > 1 else 0
    indices = np.arange(count)
    return indices[: count - validation], indices[count - validation :]


def train(
    config: TrainConfig, windows: Windows, progress: ProgressCallback | None = None
) -> Trained:
    """Fit a fresh network on the windows and report each epoch.

    With config.refit, a second fit from the same seed on every window follows, for the number
    of epochs at which the first fit's validation loss was lowest.
    """
    import_keras()
    import tensorflow as tf

    tf.config.experimental.enable_op_determinism()  # process-wide, so set by a training only
    started = time.perf_counter()
    fit_rows, validation_rows = split_validation(windows, config.validation_fraction)
    forecaster, history = _fit(config, windows, fit_rows, validation_rows, config.epochs, progress)
    if config.refit and len(validation_rows) and history.get("val_loss"):
        best = int(np.argmin(history["val_loss"])) + 1
        forecaster, refit_history = _fit(
            config, windows, np.arange(len(windows)), np.empty(0, dtype=int), best, progress
        )
        history = {**history, "refit_loss": refit_history["loss"]}
    return Trained(forecaster, validation_rows, history, time.perf_counter() - started)


def _fit(
    config: TrainConfig,
    windows: Windows,
    fit_rows: np.ndarray,
    validation_rows: np.ndarray,
    epochs: int,
    progress: ProgressCallback | None,
) -> tuple[keras.Model, dict[str, list[float]]]:
    """One seeded fit of fresh networks; early stopping only when there is validation data."""
    keras = import_keras()
    keras.utils.set_random_seed(config.seed)  # Python, NumPy and TensorFlow
    trainer, forecaster = build_networks(config, windows.history.shape[-1])

    def arrays(rows: np.ndarray) -> tuple[list[np.ndarray], list[np.ndarray]]:
        inputs = [array[rows] for array in windows.inputs(config)]
        return inputs, [windows.target[rows]] * config.ensemble

    class Reporter(keras.callbacks.Callback):  # type: ignore[name-defined]  # keras: no stubs
        def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
            logs = logs or {}
            members = config.ensemble  # Keras sums the members' losses; report their mean
            val_loss = logs.get("val_loss")
            if progress is not None:
                progress(
                    EpochReport(
                        epoch + 1,
                        epochs,
                        float(logs["loss"]) / members,
                        None if val_loss is None else float(val_loss) / members,
                    )
                )

    callbacks: list = [Reporter()]
    if config.patience and len(validation_rows):
        callbacks.append(
            keras.callbacks.EarlyStopping(patience=config.patience, restore_best_weights=True)
        )
    x_fit, y_fit = arrays(fit_rows)
    fit = trainer.fit(
        x_fit,
        y_fit,
        validation_data=arrays(validation_rows) if len(validation_rows) else None,
        epochs=epochs,
        batch_size=config.batch_size,
        shuffle=True,
        callbacks=callbacks,
        verbose=0,
    )
    history = {
        name: [float(value) / config.ensemble for value in fit.history[name]]
        for name in ("loss", "val_loss")
        if name in fit.history
    }
    return forecaster, history


def predict(forecaster: keras.Model, windows: Windows, config: TrainConfig) -> np.ndarray:
    """Forecast on the network's scale, shape (n, horizon)."""
    if not len(windows):
        return np.zeros((0, config.horizon))
    output = forecaster.predict(windows.inputs(config), verbose=0, batch_size=256)
    return np.asarray(output)[..., 0]
