"""seqnet.backend: the Keras backend functions (``import seqnet.backend as K``).

They work on NumPy arrays, and on ``Tensor`` nodes of a small reverse-mode
tape so that user losses written with them can be differentiated (``vjp``).
The ops live in modules by subject (ops.py: arithmetic, element-wise math,
reductions, indexing and dot; ops_shape, ops_linalg, ops_nn, ops_conv, ops_pool, ops_image,
ops_random, ops_control, ops_values); this package exports them all under Keras' names.
"""
from .ops import (
    abs, add, all, any, argmax, argmin, cast, clip, cos, cumprod, cumsum,
    divide, dot, equal, exp, greater, greater_equal, identity, less, less_equal,
    log, logsumexp, max, maximum, mean, min, minimum, multiply, negative,
    not_equal, pow, prod, round, sign, sin, sqrt, square, std, stop_gradient,
    subtract, sum, var,
)
from .ops_control import foldl, foldr, in_test_phase, in_train_phase, map_fn, switch
from .ops_conv import conv1d, conv2d, conv2d_transpose, conv3d
from .ops_image import resize_images, resize_volumes
from .ops_linalg import batch_dot
from .ops_nn import (
    batch_normalization, bias_add, binary_crossentropy,
    categorical_crossentropy, elu, hard_sigmoid, in_top_k, l2_normalize,
    relu, sigmoid, softmax, softplus, softsign,
    sparse_categorical_crossentropy, tanh,
)
from .ops_pool import pool2d, pool3d
from .ops_random import (
    dropout, random_bernoulli, random_binomial, random_normal,
    random_normal_variable, random_uniform, random_uniform_variable,
    truncated_normal,
)
from .ops_shape import (
    arange, batch_flatten, concatenate, expand_dims, flatten, gather, one_hot,
    permute_dimensions, repeat, repeat_elements, reshape, reverse, slice,
    spatial_2d_padding, spatial_3d_padding, squeeze, stack, temporal_padding,
    tile, transpose,
)
from .ops_values import (
    batch_get_value, batch_set_value, cast_to_floatx, constant, count_params,
    dtype, eval, eye, get_value, get_variable_shape, int_shape, is_keras_tensor,
    is_sparse, ndim, ones, ones_like, print_tensor, set_value, shape,
    update, update_add, update_sub, variable, zeros, zeros_like,
)
from .graph import function, placeholder
from .session import (
    clear_session, epsilon, floatx, get_uid, image_data_format,
    learning_phase, learning_phase_scope, matmul_precision, name_scope,
    reset_uids, set_epsilon, set_floatx, set_image_data_format,
    set_learning_phase, set_matmul_precision,
)
from .tensor import Tensor, vjp
from .variable import Variable
from . import ops as _ops
from . import symbolic as _symbolic

# Ops that only create values, describe a tensor or update a Variable: they take no tensor to
# compute on, so they stay plain functions. Every other op also works on symbolic tensors.
_NOT_SYMBOLIC = {
    "arange", "batch_get_value", "batch_set_value", "constant", "count_params", "dtype", "eval", "eye",
    "get_value", "get_variable_shape", "int_shape", "is_keras_tensor", "is_sparse", "ndim", "ones",
    "random_bernoulli", "random_binomial", "random_normal", "random_normal_variable", "random_uniform",
    "random_uniform_variable",
    "set_value", "shape", "truncated_normal", "update", "update_add", "update_sub", "variable", "zeros",
}
_symbolic.wrap_ops(globals(), sorted(
    name for name, value in list(globals().items())
    if getattr(value, "__module__", "").startswith(__name__ + ".ops") and callable(value)
    and not isinstance(value, type) and name not in _NOT_SYMBOLIC))
_symbolic.symbolic_aware("getitem", _ops.getitem)  # the [] of symbolic tensors


def backend():
    """The name of the engine behind these functions: always the plain string ``'seqnet'``.

    Keras 2 code often branches on ``K.backend() == 'tensorflow'`` (or ``'theano'``, ``'cntk'``)
    or indexes a per-backend table with it. Under seqnet neither test is true and such a
    table has no ``'seqnet'`` key, so that code takes its non-TensorFlow path or raises
    KeyError: check it. seqnet deliberately does not pretend to be TensorFlow (say, with a str
    that compares equal to ``'tensorflow'``): such branches usually go on to call ``tf.*`` or
    ``K.tf`` directly, which would then fail far from the cause. Port the branch instead:
    the ``seqnet.backend`` functions (``K.mean``, ``K.in_top_k``, ...) behave as Keras 2.2.4's
    TensorFlow backend, so the TensorFlow branch's backend calls usually work unchanged.
    """
    return "seqnet"


def is_tensor(x):
    """Whether ``x`` is a backend tensor (a tape node) or a Variable."""
    return isinstance(x, (Tensor, Variable))
