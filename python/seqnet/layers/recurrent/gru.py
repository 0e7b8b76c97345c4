"""GRU: gated recurrent unit (Cho 2014), Keras 2.2.4 formulation (reset_after=False: the
reset gate applies before the recurrent product; kernel (input_dim, 3u), recurrent_kernel
(u, 3u), bias (3u,); gates z, r, h)."""
from seqnet import activations
from seqnet.layers.recurrent.base_rnn import GRU_CELL, BaseRNN


class GRU(BaseRNN):
    _cell = GRU_CELL
    _gates = 3

    def __init__(self, units, activation="tanh", recurrent_activation="hard_sigmoid", reset_after=False,
                 **kwargs):
        super().__init__(units, activation=activation, recurrent_activation=recurrent_activation, **kwargs)
        if reset_after:
            raise ValueError("GRU: reset_after=True (the CuDNN-compatible variant of tf-keras) is not "
                             "supported yet by seqnet; use reset_after=False (the Keras 2.2.4 default)")
        self.reset_after = False

    def build(self, input_shape):
        self._add_rnn_weights(input_shape, (3 * self.units,), self.bias_initializer)
        super().build(input_shape)

    def get_config(self):
        config = super().get_config()
        config.update(recurrent_activation=activations.config_name(self.recurrent_activation),
                      implementation=self.implementation, reset_after=self.reset_after)
        return config
