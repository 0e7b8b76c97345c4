"""Converters of the recurrent layers (LSTM, GRU, SimpleRNN, and RNN over their cells) as
ONNX's LSTM, GRU and RNN ops, and of the wrappers (Bidirectional, TimeDistributed).

ONNX's recurrent ops read (timesteps, batch, features): the input is transposed in and the
outputs out. Keras' go_backwards reads the sequence backwards and returns the outputs in
that reversed order: it is exported as a reversed input fed to a forward op. Gate order:
Keras' LSTM kernel columns are i, f, c, o and ONNX's are i, o, f, c; GRU's z, r, h are the
same in both (reset_after=False is ONNX's linear_before_reset=0, True is 1)."""
import numpy as np

from seqnet.layers.recurrent import GRU, LSTM, RNN, GRUCell, LSTMCell, SimpleRNN, SimpleRNNCell, StackedRNNCells
from seqnet.layers.wrappers import Bidirectional, TimeDistributed
from seqnet.onnx.activation_ops import recurrent_activations
from seqnet.onnx.registry import converts, unsupported

_KINDS = {LSTM: "LSTM", LSTMCell: "LSTM", GRU: "GRU", GRUCell: "GRU", SimpleRNN: "RNN", SimpleRNNCell: "RNN"}


@converts(LSTM, GRU, SimpleRNN)
def recurrent(g, layer, x, in_shape, out_shape):
    _check_stateless(layer)
    initial = x[1:] if isinstance(x, list) else None  # layer(x, initial_state=[...]): [x] + the states
    x = x[0] if isinstance(x, list) else x
    return _recurrent_op(g, layer, layer, x, layer.return_sequences, layer.go_backwards, layer.return_state,
                         initial)


@converts(RNN)
def rnn(g, layer, x, in_shape, out_shape):
    """RNN over a built-in cell, or a StackedRNNCells of them: one op per cell, each reading
    the previous one's output sequence (the first reads it backwards with go_backwards)."""
    _check_stateless(layer)
    cells = layer.cell.cells if type(layer.cell) is StackedRNNCells else [layer.cell]
    for cell in cells:
        if type(cell) not in _KINDS:
            raise unsupported(layer, f"its cell {type(cell).__name__} cannot be exported (SimpleRNNCell, GRUCell, "
                                     "LSTMCell and a StackedRNNCells of them can)")
    # Keras 2.2.4 lists the cells' states in reverse cell order (also the initial states)
    counts = [2 if _KINDS[type(cell)] == "LSTM" else 1 for cell in cells]
    initial = x[1:] if isinstance(x, list) else None
    x = x[0] if isinstance(x, list) else x
    states = []
    for i, cell in enumerate(cells):
        last = i == len(cells) - 1
        start = sum(counts[i + 1:])
        outs = _recurrent_op(g, layer, cell, x, layer.return_sequences or not last, layer.go_backwards and i == 0,
                             True, None if initial is None else initial[start:start + counts[i]])
        x = outs[0]
        states = outs[1:] + states
    return [x] + states if layer.return_state else x


def _check_stateless(layer):
    if layer.stateful:
        raise unsupported(layer, "stateful=True cannot be exported (an ONNX graph keeps no state between runs); "
                                 "rebuild the model with stateful=False and copy its weights")


