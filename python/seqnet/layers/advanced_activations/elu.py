"""ELU: the exponential linear unit with a configurable negative saturation."""
import numbers

import numpy as np

from seqnet.engine.base_layer import Layer


class ELU(Layer):
    """Exponential Linear Unit: ``f(x) = x`` for ``x > 0`` and
    ``f(x) = alpha * (exp(x) - 1)`` otherwise.

    Arguments:
        alpha: float, the scale of the negative part (default 1.0).

    Any input shape; the output has the same shape. Masks pass through unchanged.
    """

    supports_masking = True

    def __init__(self, alpha=1.0, **kwargs):
        super().__init__(**kwargs)
        if isinstance(alpha, bool) or not isinstance(alpha, numbers.Real) or not np.isfinite(alpha):
            raise ValueError(f"ELU '{self.name}': alpha must be a finite number, got {alpha!r}")
        self.alpha = float(alpha)

    def forward(self, x, training):
        y = self._workspace("y", x.shape)
        # dy/dx: 1 for x > 0, alpha * exp(x) otherwise.
        self._slope = self._workspace("slope", x.shape)
        np.minimum(x, 0.0, out=self._slope)
        np.exp(self._slope, out=self._slope)
        np.multiply(self._slope, np.float32(self.alpha), out=self._slope)
        np.subtract(self._slope, np.float32(self.alpha), out=y)
        positive = x > 0.0
        np.copyto(y, x, where=positive)
        self._slope[positive] = 1.0
        return y

    def backward(self, dy, need_dx=True, dy_is_preactivation=False):
        if not need_dx:
            return None
        np.multiply(dy, self._slope, out=dy)
        return dy

    def get_config(self):
        config = super().get_config()
        config["alpha"] = self.alpha
        return config
