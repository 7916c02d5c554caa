"""Replay a trained encoder's recurrent cell in NumPy: its gates and states, month by month.

Training writes the encoder's weights as plain arrays (`encoder_weights`), so the web process can
show what happens inside the cell without TensorFlow. The equations are Keras 3's:

GRU (reset_after=True; kernel columns ordered update z, reset r, candidate):
    z = sigmoid(x Wz + bz + h Uz + b'z)          how much of the old state is kept
    r = sigmoid(x Wr + br + h Ur + b'r)          how much of the old state the candidate sees
    c = tanh(x Wc + bc + r * (h Uc + b'c))       the new candidate state
    h = z * h + (1 - z) * c
LSTM (kernel columns ordered input i, forget f, candidate g, output o):
    c = f * c + i * g;  h = o * tanh(c)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

GRU_GATES = ("update", "reset", "candidate")
LSTM_GATES = ("input", "forget", "candidate", "output")


@dataclass(frozen=True)
class CellWeights:
    """One direction of a recurrent layer: kernel (features, k*units), recurrent kernel
    (units, k*units) and bias ((2, 3*units) for a GRU: input and recurrent rows; (4*units,)
    for an LSTM)."""

    cell: str
    kernel: np.ndarray
    recurrent_kernel: np.ndarray
    bias: np.ndarray

    @property
    def units(self) -> int:
        return self.recurrent_kernel.shape[0]

    def to_json(self) -> dict[str, Any]:
        """Plain lists, for a JSON file beside the network."""
        return {
            "cell": self.cell,
            "kernel": self.kernel.tolist(),
            "recurrent_kernel": self.recurrent_kernel.tolist(),
            "bias": self.bias.tolist(),
        }

    @classmethod
    def from_json(cls, values: dict[str, Any]) -> CellWeights:
        return cls(
            values["cell"],
            np.asarray(values["kernel"], dtype=float),
            np.asarray(values["recurrent_kernel"], dtype=float),
            np.asarray(values["bias"], dtype=float),
        )


@dataclass(frozen=True)
class Replay:
    """What one direction of the cell did over a window of T months.

    gates: gate name -> (T, units) values in [0, 1] (the candidate in [-1, 1]);
    hidden: (T, units) hidden state after each month; months are in the window's order, also
    for the backward direction (which reads them last to first).
    """

    gates: dict[str, np.ndarray]
    hidden: np.ndarray


def _sigmoid(values: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-values))


def replay(weights: CellWeights, inputs: np.ndarray, backward: bool = False) -> Replay:
    """Run the cell over inputs (T, features) from a zero state; `backward` reads them reversed."""
    order = np.arange(len(inputs))[::-1] if backward else np.arange(len(inputs))
    units = weights.units
    hidden = np.zeros(units)
    cell_state = np.zeros(units)
    names = GRU_GATES if weights.cell == "gru" else LSTM_GATES
    gates = {name: np.zeros((len(inputs), units)) for name in names}
    states = np.zeros((len(inputs), units))
    values: tuple[np.ndarray, ...]
    for step in order:
        x = inputs[step] @ weights.kernel
        if weights.cell == "gru":
            x = x + weights.bias[0]
            h = hidden @ weights.recurrent_kernel + weights.bias[1]
            update = _sigmoid(x[:units] + h[:units])
            reset = _sigmoid(x[units : 2 * units] + h[units : 2 * units])
            candidate = np.tanh(x[2 * units :] + reset * h[2 * units :])
            hidden = update * hidden + (1 - update) * candidate
            values = (update, reset, candidate)
        else:
            z = x + hidden @ weights.recurrent_kernel + weights.bias
            entry, forget = _sigmoid(z[:units]), _sigmoid(z[units : 2 * units])
            candidate, output = np.tanh(z[2 * units : 3 * units]), _sigmoid(z[3 * units :])
            cell_state = forget * cell_state + entry * candidate
            hidden = output * np.tanh(cell_state)
            values = (entry, forget, candidate, output)
        for name, value in zip(names, values, strict=True):
            gates[name][step] = value
        states[step] = hidden
    return Replay(gates, states)


def encoder_weights(forecaster: Any, cell: str) -> list[CellWeights]:
    """The first member's encoder weights from a Keras forecaster: [forward] or [forward,
    backward] for a bidirectional encoder."""
    layer = forecaster.get_layer("member0_encoder")
    directions = (
        [layer.forward_layer, layer.backward_layer] if hasattr(layer, "forward_layer") else [layer]
    )
    weights = []
    for direction in directions:
        kernel, recurrent_kernel, bias = (
            np.asarray(w, dtype=float) for w in direction.get_weights()
        )
        weights.append(CellWeights(cell, kernel, recurrent_kernel, bias))
    return weights
