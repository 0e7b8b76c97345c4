"""The Keras backend's arithmetic, element-wise math, comparisons,
reductions, indexing and dot, on NumPy arrays, each with its backward.

Every op follows one pattern: compute the forward value with NumPy, then
``record(value, inputs, backward)``. With plain arrays ``record`` returns the
value untouched (metrics run at NumPy speed); when a ``Tensor`` is among the
inputs it returns a tape node and ``backward`` maps the result's gradient to
its inputs' gradients. Ops with no gradient pass ``backward=None``.

These are the ops the Tensor class's operators call. The others live beside
this file, one subject each, and build on these: ops_shape.py (reshape,
concatenate, gather, tile, ...), ops_linalg.py (batch_dot), ops_nn.py
(activations, cross-entropies, bias_add, l2_normalize), ops_random.py (random
tensors, dropout), ops_control.py (switch, in_train_phase) and ops_values.py
(creation, shapes, variables). ``seqnet.backend`` exports them all.

Formulas follow tf-keras' backend (Keras 2), including TensorFlow's gradient
conventions at kinks: clip passes the gradient where min <= x <= max, maximum
and minimum give a tie to their first argument, relu and abs have gradient 0
at 0, max and min share a tie's gradient equally. Where TF selects the
gradient (clip, maximum, minimum, relu) we select too, so an infinite gradient
upstream (sqrt at 0) becomes 0 in the blocked branch rather than nan. Composite
functions (relu, hard_sigmoid, the cross-entropies, var, l2_normalize) are
written with the same primitive ops as in tf-keras, so their gradients are
those TF computes. Like TensorFlow, ops return inf/nan silently (log(0), x/0)
instead of warning.
"""
import builtins
import math

import numpy as np

from .. import _engine
from .operands import (QUIET, as_array, axes_arg, constant_index, expand_to,
                       is_basic_index, normalize_axes, operand)
from .session import floatx
from .tensor import Tensor, record

# ---------------------------------------------------------------------------
# Arithmetic (also the Tensor operators)

def add(x, y):
    """Element-wise ``x + y`` (NumPy broadcasting)."""
    a, b = operand(x), operand(y)
    return record(np.add(a, b), (x, y), lambda g: (g, g))


def subtract(x, y):
    """Element-wise ``x - y``."""
    a, b = operand(x), operand(y)
    return record(np.subtract(a, b), (x, y), lambda g: (g, -g))


def multiply(x, y):
    """Element-wise ``x * y``."""
    a, b = operand(x), operand(y)
    return record(np.multiply(a, b), (x, y), lambda g: (g * b, g * a))


def divide(x, y):
    """Element-wise ``x / y`` (inf or nan where y is 0, silently, as TF)."""
    a, b = operand(x), operand(y)
    with np.errstate(**QUIET):
        value = np.true_divide(a, b)
    return record(value, (x, y), lambda g: (g / b, -g * a / (b * b)))


def negative(x):
    """Element-wise ``-x``."""
    return record(np.negative(operand(x)), (x,), lambda g: (-g,))


def identity(x, name=None):
    """A copy of ``x``; the gradient passes through unchanged."""
    return record(np.array(as_array(x), copy=True), (x,), lambda g: (g,))


def pow(x, a):
    """Element-wise ``x ** a``."""
    base, exponent = operand(x), operand(a)
    with np.errstate(**QUIET):
        value = np.power(base, exponent)

    def backward(g):
        # As TF: d/da uses log(x) only where x > 0, 0 elsewhere.
        g_x = g * exponent * np.power(base, exponent - 1)
        if isinstance(a, Tensor):
            log_base = np.where(base > 0, np.log(np.where(base > 0, base, 1)), 0)
            return g_x, g * value * log_base
        return g_x, None

    return record(value, (x, a), backward)


# ---------------------------------------------------------------------------
# Element-wise math

def square(x):
    """Element-wise ``x ** 2``."""
    a = as_array(x)
    return record(np.square(a), (x,), lambda g: (2 * g * a,))


