"""The recurrent cells of Keras 2.2.4 (``SimpleRNNCell``, ``GRUCell``, ``LSTMCell``): one time
step of a recurrent layer, for ``RNN(cell)`` and ``StackedRNNCells``.

A cell holds the weights (Keras 2.2.4's names, order and layout, as the LSTM/GRU/SimpleRNN
layers) and a ``call(inputs, states, training=None) -> (output, new_states)`` written with
``seqnet.backend`` ops, so it runs on the backend tape. ``RNN`` does not call it step by step
when it can avoid it: an ``RNN`` over one of these cells (or a stack of them) runs the native
sequence kernels of ``LSTM``/``GRU``/``SimpleRNN`` on the cell's own weights.
"""
import numpy as np

from seqnet import activations, backend as K, constraints, initializers, regularizers
from seqnet.backend import session
from seqnet.engine.base_layer import Layer
from seqnet.engine.weight import Weight
from seqnet.layers.recurrent.base_rnn import set_recurrent_options


class RecurrentCell(Layer):
    """What the built-in cells share: units, activations, the weight options of the three
    weights (kernel, recurrent_kernel, bias), and the dropout masks.

    Dropout as Keras 2.2.4: one mask per gate for the inputs (``dropout``) and one per gate
    for the previous output (``recurrent_dropout``), drawn at the first step of a sequence
    when training and kept for its other steps; ``RNN`` calls ``reset_dropout_mask`` and
    ``reset_recurrent_dropout_mask`` before each sequence (tf-keras' names).
    """

    _gates = 1

    def __init__(self, units, activation="tanh", recurrent_activation=None, use_bias=True,
                 kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal", bias_initializer="zeros",
                 kernel_regularizer=None, recurrent_regularizer=None, bias_regularizer=None, kernel_constraint=None,
                 recurrent_constraint=None, bias_constraint=None, dropout=0.0, recurrent_dropout=0.0, **kwargs):
        super().__init__(**kwargs)
        kind = type(self).__name__
        if isinstance(units, bool) or not isinstance(units, (int, np.integer)) or units <= 0:
            raise ValueError(f"{kind}: units must be a positive integer, got {units!r}")
        self.units = int(units)
        self.activation = activations.get(activation)
        self.recurrent_activation = activations.get(recurrent_activation) if recurrent_activation else None
        for fn in (self.activation, self.recurrent_activation):
            if fn is not None:
                tape_activation(fn, kind)  # ValueError now for one the tape cannot run
        self.use_bias = bool(use_bias)
        set_recurrent_options(self, kind, kernel_initializer, recurrent_initializer, bias_initializer,
                              kernel_regularizer, recurrent_regularizer, bias_regularizer, kernel_constraint,
                              recurrent_constraint, bias_constraint, dropout, recurrent_dropout)
        self.state_size = self.units
        self.output_size = self.units
        self._dropout_mask = None
        self._recurrent_dropout_mask = None

    @property
    def _where(self):
        return f"Layer '{self.name}' ({type(self).__name__})"

    # ---- building ---------------------------------------------------------------------------
    def _add_cell_weights(self, input_shape, bias_shape, bias_initializer):
        input_shape = tuple(input_shape)
        if len(input_shape) != 2 or input_shape[-1] is None:
            raise ValueError(f"Layer '{self.name}' ({type(self).__name__}) is built for one time step of shape "
                             f"(batch, input_dim) with input_dim defined, got {input_shape}")
        n = self._gates * self.units
        self.kernel = self.add_weight("kernel", (input_shape[-1], n), initializer=self.kernel_initializer,
                                      regularizer=self.kernel_regularizer, constraint=self.kernel_constraint)
        self.recurrent_kernel = self.add_weight("recurrent_kernel", (self.units, n),
                                                initializer=self.recurrent_initializer,
                                                regularizer=self.recurrent_regularizer,
                                                constraint=self.recurrent_constraint)
        self.bias = None
        if self.use_bias:
            self.bias = self.add_weight("bias", bias_shape, initializer=bias_initializer,
                                        regularizer=self.bias_regularizer, constraint=self.bias_constraint)

    # ---- dropout ------------------------------------------------------------------------------
    def reset_dropout_mask(self):
        self._dropout_mask = None

    def reset_recurrent_dropout_mask(self):
        self._recurrent_dropout_mask = None

    def _masks(self, inputs, h_tm1, training):
        """(input masks, recurrent masks): lists of ``_gates`` arrays, or None each when
        that dropout is off (rate 0, or not training)."""
        if training is None:
            training = session.learning_phase()
        if not training:
            return None, None
        if 0.0 < self.dropout and self._dropout_mask is None:
            self._dropout_mask = _dropout_masks(K.int_shape(inputs), self.dropout, self._gates)
        if 0.0 < self.recurrent_dropout and self._recurrent_dropout_mask is None:
            self._recurrent_dropout_mask = _dropout_masks(K.int_shape(h_tm1), self.recurrent_dropout, self._gates)
        return self._dropout_mask, self._recurrent_dropout_mask

    def _projections(self, x, masks, kernel):
        """[x_g . kernel_g for each gate g] (x_g = x * masks[g]): one product without masks."""
        if masks is None:
            return self._split(K.dot(x, kernel))
        u = self.units
        return [K.dot(x * masks[g], kernel[:, g * u:(g + 1) * u]) for g in range(self._gates)]

    def _gate_inputs(self, x, h_tm1, dp, rdp):
        """x . kernel + h_tm1 . recurrent_kernel + bias, split by gate (dropout as Keras)."""
        kernel, recurrent = _value(self.kernel), _value(self.recurrent_kernel)
        bias = _value(self.bias) if self.bias is not None else None
        if dp is None and rdp is None:
            z = K.dot(x, kernel) + K.dot(h_tm1, recurrent)
            return self._split(z if bias is None else K.bias_add(z, bias))
        parts = [a + b for a, b in zip(self._projections(x, dp, kernel), self._projections(h_tm1, rdp, recurrent))]
        return parts if bias is None else [p + b for p, b in zip(parts, self._split(bias))]

    def _split(self, z):
        """`z` cut along its last axis into the gates' parts."""
        if self._gates == 1:
            return [z]
        u = self.units
        return [z[..., g * u:(g + 1) * u] for g in range(self._gates)]

    # ---- configuration ----------------------------------------------------------------------------
    def get_config(self):
        config = {"name": self.name, "trainable": self.trainable, "dtype": self.dtype, "units": self.units,
                  "activation": activations.config_name(self.activation)}
        if self.recurrent_activation is not None:
            config["recurrent_activation"] = activations.config_name(self.recurrent_activation)
        config["use_bias"] = self.use_bias
        for p in ("kernel", "recurrent", "bias"):
            config[f"{p}_initializer"] = initializers.serialize(getattr(self, f"{p}_initializer"))
        for p in ("kernel", "recurrent", "bias"):
            config[f"{p}_regularizer"] = regularizers.serialize(getattr(self, f"{p}_regularizer"))
        for p in ("kernel", "recurrent", "bias"):
            config[f"{p}_constraint"] = constraints.serialize(getattr(self, f"{p}_constraint"))
        config.update(dropout=self.dropout, recurrent_dropout=self.recurrent_dropout)
        return config


