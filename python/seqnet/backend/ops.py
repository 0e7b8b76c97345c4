"""The Keras backend functions, on NumPy arrays, each with its backward.

Every op follows one pattern: compute the forward value with NumPy, then
``record(value, inputs, backward)``. With plain arrays ``record`` returns the
value untouched (metrics run at NumPy speed); when a ``Tensor`` is among the
inputs it returns a tape node and ``backward`` maps the result's gradient to
its inputs' gradients. Ops with no gradient pass ``backward=None``.

Formulas follow tf-keras' backend (Keras 2), including TensorFlow's gradient
conventions at kinks: clip passes the gradient where min <= x <= max, maximum
and minimum give a tie to their first argument, relu and abs have gradient 0
at 0, max and min share a tie's gradient equally. Where TF selects the
gradient (clip, maximum, minimum, relu) we select too, so an infinite gradient
upstream (sqrt at 0) becomes 0 in the blocked branch rather than nan. Composite functions (relu,
hard_sigmoid, the cross-entropies, var, l2_normalize) are written with the
same primitive ops as in tf-keras, so their gradients are those TF computes.
Like TensorFlow, ops return inf/nan silently (log(0), x/0) instead of warning.
"""
import builtins

import numpy as np

from .. import _engine
from .session import epsilon, floatx
from .tensor import Tensor, record
from .variable import Variable

_QUIET = dict(divide="ignore", invalid="ignore", over="ignore", under="ignore")


# ---------------------------------------------------------------------------
# Arithmetic (also the Tensor operators)

def add(x, y):
    a, b = _operand(x), _operand(y)
    return record(np.add(a, b), (x, y), lambda g: (g, g))


def subtract(x, y):
    a, b = _operand(x), _operand(y)
    return record(np.subtract(a, b), (x, y), lambda g: (g, -g))


def multiply(x, y):
    a, b = _operand(x), _operand(y)
    return record(np.multiply(a, b), (x, y), lambda g: (g * b, g * a))


def divide(x, y):
    a, b = _operand(x), _operand(y)
    with np.errstate(**_QUIET):
        value = np.true_divide(a, b)
    return record(value, (x, y), lambda g: (g / b, -g * a / (b * b)))


def negative(x):
    return record(np.negative(_operand(x)), (x,), lambda g: (-g,))


def pow(x, a):
    """Element-wise ``x ** a``."""
    base, exponent = _operand(x), _operand(a)
    with np.errstate(**_QUIET):
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
    a = _array(x)
    return record(np.square(a), (x,), lambda g: (2 * g * a,))


def sqrt(x):
    """Square root, with negative values clipped to 0 first (as Keras)."""
    return _sqrt(maximum(x, 0))


def _sqrt(x):
    value = np.sqrt(_array(x))
    return record(value, (x,), lambda g: (0.5 * g / value,))


def abs(x):
    a = _array(x)
    return record(np.abs(a), (x,), lambda g: (g * np.sign(a),))


def exp(x):
    with np.errstate(**_QUIET):
        value = np.exp(_array(x))
    return record(value, (x,), lambda g: (g * value,))


def log(x):
    a = _array(x)
    with np.errstate(**_QUIET):
        value = np.log(a)
    return record(value, (x,), lambda g: (g / a,))


def sin(x):
    a = _array(x)
    return record(np.sin(a), (x,), lambda g: (g * np.cos(a),))


def cos(x):
    a = _array(x)
    return record(np.cos(a), (x,), lambda g: (-g * np.sin(a),))


def round(x):
    """Round half to even, as tf.round; no gradient."""
    return record(np.round(_array(x)), (x,), None)


def sign(x):
    return record(np.sign(_array(x)), (x,), None)


def clip(x, min_value, max_value):
    """Clip to [min_value, max_value]; None means unbounded. The gradient
    passes where min_value <= x <= max_value."""
    if isinstance(min_value, (int, float)) and isinstance(max_value, (int, float)):
        if max_value < min_value:
            max_value = min_value
    lo = -np.inf if min_value is None else _operand(min_value)
    hi = np.inf if max_value is None else _operand(max_value)
    a = _array(x)
    value = np.minimum(np.maximum(a, lo), hi)
    if value.dtype != a.dtype and a.dtype.kind == "f":
        value = value.astype(a.dtype)
    return record(value, (x,), lambda g: (np.where((a >= lo) & (a <= hi), g, 0),))


