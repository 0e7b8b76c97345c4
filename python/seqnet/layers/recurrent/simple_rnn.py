"""SimpleRNN: h_t = activation(x_t W + h_{t-1} U + b), Keras layout (kernel (input_dim, u),
recurrent_kernel (u, u), bias (u,))."""
from seqnet.layers.recurrent.base_rnn import SIMPLE_RNN, BaseRNN


class SimpleRNN(BaseRNN):
    _cell = SIMPLE_RNN
    _gates = 1

    def __init__(self, units, activation="tanh", **kwargs):
        if "recurrent_activation" in kwargs:
            raise TypeError("SimpleRNN: unexpected keyword argument 'recurrent_activation'")
        super().__init__(units, activation=activation, **kwargs)

    def build(self, input_shape):
        self._add_rnn_weights(input_shape, (self.units,), self.bias_initializer)
        super().build(input_shape)
