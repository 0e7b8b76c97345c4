"""seqnet.backend: the Keras backend functions (``import seqnet.backend as K``).

They work on NumPy arrays, and on ``Tensor`` nodes of a small reverse-mode
tape so that user losses written with them can be differentiated (``vjp``).
"""
from .ops import (
    abs, add, all, any, argmax, argmin, batch_flatten, batch_get_value,
    batch_set_value, binary_crossentropy, cast, categorical_crossentropy,
    clip, concatenate, constant, cos, cumprod, cumsum, divide, dot, dtype,
    elu, equal, eval, exp, expand_dims, eye, flatten, get_value, greater,
    greater_equal, hard_sigmoid, int_shape, l2_normalize, less, less_equal,
    log, logsumexp, max, maximum, mean, min, minimum, multiply, ndim,
    negative, not_equal, one_hot, ones, ones_like, permute_dimensions, pow,
    prod, relu, reshape, round, set_value, shape, sigmoid, sign, sin,
    softmax, softplus, softsign, sparse_categorical_crossentropy, sqrt,
    square, squeeze, stack, std, stop_gradient, subtract, sum, switch, tanh,
    transpose, var, variable, zeros, zeros_like,
)
from .session import (
    clear_session, epsilon, floatx, get_uid, image_data_format,
    learning_phase, reset_uids, set_epsilon, set_floatx,
    set_image_data_format, set_learning_phase,
)
from .tensor import Tensor, vjp
from .variable import Variable


def backend():
    """The name of the engine behind these functions."""
    return "seqnet"


def is_tensor(x):
    """Whether ``x`` is a backend tensor (a tape node) or a Variable."""
    return isinstance(x, (Tensor, Variable))
