"""Backend control flow: switch, and the choice between a training and a
test expression by the learning phase."""
import builtins

import numpy as np

from .operands import as_array, operand
from .session import learning_phase
from .tensor import record


def switch(condition, then_expression, else_expression):
    """Element-wise choice (or a plain if for a scalar condition), as Keras:
    a condition of lower rank is extended with trailing axes of 1. Either
    expression may be a callable taking no arguments."""
    cond = as_array(condition)
    if cond.ndim == 0:
        chosen = then_expression if bool(cond) else else_expression
        return chosen() if callable(chosen) else chosen
    if callable(then_expression):
        then_expression = then_expression()
    if callable(else_expression):
        else_expression = else_expression()
    then_shape, else_shape = as_array(then_expression).shape, as_array(else_expression).shape
    expr_ndim = builtins.max(len(then_shape), len(else_shape))
    if cond.ndim > expr_ndim:
        raise ValueError(f"switch: the rank of condition ({cond.ndim}, shape {cond.shape}) must not exceed "
                         f"the rank of the expressions ({expr_ndim}, shapes {then_shape} and {else_shape})")
    shape = cond.shape
    if cond.ndim < expr_ndim:
        cond = cond.reshape(cond.shape + (1,) * (expr_ndim - cond.ndim))
    cond = cond.astype(bool)
    try:
        value = np.where(cond, operand(then_expression), operand(else_expression))
    except ValueError:
        raise ValueError(f"switch: condition of shape {shape} (extended with trailing axes of 1) does not "
                         f"broadcast against then_expression {then_shape} and else_expression {else_shape}"
                         ) from None
    return record(value, (then_expression, else_expression),
                  lambda g: (np.where(cond, g, 0), np.where(cond, 0, g)))


def in_train_phase(x, alt, training=None):
    """``x`` when training, ``alt`` otherwise; either may be a callable taking
    no arguments, and only the chosen one is called.

    ``training`` is a bool or 0/1; None means ``learning_phase()``, which is 0
    (test) unless ``set_learning_phase(1)`` was called. An array-valued
    ``training`` selects element-wise, as ``switch``.
    """
    if training is None:
        training = learning_phase()
    if isinstance(training, (bool, int, np.integer, np.bool_)) or as_array(training).ndim == 0:
        chosen = x if bool(operand(training)) else alt
        return chosen() if callable(chosen) else chosen
    return switch(training, x, alt)


def in_test_phase(x, alt, training=None):
    """``x`` at test time, ``alt`` when training: ``in_train_phase(alt, x,
    training)``."""
    return in_train_phase(alt, x, training=training)


def map_fn(fn, elems, name=None, dtype=None):
    """``fn`` applied to each slice ``elems[i]`` along the first axis, the results stacked
    (a tuple or list of tensors is sliced together and passed as a tuple). On tape Tensors the
    result has the gradient of the ops ``fn`` uses; ``dtype`` casts the result."""
    from .ops import cast
    from .ops_shape import stack
    n, item = _sequence(elems, "map_fn")
    if n == 0:
        raise ValueError("map_fn: elems is empty; there is no result shape to stack")
    out = stack([fn(item(i)) for i in range(n)])
    return out if dtype is None else cast(out, dtype)


def foldl(fn, elems, initializer=None, name=None):
    """``acc = fn(acc, elems[i])`` for i from the first to the last slice of ``elems``,
    starting from ``initializer`` (default: ``elems[0]``, then the rest); returns acc."""
    n, item = _sequence(elems, "foldl")
    return _fold(fn, item, list(range(n)), initializer, "foldl")


def foldr(fn, elems, initializer=None, name=None):
    """As ``foldl``, from the last slice to the first (default initializer: ``elems[-1]``)."""
    n, item = _sequence(elems, "foldr")
    return _fold(fn, item, list(range(n - 1, -1, -1)), initializer, "foldr")


def _fold(fn, item, order, initializer, name):
    if initializer is None:
        if not order:
            raise ValueError(f"{name}: elems is empty and no initializer was given")
        initializer, order = item(order[0]), order[1:]
    acc = initializer
    for i in order:
        acc = fn(acc, item(i))
    return acc


def _sequence(elems, name):
    """(length, item(i)) of elems sliced along its first axis; a tuple or list of tensors is
    sliced together."""
    if isinstance(elems, (tuple, list)) and elems and not isinstance(elems[0], (int, float, bool)):
        parts = [e if hasattr(e, "shape") else as_array(e) for e in elems]
        lengths = {len(p) for p in parts}
        if len(lengths) != 1:
            raise ValueError(f"{name}: the tensors of elems have different first dimensions {sorted(lengths)}")
        return lengths.pop(), lambda i: tuple(p[i] for p in parts)
    if not hasattr(elems, "shape"):
        elems = as_array(elems)
    if len(elems.shape) == 0:
        raise ValueError(f"{name}: elems must have at least one dimension, got a scalar")
    return elems.shape[0], lambda i: elems[i]
