"""ThresholdedReLU: passes inputs above a threshold, zeroes the rest."""
import numbers

import numpy as np

from seqnet.engine.base_layer import Layer


class ThresholdedReLU(Layer):
    """Thresholded Rectified Linear Unit: ``f(x) = x`` for ``x > theta``, ``f(x) = 0``
    otherwise.

    Arguments:
        theta: non-negative float, the threshold (default 1.0). A negative theta raises
            ValueError, as in tf-keras.

    Any input shape; the output has the same shape. Masks pass through unchanged.
    """

    supports_masking = True

    def __init__(self, theta=1.0, **kwargs):
        super().__init__(**kwargs)
        if isinstance(theta, bool) or not isinstance(theta, numbers.Real) or not 0.0 <= theta < np.inf:
            raise ValueError(f"ThresholdedReLU '{self.name}': theta must be a non-negative number, got {theta!r}")
        self.theta = float(theta)

    def forward(self, x, training):
        self._above = self._workspace("above", x.shape, np.bool_)
        np.greater(x, np.float32(self.theta), out=self._above)
        y = self._workspace("y", x.shape)
        np.multiply(x, self._above, out=y)
        return y

    def backward(self, dy, need_dx=True, dy_is_preactivation=False):
        if not need_dx:
            return None
        np.multiply(dy, self._above, out=dy)
        return dy

    def get_config(self):
        config = super().get_config()
        config["theta"] = self.theta
        return config
