"""RepeatVector: repeats a vector n times, (batch, features) -> (batch, n, features)."""
import numbers

import numpy as np

from seqnet.engine.base_layer import Layer


class RepeatVector(Layer):
    """Repeats each input vector `n` times along a new time axis.

    Arguments:
        n: positive integer, the number of repetitions.

    Input shape: ``(batch, features)``. Output shape: ``(batch, n, features)``; for example
    the encoder state of a sequence-to-sequence model repeated once per output step.

    Masks: not supported (as Keras 2.2.4); a masked input raises TypeError.
    """

    def __init__(self, n, **kwargs):
        super().__init__(**kwargs)
        if isinstance(n, bool) or not isinstance(n, numbers.Integral) or n < 1:
            raise ValueError(f"RepeatVector '{self.name}': n must be a positive integer, got {n!r}")
        self.n = int(n)

    def compute_output_shape(self, input_shape):
        self._check_rank(input_shape)
        return (input_shape[0], self.n, input_shape[1])

    def _check_rank(self, shape):
        if len(shape) != 2:
            raise ValueError(f"RepeatVector '{self.name}' expects inputs of rank 2 (batch, features), got shape "
                             f"{tuple(shape)}")

    def forward(self, x, training):
        self._check_rank(x.shape)
        y = self._workspace("y", (x.shape[0], self.n, x.shape[1]))
        y[...] = x[:, None, :]
        return y

    def backward(self, dy, need_dx=True, dy_is_preactivation=False):
        if not need_dx:
            return None
        dx = self._workspace("dx", (dy.shape[0], dy.shape[2]))
        np.sum(dy, axis=1, out=dx)
        return dx

    def get_config(self):
        config = super().get_config()
        config["n"] = self.n
        return config
