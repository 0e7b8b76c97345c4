"""Variable: a named, mutable NumPy value (a learning rate, a counter).

Optimizers hold their learning rate in one, so Keras idioms such as
``K.set_value(model.optimizer.lr, 0.01)`` work. The value is updated in place,
so whoever holds ``numpy()``'s source array (the engine) sees the new value.
"""
import numpy as np

from . import session


class Variable:
    """A mutable array with a name; arithmetic on it gives plain NumPy values.

    ``==`` and ``!=`` compare identity (as Keras 2.2.4's TF1 variables did), so
    variables can be kept in sets and dict keys; ``<``, ``<=``, ``>``, ``>=``
    compare values elementwise.
    """

    # Let NumPy defer to our reflected operators instead of treating us as an
    # opaque object array.
    __array_priority__ = 100

    def __init__(self, value, dtype=None, name=None, constraint=None):
        if isinstance(value, Variable):
            value = value._value
        dtype = np.dtype(dtype or session.floatx())
        # A private copy: later changes to the caller's array must not leak in.
        self._value = np.array(value, dtype=dtype, copy=True)
        self.name = name or "Variable"
        self.constraint = constraint

    # -- value access ------------------------------------------------------
    @property
    def shape(self):
        return self._value.shape

    @property
    def dtype(self):
        return self._value.dtype

    @property
    def ndim(self):
        return self._value.ndim

    def numpy(self):
        """A copy of the value: a NumPy scalar for 0-d variables, else an array."""
        return self._value[()] if self._value.ndim == 0 else self._value.copy()

    def assign(self, value):
        """Overwrite the value in place; the shape must not change."""
        new = np.asarray(value._value if isinstance(value, Variable) else value,
                         dtype=self._value.dtype)
        if new.shape != self._value.shape:
            raise ValueError(
                f"Cannot assign a value of shape {new.shape} to variable "
                f"'{self.name}' of shape {self._value.shape}")
        self._value[...] = new
        return self

    def assign_add(self, delta):
        return self.assign(self._value + np.asarray(delta))

    def assign_sub(self, delta):
        return self.assign(self._value - np.asarray(delta))

    # -- conversions -------------------------------------------------------
    def __array__(self, dtype=None, copy=None):
        if dtype is not None and np.dtype(dtype) != self._value.dtype:
            return self._value.astype(dtype)
        return self._value.copy() if copy else self._value

    def __float__(self):
        return float(self._value)

    def __int__(self):
        return int(self._value)

    def __bool__(self):
        return bool(self._value)

    def __len__(self):
        return len(self._value)

    def __getitem__(self, index):
        return self._value[index]

    def __format__(self, spec):
        return format(self._value[()] if self._value.ndim == 0 else self._value, spec)

    def __repr__(self):
        shown = self._value[()] if self._value.ndim == 0 else self._value
        return (f"<seqnet.Variable '{self.name}' shape={self._value.shape} "
                f"dtype={self._value.dtype.name}, numpy={shown}>")

    # -- arithmetic: values, not new variables, as TF variables give tensors --
    def __add__(self, other): return self._value + _unwrap(other)
    def __radd__(self, other): return _unwrap(other) + self._value
    def __sub__(self, other): return self._value - _unwrap(other)
    def __rsub__(self, other): return _unwrap(other) - self._value
    def __mul__(self, other): return self._value * _unwrap(other)
    def __rmul__(self, other): return _unwrap(other) * self._value
    def __truediv__(self, other): return self._value / _unwrap(other)
    def __rtruediv__(self, other): return _unwrap(other) / self._value
    def __floordiv__(self, other): return self._value // _unwrap(other)
    def __rfloordiv__(self, other): return _unwrap(other) // self._value
    def __mod__(self, other): return self._value % _unwrap(other)
    def __pow__(self, other): return self._value ** _unwrap(other)
    def __rpow__(self, other): return _unwrap(other) ** self._value
    def __neg__(self): return -self._value
    def __pos__(self): return +self._value
    def __abs__(self): return abs(self._value)
    def __lt__(self, other): return self._value < _unwrap(other)
    def __le__(self, other): return self._value <= _unwrap(other)
    def __gt__(self, other): return self._value > _unwrap(other)
    def __ge__(self, other): return self._value >= _unwrap(other)

    __hash__ = object.__hash__


def _unwrap(x):
    return x._value if isinstance(x, Variable) else x