def maximum(x, y):
    """Element-wise maximum; on a tie the gradient goes to x (as TF)."""
    a, b = _operand(x), _operand(y)
    value = np.maximum(a, b)

    def backward(g):
        to_x = a >= b
        return np.where(to_x, g, 0), np.where(to_x, 0, g)

    return record(value, (x, y), backward)


def minimum(x, y):
    """Element-wise minimum; on a tie the gradient goes to x (as TF)."""
    a, b = _operand(x), _operand(y)
    value = np.minimum(a, b)

    def backward(g):
        to_x = a <= b
        return np.where(to_x, g, 0), np.where(to_x, 0, g)

    return record(value, (x, y), backward)


# ---------------------------------------------------------------------------
# Comparisons and casts (no gradient)

def equal(x, y):
    return record(np.equal(_operand(x), _operand(y)), (x, y), None)


def not_equal(x, y):
    return record(np.not_equal(_operand(x), _operand(y)), (x, y), None)


def greater(x, y):
    return record(np.greater(_operand(x), _operand(y)), (x, y), None)


def greater_equal(x, y):
    return record(np.greater_equal(_operand(x), _operand(y)), (x, y), None)


def less(x, y):
    return record(np.less(_operand(x), _operand(y)), (x, y), None)


def less_equal(x, y):
    return record(np.less_equal(_operand(x), _operand(y)), (x, y), None)


def argmax(x, axis=-1):
    return record(np.argmax(_array(x), axis=axis).astype(np.int64), (x,), None)


def argmin(x, axis=-1):
    return record(np.argmin(_array(x), axis=axis).astype(np.int64), (x,), None)


def cast(x, dtype):
    """Convert to ``dtype``; the gradient flows only from float to float."""
    a = _array(x)
    dtype = np.dtype(dtype)
    value = a.astype(dtype)
    if dtype.kind != "f" or a.dtype.kind != "f":
        return record(value, (x,), None)
    return record(value, (x,), lambda g: (g.astype(a.dtype),))


def stop_gradient(variables):
    """The value(s), as constants of the tape."""
    if isinstance(variables, (list, tuple)):
        return [stop_gradient(v) for v in variables]
    return record(_array(variables), (variables,), None)


# ---------------------------------------------------------------------------
# Reductions

def sum(x, axis=None, keepdims=False):
    a = _array(x)
    value = np.sum(a, axis=_axes(axis), keepdims=keepdims)
    return record(value, (x,), lambda g: (_expand_to(g, a.shape, axis, keepdims),))


def mean(x, axis=None, keepdims=False):
    """Mean; a bool input is cast to floatx first (the accuracy idiom)."""
    a = _array(x)
    if a.dtype == bool:
        return mean(cast(x, floatx()), axis, keepdims)
    value = np.mean(a, axis=_axes(axis), keepdims=keepdims)
    count = a.size // builtins.max(np.size(value), 1) if a.size else 1
    return record(value, (x,),
                  lambda g: (_expand_to(g, a.shape, axis, keepdims) / count,))


def max(x, axis=None, keepdims=False):
    return _extremum(np.max, x, axis, keepdims)


def min(x, axis=None, keepdims=False):
    return _extremum(np.min, x, axis, keepdims)


def _extremum(reduce, x, axis, keepdims):
    a = _array(x)
    value = reduce(a, axis=_axes(axis), keepdims=keepdims)

    def backward(g):
        # Ties share the gradient equally, as TF's reduce_max gradient.
        hit = a == _expand_to(value, a.shape, axis, keepdims)
        share = hit / np.sum(hit, axis=_axes(axis), keepdims=True)
        return (_expand_to(g, a.shape, axis, keepdims) * share,)

    return record(value, (x,), backward)


