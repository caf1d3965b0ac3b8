"""CPU inference without torch: the registry's networks, re-implemented in numpy.

Why: `import torch` alone costs about two seconds, which would dominate `namelang predict Satoshi`.
The engine also folds the embedding into the first layer's input weights (one table lookup per
character instead of a matrix product) and, since batches arrive sorted by decreasing length, steps
only the rows still inside their name. The tests check it against the torch modules.
"""

from __future__ import annotations

import math

import numpy as np

from namelang.errors import NamelangError, literal
from namelang.models.forward import active_rows

GATES = {"RNN": 1, "GRU": 3, "LSTM": 4}


def sigmoid(x: np.ndarray) -> np.ndarray:
    return 0.5 * (np.tanh(0.5 * x) + 1.0)  # the same function, without exp overflow


def check_shapes(state: dict[str, np.ndarray], expected: dict[str, tuple[int, ...]]) -> None:
    """The weights must hold exactly the tensors the model description implies."""
    if set(state) != set(expected):
        extra, missing = sorted(set(state) - set(expected)), sorted(set(expected) - set(state))
        raise NamelangError(
            f"model.json and the weights disagree (missing {literal(missing[:3])}, unexpected {literal(extra[:3])})"
        )
    for key, shape in expected.items():
        if tuple(state[key].shape) != shape:
            raise NamelangError(
                f"model.json and the weights disagree: {key} is {tuple(state[key].shape)}, expected {shape}"
            )


class ExactProduct:
    """`x @ weight` for x in [-1, 1] (the networks' states), the same for a row whatever rows share the call.

    Why: BLAS sums a row's products in an order that depends on where the row sits in the matrix
    (OpenBLAS's sgemm: rows 6-11 of each 12 differ from rows 0-5), so a name's probabilities moved in
    the sixth decimal with the names scored beside it. Here x is rounded to a grid of 2^-bits and the
    weight to 23 bits of its largest value: both are then integers, multiplied in float64, where every
    partial sum stays an integer under 2^53 and is exact, so any order gives the same sum. The rounding
    is below float32's own (a state's step is 2^-23 for 128 inputs).
    """

    __array_ufunc__ = None  # `x @ product` comes to __rmatmul__, not to numpy

    def __init__(self, weight: np.ndarray):
        top = float(np.abs(weight).max()) if weight.size else 0.0
        weight_bits = 23 - (math.frexp(top)[1] if top > 0 else 0)  # |weight| * 2^weight_bits <= 2^23
        x_bits = min(23, 30 - max(weight.shape[0] - 1, 1).bit_length())  # K * 2^x_bits * 2^23 <= 2^53
        self.weight = np.rint(np.asarray(weight, dtype=np.float64) * 2.0**weight_bits)
        self.x_scale = 2.0**x_bits
        self.unscale = 2.0 ** -(x_bits + weight_bits)

    def __rmatmul__(self, x: np.ndarray) -> np.ndarray:
        # Each step in float64 and in place: a float32 @ float64 product, or separate scaling and casting
        # passes, made this twice as slow.
        grid = np.multiply(x, self.x_scale, dtype=np.float64)  # exact: a power-of-two scaling
        np.rint(grid, out=grid)
        out = grid @ self.weight  # exact
        result = np.empty(out.shape, dtype=np.float32)
        return np.multiply(out, self.unscale, out=result, casting="unsafe")  # one rounding, to float32


def _fold_gate_bias(w_in, b_hh: np.ndarray, n: int):
    """The r and z gates' recurrent bias added to the input projection (a table or a (weight, bias))."""
    extra = np.zeros_like(b_hh)
    extra[: 2 * n] = b_hh[: 2 * n]
    if isinstance(w_in, tuple):
        return w_in[0], w_in[1] + extra
    return w_in + extra


