"""Keras activation functions as ONNX ops, and the names ONNX's recurrent ops give them."""
import math

from seqnet import activations
from seqnet.onnx.registry import unsupported

# Keras' selu constants (ONNX's defaults are the same numbers rounded to float32).
_SELU_ALPHA, _SELU_SCALE = 1.6732632423543772848170429916717, 1.0507009873554804934193349852946


def activation_name(layer, fn, what="activation"):
    """The built-in name of activation function `fn`; ValueError for a user's function."""
    try:
        return activations.serialize(fn)
    except ValueError:
        raise unsupported(layer, f"{what}={getattr(fn, '__name__', fn)!r} is a custom function; only Keras' "
                                 "built-in activations can be exported") from None


def apply_activation(g, layer, fn, x, what="activation"):
    """`fn(x)` (a built-in Keras activation over the last axis) as ONNX ops."""
    name = activation_name(layer, fn, what)
    if name == "linear":
        return x
    simple = {"relu": "Relu", "sigmoid": "Sigmoid", "tanh": "Tanh", "softplus": "Softplus",
              "softsign": "Softsign", "exponential": "Exp"}
    if name in simple:
        return g.op(simple[name], [x])
    if name == "softmax":
        return g.op("Softmax", [x], axis=-1)
    if name == "hard_sigmoid":  # Keras 2.2.4: clip(0.2 x + 0.5, 0, 1)
        return g.op("HardSigmoid", [x], alpha=0.2, beta=0.5)
    if name == "elu":
        return g.op("Elu", [x], alpha=1.0)
    if name == "selu":
        return g.op("Selu", [x], alpha=_SELU_ALPHA, gamma=_SELU_SCALE)
    if name == "swish":  # x * sigmoid(x)
        return g.op("Mul", [x, g.op("Sigmoid", [x])])
    if name == "gelu":  # exact: 0.5 x (1 + erf(x / sqrt(2)))
        erf = g.op("Erf", [g.op("Mul", [x, g.scalar(1.0 / math.sqrt(2.0))])])
        return g.op("Mul", [g.op("Mul", [x, g.scalar(0.5)]), g.op("Add", [erf, g.scalar(1.0)])])
    raise unsupported(layer, f"{what}={name!r} has no ONNX conversion")


# The activations ONNX's LSTM/GRU/RNN ops take (name, alpha, beta), for those seqnet's
# recurrent layers run.
_RECURRENT = {"linear": ("Affine", 1.0, 0.0), "relu": ("Relu", None, None), "sigmoid": ("Sigmoid", None, None),
              "hard_sigmoid": ("HardSigmoid", 0.2, 0.5), "tanh": ("Tanh", None, None),
              "softsign": ("Softsign", None, None)}


def recurrent_activations(layer, fns):
    """The ``activations``, ``activation_alpha`` and ``activation_beta`` attributes of an ONNX
    recurrent op for Keras activation functions `fns` (each as (fn, what)). The alphas and
    betas list only the functions that take them, in order, as ONNX Runtime reads them."""
    names, alphas, betas = [], [], []
    for fn, what in fns:
        name = activation_name(layer, fn, what)
        if name not in _RECURRENT:
            raise unsupported(layer, f"{what}={name!r} has no ONNX recurrent activation")
        onnx_name, alpha, beta = _RECURRENT[name]
        names.append(onnx_name)
        if alpha is not None:
            alphas.append(alpha)
            betas.append(beta)
    return {"activations": names, "activation_alpha": alphas or None, "activation_beta": betas or None}