def sqrt(x):
    """Square root, with negative values clipped to 0 first (as Keras)."""
    return _sqrt(maximum(x, 0))


def _sqrt(x):
    value = np.sqrt(as_array(x))
    return record(value, (x,), lambda g: (0.5 * g / value,))


def abs(x):
    """Element-wise absolute value; the gradient at 0 is 0."""
    a = as_array(x)
    return record(np.abs(a), (x,), lambda g: (g * np.sign(a),))


def exp(x):
    """Element-wise exponential."""
    with np.errstate(**QUIET):
        value = np.exp(as_array(x))
    return record(value, (x,), lambda g: (g * value,))


def log(x):
    """Element-wise natural logarithm (-inf at 0, nan below, silently)."""
    a = as_array(x)
    with np.errstate(**QUIET):
        value = np.log(a)
    return record(value, (x,), lambda g: (g / a,))


def sin(x):
    """Element-wise sine."""
    a = as_array(x)
    return record(np.sin(a), (x,), lambda g: (g * np.cos(a),))


def cos(x):
    """Element-wise cosine."""
    a = as_array(x)
    return record(np.cos(a), (x,), lambda g: (-g * np.sin(a),))


def round(x):
    """Round half to even, as tf.round; no gradient."""
    return record(np.round(as_array(x)), (x,), None)


def sign(x):
    """Element-wise sign (-1, 0 or 1); no gradient."""
    return record(np.sign(as_array(x)), (x,), None)


def clip(x, min_value, max_value):
    """Clip to [min_value, max_value]; None means unbounded. The gradient
    passes where min_value <= x <= max_value."""
    if isinstance(min_value, (int, float)) and isinstance(max_value, (int, float)):
        if max_value < min_value:
            max_value = min_value
    lo = -np.inf if min_value is None else operand(min_value)
    hi = np.inf if max_value is None else operand(max_value)
    a = as_array(x)
    value = np.minimum(np.maximum(a, lo), hi)
    if value.dtype != a.dtype and a.dtype.kind == "f":
        value = value.astype(a.dtype)
    return record(value, (x,), lambda g: (np.where((a >= lo) & (a <= hi), g, 0),))


def maximum(x, y):
    """Element-wise maximum; on a tie the gradient goes to x (as TF)."""
    a, b = operand(x), operand(y)
    value = np.maximum(a, b)

    def backward(g):
        to_x = a >= b
        return np.where(to_x, g, 0), np.where(to_x, 0, g)

    return record(value, (x, y), backward)


def minimum(x, y):
    """Element-wise minimum; on a tie the gradient goes to x (as TF)."""
    a, b = operand(x), operand(y)
    value = np.minimum(a, b)

    def backward(g):
        to_x = a <= b
        return np.where(to_x, g, 0), np.where(to_x, 0, g)

    return record(value, (x, y), backward)


# ---------------------------------------------------------------------------
# Comparisons and casts (no gradient)

def equal(x, y):
    """Element-wise ``x == y`` as a bool array; no gradient."""
    return record(np.equal(operand(x), operand(y)), (x, y), None)


def not_equal(x, y):
    """Element-wise ``x != y`` as a bool array; no gradient."""
    return record(np.not_equal(operand(x), operand(y)), (x, y), None)


def greater(x, y):
    """Element-wise ``x > y`` as a bool array; no gradient."""
    return record(np.greater(operand(x), operand(y)), (x, y), None)


def greater_equal(x, y):
    """Element-wise ``x >= y`` as a bool array; no gradient."""
    return record(np.greater_equal(operand(x), operand(y)), (x, y), None)


def less(x, y):
    """Element-wise ``x < y`` as a bool array; no gradient."""
    return record(np.less(operand(x), operand(y)), (x, y), None)


def less_equal(x, y):
    """Element-wise ``x <= y`` as a bool array; no gradient."""
    return record(np.less_equal(operand(x), operand(y)), (x, y), None)


def argmax(x, axis=-1):
    """Index (int64) of the largest value along ``axis`` (the last by default); no gradient."""
    return record(np.argmax(as_array(x), axis=axis).astype(np.int64), (x,), None)