class SimpleRNNCell(RecurrentCell):
    """Cell of ``SimpleRNN`` (Keras 2.2.4's ``keras.layers.SimpleRNNCell``):
    ``h = activation(x . kernel + bias + h_tm1 . recurrent_kernel)``; states ``[h]``.
    Weights: kernel (input_dim, units), recurrent_kernel (units, units), bias (units,)."""

    def __init__(self, units, activation="tanh", use_bias=True, kernel_initializer="glorot_uniform",
                 recurrent_initializer="orthogonal", bias_initializer="zeros", kernel_regularizer=None,
                 recurrent_regularizer=None, bias_regularizer=None, kernel_constraint=None,
                 recurrent_constraint=None, bias_constraint=None, dropout=0.0, recurrent_dropout=0.0, **kwargs):
        super().__init__(units, activation=activation, use_bias=use_bias, kernel_initializer=kernel_initializer,
                         recurrent_initializer=recurrent_initializer, bias_initializer=bias_initializer,
                         kernel_regularizer=kernel_regularizer, recurrent_regularizer=recurrent_regularizer,
                         bias_regularizer=bias_regularizer, kernel_constraint=kernel_constraint,
                         recurrent_constraint=recurrent_constraint, bias_constraint=bias_constraint,
                         dropout=dropout, recurrent_dropout=recurrent_dropout, **kwargs)

    def build(self, input_shape):
        self._add_cell_weights(input_shape, (self.units,), self.bias_initializer)
        super().build(input_shape)

    def call(self, inputs, states, training=None):
        h_tm1 = states[0]
        dp, rdp = self._masks(inputs, h_tm1, training)
        output = tape_activation(self.activation, self._where)(self._gate_inputs(inputs, h_tm1, dp, rdp)[0])
        return output, [output]