def _gru_step(x: np.ndarray, h: np.ndarray, w_hh_t, b_hn: np.ndarray, n: int, hh=None) -> np.ndarray:
    """One GRU step as nn.GRU computes it, in place on fresh buffers: a batch of names is a few
    hundred rows, so each temporary array the plain formula makes costs as much as the arithmetic."""
    hh = h @ w_hh_t if hh is None else hh  # [k, 3n] (`hh`: made already); r and z biases are in x
    rz = hh[:, : 2 * n]
    rz += x[:, : 2 * n]
    rz *= 0.5
    np.tanh(rz, out=rz)  # sigmoid(a) = (tanh(a / 2) + 1) / 2, without exp overflow
    rz += 1.0
    rz *= 0.5
    candidate = hh[:, 2 * n :]
    candidate += b_hn
    candidate *= rz[:, :n]
    candidate += x[:, 2 * n :]
    np.tanh(candidate, out=candidate)
    out = h - candidate  # h' = (1 - z) * candidate + z * h = candidate + z * (h - candidate)
    out *= rz[:, n:]
    out += candidate
    return out


class NumpyRecurrent:
    """nn.RNN (tanh) / nn.GRU / nn.LSTM with embeddings and a linear head, as in `recurrent.py`."""

    def __init__(self, cell: str, state: dict[str, np.ndarray], n_chars: int, n_labels: int, spec):
        self.cell, self.layers = cell, spec.layers
        self.directions = 2 if spec.bidirectional else 1
        g, h, e = GATES[cell], spec.hidden, spec.embedding_dim
        expected = {
            "embedding.weight": (n_chars, e),
            "head.weight": (n_labels, h * self.directions),
            "head.bias": (n_labels,),
        }
        for layer in range(self.layers):
            width = e if layer == 0 else h * self.directions
            for suffix in self._suffixes(layer):
                expected[f"rnn.weight_ih{suffix}"] = (g * h, width)
                expected[f"rnn.weight_hh{suffix}"] = (g * h, h)
                expected[f"rnn.bias_ih{suffix}"] = (g * h,)
                expected[f"rnn.bias_hh{suffix}"] = (g * h,)
        check_shapes(state, expected)
        self.hidden = h
        self.weights = []
        for layer in range(self.layers):
            per_direction = []
            for suffix in self._suffixes(layer):
                w_ih, b_ih = state[f"rnn.weight_ih{suffix}"], state[f"rnn.bias_ih{suffix}"]
                if layer == 0:  # fold the embedding in: one row of input projection per character
                    w_in = (state["embedding.weight"] @ w_ih.T + b_ih).astype(np.float32)
                else:
                    w_in = (ExactProduct(w_ih.T), b_ih.astype(np.float32))
                w_hh_t = ExactProduct(state[f"rnn.weight_hh{suffix}"].T)
                b_hh = state[f"rnn.bias_hh{suffix}"].astype(np.float32)
                if cell == "GRU":  # r and z add b_hh outside the product: fold it into the input side
                    w_in, b_hh = _fold_gate_bias(w_in, b_hh, h), b_hh[2 * h :].copy()
                per_direction.append((w_in, w_hh_t, b_hh))
            self.weights.append(per_direction)
        self.head_w = ExactProduct(state["head.weight"].T)
        self.head_b = state["head.bias"]

    def _suffixes(self, layer: int) -> list[str]:
        return [f"_l{layer}", f"_l{layer}_reverse"][: self.directions]

    def _step(self, x: np.ndarray, h: np.ndarray, c: np.ndarray | None, w_hh_t, b_hh, hh=None):
        n = self.hidden
        if self.cell == "GRU":
            return _gru_step(x, h, w_hh_t, b_hh, n, hh), None
        hh = (h @ w_hh_t if hh is None else hh) + b_hh
        if self.cell == "RNN":
            return np.tanh(x + hh), None
        gates = x + hh  # LSTM: input, forget, cell, output
        i, f = sigmoid(gates[:, :n]), sigmoid(gates[:, n : 2 * n])
        g, o = np.tanh(gates[:, 2 * n : 3 * n]), sigmoid(gates[:, 3 * n :])
        c = f * c + i * g
        return o * np.tanh(c), c

    @property
    def shares_prefixes(self) -> bool:
        """One layer: its states after t characters depend on those characters only (prefix_sharing.py).
        A second layer reads the whole first layer, backward direction included, so it cannot."""
        return self.layers == 1

    def shared_logits(self, ids: np.ndarray, lengths: np.ndarray, map_blocks=map) -> np.ndarray:
        """`__call__`'s logits, each distinct prefix (and, backward, suffix) stepped once."""
        from namelang.models.prefix_sharing import final_states, reversed_names

        finals = []
        for direction, (table, w_hh_t, b_hh) in enumerate(self.weights[0]):
            names = ids if direction == 0 else reversed_names(ids, lengths)

            def step(x, h, c, hh, w_hh_t=w_hh_t, b_hh=b_hh):
                return self._step(x, h, c, w_hh_t, b_hh, hh)

            with_cell = self.cell == "LSTM"
            finals.append(
                final_states(step, table, names, lengths, self.hidden, with_cell, map_blocks, w_hh_t)
            )
        return np.concatenate(finals, axis=1) @ self.head_w + self.head_b

    def __call__(self, ids: np.ndarray, lengths: np.ndarray) -> np.ndarray:
        batch, width = ids.shape
        active = active_rows(lengths, width)
        steps = ids.T  # [T, B]
        layer_input = None
        finals = []
        for layer, per_direction in enumerate(self.weights):
            outputs, finals = [], []
            last = layer == self.layers - 1
            for direction, (w_in, w_hh_t, b_hh) in enumerate(per_direction):
                if layer == 0:
                    projected = w_in[steps]  # [T, B, G*H] by table lookup
                else:
                    projected = layer_input @ w_in[0] + w_in[1]
                h = np.zeros((batch, self.hidden), dtype=np.float32)
                c = np.zeros_like(h) if self.cell == "LSTM" else None
                out = None if last else np.zeros((width, batch, self.hidden), dtype=np.float32)
                order = range(width) if direction == 0 else range(width - 1, -1, -1)
                for t in order:
                    k = active[t]
                    new_h, new_c = self._step(
                        projected[t, :k], h[:k], None if c is None else c[:k], w_hh_t, b_hh
                    )
                    h[:k] = new_h
                    if c is not None:
                        c[:k] = new_c
                    if out is not None:
                        out[t, :k] = new_h
                finals.append(h)
                outputs.append(out)
            if not last:
                layer_input = np.concatenate(outputs, axis=2)
        return np.concatenate(finals, axis=1) @ self.head_w + self.head_b


