"""Activation functions (``seqnet.activations``), by name or as callables.

Each built-in is a plain function on arrays (as in Keras, ``activations.relu(x)``) that
also carries the engine code its layers use, so ``Dense(64, activation='relu')`` and
``Dense(64, activation=activations.relu)`` both run the fused C++ kernel.
"""
import numpy as np

from seqnet import _engine
from seqnet.utils.generic_utils import deserialize_keras_object

__all__ = ["get", "serialize", "deserialize", "linear", "relu", "sigmoid", "hard_sigmoid",
           "tanh", "softmax", "softplus", "softsign", "elu", "selu", "exponential", "swish", "gelu"]

# The engine's Activation enum (cpp/include/seqnet/activation.h) names every built-in.
_CODES = dict(_engine.Activation.__members__)


def _apply(name, x):
    x = np.asarray(x)
    if x.ndim == 0:
        return _apply(name, x.reshape(1))[0]
    xf = np.ascontiguousarray(x, dtype=np.float32)
    y = np.empty_like(xf)
    _engine.activation_forward(_CODES[name], xf, y)
    return y


def _builtin(name):
    def decorate(fn):
        fn.engine_code = _CODES[name]
        return fn
    return decorate


@_builtin("linear")
def linear(x):
    return x


@_builtin("relu")
def relu(x, alpha=0.0, max_value=None, threshold=0.0):
    if alpha == 0.0 and max_value is None and threshold == 0.0:
        return _apply("relu", x)
    x = np.asarray(x, dtype=np.float32)
    y = np.where(x > threshold, x, alpha * (x - threshold)).astype(np.float32)
    return np.minimum(y, max_value) if max_value is not None else y


@_builtin("sigmoid")
def sigmoid(x):
    return _apply("sigmoid", x)


@_builtin("hard_sigmoid")
def hard_sigmoid(x):
    return _apply("hard_sigmoid", x)


@_builtin("tanh")
def tanh(x):
    return _apply("tanh", x)


@_builtin("softmax")
def softmax(x, axis=-1):
    x = np.asarray(x, dtype=np.float32)
    if x.ndim < 1:
        raise ValueError(f"softmax: expected an array with at least one axis, got shape {x.shape}")
    if axis in (-1, x.ndim - 1):
        return _apply("softmax", x)
    return np.moveaxis(_apply("softmax", np.moveaxis(x, axis, -1)), -1, axis)


@_builtin("softplus")
def softplus(x):
    return _apply("softplus", x)


@_builtin("softsign")
def softsign(x):
    return _apply("softsign", x)


@_builtin("elu")
def elu(x, alpha=1.0):
    y = _apply("elu", x)
    return y if alpha == 1.0 else np.where(y > 0, y, alpha * y).astype(np.float32)


@_builtin("selu")
def selu(x):
    return _apply("selu", x)


@_builtin("exponential")
def exponential(x):
    return _apply("exponential", x)


@_builtin("swish")
def swish(x):
    return _apply("swish", x)


@_builtin("gelu")
def gelu(x, approximate=False):
    if not approximate:
        return _apply("gelu", x)
    x = np.asarray(x, dtype=np.float32)
    return (0.5 * x * (1 + np.tanh(0.7978845608028654 * (x + 0.044715 * x ** 3)))).astype(np.float32)


_BY_NAME = {name: globals()[name] for name in _CODES}


def get(identifier):
    """The activation function for a name, a callable, or None (linear). Names are
    looked up in the custom-object scope (``seqnet.utils.custom_object_scope``) first,
    then among the built-ins."""
    if identifier is None:
        return linear
    if isinstance(identifier, (str, dict)):
        return deserialize(identifier)
    if callable(identifier):
        return identifier
    raise ValueError(f"Could not interpret activation function identifier: {identifier!r}")


def serialize(activation):
    """The name of a built-in activation function; ValueError for any other function
    (``config_name`` falls back to its ``__name__``)."""
    name = getattr(activation, "__name__", None)
    if name in _BY_NAME and _BY_NAME[name] is activation:
        return name
    raise ValueError(f"Cannot serialize activation {activation!r}: not a built-in activation")


def config_name(activation):
    """The name a layer config stores: the built-in's name, else the function's __name__."""
    try:
        return serialize(activation)
    except ValueError:
        return getattr(activation, "__name__", repr(activation))


def deserialize(config, custom_objects=None):
    """The activation function a config names: a name, or a dict holding one
    (tf-keras' ``{'class_name', 'config': {'name'}}`` or ``{'name'}``). The name is
    looked up in ``custom_objects``, the custom-object scope, then the built-ins."""
    if isinstance(config, dict):
        config = config.get("config", config).get("name", config.get("class_name"))
    try:
        return deserialize_keras_object(config, module_objects=_BY_NAME, custom_objects=custom_objects,
                                        printable_module_name="activation function")
    except ValueError as err:
        if str(err).startswith("Unknown activation function"):
            raise ValueError(f"Unknown activation function: '{config}'. Expected one of {sorted(_BY_NAME)}, a "
                             "callable, or a name given in custom_objects.") from None
        raise


def engine_code(activation):
    """The C++ kernel code of a built-in activation with default arguments, else None."""
    return getattr(activation, "engine_code", None)