def prod(x, axis=None, keepdims=False):
    a = _array(x)
    value = np.prod(a, axis=_axes(axis), keepdims=keepdims)

    def backward(g):
        # Product of the other elements, from exclusive cumulative products on
        # both sides: exact where x contains zeros, unlike value / x.
        axes = _normalize_axes(axis, a.ndim)
        rest = [i for i in range(a.ndim) if i not in axes]
        moved = np.transpose(a, rest + list(axes))
        flat = moved.reshape(moved.shape[:len(rest)] + (-1,))
        ones = np.ones(flat.shape[:-1] + (1,), dtype=flat.dtype)
        left = np.cumprod(np.concatenate([ones, flat[..., :-1]], axis=-1), axis=-1)
        right = np.cumprod(np.concatenate([ones, flat[..., :0:-1]], axis=-1), axis=-1)[..., ::-1]
        others = (left * right).reshape(moved.shape)
        others = np.transpose(others, np.argsort(rest + list(axes)))
        return (_expand_to(g, a.shape, axis, keepdims) * others,)

    return record(value, (x,), backward)


def var(x, axis=None, keepdims=False):
    """Population variance (divides by n), as tf.math.reduce_variance."""
    if _array(x).dtype == bool:
        x = cast(x, floatx())
    centered = subtract(x, mean(x, axis=axis, keepdims=True))
    return mean(square(centered), axis=axis, keepdims=keepdims)


def std(x, axis=None, keepdims=False):
    """Population standard deviation, as tf.math.reduce_std."""
    return _sqrt(var(x, axis=axis, keepdims=keepdims))


def logsumexp(x, axis=None, keepdims=False):
    """log(sum(exp(x))) without overflow."""
    a = _array(x)
    top = np.max(a, axis=_axes(axis), keepdims=True)
    top = np.where(np.isfinite(top), top, 0)
    with np.errstate(**_QUIET):
        kept = np.log(np.sum(np.exp(a - top), axis=_axes(axis), keepdims=True)) + top
    value = kept if keepdims else np.squeeze(kept, axis=_normalize_axes(axis, a.ndim))
    with np.errstate(**_QUIET):
        weights = np.exp(a - kept)  # the softmax over the reduced axes
    return record(value, (x,),
                  lambda g: (_expand_to(g, a.shape, axis, keepdims) * weights,))


def cumsum(x, axis=0):
    a = _array(x)
    return record(np.cumsum(a, axis=axis), (x,),
                  lambda g: (np.flip(np.cumsum(np.flip(g, axis), axis=axis), axis),))


def cumprod(x, axis=0):
    a = _array(x)
    value = np.cumprod(a, axis=axis)

    def backward(g):
        # TF's formula (reverse cumsum of g * value, divided by x); like TF it
        # is undefined where x is 0.
        return (np.flip(np.cumsum(np.flip(g * value, axis), axis=axis), axis) / a,)

    return record(value, (x,), backward)


def any(x, axis=None, keepdims=False):
    return record(np.any(_array(x).astype(bool), axis=_axes(axis), keepdims=keepdims),
                  (x,), None)


def all(x, axis=None, keepdims=False):
    return record(np.all(_array(x).astype(bool), axis=_axes(axis), keepdims=keepdims),
                  (x,), None)


def l2_normalize(x, axis=None):
    """x / sqrt(max(sum(x**2), 1e-12)), as tf.linalg.l2_normalize."""
    squared_norm = sum(square(x), axis=axis, keepdims=True)
    return divide(x, _sqrt(maximum(squared_norm, 1e-12)))


# ---------------------------------------------------------------------------
# Activations

def sigmoid(x):
    a = _array(x)
    with np.errstate(**_QUIET):
        value = 1 / (1 + np.exp(-a))
    out = record(value, (x,), lambda g: (g * value * (1 - value),))
    return _remember_logits(out, x)


def hard_sigmoid(x):
    """0.2 * x + 0.5, clipped to [0, 1]."""
    return clip(add(multiply(x, 0.2), 0.5), 0.0, 1.0)