class NumpyClassic:
    """The article's i2h/i2o cell (`classic.py`); a one-hot input times a matrix is a column lookup."""

    def __init__(self, state: dict[str, np.ndarray], n_chars: int, n_labels: int, spec):
        h = spec.hidden
        check_shapes(
            state,
            {
                "i2h.weight": (h, n_chars + h),
                "i2h.bias": (h,),
                "i2o.weight": (n_labels, n_chars + h),
                "i2o.bias": (n_labels,),
            },
        )
        w_h, w_o = state["i2h.weight"], state["i2o.weight"]
        self.char_h = np.ascontiguousarray(w_h[:, :n_chars].T + state["i2h.bias"])
        self.char_o = np.ascontiguousarray(w_o[:, :n_chars].T + state["i2o.bias"])
        self.hid_h = ExactProduct(w_h[:, n_chars:].T)
        self.hid_o = ExactProduct(w_o[:, n_chars:].T)
        self.hidden, self.n_labels = h, n_labels

    def __call__(self, ids: np.ndarray, lengths: np.ndarray) -> np.ndarray:
        batch, width = ids.shape
        active = active_rows(lengths, width)
        h = np.zeros((batch, self.hidden), dtype=np.float32)
        logits = np.zeros((batch, self.n_labels), dtype=np.float32)
        for t in range(width):
            k = active[t]
            done = active[t + 1] if t + 1 < width else 0  # rows [done, k) end at this character
            chars = ids[:k, t]
            if done < k:
                logits[done:k] = self.char_o[chars[done:]] + h[done:k] @ self.hid_o
            h[:k] = np.tanh(self.char_h[chars] + h[:k] @ self.hid_h)
        return logits
