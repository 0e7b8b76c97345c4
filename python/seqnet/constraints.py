"""Weight constraints (``seqnet.constraints``), applied to a weight after each update.

Keras 2 formulas: ``max_norm`` rescales each slice along ``axis`` to norm <= max_value,
``non_neg`` zeroes negatives, ``unit_norm`` rescales to norm 1, ``min_max_norm`` moves the
norm towards [min_value, max_value] at ``rate``. For a Dense kernel (in, units), axis=0
constrains each unit's incoming weights.
"""
import numpy as np

from seqnet.utils.generic_utils import deserialize_keras_object, serialize_keras_object

__all__ = ["Constraint", "MaxNorm", "NonNeg", "UnitNorm", "MinMaxNorm", "max_norm", "non_neg", "unit_norm",
           "min_max_norm", "get", "serialize", "deserialize"]

_EPSILON = 1e-7


class Constraint:
    """Base class: ``__call__(w)`` returns the constrained weight (a new array)."""

    def __call__(self, w):
        return w

    def get_config(self):
        return {}


class MaxNorm(Constraint):
    def __init__(self, max_value=2, axis=0):
        self.max_value = max_value
        self.axis = axis

    def __call__(self, w):
        norms = _norms(w, self.axis)
        desired = np.clip(norms, 0, self.max_value)
        return (w * (desired / (_EPSILON + norms))).astype(np.float32)

    def get_config(self):
        return {"max_value": self.max_value, "axis": self.axis}


class NonNeg(Constraint):
    def __call__(self, w):
        return (w * (w >= 0.0)).astype(np.float32)


class UnitNorm(Constraint):
    def __init__(self, axis=0):
        self.axis = axis

    def __call__(self, w):
        return (w / (_EPSILON + _norms(w, self.axis))).astype(np.float32)

    def get_config(self):
        return {"axis": self.axis}


class MinMaxNorm(Constraint):
    def __init__(self, min_value=0.0, max_value=1.0, rate=1.0, axis=0):
        self.min_value, self.max_value, self.rate, self.axis = min_value, max_value, rate, axis

    def __call__(self, w):
        norms = _norms(w, self.axis)
        desired = self.rate * np.clip(norms, self.min_value, self.max_value) + (1 - self.rate) * norms
        return (w * (desired / (_EPSILON + norms))).astype(np.float32)

    def get_config(self):
        return {"min_value": self.min_value, "max_value": self.max_value, "rate": self.rate, "axis": self.axis}


def _norms(w, axis):
    """The L2 norms of ``w`` over ``axis``, kept as size-1 dimensions. ``axis`` is an int or,
    as Keras documents for convolution kernels (``axis=[0, 1, 2]``), a list or tuple of ints."""
    if isinstance(axis, list):
        axis = tuple(axis)
    return np.sqrt(np.sum(np.square(w), axis=axis, keepdims=True))


max_norm, non_neg, unit_norm, min_max_norm = MaxNorm, NonNeg, UnitNorm, MinMaxNorm
maxnorm, nonneg, unitnorm = MaxNorm, NonNeg, UnitNorm  # Keras 2 aliases

_BY_NAME = {"max_norm": MaxNorm, "non_neg": NonNeg, "unit_norm": UnitNorm, "min_max_norm": MinMaxNorm,
            "maxnorm": MaxNorm, "nonneg": NonNeg, "unitnorm": UnitNorm, "MaxNorm": MaxNorm, "NonNeg": NonNeg,
            "UnitNorm": UnitNorm, "MinMaxNorm": MinMaxNorm}


def get(identifier):
    """A constraint from None, a name ('max_norm', 'non_neg', ... or a custom object's
    name), a ``{'class_name', 'config'}`` dict, an instance or a callable. Names are
    looked up in the custom-object scope first, then among the built-ins."""
    if identifier is None:
        return None
    if isinstance(identifier, str):
        return deserialize({"class_name": identifier, "config": {}})
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if callable(identifier):
        return identifier
    raise ValueError(f"Could not interpret constraint identifier: {identifier!r}")


def serialize(constraint):
    """``{'class_name', 'config'}`` of a constraint (None for None)."""
    return serialize_keras_object(constraint)


def deserialize(config, custom_objects=None):
    """The constraint a ``{'class_name', 'config'}`` dict describes; the class name is
    looked up in ``custom_objects``, the custom-object scope, then the built-ins."""
    if isinstance(config, dict) and "class_name" in config and "config" not in config:
        config = {**config, "config": {}}
    return deserialize_keras_object(config, module_objects=_BY_NAME, custom_objects=custom_objects,
                                    printable_module_name="constraint",
                                    expected=f"Expected one of {sorted(k for k in _BY_NAME if k.islower())}"
                                             " or a name given in custom_objects.")
