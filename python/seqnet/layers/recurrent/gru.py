"""GRU: gated recurrent unit (Cho 2014), Keras 2.2.4 formulation and weight layout (kernel
(input_dim, 3u), recurrent_kernel (u, 3u); gates z, r, h). reset_after=False (the Keras
2.2.4 default): the reset gate applies before the recurrent product, bias (3u,).
reset_after=True (tf-keras' default, the CuDNN-compatible variant): it applies after,
hh = activation(x Wh + bh + r * (h Uh + bh')), with bias (2, 3u) = [input bias; recurrent bias]."""
from seqnet import _engine, activations
from seqnet.layers.recurrent.base_rnn import BaseRNN


class GRU(BaseRNN):
    """Gated recurrent unit layer, Keras 2.2.4's ``keras.layers.GRU``, with
    ``reset_after`` (False by default as in Keras 2.2.4; True reads tf-keras' default GRU and
    its (2, 3 * units) bias). With ``return_state`` the layer returns ``[output, h]``.
    Accepts a mask (e.g. from ``Embedding(mask_zero=True)``)."""

    _cell = _engine.RnnCell.GRU
    _gates = 3
    _reads_tokens = True  # an Embedding's indices as input (BaseRNN._token_inputs)

    def __init__(self, units, activation="tanh", recurrent_activation="hard_sigmoid", reset_after=False,
                 **kwargs):
        super().__init__(units, activation=activation, recurrent_activation=recurrent_activation, **kwargs)
        self.reset_after = bool(reset_after)
        self._reset_after = self.reset_after

    def build(self, input_shape):
        n = 3 * self.units
        self._add_rnn_weights(input_shape, (2, n) if self.reset_after else (n,), self.bias_initializer)
        super().build(input_shape)

    def get_config(self):
        config = super().get_config()
        config.update(recurrent_activation=activations.config_name(self.recurrent_activation),
                      implementation=self.implementation, reset_after=self.reset_after)
        return config
