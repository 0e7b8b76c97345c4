"""Loss functions (``seqnet.losses``), with Keras 2 formulas.

Every function here works on NumPy arrays and on ``seqnet.backend`` tensors, so it can be
called directly, used as a metric, or differentiated. When a model is compiled with one
of the five built-in cross-entropy/squared/absolute losses, training does not call these
functions at all: it runs the fused C++ kernel (value and gradient in one pass).
"""
import numbers

from seqnet import _engine, backend as K
from seqnet.utils.generic_utils import deserialize_keras_object, serialize_keras_object

__all__ = ["mean_squared_error", "mean_absolute_error", "mean_absolute_percentage_error",
           "mean_squared_logarithmic_error", "squared_hinge", "hinge", "categorical_hinge", "logcosh",
           "huber", "categorical_crossentropy", "sparse_categorical_crossentropy", "binary_crossentropy",
           "kullback_leibler_divergence", "poisson", "cosine_similarity", "cosine_proximity", "get",
           "serialize", "deserialize", "engine_code"]


def mean_squared_error(y_true, y_pred):
    """mean((y_pred - y_true) ** 2) over the last axis: one value per sample."""
    return K.mean(K.square(y_pred - y_true), axis=-1)


def mean_absolute_error(y_true, y_pred):
    """mean(|y_pred - y_true|) over the last axis."""
    return K.mean(K.abs(y_pred - y_true), axis=-1)


def mean_absolute_percentage_error(y_true, y_pred):
    """100 * mean(|y_true - y_pred| / max(|y_true|, epsilon)) over the last axis."""
    diff = K.abs((y_true - y_pred) / K.clip(K.abs(y_true), K.epsilon(), None))
    return 100.0 * K.mean(diff, axis=-1)


def mean_squared_logarithmic_error(y_true, y_pred):
    """mean((log(max(y_pred, eps) + 1) - log(max(y_true, eps) + 1)) ** 2) over the last axis."""
    first_log = K.log(K.clip(y_pred, K.epsilon(), None) + 1.0)
    second_log = K.log(K.clip(y_true, K.epsilon(), None) + 1.0)
    return K.mean(K.square(first_log - second_log), axis=-1)


def squared_hinge(y_true, y_pred):
    """mean(max(1 - y_true * y_pred, 0) ** 2) over the last axis; targets are -1 or 1. As
    Keras 2.2.4, 0/1 targets are used as given (tf-keras first maps them to -1/1)."""
    return K.mean(K.square(K.maximum(1.0 - y_true * y_pred, 0.0)), axis=-1)


def hinge(y_true, y_pred):
    """mean(max(1 - y_true * y_pred, 0)) over the last axis; targets are -1 or 1. As
    Keras 2.2.4, 0/1 targets are used as given (tf-keras first maps them to -1/1)."""
    return K.mean(K.maximum(1.0 - y_true * y_pred, 0.0), axis=-1)


def categorical_hinge(y_true, y_pred):
    """max(0, max((1 - y_true) * y_pred) - sum(y_true * y_pred) + 1) over the last axis."""
    pos = K.sum(y_true * y_pred, axis=-1)
    neg = K.max((1.0 - y_true) * y_pred, axis=-1)
    return K.maximum(0.0, neg - pos + 1.0)


def logcosh(y_true, y_pred):
    """mean(log(cosh(y_pred - y_true))) over the last axis, computed without overflow."""
    x = y_pred - y_true
    return K.mean(x + K.softplus(-2.0 * x) - 0.6931471805599453, axis=-1)


def huber(y_true, y_pred, delta=1.0):
    """Huber loss: 0.5 * e ** 2 where |e| <= delta, delta * (|e| - 0.5 * delta) beyond; mean over
    the last axis (tf-keras; not in Keras 2.2.4)."""
    error = y_pred - y_true
    abs_error = K.abs(error)
    quadratic = K.minimum(abs_error, delta)
    linear = abs_error - quadratic
    return K.mean(0.5 * K.square(quadratic) + delta * linear, axis=-1)


def categorical_crossentropy(y_true, y_pred, from_logits=False, label_smoothing=0.0):
    """-sum(y_true * log(y_pred)) over the last axis; ``y_true`` is one-hot with
    ``y_pred``'s shape (ValueError otherwise: integer class targets need
    sparse_categorical_crossentropy). See ``seqnet.backend.categorical_crossentropy``.
    ``label_smoothing`` (tf-keras; not in Keras 2.2.4), a number in [0, 1], trains against
    ``y_true * (1 - label_smoothing) + label_smoothing / num_classes``."""
    if _check_label_smoothing("categorical_crossentropy", label_smoothing):
        y_true = y_true * (1.0 - label_smoothing) + label_smoothing / K.int_shape(y_pred)[-1]
    return K.categorical_crossentropy(y_true, y_pred, from_logits=from_logits)


