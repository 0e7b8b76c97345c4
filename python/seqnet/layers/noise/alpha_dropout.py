"""AlphaDropout: dropout that keeps the mean and variance of self-normalizing (selu) activations."""
import numbers

import numpy as np

from seqnet import _engine
from seqnet.engine.base_layer import Layer
from seqnet.layers.core.dropout import checked_noise_shape, noise_draw_shape
from seqnet.random_state import new_key, stream_offset

# selu's constants (Klambauer et al. 2017), as Keras 2.2.4 writes them.
_ALPHA = 1.6732632423543772848170429916717
_SCALE = 1.0507009873554804934193349852946
_ALPHA_P = -_ALPHA * _SCALE  # selu's negative saturation value


class AlphaDropout(Layer):
    """Alpha Dropout: sets a fraction `rate` of the inputs to selu's negative saturation
    value, then applies an affine map that restores the input's mean and variance, so
    ``selu`` networks stay self-normalizing. In training only; the identity at inference.

    Keras 2.2.4's formula, with ``alpha_p = -1.6733 * 1.0507`` and ``kept`` drawn as
    ``uniform(noise_shape) >= rate``::

        a = ((1 - rate) * (1 + rate * alpha_p ** 2)) ** -0.5
        b = -a * alpha_p * rate
        y = a * (x * kept + alpha_p * (1 - kept)) + b

    Arguments:
        rate: float in [0, 1), the drop probability (0: the identity).
        noise_shape: optional tuple, the shape of the keep/drop draw, broadcast over the
            input (e.g. ``(None, 1, features)`` drops a feature at every timestep); None
            entries take the input's size. Default: the input's shape.
        seed: optional integer, seeds seqnet's random stream for this layer.

    The draw comes from seqnet's counter-based generator, not tf-keras'. Keras 2.2.4's
    config holds only `rate`; seqnet also writes `noise_shape` and `seed` when set. Any
    input shape; masks pass through unchanged.
    """

    supports_masking = True

    def __init__(self, rate, noise_shape=None, seed=None, **kwargs):
        super().__init__(**kwargs)
        if isinstance(rate, bool) or not isinstance(rate, numbers.Real) or not 0.0 <= rate < 1.0:
            raise ValueError(f"AlphaDropout '{self.name}': rate must be a number in [0, 1), got {rate!r}")
        noise_shape = checked_noise_shape(self, noise_shape)
        self.rate = float(rate)
        self.noise_shape = noise_shape
        self.seed = seed
        self._key = new_key(seed)
        self._step = 0

    def _draw_shape(self, shape):
        return noise_draw_shape(self, shape) or shape

    def forward(self, x, training):
        self._active = training and self.rate > 0.0
        if not self._active:
            return x
        rate = self.rate
        a = ((1.0 - rate) * (1.0 + rate * _ALPHA_P ** 2)) ** -0.5
        b = -a * _ALPHA_P * rate
        shape = self._draw_shape(x.shape)
        # scale = a * kept, shift = a * alpha_p * (1 - kept) + b, so y = x * scale + shift.
        self._scale = self._workspace("scale", shape)
        per_sample = self.noise_shape is None or self.noise_shape[0] is None  # else one draw shared by the batch
        _engine.random_uniform(self._scale, 0.0, 1.0, self._key, self._step,
                               stream_offset(self._scale.size // max(shape[0], 1)) if per_sample else 0)
        self._step += 1
        kept = self._workspace("kept", shape, np.bool_)
        np.greater_equal(self._scale, rate, out=kept)
        shift = self._workspace("shift", shape)
        np.copyto(shift, np.float32(a * _ALPHA_P + b))
        shift[kept] = np.float32(b)
        np.multiply(kept, np.float32(a), out=self._scale)
        y = self._workspace("y", x.shape)
        np.multiply(x, self._scale, out=y)
        np.add(y, shift, out=y)
        return y

    def backward(self, dy, need_dx=True, dy_is_preactivation=False):
        if not need_dx:
            return None
        if self._active:
            np.multiply(dy, self._scale, out=dy)
        return dy

    def get_config(self):
        config = super().get_config()
        config["rate"] = self.rate
        if self.noise_shape is not None:
            config["noise_shape"] = self.noise_shape
        if self.seed is not None:
            config["seed"] = self.seed
        return config