def argmin(x, axis=-1):
    """Index (int64) of the smallest value along ``axis`` (the last by default); no gradient."""
    return record(np.argmin(as_array(x), axis=axis).astype(np.int64), (x,), None)


def cast(x, dtype):
    """Convert to ``dtype``; the gradient flows only from float to float."""
    a = as_array(x)
    dtype = np.dtype(dtype)
    value = a.astype(dtype)
    if dtype.kind != "f" or a.dtype.kind != "f":
        return record(value, (x,), None)
    return record(value, (x,), lambda g: (g.astype(a.dtype),))


def stop_gradient(variables):
    """The value(s), as constants of the tape."""
    if isinstance(variables, (list, tuple)):
        return [stop_gradient(v) for v in variables]
    return record(as_array(variables), (variables,), None)


# ---------------------------------------------------------------------------
# Reductions

def sum(x, axis=None, keepdims=False):
    """Sum over ``axis`` (None: every axis; an int or a list of ints), keeping
    reduced axes as length 1 when ``keepdims``. An integer x keeps its dtype
    (int32 sums to int32), as tf.reduce_sum."""
    a = as_array(x)
    value = np.sum(a, axis=axes_arg(axis), keepdims=keepdims, dtype=_integer_dtype(a))
    return record(value, (x,), lambda g: (expand_to(g, a.shape, axis, keepdims),))


def mean(x, axis=None, keepdims=False):
    """Mean; a bool input is cast to floatx first (the accuracy idiom). An
    integer x gives an integer mean of its dtype, truncated toward zero, as
    Keras' tf.reduce_mean: K.mean of int32 [-3, -2] is -2."""
    a = as_array(x)
    if a.dtype == bool:
        return mean(cast(x, floatx()), axis, keepdims)
    if a.dtype.kind in "iu":
        return record(_integer_mean(a, axis, keepdims), (x,), None)
    value = np.mean(a, axis=axes_arg(axis), keepdims=keepdims)
    count = a.size // builtins.max(np.size(value), 1) if a.size else 1
    return record(value, (x,),
                  lambda g: (expand_to(g, a.shape, axis, keepdims) / count,))


def max(x, axis=None, keepdims=False):
    """Maximum over ``axis`` (None: every axis), keeping reduced axes as length 1
    when ``keepdims``. Ties share the gradient equally, as in TF."""
    return _extremum(np.max, x, axis, keepdims)


def min(x, axis=None, keepdims=False):
    """Minimum over ``axis`` (None: every axis), keeping reduced axes as length 1
    when ``keepdims``. Ties share the gradient equally, as in TF."""
    return _extremum(np.min, x, axis, keepdims)


def _extremum(reduce, x, axis, keepdims):
    a = as_array(x)
    value = reduce(a, axis=axes_arg(axis), keepdims=keepdims)

    def backward(g):
        # Ties share the gradient equally, as TF's reduce_max gradient.
        hit = a == expand_to(value, a.shape, axis, keepdims)
        share = hit / np.sum(hit, axis=axes_arg(axis), keepdims=True)
        return (expand_to(g, a.shape, axis, keepdims) * share,)

    return record(value, (x,), backward)


def prod(x, axis=None, keepdims=False):
    """Product over ``axis`` (None: every axis), keeping reduced axes as length 1
    when ``keepdims``. The gradient is exact where x holds zeros."""
    a = as_array(x)
    value = np.prod(a, axis=axes_arg(axis), keepdims=keepdims, dtype=_integer_dtype(a))

    def backward(g):
        # Product of the other elements, from exclusive cumulative products on
        # both sides: exact where x contains zeros, unlike value / x.
        axes = normalize_axes(axis, a.ndim)
        rest = [i for i in range(a.ndim) if i not in axes]
        moved = np.transpose(a, rest + list(axes))
        flat = moved.reshape(moved.shape[:len(rest)] + (-1,))
        ones = np.ones(flat.shape[:-1] + (1,), dtype=flat.dtype)
        left = np.cumprod(np.concatenate([ones, flat[..., :-1]], axis=-1), axis=-1)
        right = np.cumprod(np.concatenate([ones, flat[..., :0:-1]], axis=-1), axis=-1)[..., ::-1]
        others = (left * right).reshape(moved.shape)
        others = np.transpose(others, np.argsort(rest + list(axes)))
        return (expand_to(g, a.shape, axis, keepdims) * others,)

    return record(value, (x,), backward)