def _recurrent_op(g, layer, cell, x, return_sequences, go_backwards, return_state, initial=None):
    """One ONNX LSTM/GRU/RNN op computing `cell` (a recurrent layer or cell: its weights and
    activations) over x (batch, timesteps, features), from the states `initial` (names of
    (batch, units) tensors; zeros when None); errors name `layer`."""
    kind = _KINDS[type(cell)]
    u = cell.units
    kernel, recurrent_kernel = cell.kernel.value, cell.recurrent_kernel.value
    bias = cell.bias.value if cell.bias is not None else None
    activation = (cell.activation, "activation")
    gates = (cell.recurrent_activation, "recurrent_activation")
    attributes = {}
    if kind == "LSTM":
        n_states, order = 2, [0, 3, 1, 2]  # Keras i, f, c, o -> ONNX i, o, f, c
        fns = [gates, activation, activation]
    elif kind == "GRU":
        n_states, order = 1, [0, 1, 2]
        fns = [gates, activation]
        attributes["linear_before_reset"] = int(cell.reset_after)
    else:
        n_states, order = 1, [0]
        fns = [activation]
    attributes.update(recurrent_activations(layer, fns))
    w = _gates(kernel, u, order).T[None]  # (1, gates * u, input_dim)
    r = _gates(recurrent_kernel, u, order).T[None]  # (1, gates * u, u)
    if bias is None:
        b = np.zeros((1, 2 * len(order) * u), np.float32)
    elif bias.ndim == 2:  # GRU(reset_after=True): [input bias; recurrent bias]
        b = np.concatenate([_gates(bias[0], u, order), _gates(bias[1], u, order)])[None]
    else:
        b = np.concatenate([_gates(bias, u, order), np.zeros(len(order) * u, np.float32)])[None]
    key = id(cell)
    seq = g.transpose(x, [1, 0, 2])  # (timesteps, batch, features)
    if go_backwards:
        seq = g.reverse(seq, 0)
    inputs = [seq, g.const(w, "W", key=(key, "W")), g.const(r, "R", key=(key, "R")), g.const(b, "B", key=(key, "B"))]
    if initial is not None:  # sequence_lens (none), then initial_h (and initial_c) as (1, batch, units)
        inputs += [""] + [g.unsqueeze(state, [0]) for state in initial]
    outs = g.op(kind, inputs, outputs=1 + n_states, hidden_size=u, direction="forward", **attributes)
    if return_sequences:  # (timesteps, 1, batch, units) -> (batch, timesteps, units)
        y = g.transpose(g.squeeze(outs[0], [1]), [1, 0, 2])
    else:  # the last output is the final h
        y = g.squeeze(outs[1], [0])
    if not return_state:
        return y
    return [y] + [g.squeeze(state, [0]) for state in outs[1:]]


def _gates(matrix, units, order):
    """The gate blocks of the last axis of `matrix` (Keras' order) in `order`."""
    return np.concatenate([matrix[..., i * units:(i + 1) * units] for i in order], axis=-1)


@converts(Bidirectional)
def bidirectional(g, layer, x, in_shape, out_shape):
    """The forward and backward layers each as one op, the backward outputs put back in the
    input's time order (with return_sequences), merged as the layer merges them."""
    outs = []
    for inner in (layer.forward_layer, layer.backward_layer):
        inner_out = inner.compute_output_shape(tuple(in_shape))
        outs.append(g.convert(inner, x, tuple(in_shape), inner_out))
    states = []
    if layer.return_state:
        states = list(outs[0][1:]) + list(outs[1][1:])
        outs = [outs[0][0], outs[1][0]]
    y, y_rev = outs
    if layer.return_sequences:
        y_rev = g.reverse(y_rev, 1)
    mode = layer.merge_mode
    if mode is None:
        return [y, y_rev] + states
    if mode == "concat":
        merged = g.op("Concat", [y, y_rev], axis=-1)
    elif mode == "mul":
        merged = g.op("Mul", [y, y_rev])
    else:
        merged = g.op("Add", [y, y_rev])
        if mode == "ave":
            merged = g.op("Mul", [merged, g.scalar(0.5)])
    return [merged] + states if layer.return_state else merged


@converts(TimeDistributed)
def time_distributed(g, layer, x, in_shape, out_shape):
    """The wrapped layer on (batch * timesteps, ...), reshaped back to (batch, timesteps, ...)."""
    child_in = (None,) + tuple(in_shape[2:])
    child_out = tuple(layer.layer.compute_output_shape(child_in))
    if any(d is None for d in child_in[1:]):
        raise unsupported(layer, f"the per-step shape {child_in} must be known to be exported")
    merged = g.reshape(x, [-1] + list(child_in[1:]))
    y = g.convert(layer.layer, merged, child_in, child_out)
    if in_shape[1] is not None and all(d is not None for d in child_out[1:]):
        return g.reshape(y, [-1, in_shape[1]] + list(child_out[1:]))
    # timesteps known only at run time: (batch, timesteps) from the input, the rest from y
    leading = g.slice(g.op("Shape", [x], dtype=g.onnx.TensorProto.INT64), [0], [2], [0])
    rest = g.slice(g.op("Shape", [y], dtype=g.onnx.TensorProto.INT64), [1], [len(child_out)], [0])
    return g.op("Reshape", [y, g.op("Concat", [leading, rest], axis=0, dtype=g.onnx.TensorProto.INT64)])