def tanh(x):
    value = np.tanh(_array(x))
    return record(value, (x,), lambda g: (g * (1 - value * value),))


def softplus(x):
    a = _array(x)
    return record(np.logaddexp(0, a), (x,), lambda g: (g / (1 + np.exp(-a)),))


def softsign(x):
    a = _array(x)
    denom = 1 + np.abs(a)
    return record(a / denom, (x,), lambda g: (g / (denom * denom),))


def elu(x, alpha=1.0):
    a = _array(x)
    negative_side = np.minimum(a, 0)
    value = np.where(a > 0, a, alpha * np.expm1(negative_side))
    return record(value, (x,),
                  lambda g: (np.where(a > 0, g, g * alpha * np.exp(negative_side)),))


def relu(x, alpha=0.0, max_value=None, threshold=0.0):
    """Rectified linear unit, tf-keras' composition:
    max_value for x >= max_value, x for threshold <= x < max_value,
    alpha * (x - threshold) otherwise."""
    if alpha != 0.0:
        if max_value is None and threshold == 0:
            return _leaky_relu(x, alpha)
        if threshold != 0:
            negative_part = _relu(add(negative(x), threshold))
        else:
            negative_part = _relu(negative(x))
    clip_max = max_value is not None
    if threshold != 0:
        y = multiply(x, cast(greater(x, threshold), _array(x).dtype))
    elif max_value == 6:
        y = _relu6(x)
        clip_max = False
    else:
        y = _relu(x)
    if clip_max:
        y = clip(y, 0, max_value)
    if alpha != 0.0:
        y = subtract(y, multiply(alpha, negative_part))
    return y


def _relu(x):
    a = _array(x)
    return record(np.maximum(a, 0).astype(a.dtype, copy=False), (x,),
                  lambda g: (np.where(a > 0, g, 0),))


def _relu6(x):
    a = _array(x)
    return record(np.clip(a, 0, 6).astype(a.dtype, copy=False), (x,),
                  lambda g: (np.where((a > 0) & (a < 6), g, 0),))


def _leaky_relu(x, alpha):
    a = _array(x)
    value = np.where(a > 0, a, alpha * a).astype(a.dtype, copy=False)
    return record(value, (x,), lambda g: (np.where(a > 0, g, alpha * g),))


def softmax(x, axis=-1):
    a = _array(x)
    axes = _axes(axis)
    with np.errstate(**_QUIET):
        e = np.exp(a - np.max(a, axis=axes, keepdims=True))
        value = e / np.sum(e, axis=axes, keepdims=True)
    out = record(value, (x,),
                 lambda g: (value * (g - np.sum(g * value, axis=axes, keepdims=True)),))
    return _remember_logits(out, x)


def _remember_logits(out, logits):
    # tf-keras caches the logits on softmax/sigmoid outputs; the cross-entropies
    # then compute from logits, which changes values near 0 and 1.
    if isinstance(out, Tensor):
        out._keras_logits = logits
    return out


# ---------------------------------------------------------------------------
# Losses

def binary_crossentropy(target, output, from_logits=False):
    """Element-wise binary cross-entropy (tf-keras' formula).

    From probabilities: output is clipped to [eps, 1 - eps], then
    -(t * log(o + eps) + (1 - t) * log(1 - o + eps)).
    """
    output, from_logits = _logits_of(output, from_logits)
    if from_logits:
        return _sigmoid_cross_entropy_with_logits(target, output)
    eps = epsilon()
    output = clip(output, eps, 1.0 - eps)
    bce = multiply(target, log(add(output, eps)))
    bce = add(bce, multiply(subtract(1, target), log(add(subtract(1, output), eps))))
    return negative(bce)


def _sigmoid_cross_entropy_with_logits(labels, logits):
    # max(x, 0) - x * z + log(1 + exp(-|x|)): no overflow for any x.
    x, z = _array(logits), _operand(labels)
    value = np.maximum(x, 0) - x * z + np.log1p(np.exp(-np.abs(x)))
    return record(value, (labels, logits),
                  lambda g: (-g * x, g * (1 / (1 + np.exp(-x)) - z)))


