"""The NumPy replay of the encoder's cell matches Keras; training writes the weights it reads."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pandas as pd
import pytest
from helpers import FAST, TINY, two_stations

from model import (
    CellWeights,
    GatesError,
    Store,
    encoder_window,
    export_gates,
    gates_path,
    read_gates,
    replay_encoder,
)
from model.gates import encoder_weights, replay
from model.network import build_networks, import_keras


@pytest.mark.slow  # imports TensorFlow
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


@pytest.mark.slow  # imports TensorFlow
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


def test_weights_that_do_not_fit_one_cell_are_refused():
    rng = np.random.default_rng(4)
    with pytest.raises(ValueError, match="do not fit one cell"):
        CellWeights("gru", rng.normal(size=(2, 9)), rng.normal(size=(3, 8)), rng.normal((2, 9)))
    with pytest.raises(ValueError, match="not gru or lstm"):
        CellWeights("rnn", rng.normal(size=(2, 9)), rng.normal(size=(3, 9)), rng.normal((2, 9)))
    kernel = rng.normal(size=(2, 9))
    kernel[0, 0] = np.nan
    with pytest.raises(ValueError, match="not finite"):
        CellWeights("gru", kernel, rng.normal(size=(3, 9)), rng.normal(size=(2, 9)))


def keras_states(encoder, inputs: np.ndarray) -> list[np.ndarray]:
    """The hidden state after every month of each direction of a trained Keras encoder.

    Each direction is the same layer returning its sequence, with the trained weights; the
    backward one's sequence is put back in the window's order.
    """
    directions = (
        [encoder.forward_layer, encoder.backward_layer]
        if hasattr(encoder, "forward_layer")
        else [encoder]
    )
    states = []
    for layer in directions:
        config = {**layer.get_config(), "return_sequences": True}
        twin = type(layer).from_config(config)
        twin.build((1, *inputs.shape))
        twin.set_weights(layer.get_weights())
        sequence = np.asarray(twin(inputs[None].astype("float32")))[0]
        states.append(sequence[::-1] if config["go_backwards"] else sequence)
    return states


def check_replay_of_the_stored_network(store: Store, record, monthly: pd.DataFrame) -> int:
    """For every station with a forecast: the web process's window and replay equal Keras's.

    Returns how many stations were checked.
    """
    keras = import_keras()
    network = store.load_network(record.key)
    encoder = network.get_layer("member0_encoder")
    final_state = keras.Model(network.inputs[0], encoder.output)
    directions = read_gates(gates_path(store.folder, record.key), record.network_sha256)
    assert len(directions) == (2 if record.config.bidirectional else 1)
    forecast = pd.DataFrame(record.forecast)
    stations = sorted(forecast["location"].unique())
    for station in stations:
        window = encoder_window(record.config, record.cutoff, monthly, station)
        assert len(window.months) == record.config.window
        first_forecast = forecast.loc[forecast["location"] == station, "month"].min()
        assert (window.months[-1] + pd.DateOffset(months=1)).strftime("%Y-%m") == first_forecast
        replays = replay_encoder(directions, window.inputs)
        for replayed, expected in zip(replays, keras_states(encoder, window.inputs), strict=True):
            np.testing.assert_allclose(replayed.hidden, expected, atol=1e-5)
        ends = [replays[0].hidden[-1]] + [r.hidden[0] for r in replays[1:]]  # what each read last
        encoded = np.asarray(final_state(window.inputs[None].astype("float32")))[0]
        np.testing.assert_allclose(np.concatenate(ends), encoded, atol=1e-5)
    return len(stations)


def test_a_trained_bidirectional_gru_is_replayed_by_the_web_process_as_keras_ran_it(
    trained, small_monthly
):
    """The session's network: bidirectional GRU on scaled anomalies with the calendar channels."""
    store, record = trained
    assert record.config.cell == "gru" and record.config.calendar
    assert check_replay_of_the_stored_network(store, record, small_monthly) == 4
    window = encoder_window(record.config, record.cutoff, small_monthly, "Hobart")
    angle = 2 * np.pi * (window.months.month.to_numpy() - 1) / 12
    np.testing.assert_allclose(window.inputs[:, 1:], np.c_[np.sin(angle), np.cos(angle)], atol=1e-6)


@pytest.mark.slow  # trains
def test_a_trained_lstm_on_raw_values_is_replayed_and_its_gates_written_before_its_record(
    tmp_path, monthly
):
    store = Store(tmp_path / "store")
    data = two_stations(monthly)
    config = FAST.replace(cell="lstm", units=3, window=5)
    record, _ = store.get_or_train(config, data)
    gates, record_file = gates_path(store.folder, record.key), store.record_path(record.key)
    assert gates.stat().st_mtime_ns <= record_file.stat().st_mtime_ns
    assert check_replay_of_the_stored_network(store, record, data) == 2
    window = encoder_window(record.config, record.cutoff, data, "Cairns")
    observed = data.set_index(["location", "month"])["temp"]
    np.testing.assert_allclose(window.values, [observed["Cairns", m] for m in window.months])
    training = data[data["month"] <= record.cutoff]["temp"]
    low, high = training.min(), training.max()  # MinMax to (-1, 1) on the training months
    np.testing.assert_allclose(window.inputs[:, 0], 2 * (window.values - low) / (high - low) - 1)

    written = gates.read_text()
    gates.unlink()
    assert export_gates(store, record.key) == gates  # from the network file, as for old entries
    assert json.loads(gates.read_text()) == json.loads(written)


def test_deleting_an_entry_removes_its_gates_file(built_in, default_record, tmp_path):
    store = Store(tmp_path / "copy")
    key = default_record.key
    for name in (f"{key}.json", f"{key}.keras", f"{key}.gates.json"):
        shutil.copy(built_in.folder / name, store.folder)
    assert store.delete(key)
    assert list(store.folder.iterdir()) == []


def test_the_built_in_models_ship_the_gates_of_their_networks(built_in):
    for record in built_in.entries():
        directions = read_gates(gates_path(built_in.folder, record.key), record.network_sha256)
        config = record.config
        assert len(directions) == (2 if config.bidirectional else 1)
        for weights in directions:
            assert (weights.cell, weights.units) == (config.cell, config.units)
            assert weights.features == 1 + 2 * config.calendar


def test_a_missing_damaged_or_foreign_gates_file_is_refused_in_words(
    built_in, default_record, tmp_path
):
    source = gates_path(built_in.folder, default_record.key)
    path = tmp_path / source.name
    sha = default_record.network_sha256
    with pytest.raises(GatesError, match="has no gates file.*stored before.*export-gates"):
        read_gates(path, sha)
    path.write_text(source.read_text()[:500])
    with pytest.raises(GatesError, match="cannot be read"):
        read_gates(path, sha)
    with pytest.raises(GatesError, match="not of this model's network"):
        read_gates(source, "0" * 64)
    data = json.loads(source.read_text())
    data["directions"][0]["kernel"] = [[1.0]]
    path.write_text(json.dumps(data))
    with pytest.raises(GatesError, match="damaged .*do not fit one cell"):
        read_gates(path, sha)