def var(x, axis=None, keepdims=False):
    """Population variance (divides by n), as tf.math.reduce_variance. Bool
    and integer x are cast to floatx first (TF rejects them)."""
    if as_array(x).dtype.kind in "biu":
        x = cast(x, floatx())
    centered = subtract(x, mean(x, axis=axis, keepdims=True))
    return mean(square(centered), axis=axis, keepdims=keepdims)


def std(x, axis=None, keepdims=False):
    """Population standard deviation, as tf.math.reduce_std."""
    return _sqrt(var(x, axis=axis, keepdims=keepdims))


def logsumexp(x, axis=None, keepdims=False):
    """log(sum(exp(x))) without overflow."""
    a = as_array(x)
    top = np.max(a, axis=axes_arg(axis), keepdims=True)
    top = np.where(np.isfinite(top), top, 0)
    with np.errstate(**QUIET):
        kept = np.log(np.sum(np.exp(a - top), axis=axes_arg(axis), keepdims=True)) + top
    value = kept if keepdims else np.squeeze(kept, axis=normalize_axes(axis, a.ndim))
    with np.errstate(**QUIET):
        weights = np.exp(a - kept)  # the softmax over the reduced axes
    return record(value, (x,),
                  lambda g: (expand_to(g, a.shape, axis, keepdims) * weights,))


def cumsum(x, axis=0):
    """Cumulative sum along ``axis`` (default 0)."""
    a = as_array(x)
    return record(np.cumsum(a, axis=axis, dtype=_integer_dtype(a)), (x,),
                  lambda g: (np.flip(np.cumsum(np.flip(g, axis), axis=axis), axis),))


def cumprod(x, axis=0):
    """Cumulative product along ``axis`` (default 0); like TF, its gradient is
    undefined where x is 0."""
    a = as_array(x)
    value = np.cumprod(a, axis=axis, dtype=_integer_dtype(a))

    def backward(g):
        # TF's formula (reverse cumsum of g * value, divided by x); like TF it
        # is undefined where x is 0.
        return (np.flip(np.cumsum(np.flip(g * value, axis), axis=axis), axis) / a,)

    return record(value, (x,), backward)


def _integer_dtype(a):
    # NumPy sums int32 (and smaller) into the platform's int64; TF keeps the dtype.
    return a.dtype if a.dtype.kind in "iu" else None


