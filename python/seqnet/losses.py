"""Loss functions (``seqnet.losses``), with Keras 2 formulas.

Every function here works on NumPy arrays and on ``seqnet.backend`` tensors, so it can be
called directly, used as a metric, or differentiated. When a model is compiled with one
of the five built-in cross-entropy/squared/absolute losses, training does not call these
functions at all: it runs the fused C++ kernel (value and gradient in one pass).
"""
from seqnet import backend as K

__all__ = ["mean_squared_error", "mean_absolute_error", "mean_absolute_percentage_error",
           "mean_squared_logarithmic_error", "squared_hinge", "hinge", "categorical_hinge", "logcosh",
           "huber", "categorical_crossentropy", "sparse_categorical_crossentropy", "binary_crossentropy",
           "kullback_leibler_divergence", "poisson", "cosine_similarity", "cosine_proximity", "get",
           "serialize", "deserialize", "engine_code"]


def mean_squared_error(y_true, y_pred):
    return K.mean(K.square(y_pred - y_true), axis=-1)


def mean_absolute_error(y_true, y_pred):
    return K.mean(K.abs(y_pred - y_true), axis=-1)


def mean_absolute_percentage_error(y_true, y_pred):
    diff = K.abs((y_true - y_pred) / K.clip(K.abs(y_true), K.epsilon(), None))
    return 100.0 * K.mean(diff, axis=-1)


def mean_squared_logarithmic_error(y_true, y_pred):
    first_log = K.log(K.clip(y_pred, K.epsilon(), None) + 1.0)
    second_log = K.log(K.clip(y_true, K.epsilon(), None) + 1.0)
    return K.mean(K.square(first_log - second_log), axis=-1)


def squared_hinge(y_true, y_pred):
    return K.mean(K.square(K.maximum(1.0 - y_true * y_pred, 0.0)), axis=-1)


def hinge(y_true, y_pred):
    return K.mean(K.maximum(1.0 - y_true * y_pred, 0.0), axis=-1)


def categorical_hinge(y_true, y_pred):
    pos = K.sum(y_true * y_pred, axis=-1)
    neg = K.max((1.0 - y_true) * y_pred, axis=-1)
    return K.maximum(0.0, neg - pos + 1.0)


def logcosh(y_true, y_pred):
    x = y_pred - y_true
    return K.mean(x + K.softplus(-2.0 * x) - 0.6931471805599453, axis=-1)


def huber(y_true, y_pred, delta=1.0):
    error = y_pred - y_true
    abs_error = K.abs(error)
    quadratic = K.minimum(abs_error, delta)
    linear = abs_error - quadratic
    return K.mean(0.5 * K.square(quadratic) + delta * linear, axis=-1)


def categorical_crossentropy(y_true, y_pred, from_logits=False):
    return K.categorical_crossentropy(y_true, y_pred, from_logits=from_logits)


def sparse_categorical_crossentropy(y_true, y_pred, from_logits=False):
    return K.sparse_categorical_crossentropy(y_true, y_pred, from_logits=from_logits)


def binary_crossentropy(y_true, y_pred, from_logits=False):
    return K.mean(K.binary_crossentropy(y_true, y_pred, from_logits=from_logits), axis=-1)


def kullback_leibler_divergence(y_true, y_pred):
    y_true = K.clip(y_true, K.epsilon(), 1.0)
    y_pred = K.clip(y_pred, K.epsilon(), 1.0)
    return K.sum(y_true * K.log(y_true / y_pred), axis=-1)


def poisson(y_true, y_pred):
    return K.mean(y_pred - y_true * K.log(y_pred + K.epsilon()), axis=-1)


def cosine_similarity(y_true, y_pred, axis=-1):
    return -K.sum(K.l2_normalize(y_true, axis=axis) * K.l2_normalize(y_pred, axis=axis), axis=axis)


cosine_proximity = cosine_similarity
mse = MSE = mean_squared_error
mae = MAE = mean_absolute_error
mape = MAPE = mean_absolute_percentage_error
msle = MSLE = mean_squared_logarithmic_error
kld = KLD = kullback_leibler_divergence

# Must match enum class Loss in cpp/include/seqnet/loss.h.
_ENGINE_CODES = {categorical_crossentropy: 0, sparse_categorical_crossentropy: 1, binary_crossentropy: 2,
                 mean_squared_error: 3, mean_absolute_error: 4}

_BY_NAME = {name: fn for name, fn in globals().items()
            if callable(fn) and not name.startswith("_") and name in __all__ + [
                "mse", "MSE", "mae", "MAE", "mape", "MAPE", "msle", "MSLE", "kld", "KLD"]
            and name not in ("get", "serialize", "deserialize", "engine_code")}


def get(identifier):
    """A loss function from its name (as Keras) or a callable; ValueError otherwise."""
    if isinstance(identifier, str):
        try:
            return _BY_NAME[identifier]
        except KeyError:
            raise ValueError(f"Unknown loss function: '{identifier}'. Expected one of "
                             f"{sorted(k for k in _BY_NAME if k.islower())} or a callable.") from None
    if callable(identifier):
        return identifier
    raise ValueError(f"Could not interpret loss function identifier: {identifier!r}")


def serialize(fn):
    return getattr(fn, "__name__", None)


def deserialize(name):
    return get(name)


def engine_code(fn):
    """The fused C++ loss kernel for a built-in loss, or None for any other function."""
    return _ENGINE_CODES.get(fn)
