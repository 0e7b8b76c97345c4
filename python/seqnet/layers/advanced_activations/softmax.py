"""Softmax: the softmax activation along a chosen axis."""
import numbers

import numpy as np

from seqnet import _engine
from seqnet.engine.base_layer import Layer

_SOFTMAX = _engine.Activation.softmax


class Softmax(Layer):
    """Softmax activation: ``exp(x - max(x)) / sum(exp(x - max(x)))`` along `axis`.

    Arguments:
        axis: integer (or, as tf-keras, a tuple of integers), the axis along which the
            softmax normalization runs (default -1, the last axis).

    Inputs need rank 2 or more. As the Activation('softmax') layer, a Softmax over the
    last axis that produces a model output lets a cross-entropy loss work on its logits.
    Where seqnet differs: Keras 2.2.4 ignored `axis` for 2-D inputs (always the last
    axis); seqnet, as tf-keras, honours it. Masks pass through unchanged (Keras 2.2.4;
    tf-keras' use of the mask as an additive -inf is not applied).
    """

    supports_masking = True

    def __init__(self, axis=-1, **kwargs):
        super().__init__(**kwargs)
        axes = tuple(axis) if isinstance(axis, (list, tuple)) else (axis,)
        if not axes or any(isinstance(a, bool) or not isinstance(a, numbers.Integral) for a in axes):
            raise ValueError(f"Softmax '{self.name}': axis must be an integer or a tuple of integers, got {axis!r}")
        self.axis = [int(a) for a in axis] if isinstance(axis, (list, tuple)) else int(axis)
        self._axes = tuple(int(a) for a in axes)
        self._last = self._axes == (-1,)
        self.output_activation = "softmax" if self._last else None

    def _normalized_axes(self, shape):
        ndim = len(shape)
        if ndim < 2:
            raise ValueError(f"Softmax '{self.name}': cannot apply softmax to an input of rank {ndim} (shape "
                             f"{tuple(shape)}); it needs rank 2 or more")
        if any(not -ndim <= a < ndim for a in self._axes):
            raise ValueError(f"Softmax '{self.name}': axis {self.axis} is out of range for an input of shape "
                             f"{tuple(shape)}")
        axes = tuple(sorted({a % ndim for a in self._axes}))
        if len(axes) != len(self._axes):
            raise ValueError(f"Softmax '{self.name}': axis {self.axis} names an axis twice")
        return axes

    def build(self, input_shape):
        axes = self._normalized_axes(input_shape)
        if axes == (len(input_shape) - 1,):
            self._last = True
            self.output_activation = "softmax"
        super().build(input_shape)

    def compute_output_shape(self, input_shape):
        self._normalized_axes(input_shape)
        return tuple(input_shape)

    def forward(self, x, training):
        axes = self._normalized_axes(x.shape)
        y = self._workspace("y", x.shape)
        self._last = axes == (x.ndim - 1,)
        if self._last:
            _engine.activation_forward(_SOFTMAX, x, y)
        else:
            np.subtract(x, np.max(x, axis=axes, keepdims=True), out=y)
            np.exp(y, out=y)
            y /= np.sum(y, axis=axes, keepdims=True)
        self._axes_now, self._y, self.logits = axes, y, x
        return y

    def backward(self, dy, need_dx=True, dy_is_preactivation=False):
        if not need_dx:
            return None
        if dy_is_preactivation:  # a fused cross-entropy already gave dL/d(logits)
            return dy
        if self._last:
            _engine.activation_backward(_SOFTMAX, None, self._y, dy, dy)
            return dy
        # dx = y * (dy - sum(dy * y)) over the softmax axes
        dot = np.sum(dy * self._y, axis=self._axes_now, keepdims=True)
        np.subtract(dy, dot, out=dy)
        np.multiply(dy, self._y, out=dy)
        return dy

    def get_config(self):
        config = super().get_config()
        config["axis"] = self.axis
        return config
