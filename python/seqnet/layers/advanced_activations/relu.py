"""ReLU: the rectifier with an optional cap, a negative slope and a threshold."""
import numbers

import numpy as np

from seqnet.engine.base_layer import Layer


class ReLU(Layer):
    """Rectified Linear Unit activation (Keras 2.2.4's ``K.relu``)::

        f(x) = max_value                          for x >= max_value
        f(x) = x                                  for threshold < x < max_value
        f(x) = negative_slope * (x - threshold)   otherwise

    Arguments:
        max_value: non-negative float or None (default: no cap).
        negative_slope: non-negative float, the slope below the threshold (default 0).
        threshold: float, the threshold below which values are damped (default 0).

    As Keras 2.2.4 (and tf-keras' backend), the cap clips the rectified part to
    ``[0, max_value]``, so with a negative threshold inputs between the threshold and 0
    give 0 when a max_value is set. tf-keras refuses a negative threshold; seqnet keeps
    2.2.4's behaviour. Any input shape; masks pass through unchanged.
    """

    supports_masking = True

    def __init__(self, max_value=None, negative_slope=0.0, threshold=0.0, **kwargs):
        super().__init__(**kwargs)
        if max_value is not None and not _is_number(max_value, minimum=0.0):
            raise ValueError(f"ReLU '{self.name}': max_value must be None or a non-negative number, got "
                             f"{max_value!r}")
        if not _is_number(negative_slope, minimum=0.0):
            raise ValueError(f"ReLU '{self.name}': negative_slope must be a non-negative number, got "
                             f"{negative_slope!r}")
        if not _is_number(threshold):
            raise ValueError(f"ReLU '{self.name}': threshold must be a number, got {threshold!r}")
        self.max_value = None if max_value is None else float(max_value)
        self.negative_slope = float(negative_slope)
        self.threshold = float(threshold)

    def forward(self, x, training):
        alpha, cap, threshold = np.float32(self.negative_slope), self.max_value, np.float32(self.threshold)
        y = self._workspace("y", x.shape)
        self._slope = slope = self._workspace("slope", x.shape)  # dy/dx
        if alpha != 0 and cap is None and threshold == 0:  # tf.nn.leaky_relu
            np.greater(x, 0.0, out=slope)
            np.multiply(x, alpha, out=y)
            np.copyto(y, x, where=slope > 0)
            np.copyto(slope, alpha, where=slope == 0)
            return y
        np.greater(x, threshold, out=slope)
        np.multiply(x, slope, out=y)
        if cap is not None:
            cap = np.float32(cap)
            slope *= (y >= 0) & (y <= cap)
            np.clip(y, np.float32(0.0), cap, out=y)
        if alpha != 0:
            below = x < threshold
            y += alpha * (x - threshold) * below
            slope += alpha * below
        return y

    def backward(self, dy, need_dx=True, dy_is_preactivation=False):
        if not need_dx:
            return None
        np.multiply(dy, self._slope, out=dy)
        return dy

    def get_config(self):
        config = super().get_config()
        config.update(max_value=self.max_value, negative_slope=self.negative_slope, threshold=self.threshold)
        return config


def _is_number(value, minimum=None):
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not np.isfinite(value):
        return False
    return minimum is None or value >= minimum
