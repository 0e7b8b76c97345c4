"""RNN: a recurrent layer over any cell (Keras 2.2.4's ``keras.layers.RNN``).

Two ways to run, chosen per call:

- **native**: a built-in ``SimpleRNNCell``/``GRUCell``/``LSTMCell``, or a ``StackedRNNCells``
  of them, with activations the kernels implement, and no ``initial_state``: one
  ``SimpleRNN``/``GRU``/``LSTM`` runner per cell (``BaseRNN``: one engine call per sequence,
  masks, dropout, stateful) working on the cell's own weights;
- **tape**: any other cell (a user's ``Layer`` with ``state_size`` and ``call(inputs, states)``
  written with ``seqnet.backend`` ops), or an ``initial_state``: a Python loop over the time
  steps (``time_loop``, Keras 2.2.4's ``K.rnn``) on the backend's tape, whose
  vector-Jacobian product gives the gradients of the weights, the inputs and the initial
  states.
"""
import numpy as np

from seqnet import _engine, activations, backend as K
from seqnet.backend import session
from seqnet.backend.tensor import Tensor, backpropagate
from seqnet.engine.backend_call import leaves_of, restore_weights, swap_weights_for_leaves
from seqnet.engine.base_layer import Layer
from seqnet.layers.recurrent.base_rnn import (check_initial_states, initial_state_inputs, is_shape_list,
                                               reset_state_arrays)
from seqnet.layers.recurrent.cells import GRUCell, LSTMCell, SimpleRNNCell
from seqnet.layers.recurrent.gru import GRU
from seqnet.layers.recurrent.lstm import LSTM
from seqnet.layers.recurrent.simple_rnn import SimpleRNN
from seqnet.layers.recurrent.stacked_rnn_cells import (StackedRNNCells, check_cell, deserialize_cell, output_size,
                                                       state_sizes)
from seqnet.utils.generic_utils import has_arg


