"""Replay a trained encoder's recurrent cell in NumPy: its gates and states, month by month.

Training writes the encoder's weights as plain arrays beside the network (`<key>.gates.json`,
`write_gates`), so the web process can rebuild a station's input window as the network is fed
it (`encoder_window`) and show what happens inside the cell without TensorFlow
(`replay_encoder`). The equations are Keras 3's:

GRU (reset_after=True; kernel columns ordered update z, reset r, candidate):
    z = sigmoid(x Wz + bz + h Uz + b'z)          how much of the old state is kept
    r = sigmoid(x Wr + br + h Ur + b'r)          how much of the old state the candidate sees
    c = tanh(x Wc + bc + r * (h Uc + b'c))       the new candidate state
    h = z * h + (1 - z) * c
LSTM (kernel columns ordered input i, forget f, candidate g, output o):
    c = f * c + i * g;  h = o * tanh(c)
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .files import write_atomic

if TYPE_CHECKING:
    import pandas as pd

    from .config import TrainConfig
    from .store import Store

GRU_GATES = ("update", "reset", "candidate")
LSTM_GATES = ("input", "forget", "candidate", "output")
GATES_SUFFIX = ".gates.json"  # beside <key>.keras; not an entry's record (its stem has a dot)


class GatesError(ValueError):
    """A gates file that is missing, unreadable or not of its network, in words."""


@dataclass(frozen=True)
class CellWeights:
    """One direction of a recurrent layer: kernel (features, k*units), recurrent kernel
    (units, k*units) and bias ((2, 3*units) for a GRU: input and recurrent rows; (4*units,)
    for an LSTM)."""

    cell: str
    kernel: np.ndarray
    recurrent_kernel: np.ndarray
    bias: np.ndarray

    def __post_init__(self) -> None:
        gates = {"gru": 3, "lstm": 4}.get(self.cell)
        if gates is None:
            raise ValueError(f"cell {self.cell!r} is not gru or lstm")
        units = self.recurrent_kernel.shape[0] if self.recurrent_kernel.ndim == 2 else 0
        bias = (2, 3 * units) if self.cell == "gru" else (4 * units,)
        shapes = (self.kernel.shape, self.recurrent_kernel.shape, self.bias.shape)
        fits = (
            units > 0
            and self.kernel.ndim == 2
            and self.kernel.shape[1] == gates * units
            and self.recurrent_kernel.shape == (units, gates * units)
            and self.bias.shape == bias
        )
        if not fits:
            raise ValueError(f"{self.cell} weights of shapes {shapes} do not fit one cell")
        if not all(np.isfinite(a).all() for a in (self.kernel, self.recurrent_kernel, self.bias)):
            raise ValueError(f"{self.cell} weights hold values that are not finite")

    @property
    def units(self) -> int:
        return self.recurrent_kernel.shape[0]

    @property
    def features(self) -> int:
        """How many input channels the cell reads each month."""
        return self.kernel.shape[0]

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


def gates_path(folder: Path, key: str) -> Path:
    """Where a store entry's encoder weights live: `<key>.gates.json` beside its network."""
    return folder / f"{key}{GATES_SUFFIX}"


def write_gates(path: Path, directions: list[CellWeights], network_sha256: str) -> None:
    """Write the encoder's weights (forward first) with the sha256 of the network they are of."""
    text = json.dumps(
        {"network_sha256": network_sha256, "directions": [w.to_json() for w in directions]}
    )
    write_atomic(path, lambda temporary: temporary.write_text(text, "utf-8"))


def export_gates(store: Store, key: str) -> Path:
    """Write a stored entry's gates file from its verified network file (imports TensorFlow)."""
    record = store.verify(key)
    directions = encoder_weights(store.load_network(key), record.config.cell)
    path = gates_path(store.folder, key)
    write_gates(path, directions, record.network_sha256)
    return path


def read_gates(path: Path, network_sha256: str) -> list[CellWeights]:
    """The encoder's weights of the network whose sha256 is given; GatesError says what is off."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise GatesError(
            f"this model has no gates file ({path.name}): it was stored before training wrote "
            "one; `python -m dashboard export-gates` on the server writes it from the network"
        ) from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise GatesError(f"the gates file {path.name} cannot be read ({error})") from None
    if not isinstance(data, dict) or data.get("network_sha256") != network_sha256:
        raise GatesError(f"the gates file {path.name} is not of this model's network")
    try:
        directions = [CellWeights.from_json(values) for values in data["directions"]]
    except (KeyError, TypeError, ValueError) as error:
        raise GatesError(f"the gates file {path.name} is damaged ({error})") from None
    if len(directions) not in (1, 2) or len({(w.cell, w.kernel.shape) for w in directions}) > 1:
        raise GatesError(f"the gates file {path.name} is damaged (its directions differ)")
    return directions


@dataclass(frozen=True)
class EncoderWindow:
    """A station's input window at the forecast origin past the data, as the network reads it.

    months: the window's months; inputs: (window, features) as fed to the encoder (the scaled
    value, then the month's sine and cosine with the calendar channels); values: the input in
    the variable's units (the anomaly from the seasonal level, or the value itself).
    """

    months: pd.DatetimeIndex
    inputs: np.ndarray
    values: np.ndarray


def encoder_window(
    config: TrainConfig, cutoff: str, monthly: pd.DataFrame, station: str
) -> EncoderWindow | None:
    """The window the encoder read for `station`'s forecast past the data; None if it has none.

    The data are prepared as for the network's training (levels and scale fitted on the months
    up to `cutoff`), as `pipeline.forecast_from` prepares them.
    """
    from .windows import forecast_inputs, prepare

    config = config.replace(cutoff=cutoff)
    prepared = prepare(monthly, config)
    latest = forecast_inputs(prepared, config, None)
    if station not in prepared.locations:
        return None
    row = np.flatnonzero(latest.location == prepared.locations.index(station))
    if not len(row):
        return None
    location, start = latest.location[row[0]], latest.start[row[0]]
    rows = np.arange(start - config.window, start)
    values = prepared.filled[rows, location] - prepared.level(rows, np.full(len(rows), location))
    return EncoderWindow(prepared.months[rows], latest.history[row[0]].astype(float), values)


def replay_encoder(directions: list[CellWeights], inputs: np.ndarray) -> list[Replay]:
    """Replay each direction over the window: the forward one, then the backward one if any."""
    return [
        replay(weights, inputs, backward=index == 1) for index, weights in enumerate(directions)
    ]
