"""Permute: reorders the axes of each sample (e.g. (batch, steps, features) -> (batch, features, steps))."""
import numbers

import numpy as np

from seqnet.engine.base_layer import Layer


class Permute(Layer):
    """Permutes the non-batch axes of the input by `dims`.

    Arguments:
        dims: tuple of integers, a permutation of 1..n (1-based: the batch axis 0 is not
            part of it). ``dims=(2, 1)`` swaps the first and second axes after the batch.

    Input shape: rank ``len(dims) + 1``. Output shape: the input's axes taken in the order
    of `dims`, e.g. ``Permute((2, 1))`` maps ``(None, 10, 64)`` to ``(None, 64, 10)``.

    Masks: not supported (as Keras 2.2.4); a masked input raises TypeError.
    """

    def __init__(self, dims, **kwargs):
        super().__init__(**kwargs)
        try:
            dims = tuple(dims)
        except TypeError:
            raise ValueError(f"Permute '{self.name}': dims must be a tuple of integers, got {dims!r}") from None
        if any(isinstance(d, bool) or not isinstance(d, numbers.Integral) for d in dims) \
                or sorted(int(d) for d in dims) != list(range(1, len(dims) + 1)):
            raise ValueError(f"Permute '{self.name}': dims must be a permutation of 1..{len(dims)} (the batch axis is "
                             f"not part of it), got {dims!r}")
        self.dims = tuple(int(d) for d in dims)
        self._perm = (0,) + self.dims
        self._inverse = tuple(int(i) for i in np.argsort(self._perm))

    def _check_rank(self, shape):
        if len(shape) != len(self.dims) + 1:
            raise ValueError(f"Permute '{self.name}': dims {self.dims} needs inputs of rank {len(self.dims) + 1}, "
                             f"got shape {tuple(shape)}")

    def compute_output_shape(self, input_shape):
        self._check_rank(input_shape)
        return tuple(input_shape[i] for i in self._perm)

    def forward(self, x, training):
        self._check_rank(x.shape)
        moved = x.transpose(self._perm)
        y = self._workspace("y", moved.shape)
        np.copyto(y, moved)
        self._x_shape = x.shape
        return y

    def backward(self, dy, need_dx=True, dy_is_preactivation=False):
        if not need_dx:
            return None
        dx = self._workspace("dx", self._x_shape)
        np.copyto(dx, dy.transpose(self._inverse))
        return dx

    def get_config(self):
        config = super().get_config()
        config["dims"] = self.dims
        return config
