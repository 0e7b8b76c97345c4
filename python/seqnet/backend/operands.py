"""What every backend op does with its arguments before computing: take the
NumPy value out of a Tensor or Variable, give Python numbers the float type
TensorFlow would, and turn Keras' ``axis`` arguments into NumPy's.

Shared by the op modules (ops.py, ops_shape.py, ops_nn.py, ...); not public.
"""
import builtins

import numpy as np

from .session import floatx
from .tensor import Tensor
from .variable import Variable

# TensorFlow returns inf/nan silently (log(0), x/0); so do we.
QUIET = dict(divide="ignore", invalid="ignore", over="ignore", under="ignore")

_INT32 = np.iinfo(np.int32)


def operand(x):
    """The NumPy value behind an argument of a binary op. Python numbers stay
    Python numbers so they take the array's dtype, as TF converts them."""
    if isinstance(x, Tensor):
        return x.value
    if isinstance(x, Variable):
        return x._value
    if isinstance(x, (list, tuple)):
        return from_python(x)
    return x


def as_array(x):
    """The NumPy array behind a unary op's argument."""
    value = operand(x)
    # np.float64 subclasses float: only true Python numbers take floatx.
    if isinstance(value, (int, float, bool)) and not isinstance(value, np.generic):
        return from_python(value)
    return np.asarray(value)


def from_python(value):
    """A Python number or nested list as an array of the dtype
    tf.convert_to_tensor gives it: floats become floatx (not float64), and
    ints int32 (not NumPy's int64) unless a value needs 64 bits."""
    a = np.asarray(value)
    if a.dtype == np.float64:
        return a.astype(floatx())
    if a.dtype == np.int64 and (a.size == 0 or _INT32.min <= a.min() and a.max() <= _INT32.max):
        return a.astype(np.int32)
    return a



def axes_arg(axis):
    """Keras accepts a list of axes where NumPy wants a tuple."""
    return tuple(axis) if isinstance(axis, list) else axis


def normalize_axes(axis, ndim):
    """``axis`` (None, an int or a sequence, negatives allowed) as a sorted
    tuple of non-negative axes of an array of rank ``ndim``."""
    if axis is None:
        return tuple(range(ndim))
    if isinstance(axis, (list, tuple)):
        return tuple(sorted(i % ndim for i in axis))
    return (axis % ndim,)


def normalize_axis(axis, ndim, what):
    """One axis in [-ndim, ndim) as a non-negative int, else ValueError."""
    if isinstance(axis, bool) or not isinstance(axis, (int, np.integer)):
        raise ValueError(f"{what}: axis must be an integer, got {axis!r}")
    if not -ndim <= axis < ndim:
        raise ValueError(f"{what}: axis {axis} is out of range for a tensor of rank {ndim}")
    return int(axis) % ndim


def expand_to(g, shape, axis, keepdims):
    """Broadcast a reduction's gradient (or value) back to the input shape."""
    g = np.asarray(g)
    if not keepdims:
        g = np.reshape(g, [1 if i in normalize_axes(axis, len(shape)) else n
                           for i, n in enumerate(shape)])
    return np.broadcast_to(g, shape)


def constant_index(index):
    """An index (or a part of one) with any Tensor or Variable replaced by its
    value: indices are constants of the tape."""
    if isinstance(index, (Tensor, Variable)):
        return operand(index)
    return index


def is_basic_index(index):
    """Whether ``index`` selects each element at most once (ints, slices,
    None and Ellipsis only), so a gradient can be written through a view."""
    parts = index if isinstance(index, tuple) else (index,)
    return builtins.all(p is None or p is Ellipsis or isinstance(p, (slice, int, np.integer))
                        for p in parts)