def sparse_categorical_crossentropy(y_true, y_pred, from_logits=False):
    """Categorical cross-entropy with integer class targets of shape (batch,) or
    (batch, 1); ValueError for targets of another size (one-hot targets need
    categorical_crossentropy)."""
    return K.sparse_categorical_crossentropy(y_true, y_pred, from_logits=from_logits)


def binary_crossentropy(y_true, y_pred, from_logits=False, label_smoothing=0.0):
    """Binary cross-entropy of each output unit, averaged over the last axis;
    ``y_true`` must have ``y_pred``'s shape (ValueError otherwise).
    ``label_smoothing`` (tf-keras; not in Keras 2.2.4), a number in [0, 1], trains against
    ``y_true * (1 - label_smoothing) + 0.5 * label_smoothing``."""
    if _check_label_smoothing("binary_crossentropy", label_smoothing):
        y_true = y_true * (1.0 - label_smoothing) + 0.5 * label_smoothing
    return K.mean(K.binary_crossentropy(y_true, y_pred, from_logits=from_logits), axis=-1)


def kullback_leibler_divergence(y_true, y_pred):
    """sum(y_true * log(y_true / y_pred)) over the last axis, both clipped to [eps, 1]."""
    y_true = K.clip(y_true, K.epsilon(), 1.0)
    y_pred = K.clip(y_pred, K.epsilon(), 1.0)
    return K.sum(y_true * K.log(y_true / y_pred), axis=-1)


def poisson(y_true, y_pred):
    """mean(y_pred - y_true * log(y_pred + eps)) over the last axis."""
    return K.mean(y_pred - y_true * K.log(y_pred + K.epsilon()), axis=-1)


def cosine_similarity(y_true, y_pred, axis=-1):
    """Minus the cosine similarity of y_true and y_pred along ``axis`` (Keras 2.2.4's
    cosine_proximity: -1 means identical directions)."""
    return -K.sum(K.l2_normalize(y_true, axis=axis) * K.l2_normalize(y_pred, axis=axis), axis=axis)


cosine_proximity = cosine_similarity
mse = MSE = mean_squared_error
mae = MAE = mean_absolute_error
mape = MAPE = mean_absolute_percentage_error
msle = MSLE = mean_squared_logarithmic_error
kld = KLD = kullback_leibler_divergence

# The built-in losses the engine computes (enum class Loss in cpp/include/seqnet/loss.h).
_ENGINE_CODES = {fn: getattr(_engine.Loss, fn.__name__) for fn in (
    categorical_crossentropy, sparse_categorical_crossentropy, binary_crossentropy, mean_squared_error,
    mean_absolute_error)}

_BY_NAME = {name: fn for name, fn in globals().items()
            if callable(fn) and not name.startswith("_") and name in __all__ + [
                "mse", "MSE", "mae", "MAE", "mape", "MAPE", "msle", "MSLE", "kld", "KLD"]
            and name not in ("get", "serialize", "deserialize", "engine_code")}


def get(identifier):
    """The loss function for ``identifier``, as Keras 2.2.4: None for None; a name
    ('mse', 'categorical_crossentropy', ..., or a custom object's name) or a
    ``{'class_name', 'config'}`` dict through ``deserialize``; a callable unchanged.
    Raises ValueError for anything else."""
    if identifier is None:
        return None
    if isinstance(identifier, (str, dict)):
        return deserialize(identifier)
    if callable(identifier):
        return identifier
    raise ValueError(f"Could not interpret loss function identifier: {identifier!r}")


def serialize(loss):
    """What a config stores for ``loss``: a function's name (or, for an object with
    ``get_config``, its ``{'class_name', 'config'}``)."""
    return serialize_keras_object(loss)


def deserialize(name, custom_objects=None):
    """The loss named ``name``, found in ``custom_objects``, then the custom-object
    scope (``seqnet.utils.custom_object_scope``), then the built-in losses; ValueError
    ('Unknown loss function: ...') otherwise. Nothing is imported."""
    return deserialize_keras_object(name, module_objects=_BY_NAME, custom_objects=custom_objects,
                                    printable_module_name="loss function",
                                    expected=f"Expected one of {sorted(k for k in _BY_NAME if k.islower())}"
                                             ", a callable, or a name given in custom_objects.")


def engine_code(fn):
    """The fused C++ loss kernel for a built-in loss, or None for any other function."""
    return _ENGINE_CODES.get(fn)


def _check_label_smoothing(loss, label_smoothing):
    """True when targets are to be smoothed; ValueError unless 0 <= label_smoothing <= 1."""
    if (isinstance(label_smoothing, bool) or not isinstance(label_smoothing, numbers.Real)
            or not 0.0 <= label_smoothing <= 1.0):
        raise ValueError(f"{loss}: label_smoothing must be a number in [0, 1], got {label_smoothing!r}")
    return label_smoothing != 0.0