def categorical_crossentropy(target, output, from_logits=False, axis=-1):
    """Cross-entropy along ``axis`` (tf-keras' formula).

    From probabilities: output is divided by its sum over ``axis``, clipped
    to [eps, 1 - eps], and the result is -sum(t * log(o), axis).
    """
    _check_same_shape(target, output, "categorical_crossentropy")
    output, from_logits = _logits_of(output, from_logits)
    if from_logits:
        return negative(sum(multiply(target, _log_softmax(output, axis)), axis=axis))
    output = divide(output, sum(output, axis=axis, keepdims=True))
    eps = epsilon()
    output = clip(output, eps, 1.0 - eps)
    return negative(sum(multiply(target, log(output)), axis=axis))


def sparse_categorical_crossentropy(target, output, from_logits=False, axis=-1):
    """Cross-entropy with integer class targets (tf-keras' formula).

    From probabilities: log(clip(output, eps, 1 - eps)) are taken as logits
    of a softmax cross-entropy, so output is renormalised in the log domain.
    Targets may carry a trailing axis of 1 (shape (batch, 1)); the result has
    output's shape without the class axis.
    """
    output, from_logits = _logits_of(output, from_logits)
    if not from_logits:
        eps = epsilon()
        output = log(clip(output, eps, 1 - eps))
    rank = _array(output).ndim
    axis %= rank
    if axis != rank - 1:
        output = permute_dimensions(output, [i for i in range(rank) if i != axis] + [axis])
    logits_shape = _array(output).shape
    labels = _array(target)
    if labels.size != int(np.prod(logits_shape[:-1])):
        raise ValueError(
            f"sparse_categorical_crossentropy: target of shape {labels.shape} "
            f"does not match output of shape {logits_shape} (expected "
            f"{int(np.prod(logits_shape[:-1]))} class indices)")
    labels = labels.astype(np.int64).reshape(logits_shape[:-1])
    classes = logits_shape[-1]
    if labels.size and (labels.min() < 0 or labels.max() >= classes):
        raise ValueError(
            f"sparse_categorical_crossentropy: target contains class indices "
            f"outside [0, {classes}): min {labels.min()}, max {labels.max()}")
    one_hot_labels = (labels[..., None] == np.arange(classes)).astype(_array(output).dtype)
    return negative(sum(multiply(one_hot_labels, _log_softmax(output, -1)), axis=-1))


def _log_softmax(logits, axis):
    return subtract(logits, logsumexp(logits, axis=axis, keepdims=True))


def _logits_of(output, from_logits):
    logits = getattr(output, "_keras_logits", None)
    if logits is not None:
        return logits, True
    return output, from_logits


def _check_same_shape(target, output, name):
    t, o = np.shape(_array(target)), np.shape(_array(output))
    if t != o:
        raise ValueError(f"{name}: target shape {t} and output shape {o} differ")


# ---------------------------------------------------------------------------
# Linear algebra

def dot(x, y):
    """Tensor product as np.dot / K.dot: the last axis of x with the
    second-to-last axis of y (the only axis of a 1-D y)."""
    a, b = _array(x), _array(y)
    if a.ndim == 0 or b.ndim == 0:
        return multiply(x, y)
    # Reduce every case to one 2-D product: x as (rows, k), y as (k, cols).
    k = a.shape[-1]
    b_moved = np.moveaxis(b, -2, 0) if b.ndim >= 2 else b[:, None]
    out_shape = a.shape[:-1] + (b.shape[:-2] + b.shape[-1:] if b.ndim >= 2 else ())
    a2 = a.reshape(-1, k)
    b2 = b_moved.reshape(k, -1)
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


# ---------------------------------------------------------------------------
# Shapes

def reshape(x, shape):
    a = _array(x)
    return record(np.reshape(a, shape), (x,), lambda g: (np.reshape(g, a.shape),))


def flatten(x):
    return reshape(x, (-1,))