class GRUCell(RecurrentCell):
    """Cell of ``GRU`` (Keras 2.2.4's ``keras.layers.GRUCell``), gates z, r, h; states ``[h]``.
    ``reset_after=False`` (Keras 2.2.4's default) applies the reset gate before the recurrent
    product, bias (3 * units,); ``reset_after=True`` (tf-keras' default) after it, bias
    (2, 3 * units) = [input bias; recurrent bias]. ``implementation`` is accepted and changes
    nothing."""

    _gates = 3

    def __init__(self, units, activation="tanh", recurrent_activation="hard_sigmoid", use_bias=True,
                 kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal", bias_initializer="zeros",
                 kernel_regularizer=None, recurrent_regularizer=None, bias_regularizer=None, kernel_constraint=None,
                 recurrent_constraint=None, bias_constraint=None, dropout=0.0, recurrent_dropout=0.0,
                 implementation=1, reset_after=False, **kwargs):
        super().__init__(units, activation=activation, recurrent_activation=recurrent_activation, use_bias=use_bias,
                         kernel_initializer=kernel_initializer, recurrent_initializer=recurrent_initializer,
                         bias_initializer=bias_initializer, kernel_regularizer=kernel_regularizer,
                         recurrent_regularizer=recurrent_regularizer, bias_regularizer=bias_regularizer,
                         kernel_constraint=kernel_constraint, recurrent_constraint=recurrent_constraint,
                         bias_constraint=bias_constraint, dropout=dropout, recurrent_dropout=recurrent_dropout,
                         **kwargs)
        self.implementation = implementation
        self.reset_after = bool(reset_after)

    def build(self, input_shape):
        n = 3 * self.units
        self._add_cell_weights(input_shape, (2, n) if self.reset_after else (n,), self.bias_initializer)
        super().build(input_shape)

    def call(self, inputs, states, training=None):
        h_tm1 = states[0]
        u = self.units
        dp, rdp = self._masks(inputs, h_tm1, training)
        recurrent = _value(self.recurrent_kernel)
        bias = _value(self.bias) if self.bias is not None else None
        input_bias, recurrent_bias = (bias[0], bias[1]) if self.reset_after and bias is not None else (bias, None)
        x_z, x_r, x_h = self._projections(inputs, dp, _value(self.kernel))
        if input_bias is not None:
            x_z, x_r, x_h = [x + b for x, b in zip((x_z, x_r, x_h), self._split(input_bias))]
        if self.reset_after:  # all three recurrent products first, the reset gate after
            r_z, r_r, r_h = self._projections(h_tm1, rdp, recurrent)
            if recurrent_bias is not None:
                r_z, r_r, r_h = [r + b for r, b in zip((r_z, r_r, r_h), self._split(recurrent_bias))]
        else:
            h_z, h_r = (h_tm1, h_tm1) if rdp is None else (h_tm1 * rdp[0], h_tm1 * rdp[1])
            r_z, r_r = K.dot(h_z, recurrent[:, :u]), K.dot(h_r, recurrent[:, u:2 * u])
        rec_act = tape_activation(self.recurrent_activation, self._where)
        z, r = rec_act(x_z + r_z), rec_act(x_r + r_r)
        if self.reset_after:
            r_h = r * r_h
        else:
            h_h = h_tm1 if rdp is None else h_tm1 * rdp[2]
            r_h = K.dot(r * h_h, recurrent[:, 2 * u:])
        hh = tape_activation(self.activation, self._where)(x_h + r_h)
        h = z * h_tm1 + (1 - z) * hh
        return h, [h]

    def get_config(self):
        config = super().get_config()
        config.update(implementation=self.implementation, reset_after=self.reset_after)
        return config


