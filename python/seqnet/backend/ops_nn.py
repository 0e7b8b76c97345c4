"""Backend ops of neural networks: activations, the cross-entropies,
l2_normalize, bias_add, batch_normalization and in_top_k.

Composite functions (relu, hard_sigmoid, the cross-entropies, l2_normalize)
are written with the primitive ops as tf-keras writes them, so their values
and gradients are those TensorFlow computes.
"""
import builtins

import numpy as np

from .operands import QUIET, as_array, axes_arg, normalize_axes, normalize_axis, operand
from .ops import (_sqrt, add, cast, clip, divide, greater, log, logsumexp, maximum,
                  multiply, negative, sqrt, square, subtract, sum)
from .ops_shape import permute_dimensions, reshape
from .session import epsilon, image_data_format
from .tensor import Tensor, record


def sigmoid(x):
    """Logistic sigmoid, 1 / (1 + exp(-x))."""
    a = as_array(x)
    with np.errstate(**QUIET):
        value = 1 / (1 + np.exp(-a))
    out = record(value, (x,), lambda g: (g * value * (1 - value),))
    return _remember_logits(out, x, "sigmoid")


def hard_sigmoid(x):
    """0.2 * x + 0.5, clipped to [0, 1]."""
    return clip(add(multiply(x, 0.2), 0.5), 0.0, 1.0)


def tanh(x):
    """Hyperbolic tangent."""
    value = np.tanh(as_array(x))
    return record(value, (x,), lambda g: (g * (1 - value * value),))


def softplus(x):
    """log(1 + exp(x)), computed without overflow."""
    a = as_array(x)
    return record(np.logaddexp(0, a), (x,), lambda g: (g / (1 + np.exp(-a)),))


def softsign(x):
    """x / (1 + |x|)."""
    a = as_array(x)
    denom = 1 + np.abs(a)
    return record(a / denom, (x,), lambda g: (g / (denom * denom),))


def elu(x, alpha=1.0):
    """Exponential linear unit: x for x > 0, alpha * (exp(x) - 1) otherwise."""
    a = as_array(x)
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
        y = multiply(x, cast(greater(x, threshold), as_array(x).dtype))
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
    a = as_array(x)
    return record(np.maximum(a, 0).astype(a.dtype, copy=False), (x,),
                  lambda g: (np.where(a > 0, g, 0),))


def _relu6(x):
    a = as_array(x)
    return record(np.clip(a, 0, 6).astype(a.dtype, copy=False), (x,),
                  lambda g: (np.where((a > 0) & (a < 6), g, 0),))


def _leaky_relu(x, alpha):
    a = as_array(x)
    value = np.where(a > 0, a, alpha * a).astype(a.dtype, copy=False)
    return record(value, (x,), lambda g: (np.where(a > 0, g, alpha * g),))


def softmax(x, axis=-1):
    """Softmax along ``axis`` (default: last): exp(x) / sum(exp(x)), computed
    without overflow."""
    a = as_array(x)
    axes = axes_arg(axis)
    with np.errstate(**QUIET):
        e = np.exp(a - np.max(a, axis=axes, keepdims=True))
        value = e / np.sum(e, axis=axes, keepdims=True)
    out = record(value, (x,),
                 lambda g: (value * (g - np.sum(g * value, axis=axes, keepdims=True)),))
    return _remember_logits(out, x, "softmax", normalize_axes(axis, a.ndim))


def _remember_logits(out, logits, activation, axes=None):
    # tf-keras caches the logits on softmax/sigmoid outputs; the cross-entropies
    # then compute from logits, which changes values near 0 and 1. The activation
    # (and softmax's axes) are kept so that a loss uses the logits only where that is
    # the same function: see _logits_of.
    if isinstance(out, Tensor):
        out._keras_logits = (logits, activation, axes)
    return out


# ---------------------------------------------------------------------------
# Losses

def binary_crossentropy(target, output, from_logits=False):
    """Element-wise binary cross-entropy (tf-keras' formula).

    From probabilities: output is clipped to [eps, 1 - eps], then
    -(t * log(o + eps) + (1 - t) * log(1 - o + eps)). ``target`` must have
    the shape of ``output`` (or be a scalar); anything else is a ValueError,
    as in Keras 2.2.4, rather than a silent broadcast.
    """
    _check_same_shape(target, output, "binary_crossentropy",
                      "one 0/1 target per output unit", allow_scalar=True)
    output, from_logits = _logits_of(output, from_logits, "sigmoid")
    if from_logits:
        return _sigmoid_cross_entropy_with_logits(target, output)
    eps = epsilon()
    output = clip(output, eps, 1.0 - eps)
    bce = multiply(target, log(add(output, eps)))
    bce = add(bce, multiply(subtract(1, target), log(add(subtract(1, output), eps))))
    return negative(bce)


