"""LSTM: long short-term memory (Hochreiter 1997), Keras 2.2.4 semantics and weight layout
(kernel (input_dim, 4u), recurrent_kernel (u, 4u), bias (4u,); gates i, f, c, o)."""
import numpy as np

from seqnet import _engine, activations
from seqnet.layers.recurrent.base_rnn import BaseRNN


class LSTM(BaseRNN):
    """Long short-term memory layer, Keras 2.2.4's ``keras.layers.LSTM``: the arguments of
    ``BaseRNN`` plus ``unit_forget_bias``. States: h and c; with ``return_state`` the
    layer returns ``[output, h, c]``. Accepts a mask (e.g. from ``Embedding(mask_zero=True)``).
    ``implementation`` and ``unroll`` are accepted and change nothing (one engine call runs
    the whole sequence)."""

    _cell = _engine.RnnCell.LSTM
    _gates = 4
    _n_states = 2  # h and c
    _reads_tokens = True  # an Embedding's indices as input (BaseRNN._token_inputs)

    def __init__(self, units, activation="tanh", recurrent_activation="hard_sigmoid", use_bias=True,
                 kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal",
                 bias_initializer="zeros", unit_forget_bias=True, **kwargs):
        super().__init__(units, activation=activation, recurrent_activation=recurrent_activation,
                         use_bias=use_bias, kernel_initializer=kernel_initializer,
                         recurrent_initializer=recurrent_initializer, bias_initializer=bias_initializer,
                         **kwargs)
        self.unit_forget_bias = bool(unit_forget_bias)

    def build(self, input_shape):
        bias_init = self.bias_initializer
        if self.unit_forget_bias:
            base, u = self.bias_initializer, self.units

            def bias_init(shape, dtype=None):  # the forget gate's bias starts at 1 (Jozefowicz 2015)
                return np.concatenate([np.asarray(base((u,)), np.float32), np.ones((u,), np.float32),
                                       np.asarray(base((2 * u,)), np.float32)])
        self._add_rnn_weights(input_shape, (4 * self.units,), bias_init)
        super().build(input_shape)

    def get_config(self):
        config = super().get_config()
        config.update(recurrent_activation=activations.config_name(self.recurrent_activation),
                      unit_forget_bias=self.unit_forget_bias, implementation=self.implementation)
        return config