class RNN(Layer):
    """A recurrent layer over any cell, Keras 2.2.4's ``keras.layers.RNN(cell, ...)``.

    Arguments: ``cell`` (a cell: an object with ``call(inputs, states) -> (output,
    new_states)`` and ``state_size``, usually a ``Layer``; or a list of cells, which becomes a
    ``StackedRNNCells``), ``return_sequences``, ``return_state``, ``go_backwards``,
    ``stateful`` (needs the batch size: ``batch_input_shape`` or ``batch_size``), ``unroll``
    (accepted; changes nothing). Inputs (batch, timesteps, input_dim); ``layer(x,
    initial_state=[...])`` starts from given states (symbolic tensors, which get gradients).
    The weights are the cell's (``rnn_1/lstm_cell_1/kernel:0``, tf-keras' names; files load
    by order, so Keras 2.2.4's ``rnn_1/kernel:0`` files load too).

    Masks (K.rnn): a masked step carries the states over and repeats the previous output,
    zeros before the first unmasked step, as tf-keras, Keras 2.2.4 with ``unroll=True`` and
    seqnet's LSTM/GRU/SimpleRNN. (Keras 2.2.4's default TensorFlow loop repeated
    ``states[0]`` instead: the same unless a cell's output is not its first state, or a row
    starts masked with a non-zero initial state.)

    Not supported: ``constants`` (Keras 2.2.4's extra per-sequence inputs of a cell),
    ``time_major=True``.
    """

    supports_masking = True

    def __init__(self, cell, return_sequences=False, return_state=False, go_backwards=False, stateful=False,
                 unroll=False, time_major=False, **kwargs):
        if isinstance(cell, (list, tuple)):
            cell = StackedRNNCells(cell)
        check_cell(cell, "RNN")
        # A recurrent layer's input_dim alone means (timesteps unknown, input_dim).
        if kwargs.get("input_dim") is not None and "input_length" not in kwargs:
            kwargs["input_length"] = None
        super().__init__(**kwargs)
        if time_major:
            raise ValueError(f"Layer '{self.name}' (RNN): time_major=True is not supported by seqnet (inputs are "
                             "batch-major)")
        self.cell = cell
        self.return_sequences = bool(return_sequences)
        self.return_state = bool(return_state)
        self.go_backwards = bool(go_backwards)
        self.stateful = bool(stateful)
        self.unroll = bool(unroll)
        self.states = None  # stateful: one (batch, size) array per state, in the cell's order
        self._native = None

    def __call__(self, inputs, initial_state=None, constants=None, **kwargs):
        """Applies the layer to a symbolic tensor; ``initial_state`` (a tensor or a list, one
        per state) becomes extra inputs, as in Keras."""
        return super().__call__(initial_state_inputs(self, inputs, initial_state, constants), **kwargs)

    # ---- building -------------------------------------------------------------------------------
    def build(self, input_shape):
        shapes = [tuple(s) for s in input_shape] if is_shape_list(input_shape) else [tuple(input_shape)]
        x_shape = shapes[0]
        if len(x_shape) != 3:
            raise ValueError(f"Layer '{self.name}' (RNN) expects inputs of shape (batch, timesteps, input_dim), "
                             f"got {x_shape}")
        if x_shape[-1] is None:
            raise ValueError(f"Layer '{self.name}' (RNN): the last axis of the input must be defined, got {x_shape}")
        if self.stateful and x_shape[0] is None:
            raise ValueError(f"Layer '{self.name}': if a RNN is stateful, it needs to know its batch size. Specify "
                             "the batch size of your input tensors: pass `batch_input_shape=(batch, timesteps, "
                             "input_dim)` (or `batch_size=`) to the first layer of a Sequential model.")
        sizes = state_sizes(self.cell)
        if len(shapes) > 1:
            check_initial_states(self, shapes[1:], sizes)
        if isinstance(self.cell, Layer) and not self.cell.built:
            self.cell.build((x_shape[0], x_shape[-1]))
            self.cell.built = True
            for w in self.cell.weights:
                w.name = f"{self.name}/{w.name}"
        self._weights = list(getattr(self.cell, "weights", []))
        if self.stateful:
            self.states = [np.zeros((x_shape[0], n), np.float32) for n in sizes]
        self._native = native_runners(self)
        super().build(input_shape)

    @property
    def trainable_weights(self):
        return list(getattr(self.cell, "trainable_weights", [])) if self.trainable else []

    @property
    def non_trainable_weights(self):
        if not self.trainable:
            return self.weights
        return list(getattr(self.cell, "non_trainable_weights", []))

    def compute_output_shape(self, input_shape):
        if is_shape_list(input_shape):  # [inputs] + initial states
            input_shape = input_shape[0]
        units = output_size(self.cell)
        out = (input_shape[0], input_shape[1], units) if self.return_sequences else (input_shape[0], units)
        if self.return_state:
            return [out] + [(input_shape[0], n) for n in state_sizes(self.cell)]
        return out

    def compute_mask(self, inputs, mask=None):
        """The input mask with ``return_sequences``, else None (None for each state)."""
        if isinstance(mask, list):
            mask = mask[0]
        out = mask if self.return_sequences else None
        if self.return_state:
            return [out] + [None] * len(state_sizes(self.cell))
        return out

    @property
    def n_outputs(self):
        return 1 + len(state_sizes(self.cell)) if self.return_state else 1

    def reset_states(self, states=None):
        """Zeroes the states of a stateful layer (or sets them to `states`, in the cell's order)."""
        reset_state_arrays(self, states)

    # ---- running --------------------------------------------------------------------------------
    def forward(self, x, training, mask=None):
        xs = x if isinstance(x, list) else [x]
        if isinstance(mask, (list, tuple)):  # [input mask] + the initial states' masks
            mask = mask[0] if mask else None
        batch, steps = xs[0].shape[:2]
        if mask is not None and np.shape(mask) != (batch, steps):
            raise ValueError(f"Layer '{self.name}': the mask must have shape (batch, timesteps) = {(batch, steps)}, "
                             f"got {np.shape(mask)}")
        if self.stateful and batch != self.states[0].shape[0]:
            raise ValueError(f"Layer '{self.name}' is stateful with batch size {self.states[0].shape[0]} (from "
                             f"batch_input_shape), but got a batch of {batch} samples")
        self._ran_native = len(xs) == 1 and self._native is not None
        if self._ran_native:
            return self._native_forward(xs[0], training, mask)
        return self._tape_forward(xs, training, mask)

    def backward(self, dy, need_dx=True, dy_is_preactivation=False):
        if self.return_state:
            if not isinstance(dy, (list, tuple)) or len(dy) != self.n_outputs:
                raise ValueError(f"Layer '{self.name}' returns {self.n_outputs} outputs (return_state=True); "
                                 f"backward needs a list of {self.n_outputs} gradients (None for none)")
            dy, dstates = dy[0], list(dy[1:])
        else:
            dstates = [None] * len(state_sizes(self.cell))
        if self._ran_native:
            return self._native_backward(dy, dstates, need_dx)
        return self._tape_backward(dy, dstates, need_dx)

    def _native_forward(self, x, training, mask):
        h, finals = x, []
        for i, runner in enumerate(self._native):
            # the runners after the first read its output, already in processing order
            m = mask[:, ::-1] if i > 0 and mask is not None and self.go_backwards else mask
            out = runner.forward(h, training, mask=m)
            h, states = (out[0], out[1:]) if self.return_state else (out, [])
            finals.append(states)
        if not self.return_state:
            return h
        return [h] + [s for states in finals[::-1] for s in states]

    def _native_backward(self, dy, dstates, need_dx):
        per_runner, at = [], len(dstates)
        for runner in self._native:  # states in reverse cell order: the first cell's come last
            per_runner.append(dstates[at - runner._n_states:at])
            at -= runner._n_states
        g = dy
        for i in range(len(self._native) - 1, -1, -1):
            runner = self._native[i]
            g = runner.backward([g] + per_runner[i] if runner.return_state else g, need_dx=i > 0 or need_dx)
        return g

    def _tape_forward(self, xs, training, mask):
        x, batch = xs[0], xs[0].shape[0]
        inputs = [Tensor(np.ascontiguousarray(x[:, t]), requires_grad=True) for t in range(x.shape[1])]
        given = [Tensor(np.ascontiguousarray(s), requires_grad=True) for s in xs[1:]]
        if given:
            states = given
        elif self.stateful:
            states = [s.copy() for s in self.states]
        else:
            states = [np.zeros((batch, n), np.float32) for n in state_sizes(self.cell)]
        cells = _cells_in(self.cell)
        for cell in cells:
            for reset in ("reset_dropout_mask", "reset_recurrent_dropout_mask"):
                if hasattr(cell, reset):
                    getattr(cell, reset)()
        swapped = []
        try:
            for cell in cells:
                swapped.append((cell, swap_weights_for_leaves(cell)))
            with session.call_phase(training):
                outputs, finals = time_loop(self.cell, inputs, states, mask, self.go_backwards, training)
        finally:
            for cell, pairs in swapped:
                restore_weights(cell, pairs)
        self._tape = (inputs, given, swapped, outputs, finals)
        if self.stateful:
            for s, new in zip(self.states, finals):
                s[...] = _value(new)
        if self.return_sequences:
            y = np.stack([_value(o) for o in outputs], axis=1).astype(np.float32, copy=False)
        else:
            y = np.ascontiguousarray(_value(outputs[-1]), dtype=np.float32)
        if self.return_state:
            return [y] + [np.ascontiguousarray(_value(s), dtype=np.float32) for s in finals]
        return y

    def _tape_backward(self, dy, dstates, need_dx):
        inputs, given, swapped, outputs, finals = self._tape
        roots, cotangents = [], []
        if dy is not None:
            dy = np.asarray(dy, dtype=np.float32)
            if self.return_sequences:
                roots += outputs
                cotangents += [dy[:, t] for t in range(len(outputs))]
            else:
                roots.append(outputs[-1])
                cotangents.append(dy)
        for state, g in zip(finals, dstates):
            if g is not None:
                roots.append(state)
                cotangents.append(np.asarray(g, dtype=np.float32))
        grads = backpropagate(roots, cotangents)
        seen = set()
        for _, pairs in swapped:
            for weight, leaf in leaves_of(pairs):
                seen.add(id(weight))
                if weight.grad is not None:
                    g = grads.get(id(leaf))
                    if g is None:
                        weight.grad.fill(0.0)
                    else:
                        weight.grad[...] = g
        for weight in self._weights:  # weights the cell's call did not reach through an attribute
            if id(weight) not in seen and weight.grad is not None:
                weight.grad.fill(0.0)
        if not need_dx:
            return None
        dx = np.zeros((inputs[0].shape[0], len(inputs), inputs[0].shape[1]), np.float32)
        for t, leaf in enumerate(inputs):
            g = grads.get(id(leaf))
            if g is not None:
                dx[:, t] = g
        if not given:
            return dx
        return [dx] + [np.ascontiguousarray(grads[id(s)], dtype=np.float32) if id(s) in grads
                       else np.zeros(s.shape, np.float32) for s in given]

    def _call_clone(self):
        clone = super()._call_clone()
        if self._native is not None:
            clone._native = [runner._call_clone() for runner in self._native]
        return clone

    # ---- configuration ----------------------------------------------------------------------------
    def get_config(self):
        config = super().get_config()
        config.update(return_sequences=self.return_sequences, return_state=self.return_state,
                      go_backwards=self.go_backwards, stateful=self.stateful, unroll=self.unroll)
        config["cell"] = {"class_name": type(self.cell).__name__, "config": self.cell.get_config()}
        return config

    @classmethod
    def from_config(cls, config, custom_objects=None):
        config = dict(config)
        cell = deserialize_cell(config.pop("cell"), custom_objects)
        if config.pop("num_constants", None) is not None:
            raise ValueError("RNN: `constants` (num_constants in the config) are not supported by seqnet")
        return cls(cell, **config)