def _sigmoid_cross_entropy_with_logits(labels, logits):
    # max(x, 0) - x * z + log(1 + exp(-|x|)): no overflow for any x.
    x, z = as_array(logits), operand(labels)
    value = np.maximum(x, 0) - x * z + np.log1p(np.exp(-np.abs(x)))
    return record(value, (labels, logits),
                  lambda g: (-g * x, g * (1 / (1 + np.exp(-x)) - z)))


def categorical_crossentropy(target, output, from_logits=False, axis=-1):
    """Cross-entropy along ``axis`` (tf-keras' formula).

    From probabilities: output is divided by its sum over ``axis``, clipped
    to [eps, 1 - eps], and the result is -sum(t * log(o), axis). ``target``
    must be one-hot (or soft) with the shape of ``output``; integer class
    targets need sparse_categorical_crossentropy.
    """
    _check_same_shape(target, output, "categorical_crossentropy",
                      "one-hot targets; for integer class targets use sparse_categorical_crossentropy")
    output, from_logits = _logits_of(output, from_logits, "softmax", axis)
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
    rank = as_array(output).ndim
    axis = normalize_axis(axis, rank, "sparse_categorical_crossentropy")
    output, from_logits = _logits_of(output, from_logits, "softmax", axis)
    if not from_logits:
        eps = epsilon()
        output = log(clip(output, eps, 1 - eps))
    if axis != rank - 1:
        output = permute_dimensions(output, [i for i in range(rank) if i != axis] + [axis])
    logits_shape = as_array(output).shape
    labels = as_array(target)
    if labels.size != int(np.prod(logits_shape[:-1])):
        raise ValueError(
            f"sparse_categorical_crossentropy: y_true of shape {labels.shape} "
            f"does not fit y_pred of shape {logits_shape}: expected "
            f"{int(np.prod(logits_shape[:-1]))} integer class indices; for "
            f"one-hot targets use categorical_crossentropy")
    labels = labels.astype(np.int64).reshape(logits_shape[:-1])
    classes = logits_shape[-1]
    if labels.size and (labels.min() < 0 or labels.max() >= classes):
        raise ValueError(
            f"sparse_categorical_crossentropy: target contains class indices "
            f"outside [0, {classes}): min {labels.min()}, max {labels.max()}")
    one_hot_labels = (labels[..., None] == np.arange(classes)).astype(as_array(output).dtype)
    return negative(sum(multiply(one_hot_labels, _log_softmax(output, -1)), axis=-1))


def _log_softmax(logits, axis):
    return subtract(logits, logsumexp(logits, axis=axis, keepdims=True))


def _logits_of(output, from_logits, activation, axis=None):
    # The logits only of the activation the loss pairs with (softmax along the
    # loss's axis for the categorical ones, sigmoid for the binary one), as the
    # compiled loss fuses them. tf-keras takes any cached logits, so its
    # binary_crossentropy of a softmax output is the sigmoid cross-entropy of the
    # softmax's logits: a different function from the one of the probabilities,
    # which Keras 2.2.4 computes and seqnet keeps.
    cached = getattr(output, "_keras_logits", None)
    if cached is None:
        return output, from_logits
    logits, made_by, axes = cached
    if made_by != activation:
        return output, from_logits
    if axes is not None and axes != normalize_axes(axis, as_array(output).ndim):
        return output, from_logits
    return logits, True


def _check_same_shape(target, output, name, expected, allow_scalar=False):
    t, o = np.shape(as_array(target)), np.shape(as_array(output))
    if t != o and not (allow_scalar and t == ()):
        raise ValueError(f"{name}: y_true of shape {t} does not fit y_pred of shape {o}; "
                         f"{name} needs targets of the output's shape ({expected})")


# ---------------------------------------------------------------------------
# Normalisation and layers' arithmetic