def batch_flatten(x):
    """(batch, ...) -> (batch, prod(...))."""
    a = _array(x)
    return reshape(x, (a.shape[0], -1))


def expand_dims(x, axis=-1):
    a = _array(x)
    return reshape(x, np.expand_dims(a, axis).shape)


def squeeze(x, axis):
    a = _array(x)
    return reshape(x, np.squeeze(a, axis).shape)


def permute_dimensions(x, pattern):
    a = _array(x)
    pattern = tuple(pattern)
    inverse = tuple(np.argsort(pattern))
    return record(np.transpose(a, pattern), (x,), lambda g: (np.transpose(g, inverse),))


def transpose(x):
    """Reverse the order of all axes."""
    return permute_dimensions(x, tuple(reversed(range(_array(x).ndim))))


def concatenate(tensors, axis=-1):
    arrays = [_array(t) for t in tensors]
    if axis < 0:
        rank = arrays[0].ndim
        axis = axis % rank if rank else 0
    value = np.concatenate(arrays, axis=axis)
    bounds = np.cumsum([a.shape[axis] for a in arrays])[:-1]
    return record(value, tuple(tensors), lambda g: tuple(np.split(g, bounds, axis=axis)))


def stack(x, axis=0):
    arrays = [_array(t) for t in x]
    value = np.stack(arrays, axis=axis)
    return record(value, tuple(x),
                  lambda g: tuple(np.moveaxis(g, axis, 0)[i] for i in range(len(arrays))))


def getitem(x, index):
    """``x[index]``; a Tensor inside the index is used as a constant."""
    a = _array(x)
    if isinstance(index, tuple):
        index = tuple(_constant_index(i) for i in index)
    else:
        index = _constant_index(index)
    value = a[index]

    def backward(g):
        grad = np.zeros(a.shape, dtype=np.result_type(g, a))
        if _is_basic_index(index):
            grad[index] = g  # a view: every element is selected at most once
        else:
            np.add.at(grad, index, g)  # repeated indices must accumulate
        return (grad,)

    return record(np.asarray(value), (x,), backward)


def switch(condition, then_expression, else_expression):
    """Element-wise choice (or a plain if for a scalar condition), as Keras:
    a condition of lower rank is extended with trailing axes of 1."""
    cond = _array(condition)
    if cond.ndim == 0:
        chosen = then_expression if bool(cond) else else_expression
        return chosen() if callable(chosen) else chosen
    if callable(then_expression):
        then_expression = then_expression()
    if callable(else_expression):
        else_expression = else_expression()
    expr_ndim = builtins.max(_array(then_expression).ndim, _array(else_expression).ndim)
    if cond.ndim < expr_ndim:
        cond = cond.reshape(cond.shape + (1,) * (expr_ndim - cond.ndim))
    cond = cond.astype(bool)
    value = np.where(cond, _operand(then_expression), _operand(else_expression))
    return record(value, (then_expression, else_expression),
                  lambda g: (np.where(cond, g, 0), np.where(cond, 0, g)))


def one_hot(indices, num_classes):
    """One-hot float32 encoding along a new last axis; no gradient."""
    labels = _array(indices).astype(np.int64)
    return record((labels[..., None] == np.arange(num_classes)).astype(np.float32),
                  (indices,), None)


# ---------------------------------------------------------------------------
# Creation (constants; no gradient)

def ones_like(x, dtype=None, name=None):
    a = _array(x)
    return record(np.ones(a.shape, dtype=dtype or a.dtype), (x,), None)


def zeros_like(x, dtype=None, name=None):
    a = _array(x)
    return record(np.zeros(a.shape, dtype=dtype or a.dtype), (x,), None)


def ones(shape, dtype=None, name=None):
    return np.ones(shape, dtype=dtype or floatx())


def zeros(shape, dtype=None, name=None):
    return np.zeros(shape, dtype=dtype or floatx())


def eye(size, dtype=None, name=None):
    return np.eye(size, dtype=dtype or floatx())


