"""Flatten: (batch, d1, d2, ...) -> (batch, d1 * d2 * ...), a view without copying."""
import numpy as np

from seqnet.engine.base_layer import Layer


class Flatten(Layer):
    def __init__(self, data_format=None, **kwargs):
        super().__init__(**kwargs)
        if data_format not in (None, "channels_last", "channels_first"):
            raise ValueError(f"Flatten: data_format must be 'channels_last' or 'channels_first', got {data_format!r}")
        self.data_format = data_format

    def compute_output_shape(self, input_shape):
        rest = input_shape[1:]
        if any(d is None for d in rest):
            raise ValueError(f"Layer '{self.name}': the input shape {tuple(input_shape)} must be fully "
                             "defined (except the batch axis) to flatten it")
        return (input_shape[0], int(np.prod(rest)))

    def forward(self, x, training):
        self._shape = x.shape
        # Keras flattens channels_first input in channels_last order.
        self._moved = self.data_format == "channels_first" and x.ndim > 2
        if self._moved:
            x = np.ascontiguousarray(np.moveaxis(x, 1, -1))
        return x.reshape(x.shape[0], -1)

    def backward(self, dy, need_dx=True, dy_is_preactivation=False):
        if self._moved:
            moved = (self._shape[0],) + self._shape[2:] + (self._shape[1],)
            return np.ascontiguousarray(np.moveaxis(dy.reshape(moved), -1, 1))
        return dy.reshape(self._shape)

    def get_config(self):
        config = super().get_config()
        config["data_format"] = self.data_format
        return config
