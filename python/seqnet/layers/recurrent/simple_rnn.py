"""SimpleRNN: h_t = activation(x_t W + h_{t-1} U + b), Keras layout (kernel (input_dim, u),
recurrent_kernel (u, u), bias (u,))."""
from seqnet import _engine
from seqnet.layers.recurrent.base_rnn import BaseRNN


class SimpleRNN(BaseRNN):
    """Fully-connected recurrent layer, Keras 2.2.4's ``keras.layers.SimpleRNN``. With
    ``return_state`` the layer returns ``[output, h]``. Accepts a mask."""

    _cell = _engine.RnnCell.SimpleRNN
    _gates = 1
    _reads_tokens = True  # an Embedding's indices as input (BaseRNN._token_inputs)

    def __init__(self, units, activation="tanh", **kwargs):
        if "recurrent_activation" in kwargs:
            raise TypeError("SimpleRNN: unexpected keyword argument 'recurrent_activation'")
        super().__init__(units, activation=activation, **kwargs)

    def build(self, input_shape):
        self._add_rnn_weights(input_shape, (self.units,), self.bias_initializer)
        super().build(input_shape)
