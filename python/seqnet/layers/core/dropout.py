"""Dropout: zeroes a fraction `rate` of the inputs during training (inverted scaling)."""
import numbers

import numpy as np

from seqnet import _engine
from seqnet.engine.base_layer import Layer
from seqnet.random_state import new_key, stream_offset


def checked_noise_shape(layer, noise_shape):
    """A dropout layer's `noise_shape` argument as a tuple of positive ints and Nones (or None);
    ValueError naming the layer otherwise."""
    if noise_shape is None:
        return None
    owner = f"{type(layer).__name__} '{layer.name}'"
    try:
        noise_shape = tuple(noise_shape)
    except TypeError:
        raise ValueError(f"{owner}: noise_shape must be a tuple, got {noise_shape!r}") from None
    if not noise_shape or any(d is not None and (isinstance(d, bool) or not isinstance(d, numbers.Integral) or d < 1)
                              for d in noise_shape):
        raise ValueError(f"{owner}: noise_shape must hold positive integers or None, got {noise_shape!r}")
    return tuple(None if d is None else int(d) for d in noise_shape)


def noise_draw_shape(layer, shape):
    """The shape of `layer`'s draw for inputs of `shape`: its noise_shape with None taken from the
    input (Keras 2.2.4), or None (one draw per element); ValueError when it does not broadcast."""
    noise_shape = layer.noise_shape
    if noise_shape is None:
        return None
    if len(noise_shape) != len(shape) or any(d is not None and d != 1 and d != s for d, s in zip(noise_shape, shape)):
        raise ValueError(f"{type(layer).__name__} '{layer.name}': noise_shape {noise_shape} does not broadcast to the "
                         f"input shape {tuple(shape)} (each entry must be 1, None or the input's size on that axis)")
    return tuple(s if d is None else d for d, s in zip(noise_shape, shape))


class Dropout(Layer):
    """Sets each input to 0 with probability `rate` in training and scales the others by
    1 / (1 - rate); the identity at inference.

    Arguments:
        rate: float in [0, 1), the fraction of the inputs to drop.
        noise_shape: optional tuple, the shape of the keep/drop draw, broadcast over the input
            (Keras 2.2.4): one entry per input axis, each 1 (one draw shared along that axis),
            the axis' size, or None (the input's size there). E.g. inputs (batch, timesteps,
            features) and ``noise_shape=(None, 1, features)`` drop the same features at
            every timestep of a sample.
        seed: optional integer, seeds seqnet's random stream for this layer.
    """

    supports_masking = True

    def __init__(self, rate, noise_shape=None, seed=None, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(rate, (int, float)) or isinstance(rate, bool) or not 0.0 <= rate < 1.0:
            raise ValueError(f"Dropout: rate must be a number in [0, 1), got {rate!r}")
        noise_shape = checked_noise_shape(self, noise_shape)
        self.rate = float(rate)
        self.noise_shape = noise_shape
        self.seed = seed
        self._key = new_key(seed)
        self._step = 0  # each forward in training draws a fresh mask: stream = step

    def _noise_shape(self, shape):
        """The shape of the draw for inputs of `shape` (None: one draw per element)."""
        return noise_draw_shape(self, shape)

    def forward(self, x, training):
        shape = self._noise_shape(x.shape)
        self._active = training and self.rate > 0.0
        if not self._active:
            return x
        y = self._workspace("y", x.shape)
        if shape is None or shape == tuple(x.shape):
            self._scale = None
            self._mask = self._workspace("mask", x.shape, np.uint8)
            _engine.dropout_forward(x, y, self._mask, self.rate, self._key, self._step,
                                    stream_offset(x.size // max(x.shape[0], 1)))
        else:
            # The engine's dropout of a ones array of the noise shape: the mask scaled by
            # 1 / (1 - rate), multiplied into the input along the broadcast axes.
            ones = self._workspace("ones", shape)
            ones.fill(1.0)
            self._scale = self._workspace("scale", shape)
            keep = self._workspace("keep", shape, np.uint8)
            per_sample = self.noise_shape is None or self.noise_shape[0] != 1  # else one draw for the batch
            _engine.dropout_forward(ones, self._scale, keep, self.rate, self._key, self._step,
                                    stream_offset(ones.size // max(shape[0], 1)) if per_sample else 0)
            np.multiply(x, self._scale, out=y)
        self._step += 1
        return y

    def backward(self, dy, need_dx=True, dy_is_preactivation=False):
        if self._active:
            if self._scale is None:
                _engine.dropout_backward(dy, self._mask, dy, self.rate)
            else:
                np.multiply(dy, self._scale, out=dy)
        return dy

    def get_config(self):
        config = super().get_config()
        config.update(rate=self.rate, noise_shape=self.noise_shape, seed=self.seed)
        return config