def time_loop(cell, inputs, states, mask, go_backwards, training):
    """Keras 2.2.4's ``K.rnn`` over a cell: ``inputs`` is the list of per-step (batch, dim)
    tensors in time order, ``mask`` None or (batch, steps). Returns (the outputs of every
    step in processing order, the final states)."""
    kwargs = {"training": training} if has_arg(cell.call, "training") else {}
    steps = range(len(inputs) - 1, -1, -1) if go_backwards else range(len(inputs))
    states = list(states)
    outputs, previous = [], None
    for t in steps:
        out, new_states = cell.call(inputs[t], list(states), **kwargs)
        new_states = list(new_states) if isinstance(new_states, (list, tuple)) else [new_states]
        if mask is not None:
            keep = np.asarray(mask[:, t]) != 0
            if not keep.all():
                if previous is None:
                    previous = np.zeros(np.shape(_value(out)), np.float32)
                out = K.switch(keep, out, previous)
                new_states = [K.switch(keep, new, old) for new, old in zip(new_states, states)]
        outputs.append(out)
        previous, states = out, new_states
    return outputs, states


def native_runners(rnn):
    """One SimpleRNN/GRU/LSTM runner per cell of `rnn` (its weights are the cell's, its states
    the rnn's), or None when some cell has no native kernel."""
    stacked = isinstance(rnn.cell, StackedRNNCells) and type(rnn.cell).call is StackedRNNCells.call
    cells = rnn.cell.cells if stacked else [rnn.cell]
    kinds = [_native_kind(cell) for cell in cells]
    if any(kind is None for kind in kinds):
        return None
    states, at = rnn.states, len(state_sizes(rnn.cell))
    runners = []
    for i, (cell, kind) in enumerate(zip(cells, kinds)):
        options = dict(activation=cell.activation, use_bias=cell.use_bias, dropout=cell.dropout,
                       recurrent_dropout=cell.recurrent_dropout,
                       return_sequences=rnn.return_sequences or i < len(cells) - 1, return_state=rnn.return_state,
                       go_backwards=rnn.go_backwards and i == 0, stateful=rnn.stateful, name=rnn.name)
        if kind is not SimpleRNN:
            options["recurrent_activation"] = cell.recurrent_activation
        if kind is GRU:
            options["reset_after"] = cell.reset_after
        runner = kind(cell.units, **options)
        runner.kernel, runner.recurrent_kernel, runner.bias = cell.kernel, cell.recurrent_kernel, cell.bias
        runner._weights = list(cell.weights)
        runner.built = True
        n = runner._n_states
        if states is not None:  # the same arrays: the runner updates them in place
            runner.states = states[at - n:at]
        at -= n
        runners.append(runner)
    return runners


def _native_kind(cell):
    for cell_class, layer_class in ((LSTMCell, LSTM), (GRUCell, GRU), (SimpleRNNCell, SimpleRNN)):
        if isinstance(cell, cell_class) and type(cell).call is cell_class.call and cell.built:
            functions = [cell.activation] + ([cell.recurrent_activation] if layer_class is not SimpleRNN else [])
            codes = [activations.engine_code(fn) for fn in functions]
            if all(code is not None and _engine.rnn_activation_supported(code) for code in codes):
                return layer_class
    return None


def _cells_in(cell):
    """The cell and, for a stack, every cell inside it (their weights become tape leaves)."""
    found = [cell]
    for inner in getattr(cell, "cells", None) or []:
        found += _cells_in(inner)
    return found


def _value(t):
    return t.value if isinstance(t, Tensor) else np.asarray(t)