def _integer_mean(a, axis, keepdims):
    # As TF's integer reduce_mean: a wide sum, divided with truncation toward zero.
    total = np.sum(a, axis=axes_arg(axis), keepdims=keepdims, dtype=np.int64)
    count = builtins.max(a.size // builtins.max(np.size(total), 1), 1)
    return (np.sign(total) * (np.abs(total) // count)).astype(a.dtype)


def any(x, axis=None, keepdims=False):
    """Whether any element along ``axis`` is non-zero (bool); keepdims as ``sum``."""
    return record(np.any(as_array(x).astype(bool), axis=axes_arg(axis), keepdims=keepdims),
                  (x,), None)


def all(x, axis=None, keepdims=False):
    """Whether every element along ``axis`` is non-zero (bool); keepdims as ``sum``."""
    return record(np.all(as_array(x).astype(bool), axis=axes_arg(axis), keepdims=keepdims),
                  (x,), None)


# ---------------------------------------------------------------------------
# Indexing and the matrix product (also the Tensor's ``[]`` and ``@``)

def getitem(x, index):
    """``x[index]``; a Tensor inside the index is used as a constant."""
    a = as_array(x)
    if isinstance(index, tuple):
        index = tuple(constant_index(i) for i in index)
    else:
        index = constant_index(index)
    value = a[index]

    def backward(g):
        grad = np.zeros(a.shape, dtype=np.result_type(g, a))
        if is_basic_index(index):
            grad[index] = g  # a view: every element is selected at most once
        else:
            np.add.at(grad, index, g)  # repeated indices must accumulate
        return (grad,)

    return record(np.asarray(value), (x,), backward)


def dot(x, y):
    """Tensor product as np.dot / K.dot: the last axis of x with the
    second-to-last axis of y (the only axis of a 1-D y). Float32 products run
    on the engine's GEMM."""
    a, b = as_array(x), as_array(y)
    if a.ndim == 0 or b.ndim == 0:
        return multiply(x, y)
    # Reduce every case to one 2-D product: x as (rows, k), y as (k, cols).
    k = a.shape[-1]
    b_moved = np.moveaxis(b, -2, 0) if b.ndim >= 2 else b[:, None]
    if b_moved.shape[0] != k:
        raise ValueError(f"dot: shapes {a.shape} and {b.shape} are not aligned: {k} (last axis of x) != "
                         f"{b_moved.shape[0]} ({'second-to-last' if b.ndim >= 2 else 'only'} axis of y)")
    out_shape = a.shape[:-1] + (b.shape[:-2] + b.shape[-1:] if b.ndim >= 2 else ())
    # Explicit sizes, not -1: with an empty inner axis (k = 0) the product is all zeros.
    a2 = a.reshape(math.prod(a.shape[:-1]), k)
    b2 = b_moved.reshape(k, math.prod(b_moved.shape[1:]))
    value = _matmul(a2, b2).reshape(out_shape)

    def backward(g):
        g2 = np.reshape(g, (a2.shape[0], b2.shape[1]))
        g_a = _matmul(g2, b2, trans_b=True).reshape(a.shape)
        g_b = _matmul(a2, g2, trans_a=True).reshape(b_moved.shape)
        g_b = np.moveaxis(g_b, 0, -2) if b.ndim >= 2 else g_b[:, 0]
        return g_a, g_b

    return record(value, (x, y), backward)


def _matmul(a, b, trans_a=False, trans_b=False):
    if a.dtype == np.float32 and b.dtype == np.float32:
        return _engine.matmul(np.ascontiguousarray(a), np.ascontiguousarray(b),
                              trans_a=trans_a, trans_b=trans_b)
    return np.matmul(a.T if trans_a else a, b.T if trans_b else b)


def install_operators(cls):
    """Gives the tape's Tensor its Python operators: each is the backend op of the same
    name (so ``a * b`` records a gradient like ``K.multiply(a, b)``)."""
    pairs = {"__add__": lambda a, b: add(a, b), "__radd__": lambda a, b: add(b, a),
             "__sub__": lambda a, b: subtract(a, b), "__rsub__": lambda a, b: subtract(b, a),
             "__mul__": lambda a, b: multiply(a, b), "__rmul__": lambda a, b: multiply(b, a),
             "__truediv__": lambda a, b: divide(a, b), "__rtruediv__": lambda a, b: divide(b, a),
             "__pow__": lambda a, b: pow(a, b), "__rpow__": lambda a, b: pow(b, a),
             "__matmul__": lambda a, b: dot(a, b), "__rmatmul__": lambda a, b: dot(b, a),
             "__lt__": lambda a, b: less(a, b), "__le__": lambda a, b: less_equal(a, b),
             "__gt__": lambda a, b: greater(a, b), "__ge__": lambda a, b: greater_equal(a, b),
             "__eq__": lambda a, b: equal(a, b), "__ne__": lambda a, b: not_equal(a, b),
             "__getitem__": lambda a, index: getitem(a, index),
             "__neg__": lambda a: negative(a), "__abs__": lambda a: abs(a)}
    for name, fn in pairs.items():
        setattr(cls, name, fn)


install_operators(Tensor)
