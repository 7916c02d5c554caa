"""Fit the network with a fixed seed and per-epoch progress reports."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
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


class Networks:
    """A built and compiled trainer with its forecaster, which several fits of one config share.

    TensorFlow traces a Keras model's training, validation and prediction steps once per model,
    and for these small networks the trace costs far more than the fit (the default: about 13 s
    for its first epoch, under 1 s for a second fit of the same model). So the refit and the
    cross-fitting folds, which fit the same architecture on other windows, start again from
    this model's initial state rather than from a new model.
    """

    def __init__(self, config: TrainConfig, features: int) -> None:
        keras = import_keras()
        keras.utils.set_random_seed(config.seed)  # Python, NumPy and TensorFlow
        self.trainer, self.forecaster = build_networks(config, features)
        self._initial = self.trainer.get_weights()
        self._config = config
        self._fitted = False

    def restart(self) -> None:
        """Before a fit: after an earlier one, the weights and the optimizer as built, reseeded."""
        if not self._fitted:
            self._fitted = True  # the first fit goes on from the seed as the build left it
            return
        keras = import_keras()
        keras.utils.set_random_seed(self._config.seed)
        self.trainer.set_weights(self._initial)
        optimizer = self.trainer.optimizer
        for variable in optimizer.variables:  # the step count and Adam's moments
            variable.assign(np.zeros(variable.shape, variable.dtype))
        optimizer.learning_rate = self._config.learning_rate

    @contextmanager
    def lent(self) -> Iterator[Networks]:
        """Lend the networks to other fits, then put back the weights they have now."""
        weights = self.trainer.get_weights()
        try:
            yield self
        finally:
            self.trainer.set_weights(weights)


@dataclass
class Trained:
    """Fitted networks and how they got there."""

    networks: Networks
    validation_rows: np.ndarray  # the windows that validated it (the latest ones)
    history: dict[str, list[float]] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def forecaster(self) -> keras.Model:
        return self.networks.forecaster


def split_validation(windows: Windows, fraction: float) -> tuple[np.ndarray, np.ndarray]:
    """Split time-ordered windows: the latest `fraction` validate, the rest train."""
    count = len(windows)
    validation = max(1, int(round(count * fraction))) if count > 1 else 0
    indices = np.arange(count)
    return indices[: count - validation], indices[count - validation :]


def train(
    config: TrainConfig,
    windows: Windows,
    progress: ProgressCallback | None = None,
    networks: Networks | None = None,
) -> Trained:
    """Fit networks from their initial state on the windows and report each epoch.

    With config.refit, a second fit from the same seed on every window follows, for the number
    of epochs at which the first fit's validation loss was lowest.

    Args:
        networks: built networks of the same config to fit (new ones when None).
    """
    import_keras()
    import tensorflow as tf

    tf.config.experimental.enable_op_determinism()  # process-wide, so set by a training only
    started = time.perf_counter()
    networks = networks or Networks(config, windows.history.shape[-1])
    fit_rows, validation_rows = split_validation(windows, config.validation_fraction)
    history = _fit(config, networks, windows, fit_rows, validation_rows, config.epochs, progress)
    if config.refit and len(validation_rows) and history.get("val_loss"):
        best = int(np.argmin(history["val_loss"])) + 1
        every, none = np.arange(len(windows)), np.empty(0, dtype=int)
        refit_history = _fit(config, networks, windows, every, none, best, progress)
        history = {**history, "refit_loss": refit_history["loss"]}
    return Trained(networks, validation_rows, history, time.perf_counter() - started)


def _fit(
    config: TrainConfig,
    networks: Networks,
    windows: Windows,
    fit_rows: np.ndarray,
    validation_rows: np.ndarray,
    epochs: int,
    progress: ProgressCallback | None,
) -> dict[str, list[float]]:
    """One seeded fit from the initial state; early stopping only when there is validation data."""
    keras = import_keras()
    networks.restart()

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
    fit = networks.trainer.fit(
        x_fit,
        y_fit,
        validation_data=arrays(validation_rows) if len(validation_rows) else None,
        epochs=epochs,
        batch_size=config.batch_size,
        shuffle=True,
        callbacks=callbacks,
        verbose=0,
    )
    return {
        name: [float(value) / config.ensemble for value in fit.history[name]]
        for name in ("loss", "val_loss")
        if name in fit.history
    }


def predict(forecaster: keras.Model, windows: Windows, config: TrainConfig) -> np.ndarray:
    """Forecast on the network's scale, shape (n, horizon)."""
    if not len(windows):
        return np.zeros((0, config.horizon))
    output = forecaster.predict(windows.inputs(config), verbose=0, batch_size=256)
    return np.asarray(output)[..., 0]
