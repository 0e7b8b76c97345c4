"""Dropout: zeroes a fraction `rate` of the inputs during training (inverted scaling)."""
import numpy as np

from seqnet import _engine
from seqnet.engine.base_layer import Layer
from seqnet.random_state import new_key, stream_offset


class Dropout(Layer):
    supports_masking = True

    def __init__(self, rate, noise_shape=None, seed=None, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(rate, (int, float)) or isinstance(rate, bool) or not 0.0 <= rate < 1.0:
            raise ValueError(f"Dropout: rate must be a number in [0, 1), got {rate!r}")
        if noise_shape is not None:
            raise ValueError("Dropout: noise_shape is not supported yet by seqnet")
        self.rate = float(rate)
        self.noise_shape = noise_shape
        self.seed = seed
        self._key = new_key(seed)
        self._step = 0  # each forward in training draws a fresh mask: stream = step

    def forward(self, x, training):
        self._active = training and self.rate > 0.0
        if not self._active:
            return x
        y = self._workspace("y", x.shape)
        self._mask = self._workspace("mask", x.shape, np.uint8)
        _engine.dropout_forward(x, y, self._mask, self.rate, self._key, self._step,
                                stream_offset(x.size // max(x.shape[0], 1)))
        self._step += 1
        return y

    def backward(self, dy, need_dx=True, dy_is_preactivation=False):
        if self._active:
            _engine.dropout_backward(dy, self._mask, dy, self.rate)
        return dy

    def get_config(self):
        config = super().get_config()
        config.update(rate=self.rate, noise_shape=self.noise_shape, seed=self.seed)
        return config
