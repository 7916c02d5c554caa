"""The NumPy replay of the encoder's cell matches Keras on real networks."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import TINY

from model.gates import CellWeights, encoder_weights, replay
from model.network import build_networks, import_keras

pytestmark = pytest.mark.slow  # imports TensorFlow


@pytest.mark.parametrize("cell", ["gru", "lstm"])
def test_replayed_hidden_states_match_the_keras_layer_at_every_month(cell):
    keras = import_keras()
    keras.utils.set_random_seed(3)
    layer_class = keras.layers.GRU if cell == "gru" else keras.layers.LSTM
    layer = layer_class(5, return_sequences=True)
    inputs = np.random.default_rng(0).normal(size=(1, 12, 3))
    expected = np.asarray(layer(inputs))[0]
    weights = CellWeights(cell, *(np.asarray(w, dtype=float) for w in layer.get_weights()))
    replayed = replay(weights, inputs[0])
    np.testing.assert_allclose(replayed.hidden, expected, atol=1e-5)
    assert all(
        np.all((0 <= gate) & (gate <= 1))
        for name, gate in replayed.gates.items()
        if name != "candidate"
    )


@pytest.mark.parametrize("cell", ["gru", "lstm"])
def test_the_encoder_of_a_bidirectional_network_is_replayed_in_both_directions(cell):
    keras = import_keras()
    config = TINY.replace(window=9, horizon=3, units=6, bidirectional=True, cell=cell)
    keras.utils.set_random_seed(config.seed)
    _, forecaster = build_networks(config, features=2)
    window = np.random.default_rng(1).normal(size=(1, 9, 2))
    encoder = forecaster.get_layer("member0_encoder")
    expected = np.asarray(keras.Model(forecaster.inputs[0], encoder.output)(window))[0]
    forward, backward = encoder_weights(forecaster, cell)
    states = (replay(forward, window[0]).hidden[-1], replay(backward, window[0], True).hidden[0])
    np.testing.assert_allclose(np.concatenate(states), expected, atol=1e-5)


def test_cell_weights_survive_json():
    rng = np.random.default_rng(2)
    weights = CellWeights(
        "gru", rng.normal(size=(2, 9)), rng.normal(size=(3, 9)), rng.normal(size=(2, 9))
    )
    again = CellWeights.from_json(weights.to_json())
    window = rng.normal(size=(6, 2))
    np.testing.assert_array_equal(replay(again, window).hidden, replay(weights, window).hidden)
