"""Build the encoder-decoder network from a TrainConfig (Keras functional API, named layers)."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from .config import TrainConfig

if TYPE_CHECKING:
    import keras

TENSORFLOW_ENVIRONMENT = {
    "TF_CPP_MIN_LOG_LEVEL": "2",  # keep TensorFlow's C++ start-up chatter quiet
    # oneDNN's CPU kernels round differently from one process to the next at batch size 1, so the
    # same seed would not give the same network; without them training is as fast here.
    "TF_ENABLE_ONEDNN_OPTS": "0",
}


def import_keras() -> Any:  # the keras module; typed Any as keras ships no stubs
    """Import Keras with TensorFlow's start-up chatter quiet and oneDNN off.

    Both settings hold for the whole process and only before TensorFlow's first import, so they
    are made here, where a network is built or loaded, and never on importing `model`.
    """
    for name, value in TENSORFLOW_ENVIRONMENT.items():
        os.environ.setdefault(name, value)
    import keras

    return keras


def _recurrent(config: TrainConfig, name: str, return_sequences: bool) -> keras.layers.Layer:
    keras = import_keras()

    cell = keras.layers.GRU if config.cell == "gru" else keras.layers.LSTM
    layer = cell(
        config.units,
        dropout=config.dropout,
        return_sequences=return_sequences,
        name=name if not config.bidirectional else f"{name}_{config.cell}",
    )
    return keras.layers.Bidirectional(layer, name=name) if config.bidirectional else layer


def build_member(config: TrainConfig, inputs: list, index: int) -> keras.KerasTensor:
    """Encoder RNN -> RepeatVector(horizon) [+ target calendar] -> decoder RNN -> Dense(1).

    With config.highway, a linear map of the flattened input window is added to the output.
    """
    keras = import_keras()

    prefix = f"member{index}_"
    encoded = _recurrent(config, prefix + "encoder", return_sequences=False)(inputs[0])
    repeated = keras.layers.RepeatVector(config.horizon, name=prefix + "repeat")(encoded)
    if config.calendar:
        repeated = keras.layers.Concatenate(name=prefix + "with_calendar")([repeated, inputs[1]])
    decoded = _recurrent(config, prefix + "decoder", return_sequences=True)(repeated)
    dense = keras.layers.Dense(1, name=prefix + "dense")
    output = keras.layers.TimeDistributed(dense, name=prefix + "output")(decoded)
    if not config.highway:
        return output
    flat = keras.layers.Flatten(name=prefix + "highway_flatten")(inputs[0])
    linear = keras.layers.Dense(
        config.horizon, kernel_initializer="zeros", name=prefix + "highway"
    )(flat)
    linear = keras.layers.Reshape((config.horizon, 1), name=prefix + "highway_steps")(linear)
    return keras.layers.Add(name=prefix + "with_highway")([output, linear])


def build_networks(config: TrainConfig, features: int) -> tuple[keras.Model, keras.Model]:
    """Return (training model with one output per ensemble member, forecaster averaging them).

    The members share inputs but no weights, so training them together with one loss each
    is the same as training them apart, in one pass over the data.
    """
    keras = import_keras()

    inputs = [keras.Input((config.window, features), name="history")]
    if config.calendar:
        inputs.append(keras.Input((config.horizon, 2), name="target_calendar"))
    members = [build_member(config, inputs, index) for index in range(config.ensemble)]
    trainer = keras.Model(inputs, members, name="trainer")
    trainer.compile(
        optimizer=keras.optimizers.Adam(learning_rate=config.learning_rate),
        loss=["mse"] * len(members),
    )
    forecast = members[0] if len(members) == 1 else keras.layers.Average(name="ensemble")(members)
    forecaster = keras.Model(inputs, forecast, name="forecaster")
    return trainer, forecaster
