"""LeakyReLU: the rectifier with a small slope for negative inputs."""
import numbers

import numpy as np

from seqnet.engine.base_layer import Layer


class LeakyReLU(Layer):
    """Leaky version of a Rectified Linear Unit: ``f(x) = x`` for ``x > 0`` and
    ``f(x) = alpha * x`` otherwise.

    Arguments:
        alpha: float, the slope for negative inputs (default 0.3, as Keras).

    Any input shape; the output has the same shape. Masks pass through unchanged.
    """

    supports_masking = True

    def __init__(self, alpha=0.3, **kwargs):
        super().__init__(**kwargs)
        if isinstance(alpha, bool) or not isinstance(alpha, numbers.Real) or not np.isfinite(alpha):
            raise ValueError(f"LeakyReLU '{self.name}': alpha must be a finite number, got {alpha!r}")
        self.alpha = float(alpha)

    def forward(self, x, training):
        y = self._workspace("y", x.shape)
        self._positive = self._workspace("positive", x.shape, np.bool_)
        np.greater(x, 0.0, out=self._positive)
        np.multiply(x, np.float32(self.alpha), out=y)
        np.copyto(y, x, where=self._positive)
        return y

    def backward(self, dy, need_dx=True, dy_is_preactivation=False):
        if not need_dx:
            return None
        np.multiply(dy, np.float32(self.alpha), out=dy, where=~self._positive)
        return dy

    def get_config(self):
        config = super().get_config()
        config["alpha"] = self.alpha
        return config
