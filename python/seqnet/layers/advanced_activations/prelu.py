"""PReLU: the rectifier with a learned slope for negative inputs."""
import numbers

import numpy as np

from seqnet import constraints, initializers, regularizers
from seqnet.engine.base_layer import Layer


class PReLU(Layer):
    """Parametric Rectified Linear Unit: ``f(x) = x`` for ``x > 0`` and
    ``f(x) = alpha * x`` otherwise, where `alpha` is a learned array.

    Arguments:
        alpha_initializer: initializer of the weights (default 'zeros': a plain ReLU at
            the start).
        alpha_regularizer: regularizer of the weights.
        alpha_constraint: constraint on the weights.
        shared_axes: the axes (1-based, the batch axis is 0) along which the slopes are
            shared, an integer or a list. For feature maps of shape
            ``(batch, height, width, channels)``, ``shared_axes=[1, 2]`` learns one slope
            per channel.

    Weights (Keras layout): ``alpha`` of shape ``input_shape[1:]`` with 1 at each shared
    axis. Every non-shared axis of the input must be defined. Masks pass through unchanged.
    """

    supports_masking = True

    def __init__(self, alpha_initializer="zeros", alpha_regularizer=None, alpha_constraint=None, shared_axes=None,
                 **kwargs):
        super().__init__(**kwargs)
        self.alpha_initializer = initializers.get(alpha_initializer)
        self.alpha_regularizer = regularizers.get(alpha_regularizer)
        self.alpha_constraint = constraints.get(alpha_constraint)
        if shared_axes is None:
            self.shared_axes = None
        else:
            axes = list(shared_axes) if isinstance(shared_axes, (list, tuple)) else [shared_axes]
            if any(isinstance(a, bool) or not isinstance(a, numbers.Integral) or a < 1 for a in axes):
                raise ValueError(f"PReLU '{self.name}': shared_axes must be positive integers (1-based, the batch "
                                 f"axis cannot be shared), got {shared_axes!r}")
            self.shared_axes = [int(a) for a in axes]

    def _param_shape(self, input_shape):
        input_shape = tuple(input_shape)
        if len(input_shape) < 2:
            raise ValueError(f"PReLU '{self.name}' expects inputs of rank 2 or more, got shape {input_shape}")
        shared = set(self.shared_axes or ())
        if any(a >= len(input_shape) for a in shared):
            raise ValueError(f"PReLU '{self.name}': shared_axes {self.shared_axes} do not exist in inputs of shape "
                             f"{input_shape}")
        shape = tuple(1 if i in shared else d for i, d in enumerate(input_shape) if i > 0)
        if any(d is None for d in shape):
            raise ValueError(f"PReLU '{self.name}': every axis that is not shared must be defined, got input shape "
                             f"{input_shape} with shared_axes={self.shared_axes}")
        return shape

    def build(self, input_shape):
        self.alpha = self.add_weight("alpha", self._param_shape(input_shape), initializer=self.alpha_initializer,
                                     regularizer=self.alpha_regularizer, constraint=self.alpha_constraint)
        # The axes that alpha's gradient sums over: the batch and the shared ones.
        self._sum_axes = (0,) + tuple(sorted(set(self.shared_axes or ())))
        super().build(input_shape)

    def compute_output_shape(self, input_shape):
        self._param_shape(input_shape)
        return tuple(input_shape)

    def forward(self, x, training):
        alpha = self.alpha.value
        if self._param_shape(x.shape) != alpha.shape:
            raise ValueError(f"PReLU '{self.name}': alpha has shape {alpha.shape} (built for inputs of shape "
                             f"{self.input_shape_seen}), but the input has shape {x.shape}")
        self._negative = neg = self._workspace("negative", x.shape)
        np.minimum(x, 0.0, out=neg)
        y = self._workspace("y", x.shape)
        np.maximum(x, 0.0, out=y)
        y += alpha * neg
        self._x = x
        return y

    def backward(self, dy, need_dx=True, dy_is_preactivation=False):
        alpha = self.alpha
        if alpha.grad is not None:
            np.sum(dy * self._negative, axis=self._sum_axes, keepdims=True, out=alpha.grad[None])
        if not need_dx:
            return None
        slope = np.where(self._x > 0, np.float32(1.0), np.where(self._x < 0, alpha.value, np.float32(0.0)))
        np.multiply(dy, slope, out=dy)
        return dy

    def get_config(self):
        config = super().get_config()
        config.update(alpha_initializer=initializers.serialize(self.alpha_initializer),
                      alpha_regularizer=regularizers.serialize(self.alpha_regularizer),
                      alpha_constraint=constraints.serialize(self.alpha_constraint),
                      shared_axes=self.shared_axes)
        return config
