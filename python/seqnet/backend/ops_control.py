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
