"""Backend ops that create values, describe them and update Variables:
constant, variable, zeros/ones, shapes and dtypes, get/set_value,
update/update_add/update_sub, count_params, print_tensor, is_keras_tensor."""
import sys

import numpy as np

from .operands import as_array, operand
from .ops import cast
from .session import floatx
from .tensor import Tensor, record
from .variable import Variable


def cast_to_floatx(x):
    """``x`` as floatx (float32 by default): a NumPy array for numbers, arrays and lists (as
    Keras), a cast tensor (with its gradient) for a tape Tensor or Variable."""
    if isinstance(x, (Tensor, Variable)):
        return cast(x, floatx())
    return np.asarray(x, dtype=floatx())


def ones_like(x, dtype=None, name=None):
    """An array of ones with the shape (and, unless ``dtype`` is given, the
    dtype) of ``x``; no gradient."""
    a = as_array(x)
    return record(np.ones(a.shape, dtype=dtype or a.dtype), (x,), None)


def zeros_like(x, dtype=None, name=None):
    """An array of zeros with the shape (and, unless ``dtype`` is given, the
    dtype) of ``x``; no gradient."""
    a = as_array(x)
    return record(np.zeros(a.shape, dtype=dtype or a.dtype), (x,), None)


def ones(shape, dtype=None, name=None):
    """An array of ones of ``shape`` (floatx by default). Keras returns a
    variable; wrap it in ``K.variable`` to update it in place."""
    return np.ones(shape, dtype=dtype or floatx())


def zeros(shape, dtype=None, name=None):
    """An array of zeros of ``shape`` (floatx by default). Keras returns a
    variable; wrap it in ``K.variable`` to update it in place."""
    return np.zeros(shape, dtype=dtype or floatx())


def eye(size, dtype=None, name=None):
    """The ``size`` x ``size`` identity matrix (floatx by default)."""
    return np.eye(size, dtype=dtype or floatx())


def constant(value, dtype=None, shape=None, name=None):
    """An array of ``dtype`` (floatx by default); a scalar fills ``shape``."""
    a = np.asarray(operand(value), dtype=dtype or floatx())
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
    """The shape as a tuple of ints; for a symbolic tensor of a functional model
    (what ``Input`` returns), its Keras shape with None for unknown sizes."""
    symbolic = getattr(x, "_keras_shape", None)
    if symbolic is not None:
        return tuple(symbolic)
    return tuple(as_array(x).shape)


def ndim(x):
    """The number of axes (rank) of ``x`` (an array, Variable, tape Tensor or a
    functional model's symbolic tensor)."""
    return len(int_shape(x))


def shape(x):
    """The shape as an int32 array (Keras returns a shape tensor)."""
    return np.asarray(as_array(x).shape, dtype=np.int32)


def dtype(x):
    """The dtype name, e.g. 'float32' (also of a symbolic tensor)."""
    if getattr(x, "_keras_shape", None) is not None:
        return str(np.dtype(getattr(x, "dtype", "float32")))
    return as_array(x).dtype.name


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
    """The values of a list of Variables (``get_value`` of each)."""
    return [get_value(x) for x in tensors]


def batch_set_value(tuples):
    """Assign values to Variables from a list of ``(variable, value)`` pairs."""
    for x, value in tuples:
        set_value(x, value)


def eval(x):
    """The NumPy value of a Variable, Tensor or array."""
    if isinstance(x, (Variable, Tensor)):
        return x.numpy()
    return np.asarray(x)


# ---------------------------------------------------------------------------
# Updating variables in place

def update(x, new_x):
    """Set the Variable ``x`` to ``new_x`` in place (same shape); returns ``x``."""
    return _checked_variable(x, "update").assign(_value_of(new_x))


def update_add(x, increment):
    """Add ``increment`` to the Variable ``x`` in place; returns ``x``."""
    return _checked_variable(x, "update_add").assign_add(_value_of(increment))


def update_sub(x, decrement):
    """Subtract ``decrement`` from the Variable ``x`` in place; returns ``x``."""
    return _checked_variable(x, "update_sub").assign_sub(_value_of(decrement))


def count_params(x):
    """The number of scalars in ``x`` (a Variable or an array)."""
    return int(np.prod(int_shape(x)))


def get_variable_shape(x):
    """The shape of a Variable (or array) as a tuple of ints."""
    return int_shape(x)


def print_tensor(x, message=""):
    """Print ``message`` followed by the value of ``x`` and return ``x``
    unchanged (gradients pass through), as Keras' debugging op."""
    print(f"{message}{as_array(x)}", file=sys.stdout, flush=True)
    return x


def is_keras_tensor(x):
    """Whether ``x`` is a symbolic tensor of a functional model (what ``Input``
    and a layer called on one return). False for arrays, Variables and tape
    Tensors (Keras 2.2.4 raised ValueError for non-tensors)."""
    return hasattr(x, "_keras_history") and not isinstance(x, (np.ndarray, Variable, Tensor))


def is_sparse(tensor):
    """Always False: seqnet has no sparse tensors."""
    return False


def _checked_variable(x, what):
    if not isinstance(x, Variable):
        raise TypeError(f"{what} changes a Variable in place (created with K.variable, e.g. "
                        f"optimizer.lr), got {type(x).__name__}")
    return x


def _value_of(x):
    return np.asarray(operand(x))