def l2_normalize(x, axis=None):
    """``x / sqrt(max(sum(x ** 2, axis, keepdims=True), 1e-12))``: x scaled to
    unit L2 norm along ``axis`` (None: over all elements), as
    tf.nn.l2_normalize (an all-zero slice stays zero)."""
    squared_norm = sum(square(x), axis=axis, keepdims=True)
    return divide(x, _sqrt(maximum(squared_norm, 1e-12)))


def bias_add(x, bias, data_format=None):
    """``x`` plus ``bias`` along the channels axis.

    ``bias`` is 1-D (one value per channel) or has rank ndim(x) - 1 (one
    value per position and channel, channels last). ``data_format``
    ('channels_last' or 'channels_first'; default ``image_data_format()``)
    says where the channels axis of a 3-, 4- or 5-D x is; for 2-D x it is the
    last. With channels_first a full-rank bias, given channels last as Keras
    takes it, is transposed to match (Keras 2.2.4 reshaped it, which mixes up
    its values unless one of its axes has length 1).
    """
    a, b = as_array(x), as_array(bias)
    data_format = data_format or image_data_format()
    if data_format not in ("channels_last", "channels_first"):
        raise ValueError(f"bias_add: unknown data_format {data_format!r}")
    if b.ndim not in (1, a.ndim - 1):
        raise ValueError(f"bias_add: unexpected bias of rank {b.ndim} (shape {b.shape}) for x of shape "
                         f"{a.shape}; expected rank 1 or {a.ndim - 1}")
    channels_first = data_format == "channels_first" and a.ndim > 2
    if b.ndim == 1:
        channels = a.shape[1 if channels_first else -1]
        if b.shape[0] != channels:
            raise ValueError(f"bias_add: bias of shape {b.shape} does not match the {channels} channels of x "
                             f"(shape {a.shape}, {data_format if a.ndim > 2 else 'last axis'})")
        shape = [1] * a.ndim
        shape[1 if channels_first else -1] = b.shape[0]
        return add(x, reshape(bias, tuple(shape)))
    if channels_first:
        bias = permute_dimensions(bias, (b.ndim - 1,) + tuple(range(b.ndim - 1)))
    expected = (a.shape[2:] + a.shape[1:2]) if channels_first else a.shape[1:]
    if builtins.any(n not in (1, m) for n, m in zip(b.shape, expected)):
        raise ValueError(f"bias_add: bias of shape {b.shape} does not fit x of shape {a.shape} "
                         f"({data_format}); a full-rank bias has shape {expected} (channels last)")
    return add(x, reshape(bias, (1,) + as_array(bias).shape))


def batch_normalization(x, mean, var, beta, gamma, axis=-1, epsilon=1e-3):
    """``(x - mean) / sqrt(var + epsilon) * gamma + beta``, with the given
    statistics (``beta`` and ``gamma`` may be None). 1-D parameters apply
    along ``axis`` of x; others must broadcast against x."""
    ndim = as_array(x).ndim

    def along_axis(p):
        if p is None or as_array(p).ndim != 1 or ndim < 2:
            return p
        shape = [1] * ndim
        shape[axis] = -1
        return reshape(p, tuple(shape))

    mean, var, beta, gamma = (along_axis(p) for p in (mean, var, beta, gamma))
    y = divide(subtract(x, mean), sqrt(add(var, epsilon)))
    if gamma is not None:
        y = multiply(y, gamma)
    if beta is not None:
        y = add(y, beta)
    return y


def in_top_k(predictions, targets, k):
    """Whether each sample's target class is among its ``k`` highest
    predictions: ``predictions`` (batch, classes), integer ``targets``
    (batch,); a bool array. As tf.nn.in_top_k, classes tied with the k-th
    value count as in the top k, and a non-finite prediction row gives False.
    No gradient."""
    scores = as_array(predictions)
    labels = as_array(targets).reshape(-1).astype(np.int64)
    if scores.ndim != 2 or labels.shape[0] != scores.shape[0]:
        raise ValueError(f"in_top_k: predictions must be (batch, classes) and targets (batch,), got shapes "
                         f"{scores.shape} and {as_array(targets).shape}")
    valid = (labels >= 0) & (labels < scores.shape[1])
    target = scores[np.arange(len(labels)), np.where(valid, labels, 0)]
    finite = np.all(np.isfinite(scores), axis=1)
    hit = valid & finite & (np.sum(scores > target[:, None], axis=1) < k)
    return record(hit, (predictions, targets), None)