class LSTMCell(RecurrentCell):
    """Cell of ``LSTM`` (Keras 2.2.4's ``keras.layers.LSTMCell``), gates i, f, c, o; states
    ``[h, c]``. Weights: kernel (input_dim, 4 * units), recurrent_kernel (units, 4 * units), bias
    (4 * units,), whose forget part starts at 1 with ``unit_forget_bias``. ``implementation``
    is accepted and changes nothing."""

    _gates = 4

    def __init__(self, units, activation="tanh", recurrent_activation="hard_sigmoid", use_bias=True,
                 kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal", bias_initializer="zeros",
                 unit_forget_bias=True, kernel_regularizer=None, recurrent_regularizer=None, bias_regularizer=None,
                 kernel_constraint=None, recurrent_constraint=None, bias_constraint=None, dropout=0.0,
                 recurrent_dropout=0.0, implementation=1, **kwargs):
        super().__init__(units, activation=activation, recurrent_activation=recurrent_activation, use_bias=use_bias,
                         kernel_initializer=kernel_initializer, recurrent_initializer=recurrent_initializer,
                         bias_initializer=bias_initializer, kernel_regularizer=kernel_regularizer,
                         recurrent_regularizer=recurrent_regularizer, bias_regularizer=bias_regularizer,
                         kernel_constraint=kernel_constraint, recurrent_constraint=recurrent_constraint,
                         bias_constraint=bias_constraint, dropout=dropout, recurrent_dropout=recurrent_dropout,
                         **kwargs)
        self.unit_forget_bias = bool(unit_forget_bias)
        self.implementation = implementation
        self.state_size = (self.units, self.units)

    def build(self, input_shape):
        bias_init = self.bias_initializer
        if self.unit_forget_bias:
            bias_init = unit_forget_bias_initializer(self.bias_initializer, self.units)
        self._add_cell_weights(input_shape, (4 * self.units,), bias_init)
        super().build(input_shape)

    def call(self, inputs, states, training=None):
        h_tm1, c_tm1 = states[0], states[1]
        dp, rdp = self._masks(inputs, h_tm1, training)
        z_i, z_f, z_c, z_o = self._gate_inputs(inputs, h_tm1, dp, rdp)
        rec_act = tape_activation(self.recurrent_activation, self._where)
        act = tape_activation(self.activation, self._where)
        c = rec_act(z_f) * c_tm1 + rec_act(z_i) * act(z_c)
        h = rec_act(z_o) * act(c)
        return h, [h, c]

    def get_config(self):
        config = super().get_config()
        options = list(config.items())
        at = [k for k, _ in options].index("kernel_regularizer")  # Keras 2.2.4's key order
        options.insert(at, ("unit_forget_bias", self.unit_forget_bias))
        config = dict(options)
        config["implementation"] = self.implementation
        return config


# ---- helpers ------------------------------------------------------------------------------------
_TAPE_ACTIVATIONS = {
    "linear": lambda x: x,
    "tanh": K.tanh,
    "sigmoid": K.sigmoid,
    "hard_sigmoid": K.hard_sigmoid,
    "relu": K.relu,
    "softsign": K.softsign,
    "softplus": K.softplus,
    "elu": K.elu,
    "softmax": K.softmax,
    "exponential": K.exp,
    "selu": lambda x: 1.0507009873554805 * K.elu(x, 1.6732632423543772),
    "swish": lambda x: x * K.sigmoid(x),
}


def tape_activation(fn, where):
    """The backend-op version of an activation (what runs on the tape): a built-in by name,
    a user's function as it is (it must be written with backend ops)."""
    if activations.engine_code(fn) is None:
        return fn
    name = fn.__name__
    if name not in _TAPE_ACTIVATIONS:
        raise ValueError(f"{where}: activation {name!r} has no backend-op form for a cell step (supported: "
                         f"{sorted(_TAPE_ACTIVATIONS)})")
    return _TAPE_ACTIVATIONS[name]


def unit_forget_bias_initializer(base, units):
    """The LSTM bias initializer of ``unit_forget_bias``: `base` for the gates i, c, o and
    ones for the forget gate f (Jozefowicz 2015)."""
    def initializer(shape, dtype=None):
        return np.concatenate([np.asarray(base((units,)), np.float32), np.ones((units,), np.float32),
                               np.asarray(base((2 * units,)), np.float32)])
    return initializer


def _value(w):
    """A weight as the ops take it: its array (a tape leaf when RNN swapped one in)."""
    return w.value if isinstance(w, Weight) else w


def _dropout_masks(shape, rate, count):
    """`count` inverted-dropout multipliers (0 or 1 / (1 - rate)) of `shape`."""
    ones = np.ones(shape, np.float32)
    return [K.dropout(ones, rate) for _ in range(count)]