def constant(value, dtype=None, shape=None, name=None):
    """An array of ``dtype`` (floatx by default); a scalar fills ``shape``."""
    a = np.asarray(_operand(value), dtype=dtype or floatx())
    if shape is None:
        return a
    shape = tuple(shape)
    if a.size == 1:
        return np.full(shape, a.reshape(()), dtype=a.dtype)
    if a.size != int(np.prod(shape)):
        raise ValueError(f"constant: {a.size} values do not fill shape {shape}")
    return a.reshape(shape)


def variable(value, dtype=None, name=None, constraint=None):
    """A ``Variable`` holding a copy of ``value`` (floatx by default)."""
    return Variable(value, dtype=dtype, name=name, constraint=constraint)


# ---------------------------------------------------------------------------
# Introspection and values

def int_shape(x):
    """The shape as a tuple of ints."""
    return tuple(_array(x).shape)


def ndim(x):
    return _array(x).ndim


def shape(x):
    """The shape as an int32 array (Keras returns a shape tensor)."""
    return np.asarray(_array(x).shape, dtype=np.int32)


def dtype(x):
    """The dtype name, e.g. 'float32'."""
    return _array(x).dtype.name


def get_value(x):
    """The value of a Variable (a copy; a NumPy scalar when 0-d). Tensors give
    their value; NumPy arrays and numbers are returned as they are (as tf-keras
    does for non-tensors)."""
    if isinstance(x, (Variable, Tensor)):
        return x.numpy()
    if isinstance(x, (np.ndarray, np.generic, int, float, bool)):
        return x
    raise TypeError(
        f"get_value expects a Variable (e.g. optimizer.lr), got {type(x).__name__}")


def set_value(x, value):
    """Assign ``value`` to the Variable ``x`` in place (same shape)."""
    if not isinstance(x, Variable):
        raise TypeError(
            f"set_value expects a Variable (created with K.variable, e.g. "
            f"optimizer.lr), got {type(x).__name__}")
    x.assign(value)


def batch_get_value(tensors):
    return [get_value(x) for x in tensors]


def batch_set_value(tuples):
    for x, value in tuples:
        set_value(x, value)


def eval(x):
    """The NumPy value of a Variable, Tensor or array."""
    if isinstance(x, (Variable, Tensor)):
        return x.numpy()
    return np.asarray(x)


# ---------------------------------------------------------------------------
# Helpers

def _operand(x):
    """The NumPy value behind an argument of a binary op. Python numbers stay
    Python numbers so they take the array's dtype, as TF converts them."""
    if isinstance(x, Tensor):
        return x.value
    if isinstance(x, Variable):
        return x._value
    if isinstance(x, (list, tuple)):
        return _from_python(x)
    return x


def _array(x):
    """The NumPy array behind a unary op's argument."""
    value = _operand(x)
    # np.float64 subclasses float: only true Python numbers take floatx.
    if isinstance(value, (int, float, bool)) and not isinstance(value, np.generic):
        return _from_python(value)
    return np.asarray(value)


def _from_python(value):
    # tf.convert_to_tensor turns Python floats into float32, not float64.
    a = np.asarray(value)
    return a.astype(floatx()) if a.dtype == np.float64 else a


def _axes(axis):
    return tuple(axis) if isinstance(axis, list) else axis


def _normalize_axes(axis, ndim):
    if axis is None:
        return tuple(range(ndim))
    if isinstance(axis, (list, tuple)):
        return tuple(sorted(i % ndim for i in axis))
    return (axis % ndim,)


def _expand_to(g, shape, axis, keepdims):
    """Broadcast a reduction's gradient (or value) back to the input shape."""
    g = np.asarray(g)
    if not keepdims:
        g = np.reshape(g, [1 if i in _normalize_axes(axis, len(shape)) else n
                           for i, n in enumerate(shape)])
    return np.broadcast_to(g, shape)


def _is_basic_index(index):
    parts = index if isinstance(index, tuple) else (index,)
    return builtins.all(p is None or p is Ellipsis or isinstance(p, (slice, int, np.integer))
                        for p in parts)


def _constant_index(index):
    if isinstance(index, (Tensor, Variable)):
        return _operand(index)
    return index

