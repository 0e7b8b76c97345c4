"""Reshape: gives each sample a new shape with the same number of elements (a view, no copy)."""
import numbers

import numpy as np

from seqnet.engine.base_layer import Layer


class Reshape(Layer):
    """Reshapes each sample to `target_shape` (the batch axis stays as it is).

    Arguments:
        target_shape: tuple of integers, the shape of one output sample (without the
            batch axis). One entry may be -1: it is inferred from the input's size.

    Input shape: arbitrary, fully defined except the batch axis (an undefined axis makes
    the output shape undefined where target_shape has -1, as in Keras).
    Output shape: ``(batch,) + target_shape``.

    Example::

        model.add(Reshape((3, 4), input_shape=(12,)))   # -> (None, 3, 4)
        model.add(Reshape((-1, 2, 2)))                   # -> (None, 3, 2, 2)

    Masks: not supported (as Keras 2.2.4); a masked input raises TypeError.
    """

    def __init__(self, target_shape, **kwargs):
        super().__init__(**kwargs)
        self.target_shape = _check_target_shape(target_shape, self.name)

    def compute_output_shape(self, input_shape):
        input_shape = tuple(input_shape)
        if any(d is None for d in input_shape[1:]):
            return (input_shape[0],) + tuple(None if d == -1 else d for d in self.target_shape)
        return (input_shape[0],) + self._fix_unknown_dimension(input_shape[1:])

    def _fix_unknown_dimension(self, sample_shape):
        original = int(np.prod(sample_shape, dtype=np.int64))
        known = int(np.prod([d for d in self.target_shape if d != -1], dtype=np.int64))
        target = list(self.target_shape)
        if -1 in target:
            if known == 0 or original % known:
                raise ValueError(self._size_error(sample_shape))
            target[target.index(-1)] = original // known
        elif original != known:
            raise ValueError(self._size_error(sample_shape))
        return tuple(target)

    def _size_error(self, sample_shape):
        return (f"Reshape '{self.name}': total size of new array must be unchanged: target_shape "
                f"{self.target_shape} does not fit an input of shape {(None,) + tuple(sample_shape)} "
                f"({int(np.prod(sample_shape))} elements per sample)")

    def forward(self, x, training):
        self._shape = x.shape
        return x.reshape((x.shape[0],) + self._fix_unknown_dimension(x.shape[1:]))

    def backward(self, dy, need_dx=True, dy_is_preactivation=False):
        return dy.reshape(self._shape) if need_dx else None

    def get_config(self):
        config = super().get_config()
        config["target_shape"] = self.target_shape
        return config


def _check_target_shape(target_shape, name):
    try:
        shape = tuple(target_shape)
    except TypeError:
        raise ValueError(f"Reshape '{name}': target_shape must be a tuple of integers, got {target_shape!r}") from None
    if any(isinstance(d, bool) or not isinstance(d, numbers.Integral) or (d < 1 and d != -1) for d in shape):
        raise ValueError(f"Reshape '{name}': target_shape must hold positive integers (and at most one -1), "
                         f"got {target_shape!r}")
    if list(shape).count(-1) > 1:
        raise ValueError(f"Reshape '{name}': there must be at most one unknown dimension (-1) in target_shape, "
                         f"got {target_shape!r}")
    return tuple(int(d) for d in shape)
